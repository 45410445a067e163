"""``license-reference-broken``: a README or card links a license file that is not in the repo.

A warning: the reader who follows the link finds nothing; the license may
still be stated elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.checks import CHECKS, Check, finding
from auditor.model import AuditResult, Finding


@CHECKS.register("license-reference-broken")
class LicenseReferenceBroken(Check):
    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        for ref in result.references:
            if ref.resolved or ref.path is None:
                continue
            ev = ref.reference.evidence
            name = f" ({ref.reference.name})" if ref.reference.name else ""
            yield finding(
                "license-reference-broken",
                f"links to {ref.reference.target}{name}, which is not in the repo",
                path=ev.path,
                evidence=(ev,),
                fix=f"add {ref.path} or fix the link",
            )
