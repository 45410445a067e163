"""``license-missing``: a code or model component that no license speaks for.

An error by default, so that a pre-commit hook blocks weights committed
without any license.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.checks import Check, register
from auditor.model import AuditResult, ComponentKind, Finding, Severity

FIX = {
    ComponentKind.MODEL: "add the model license text (e.g. LICENSE or MODEL_LICENSE) and a "
    "`license:` field in the model card front matter",
    ComponentKind.CODE: "add a LICENSE file, or SPDX-License-Identifier headers to the code",
    ComponentKind.DATA: "add the data license text and state it in the README or dataset card",
}


@register
class LicenseMissing(Check):
    rule = "license-missing"
    severity = Severity.ERROR
    summary = "A code, model or data component has no license at all."

    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        for comp in result.components:
            if any(not d.is_clue for d in comp.declared):
                continue
            if any(d.is_clue for d in comp.declared):
                continue  # a license is named but unknown: unknown-license says so, not this rule
            yield self.finding(
                message=f"{comp.kind.value} component has no license "
                f"({len(comp.files)} file{'s' if len(comp.files) != 1 else ''}, none licensed)",
                path=comp.files[0] if comp.files else None,
                component=comp.name,
                fix=FIX[comp.kind],
            )
