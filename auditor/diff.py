"""What changed between two audits: ``auditor diff OLD NEW`` (docs/diff.md).

A diff is a comparison of two ``AuditResult``s that ``run_audit`` made, never a
second engine: ``compare(old, new)`` gives an ``AuditDiff``, ``render_text`` and
``render_json`` write it. Components are matched by name (``code``, ``model``,
``model:FOLDER``, ``data``), findings by their fingerprint
(``model.fingerprint``: moved line numbers are not news), obligations by
(license, kind, summary, value), base models by name.

What counts for ``--fail-on`` is what *appeared* (``AuditDiff.appeared``):

* a new finding, at its own severity (after the policy);
* a component whose concluded license changed, or a component added, ranked by
  the license it has now: ``error`` when that license is unknown (no conclusion)
  or one of its keys lies outside the catalog's ``Permissive`` and ``Public
  Domain`` categories (copyleft, model licenses with use or commercial limits,
  proprietary terms), else ``warning``.

Everything else is shown, never counted: declared-only license changes, removed
components, resolved findings, obligations (they follow the concluded
license, which is counted), base-model and openness changes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.model import (
    AuditResult,
    BaseModel,
    Component,
    ComponentKind,
    Finding,
    Obligation,
    Openness,
    Severity,
    Tool,
    fingerprint,
)
from auditor.signatures import license_keys

if TYPE_CHECKING:
    from auditor.pipeline import Options

DIFF_VERSION = "1.0"
#: Catalog categories whose licenses ask little of a recipient: a change to one is a warning.
PERMISSIVE_CATEGORIES = frozenset({"Permissive", "Public Domain"})


@dataclass(frozen=True)
class Side:
    """One side of a diff: what was audited and at which revision (None for a folder)."""

    target: str
    revision: str | None

    @property
    def label(self) -> str:
        """The revision (a commit shortened to 12 digits), else the target."""
        if self.revision is None:
            return self.target
        if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", self.revision):
            return self.revision[:12]
        return self.revision


@dataclass(frozen=True)
class LicenseChange:
    """A component on both sides whose concluded or declared licenses differ.

    ``severity`` is None when only the declared licenses changed (not counted).
    """

    component: str
    kind: ComponentKind
    old_concluded: str | None
    new_concluded: str | None
    old_declared: tuple[str, ...]
    new_declared: tuple[str, ...]
    old_revision: str | None
    new_revision: str | None
    severity: Severity | None
    reason: str

    @property
    def concluded_changed(self) -> bool:
        return self.old_concluded != self.new_concluded


@dataclass(frozen=True)
class ComponentChange:
    """A component on one side only; ``severity`` set for an added one (its license is news)."""

    component: Component
    change: str  # "added" or "removed"
    severity: Severity | None
    reason: str


@dataclass(frozen=True)
class ObligationChange:
    component: str
    obligation: Obligation


@dataclass(frozen=True)
class BaseModelChange:
    """A base model named on one side only (``added``/``removed``), or whose relation or
    license differs (``changed``)."""

    name: str
    change: str
    old: BaseModel | None
    new: BaseModel | None


@dataclass(frozen=True)
class OpennessChange:
    old: Openness | None
    new: Openness | None


@dataclass(frozen=True)
class AuditDiff:
    """Everything that differs between two audits, each list sorted for stable output."""

    tool: Tool
    old: Side
    new: Side
    license_changes: tuple[LicenseChange, ...] = ()
    components_added: tuple[ComponentChange, ...] = ()
    components_removed: tuple[ComponentChange, ...] = ()
    new_findings: tuple[Finding, ...] = ()
    resolved_findings: tuple[Finding, ...] = ()
    obligations_appeared: tuple[ObligationChange, ...] = ()
    obligations_disappeared: tuple[ObligationChange, ...] = ()
    base_models: tuple[BaseModelChange, ...] = ()
    openness: OpennessChange | None = None

    @property
    def changed(self) -> bool:
        return bool(
            self.license_changes
            or self.components_added
            or self.components_removed
            or self.new_findings
            or self.resolved_findings
            or self.obligations_appeared
            or self.obligations_disappeared
            or self.base_models
            or self.openness
        )

    def appeared(self) -> list[tuple[Severity, str]]:
        """What counts for ``--fail-on``: (severity, one line saying what), see the module doc."""
        out: list[tuple[Severity, str]] = []
        for lc in self.license_changes:
            if lc.severity is not None:
                out.append((lc.severity, f"{lc.component}: {lc.reason}"))
        for cc in self.components_added:
            if cc.severity is not None:
                out.append((cc.severity, f"{cc.component.name}: {cc.reason}"))
        for f in self.new_findings:
            out.append((f.severity, f"new finding {f.rule}: {f.message}"))
        return sorted(out, key=lambda item: (-item[0].rank, item[1]))

    def worst(self) -> Severity | None:
        """The highest severity of what appeared, or None."""
        ranked = [s for s, _ in self.appeared()]
        return max(ranked, key=lambda s: s.rank) if ranked else None

    def fails(self, fail_on: str) -> bool:
        """True when something at or above ``fail_on`` (a severity, or ``never``) appeared."""
        if fail_on == "never":
            return False
        worst = self.worst()
        return worst is not None and worst.rank >= Severity(fail_on).rank


# -- comparing -----------------------------------------------------------------------------


def rank_license(expression: str | None) -> tuple[Severity, str]:
    """How a component's license that changed (or appeared) counts: see the module doc."""
    if expression is None:
        return Severity.ERROR, "now unknown (no license could be concluded): review needed"
    from auditor.signatures import catalog, is_policy

    cat = catalog()
    restrictive = [
        f"{k} ({(cat.get(k).category if k in cat else None) or 'uncategorized'})"
        for k in license_keys(expression)
        if not is_policy(k) and (k not in cat or cat.get(k).category not in PERMISSIVE_CATEGORIES)
    ]
    if restrictive:
        return Severity.ERROR, (
            f"now under terms that are not permissive: {', '.join(restrictive)}; review them"
        )
    return Severity.WARNING, f"now under the permissive {expression}"


