"""``license-mismatch``: the repo's own sources disagree about a component's license.

Card ``license`` vs shipped text vs README statement vs GGUF metadata. A
warning: the precedence in docs/identification.md still picks an answer when
one source outranks the other, but people and tools reading the other source
are misled, and a tie leaves the component unconcluded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.checks import Check, register
from auditor.model import UNKNOWN_KEY, AuditResult, Finding, LicenseDetection, Severity
from auditor.signatures import label


def _said(d: LicenseDetection) -> str:
    ev = d.evidence[0]
    where = f"{ev.path}:{ev.start_line} ({ev.method.value})"
    if d.key != UNKNOWN_KEY:
        return f"{where} says {label(d.key)}"
    family = f" (a license of the {d.family[0].rstrip('-')} family, version not stated)"
    name = f" {d.stated!r}" if d.stated else " a license"
    return f"{where} names{name}{family if d.family else ', which is not identified'}"


@register
class LicenseMismatch(Check):
    rule = "license-mismatch"
    severity = Severity.WARNING
    summary = "The repo's own sources disagree about a component's license."

    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        for comp in result.components:
            if not comp.disagreeing:
                continue
            others = "; ".join(dict.fromkeys(_said(d) for d in comp.disagreeing))
            if comp.concluded:
                basis = "; ".join(dict.fromkeys(_said(d) for d in comp.basis))
                message = (
                    f"{comp.kind.value} license sources disagree: concluded {comp.concluded} "
                    f"from {basis}; but {others}"
                )
            else:
                message = f"{comp.kind.value} license sources disagree: {others}"
            evidence = tuple(dict.fromkeys(d.evidence[0] for d in comp.basis + comp.disagreeing))
            yield self.finding(
                message,
                path=comp.disagreeing[0].evidence[0].path,
                component=comp.name,
                evidence=evidence,
                fix="make the card's license field, the shipped license files and the README "
                "say the same thing (name the code and the weights license apart if they differ)",
            )
