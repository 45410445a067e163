"""``license-text-modified``: a known license text that was altered.

A warning: a changed license is a different license, whose terms a person
must read; the finding quotes the lines that differ from the reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.checks import Check, register
from auditor.model import AuditResult, Finding, Method, Severity

MAX_QUOTED = 5


@register
class LicenseTextModified(Check):
    rule = "license-text-modified"
    severity = Severity.WARNING
    summary = "A known license text was altered."

    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        for det in result.detections:
            # Links to the modified text carry the flag too; the text itself is the finding.
            if not det.modified or det.evidence[0].method is not Method.LICENSE_TEXT:
                continue
            ev = det.evidence[0]
            parts = []
            if det.differences:
                quoted = "; ".join(
                    f"{d.start_line}: {d.excerpt}" for d in det.differences[:MAX_QUOTED]
                )
                more = len(det.differences) - MAX_QUOTED
                parts.append(
                    f"lines not in the reference: {quoted}"
                    + (f" (+{more} more)" if more > 0 else "")
                )
            if det.coverage is not None and det.coverage < 0.95:
                parts.append(f"{round(100 * (1 - det.coverage))}% of the reference text is missing")
            yield self.finding(
                message=f"{det.name} text differs from the reference: " + "; ".join(parts),
                path=ev.path,
                evidence=(ev, *det.differences),
                fix=f"ship the unmodified {det.name} text, or name the modified terms as a "
                "license of their own (LicenseRef-...) and review them",
            )
