"""``use-restrictions-dropped``: a derivative of a model whose license makes its use-based
restrictions travel (OpenRAIL family, DeepSeek) is published under terms without them.

An error: those licenses require the restrictions to be an enforceable part
of any license a derivative is distributed under.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.checks import Check, register
from auditor.model import (
    UNKNOWN_KEY,
    AuditResult,
    ComponentKind,
    Finding,
    LicenseDetection,
    Method,
    ObligationKind,
    Severity,
)
from auditor.obligations import requires
from auditor.signatures import is_policy, label, license_keys


@register
class UseRestrictionsDropped(Check):
    rule = "use-restrictions-dropped"
    severity = Severity.ERROR
    summary = (
        "A derivative is published without the use-based restrictions its base "
        "model's license requires to travel."
    )

    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        for base in result.base_models:
            if base.license is None:
                continue
            carried = requires(base.license, ObligationKind.USE_RESTRICTIONS)
            if carried is None:
                continue
            for comp in result.components:
                if comp.kind is not ComponentKind.MODEL:
                    continue
                keys = license_keys(comp.concluded) or sorted(
                    {
                        d.key
                        for d in comp.declared
                        if not d.is_clue and d.key != UNKNOWN_KEY and not is_policy(d.key)
                    }
                )
                if not keys:
                    continue  # no license at all: license-missing says so
                # The card's license field is what the Hub publishes the model under, even
                # where a shipped text outranks it for the conclusion.
                card = [
                    d
                    for d in comp.declared
                    if d.evidence[0].method is Method.CARD_METADATA
                    and d.key != UNKNOWN_KEY
                    and not requires(d.key, ObligationKind.USE_RESTRICTIONS)
                ]
                if any(requires(k, ObligationKind.USE_RESTRICTIONS) for k in keys):
                    if not card:
                        continue
                    keys = sorted({d.key for d in card})
                    said: tuple[LicenseDetection, ...] = tuple(card)
                else:
                    said = comp.basis or comp.declared
                yield self.finding(
                    f"derivative of {base.name} ({label(base.license)}, from "
                    f"{base.license_source}) is published under {' AND '.join(keys)}, "
                    f"which carries no use-based restrictions; the base license says: "
                    f'"{carried.quote}"',
                    path=said[0].evidence[0].path if said else None,
                    component=comp.name,
                    evidence=tuple(dict.fromkeys(d.evidence[0] for d in said)) + base.evidence,
                    fix=f"license the derivative under {label(base.license)} (or terms that "
                    "include its use-based restrictions) and ship that text",
                )