def _declared(c: Component) -> tuple[str, ...]:
    """The keys a component's sources state (clues left out), sorted, each once."""
    return tuple(sorted({d.key for d in c.declared if not d.is_clue}))


def _license_change(old: Component, new: Component, o: Side, n: Side) -> LicenseChange | None:
    od, nd = _declared(old), _declared(new)
    if old.concluded == new.concluded and od == nd:
        return None
    severity: Severity | None = None
    if old.concluded != new.concluded:
        severity, reason = rank_license(new.concluded)
        reason = f"concluded license changed; {reason}"
    else:
        reason = "declared licenses changed; the concluded license did not"
    return LicenseChange(
        component=new.name,
        kind=new.kind,
        old_concluded=old.concluded,
        new_concluded=new.concluded,
        old_declared=od,
        new_declared=nd,
        old_revision=o.revision,
        new_revision=n.revision,
        severity=severity,
        reason=reason,
    )


def _finding_order(f: Finding) -> tuple[int, str, str, str, str]:
    return (-f.severity.rank, f.rule, f.component or "", f.path or "", f.message)


def _unmatched(findings: Iterable[Finding], known: Iterable[Finding]) -> list[Finding]:
    """The findings of ``findings`` that ``known`` has no counterpart for, by fingerprint.

    Counted, not just looked up: a third finding with the fingerprint of two old ones
    is new."""
    left = Counter(fingerprint(f) for f in known)
    out: list[Finding] = []
    for f in sorted(findings, key=_finding_order):
        fp = fingerprint(f)
        if left[fp] > 0:
            left[fp] -= 1
        else:
            out.append(f)
    return out


def _obligation_key(o: Obligation) -> tuple[str, str, str, str]:
    return (o.license, o.kind.value, o.summary, o.value)


def _obligations(
    old: dict[str, Component], new: dict[str, Component]
) -> tuple[list[ObligationChange], list[ObligationChange]]:
    appeared: list[ObligationChange] = []
    gone: list[ObligationChange] = []
    for name in sorted(old.keys() | new.keys()):
        before = {_obligation_key(o): o for o in (old[name].obligations if name in old else ())}
        after = {_obligation_key(o): o for o in (new[name].obligations if name in new else ())}
        appeared += [ObligationChange(name, after[k]) for k in sorted(after.keys() - before)]
        gone += [ObligationChange(name, before[k]) for k in sorted(before.keys() - after)]
    return appeared, gone


def _base_models(old: AuditResult, new: AuditResult) -> list[BaseModelChange]:
    before = {b.name: b for b in old.base_models}
    after = {b.name: b for b in new.base_models}
    out: list[BaseModelChange] = []
    for name in sorted(before.keys() | after.keys()):
        b, a = before.get(name), after.get(name)
        if b is None:
            out.append(BaseModelChange(name, "added", None, a))
        elif a is None:
            out.append(BaseModelChange(name, "removed", b, None))
        elif (b.relation, b.license) != (a.relation, a.license):
            out.append(BaseModelChange(name, "changed", b, a))
    return out


def compare(old: AuditResult, new: AuditResult) -> AuditDiff:
    """What differs from ``old`` to ``new`` (both made by ``run_audit``, same policy)."""
    o = Side(old.target, old.inventory.revision)
    n = Side(new.target, new.inventory.revision)
    before = {c.name: c for c in old.components}
    after = {c.name: c for c in new.components}
    changes = [
        lc
        for name in sorted(before.keys() & after.keys())
        if (lc := _license_change(before[name], after[name], o, n)) is not None
    ]
    added = []
    for name in sorted(after.keys() - before.keys()):
        severity, reason = rank_license(after[name].concluded)
        added.append(ComponentChange(after[name], "added", severity, f"new component; {reason}"))
    removed = [
        ComponentChange(before[name], "removed", None, "component removed")
        for name in sorted(before.keys() - after.keys())
    ]
    appeared, gone = _obligations(before, after)
    openness = None
    old_verdict = old.openness.verdict if old.openness else None
    if old_verdict != (new.openness.verdict if new.openness else None):
        openness = OpennessChange(old.openness, new.openness)
    return AuditDiff(
        tool=new.tool,
        old=o,
        new=n,
        license_changes=tuple(changes),
        components_added=tuple(added),
        components_removed=tuple(removed),
        # A finding a baseline accepts on the new side is not news; one accepted on the
        # old side and reported now is (it was known, but it is not accepted any more).
        new_findings=tuple(_unmatched(new.findings, old.findings)),
        resolved_findings=tuple(
            _unmatched(old.findings + old.accepted, new.findings + new.accepted)
        ),
        obligations_appeared=tuple(appeared),
        obligations_disappeared=tuple(gone),
        base_models=tuple(_base_models(old, new)),
        openness=openness,
    )


def diff_targets(old: str, new: str, options: Options | None = None) -> AuditDiff:
    """Audit ``old`` and ``new`` with the same ``pipeline.Options`` and compare them."""
    from auditor.pipeline import run_audit

    return compare(run_audit(old, options), run_audit(new, options))


# -- text ----------------------------------------------------------------------------------

_MARK = {"error": "E", "warning": "W", "note": "N"}


def _named(expression: str | None) -> str:
    from auditor.signatures import label

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
    return ("\n".join(out) + "\n").encode("utf-8")


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
        "declared": list(_declared(c)),
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
