"""``commercial-restriction`` (note): the license limits commercial use; says how, with the figures.

A note, not a problem in the repo: whoever uses or redistributes the work
must know (non-commercial only, a user threshold, an application to file).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.checks import Check, register
from auditor.model import AuditResult, Finding, ObligationKind, Severity
from auditor.obligations import requires
from auditor.signatures import label


@register
class CommercialRestriction(Check):
    rule = "commercial-restriction"
    severity = Severity.NOTE
    summary = "The license limits commercial use."

    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        for comp in result.components:
            for ob in comp.obligations:
                if ob.kind is not ObligationKind.COMMERCIAL:
                    continue
                yield self.finding(
                    f"{label(ob.license)}: {ob.summary}" + (f' — "{ob.quote}"' if ob.quote else ""),
                    path=comp.basis[0].evidence[0].path if comp.basis else None,
                    component=comp.name,
                    evidence=tuple(dict.fromkeys(d.evidence[0] for d in comp.basis)),
                    fix="check the intended use against these terms before relying on the model",
                )
        own = {o.license for c in result.components for o in c.obligations}
        for base in result.base_models:
            if base.license is None:
                continue
            limit = requires(base.license, ObligationKind.COMMERCIAL)
            if limit is None or base.license in own:
                continue
            yield self.finding(
                f"base model {base.name} is under {label(base.license)}: {limit.summary}",
                path=base.evidence[0].path if base.evidence else None,
                component="model",
                evidence=base.evidence,
                fix="a derivative cannot grant more than its base model's license allows",
            )
