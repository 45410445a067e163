"""An ``AuditDiff`` as text (people) and JSON (docs/diff.md, ``diff_version``)."""

from __future__ import annotations

import json
from typing import Any

from auditor.diff.compare import (
    DIFF_VERSION,
    AuditDiff,
    ComponentChange,
    ObligationChange,
    Side,
    declared_keys,
)
from auditor.model import BaseModel, Finding, Openness, Severity, fingerprint
from auditor.signatures import label, license_keys
from auditor.terminal import report_lines

# -- text ----------------------------------------------------------------------------------

_MARK = {"error": "E", "warning": "W", "note": "N"}


def _named(expression: str | None) -> str:
    if not expression:
        return "UNKNOWN"
    return " AND ".join(label(k) for k in license_keys(expression))


def _mark(severity: Severity | None) -> str:
    return _MARK[severity.value] if severity is not None else " "


def _finding_lines(f: Finding, with_fix: bool) -> list[str]:
    where = f" {f.path}" if f.path else ""
    comp = f" [{f.component}]" if f.component else ""
    out = [f"  {_MARK[f.severity.value]} {f.rule}{comp}{where}: {f.message}"]
    if with_fix and f.fix:
        out.append(f"      fix: {f.fix}")
    return out


def _keys(keys: tuple[str, ...]) -> str:
    return ", ".join(keys) or "none"


def render_text(d: AuditDiff) -> bytes:
    """The human summary: one section per kind of change, only those that have some."""
    out = [f"auditor {d.tool.version} diff"]
    for name, side in (("old", d.old), ("new", d.new)):
        rev = f" (revision {side.revision})" if side.revision else ""
        out.append(f"{name}: {side.target}{rev}")
    sections: list[tuple[str, list[str]]] = []
    lines: list[str] = []
    revisions = ""
    if d.old.revision or d.new.revision:
        revisions = f"at {d.old.label} → at {d.new.label}: "
    for lc in d.license_changes:
        if lc.concluded_changed:
            lines.append(
                f"  {_mark(lc.severity)} {lc.component:<10} "
                f"{_named(lc.old_concluded)} → {_named(lc.new_concluded)}"
            )
        else:
            lines.append(f"  {_mark(None)} {lc.component:<10} {_named(lc.new_concluded)}")
        lines.append(f"    {'':<10}   {revisions}{lc.reason}")
        if lc.old_declared != lc.new_declared:
            lines.append(
                f"    {'':<10}   declared: {_keys(lc.old_declared)} → {_keys(lc.new_declared)}"
            )
    sections.append(("License changes", lines))
    lines = []
    for cc in d.components_added + d.components_removed:
        sign = "+" if cc.change == "added" else "-"
        c = cc.component
        lines.append(
            f"  {_mark(cc.severity)} {sign} {c.name:<10} {_named(c.concluded)}"
            f"   ({len(c.files)} files) — {cc.reason}"
        )
    sections.append(("Components added/removed", lines))
    sections.append(
        ("New findings", [x for f in d.new_findings for x in _finding_lines(f, with_fix=True)])
    )
    sections.append(
        (
            "Resolved findings",
            [x for f in d.resolved_findings for x in _finding_lines(f, with_fix=False)],
        )
    )
    lines = [
        f"  {sign} {oc.component:<10} {oc.obligation.license}: {oc.obligation.summary}"
        for sign, group in (("+", d.obligations_appeared), ("-", d.obligations_disappeared))
        for oc in group
    ]
    sections.append(("Obligations appeared/disappeared", lines))
    lines = []
    for bc in d.base_models:
        sign = {"added": "+", "removed": "-", "changed": "~"}[bc.change]
        lines.append(f"  {sign} {bc.name}: {_base_text(bc.old)} → {_base_text(bc.new)}")
    sections.append(("Base models", lines))
    if d.openness is not None:
        old_v = d.openness.old.verdict if d.openness.old else "none"
        new_v = d.openness.new.verdict if d.openness.new else "none"
        lines = [f"  {old_v} → {new_v}"]
        if d.openness.new and d.openness.new.reasons:
            lines.append(f"    {'; '.join(d.openness.new.reasons)}")
        sections.append(("Openness", lines))
    shown = [(title, body) for title, body in sections if body]
    out.append("")
    if not shown:
        out.append("no changes")
    for title, body in shown:
        out.append(title)
        out.extend(body)
        out.append("")
    if shown:
        out.pop()
    return report_lines(out)


