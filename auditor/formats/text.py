"""The human summary: which license covers what, why, and what to fix."""

from __future__ import annotations

from auditor.formats import FORMATS, Format
from auditor.model import AuditResult, Evidence, LicenseDetection
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
        out.append("Components")
        if not result.components:
            out.append("  (none: no code, weights or data files)")
        for c in result.components:
            concluded = c.concluded or "UNKNOWN — review needed"
            out.append(f"  {c.name:<6} {concluded}   ({len(c.files)} files)")
            for d in c.declared:
                out.append(_license_line(d))
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
        if result.skipped:
            out.append("")
            out.append(f"Not read ({len(result.skipped)})")
            for s in result.skipped:
                out.append(f"  {s.path}: {s.reason}")
        return ("\n".join(out) + "\n").encode("utf-8")
