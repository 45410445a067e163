"""``unknown-license``: a license is stated or shipped but the auditor cannot say which.

A warning: nothing is known to be violated, but a person must review it
before anyone relies on the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.checks import CHECKS, Check
from auditor.detectors import UNKNOWN_KEY
from auditor.model import AuditResult, Finding, Severity


@CHECKS.register("unknown-license")
class UnknownLicense(Check):
    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        for det in result.detections:
            if det.key != UNKNOWN_KEY:
                continue
            ev = det.evidence[0]
            yield Finding(
                rule="unknown-license",
                severity=Severity.WARNING,
                message=f"license not identified, please review: {ev.excerpt}",
                path=ev.path,
                component=None,
                evidence=det.evidence,
                fix="state the license with an SPDX id or a Hugging Face license id, "
                "and ship its full text",
            )
