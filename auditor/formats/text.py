"""The human summary: which license covers what, why, and what to fix."""

from __future__ import annotations

from auditor.checks import label
from auditor.formats import FORMATS, Format
from auditor.model import AuditResult, Component, Evidence, LicenseDetection
from auditor.obligations import license_keys
from auditor.signatures import is_policy

_MARK = {"error": "E", "warning": "W", "note": "N"}


def _where(ev: Evidence) -> str:
    span = f"{ev.start_line}" if ev.start_line == ev.end_line else f"{ev.start_line}-{ev.end_line}"
    return f"{ev.path}:{span} ({ev.method.value})"


def _license_line(d: LicenseDetection) -> str:
    label = "clue" if d.is_clue else f"{d.score:.0f}%"
    if d.modified:
        label += ", MODIFIED"
    if is_policy(d.key):
        label += ", policy"
    where = "; ".join(_where(e) for e in d.evidence)
    return f"      {d.key} [{d.spdx_id}] {label}, scope {d.scope.value} — {where}"


def _named(expression: str | None) -> str:
    if not expression:
        return "UNKNOWN — review needed"
    return " AND ".join(label(k) for k in license_keys(expression))


def _answer(c: Component) -> list[str]:
    """``model   Llama 3.1 Community License (llama-3.1-...)  — MODEL_LICENSE:1, README.md:3``"""
    where = ", ".join(
        dict.fromkeys(f"{d.evidence[0].path}:{d.evidence[0].start_line}" for d in c.basis)
    )
    out = [f"  {c.name:<10} {_named(c.concluded)}"]
    if where:
        out.append(f"  {'':<10}   from {where} — {c.reason}")
    for d in c.disagreeing:
        ev = d.evidence[0]
        out.append(f"  {'':<10}   but {ev.path}:{ev.start_line} ({ev.method.value}) says {d.key}")
    return out


@FORMATS.register("text")
class TextFormat(Format):
    suffix = ".txt"

    def render(self, result: AuditResult) -> bytes:
        inv = result.inventory
        out = [f"auditor {result.tool.version}: {result.target}"]
        if inv.revision:
            out.append(f"revision {inv.revision}")
        kinds: dict[str, int] = {}
        for entry in inv.files:
            kinds[entry.kind.value] = kinds.get(entry.kind.value, 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        out.append(f"{len(inv.files)} files ({summary or 'none'})")
        out.append("")
        out.append("Licenses")
        if not result.components:
            out.append("  (none: no code, weights or data files)")
        for c in result.components:
            out.extend(_answer(c))
        for b in result.base_models:
            relation = f" ({b.relation})" if b.relation else ""
            lic = f"; its license {b.license} (from {b.license_source})" if b.license else ""
            out.append(f"  derived from {b.name}{relation}{lic}")
        if result.openness:
            out.append(
                f"  openness: {result.openness.verdict} — {'; '.join(result.openness.reasons)}"
            )
        if any(c.obligations for c in result.components):
            out.append("")
            out.append("Obligations when redistributing")
            for c in result.components:
                for o in c.obligations:
                    out.append(f"  {c.name:<10} {o.license}: {o.summary}")
        out.append("")
        out.append("Evidence")
        for c in result.components:
            out.append(f"  {c.name:<10} {c.concluded or 'UNKNOWN'}   ({len(c.files)} files)")
            for d in c.declared:
                out.append(_license_line(d))
        if result.upstream:
            up = result.upstream
            counts: dict[str, int] = {}
            for ch in up.changes:
                counts[ch.change] = counts.get(ch.change, 0) + 1
            shown = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no changes"
            out.append("")
            out.append(f"Upstream {up.target}: {shown}; {len(up.dropped)} notices dropped")
        out.append("")
        out.append(f"Findings ({len(result.findings)})")
        for f in result.findings:
            where = f" {f.path}" if f.path else ""
            comp = f" [{f.component}]" if f.component else ""
            out.append(f"  {_MARK[f.severity.value]} {f.rule}{comp}{where}: {f.message}")
            if f.fix:
                out.append(f"      fix: {f.fix}")
        if not result.findings:
            out.append("  none")
        if result.accepted:
            out.append(f"  ({len(result.accepted)} more accepted by the baseline)")
        if result.skipped:
            out.append("")
            out.append(f"Not read ({len(result.skipped)})")
            for s in result.skipped:
                out.append(f"  {s.path}: {s.reason}")
        return ("\n".join(out) + "\n").encode("utf-8")