def _base_text(b: BaseModel | None) -> str:
    if b is None:
        return "(none)"
    relation = b.relation or "relation not stated"
    return f"{relation}, license {b.license or 'not known'}"


# -- json ----------------------------------------------------------------------------------


def _side_dict(s: Side) -> dict[str, Any]:
    return {"target": s.target, "revision": s.revision}


def _component_dict(cc: ComponentChange) -> dict[str, Any]:
    c = cc.component
    return {
        "name": c.name,
        "kind": c.kind.value,
        "path": c.path,
        "concluded": c.concluded,
        "declared": list(declared_keys(c)),
        "files": len(c.files),
        "severity": cc.severity.value if cc.severity else None,
        "reason": cc.reason,
    }


def _obligation_change_dict(oc: ObligationChange) -> dict[str, Any]:
    from auditor.formats.json_report import obligation_dict

    return {"component": oc.component, **obligation_dict(oc.obligation)}


def _finding_entry(f: Finding) -> dict[str, Any]:
    from auditor.formats.json_report import finding_dict

    return {"fingerprint": fingerprint(f), **finding_dict(f)}


def _base_dict(b: BaseModel | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {"relation": b.relation, "license": b.license, "license_source": b.license_source}


def _openness_dict(o: Openness | None) -> dict[str, Any] | None:
    return None if o is None else {"verdict": o.verdict, "reasons": list(o.reasons)}


def diff_dict(d: AuditDiff) -> dict[str, Any]:
    """The JSON document (docs/diff.md): keys in a fixed order, lists sorted."""
    new_counts = {s.value: 0 for s in Severity}
    for f in d.new_findings:
        new_counts[f.severity.value] += 1
    worst = d.worst()
    return {
        "diff_version": DIFF_VERSION,
        "tool": {"name": d.tool.name, "version": d.tool.version},
        "old": _side_dict(d.old),
        "new": _side_dict(d.new),
        "changed": d.changed,
        "worst": worst.value if worst else None,
        "appeared": [{"severity": s.value, "what": what} for s, what in d.appeared()],
        "summary": {
            "license_changes": len(d.license_changes),
            "components_added": len(d.components_added),
            "components_removed": len(d.components_removed),
            "new_findings": new_counts,
            "resolved_findings": len(d.resolved_findings),
            "obligations_appeared": len(d.obligations_appeared),
            "obligations_disappeared": len(d.obligations_disappeared),
            "base_models": len(d.base_models),
            "openness_changed": d.openness is not None,
        },
        "license_changes": [
            {
                "component": lc.component,
                "kind": lc.kind.value,
                "concluded_changed": lc.concluded_changed,
                "severity": lc.severity.value if lc.severity else None,
                "reason": lc.reason,
                "old": {
                    "concluded": lc.old_concluded,
                    "declared": list(lc.old_declared),
                    "revision": lc.old_revision,
                },
                "new": {
                    "concluded": lc.new_concluded,
                    "declared": list(lc.new_declared),
                    "revision": lc.new_revision,
                },
            }
            for lc in d.license_changes
        ],
        "components_added": [_component_dict(c) for c in d.components_added],
        "components_removed": [_component_dict(c) for c in d.components_removed],
        "new_findings": [_finding_entry(f) for f in d.new_findings],
        "resolved_findings": [_finding_entry(f) for f in d.resolved_findings],
        "obligations_appeared": [_obligation_change_dict(o) for o in d.obligations_appeared],
        "obligations_disappeared": [_obligation_change_dict(o) for o in d.obligations_disappeared],
        "base_models": [
            {"name": b.name, "change": b.change, "old": _base_dict(b.old), "new": _base_dict(b.new)}
            for b in d.base_models
        ],
        "openness": (
            None
            if d.openness is None
            else {"old": _openness_dict(d.openness.old), "new": _openness_dict(d.openness.new)}
        ),
    }


def render_json(d: AuditDiff) -> bytes:
    text = json.dumps(diff_dict(d), indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")
