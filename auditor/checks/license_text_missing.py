"""``license-text-missing``: a license is declared (card, README, badge, tag), its text not shipped.

An error when the license asks for a copy to go with every copy of the work
(most do), and for licenses whose obligations are not catalogued; licenses
known not to ask (public-domain dedications) are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.checks import Check, register
from auditor.evidence import is_text
from auditor.model import (
    UNKNOWN_KEY,
    AuditResult,
    Evidence,
    Finding,
    Method,
    ObligationKind,
    Place,
    Severity,
)
from auditor.names import is_vague
from auditor.obligations import obligations_for
from auditor.signatures import is_policy, label

DECLARING = {
    Method.CARD_METADATA,
    Method.README_STATEMENT,
    Method.LINK,
    Method.SPDX_TAG,
    Method.PACKAGE_METADATA,
    Method.WEIGHTS_METADATA,
}
ASKING = {ObligationKind.LICENSE_COPY, ObligationKind.REVIEW}


@register
class LicenseTextMissing(Check):
    rule = "license-text-missing"
    severity = Severity.ERROR
    summary = "A license is declared but its text is not shipped in the repo."

    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        shipped = {
            d.key
            for d in result.detections
            if d.evidence[-1].method is Method.LICENSE_TEXT and not d.is_clue
        }
        yield from self._unknown(result)
        declared: dict[str, list[str]] = {}
        evidence: dict[str, list[Evidence]] = {}
        for comp in result.components:
            for d in comp.declared:
                if d.is_clue or d.key == UNKNOWN_KEY or is_policy(d.key) or d.key in shipped:
                    continue
                if d.place in (Place.MENTION, Place.THIRD_PARTY):
                    continue
                if d.evidence[0].method not in DECLARING:
                    continue
                declared.setdefault(d.key, [])
                if comp.name not in declared[d.key]:
                    declared[d.key].append(comp.name)
                evidence.setdefault(d.key, []).append(d.evidence[0])
        for key, comps in sorted(declared.items()):
            if not any(o.kind in ASKING for o in obligations_for(key)):
                continue
            evs = tuple(dict.fromkeys(evidence[key]))
            where = ", ".join(sorted({f"{e.path}:{e.start_line}" for e in evs}))
            yield self.finding(
                f"{label(key)} is declared ({where}) but its text is not in the repo",
                path=evs[0].path,
                component=comps[0] if len(comps) == 1 else None,
                evidence=evs,
                fix=f"add the full {label(key)} text as LICENSE"
                + (" (or LICENSE-MODEL for the weights)" if "model" in comps else ""),
            )

    def _unknown(self, result: AuditResult) -> Iterable[Finding]:
        """A license named but not one we know ("Baichuan-7B 模型许可协议", linked as a PDF on
        another site), for a part that ships no license text at all: its text is missing
        too, whatever it says."""
        named: dict[str, list[tuple[str, Evidence]]] = {}
        for comp in result.components:
            if any(is_text(d) for d in comp.declared if d.place is not Place.THIRD_PARTY):
                continue  # a license file speaks for it: it may be that license's text
            for d in comp.declared:
                if d.key != UNKNOWN_KEY or d.place in (Place.MENTION, Place.THIRD_PARTY):
                    continue
                if d.evidence[0].method not in DECLARING or not d.stated or is_vague(d.stated):
                    continue
                if d.family:
                    continue  # "the Apache License": which text is missing is not known
                name = " ".join(d.stated.strip("《》[]()\"' ").split())
                named.setdefault(name, []).append((comp.name, d.evidence[0]))
        for name, places in sorted(named.items()):
            comps = list(dict.fromkeys(c for c, _ in places))
            evs = tuple(dict.fromkeys(e for _, e in places))
            where = ", ".join(sorted({f"{e.path}:{e.start_line}" for e in evs}))
            yield self.finding(
                f"{name!r} is declared ({where}) but no license text is in the repo",
                path=evs[0].path,
                component=comps[0] if len(comps) == 1 else None,
                evidence=evs,
                fix=f"add the full text of {name!r} to the repo (LICENSE, or LICENSE-MODEL "
                "for the weights)",
            )
