"""``license-reference-broken``: a README, card, source header or package metadata points at
a license file that is not in the repo.

A warning: the reader who follows the link finds nothing; the license may
still be stated elsewhere. References to one missing file are one finding,
however many source headers repeat it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.checks import Check, register
from auditor.model import AuditResult, Finding, ResolvedReference, Severity

#: Places listed in a finding; the rest are counted.
SHOWN = 3


@register
class LicenseReferenceBroken(Check):
    rule = "license-reference-broken"
    severity = Severity.WARNING
    summary = "A README or card links a license file that is not in the repo."

    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        missing: dict[str, list[ResolvedReference]] = {}
        for ref in result.references:
            if ref.resolved or ref.path is None:
                continue
            missing.setdefault(ref.path, []).append(ref)
        for path, refs in missing.items():
            first = refs[0].reference
            name = f" ({first.name})" if first.name and first.name != first.target else ""
            places = list(
                dict.fromkeys(
                    f"{r.reference.evidence.path}:{r.reference.evidence.start_line}" for r in refs
                )
            )
            if len(places) == 1:
                message = f"links to {first.target}{name}, which is not in the repo"
            else:
                more = f" and {len(places) - SHOWN} more" if len(places) > SHOWN else ""
                message = (
                    f"{len(places)} places point at {path}, which is not in the repo: "
                    f"{', '.join(places[:SHOWN])}{more}"
                )
            yield self.finding(
                message,
                path=first.evidence.path,
                evidence=tuple(dict.fromkeys(r.reference.evidence for r in refs)),
                fix=f"add {path} or fix the reference",
            )
