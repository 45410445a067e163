"""``unknown-license``: a license is stated or shipped but the auditor cannot say which.

A warning: nothing is known to be violated, but a person must review it
before anyone relies on the report. Reported where it matters: the unknown
statements a part's license could not be concluded for (one finding per
part, however many translations of the README repeat them), license files
whose text matches no known license, and source headers naming a license
that is not known. A vague or unknown statement that stronger evidence
outranks is evidence in the report, not a finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.checks import Check, register
from auditor.model import (
    UNKNOWN_KEY,
    AuditResult,
    Evidence,
    Finding,
    LicenseDetection,
    Method,
    Place,
    Severity,
)
from auditor.names import in_family
from auditor.signatures import license_keys

FIX = "state the license with an SPDX id or a Hugging Face license id, and ship its full text"
#: Places listed in a message; the rest are counted.
SHOWN = 3


def _where(evs: list[Evidence]) -> str:
    places = list(dict.fromkeys(f"{e.path}:{e.start_line}" for e in evs))
    more = f" and {len(places) - SHOWN} more" if len(places) > SHOWN else ""
    return ", ".join(places[:SHOWN]) + more


@register
class UnknownLicense(Check):
    rule = "unknown-license"
    severity = Severity.WARNING
    summary = "License text or a license statement that matches nothing known."

    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        told: set[tuple[str, int]] = set()
        for comp in result.components:
            if comp.concluded is not None:
                continue
            keys = {d.key for d in comp.basis if d.key != UNKNOWN_KEY}
            unknown = [
                d
                for d in comp.basis
                if d.key == UNKNOWN_KEY and not any(in_family(k, d.family) for k in keys)
            ]
            if not unknown:
                continue
            evs = [d.evidence[0] for d in unknown]
            told.update((e.path, e.start_line) for e in evs)
            first = unknown[0]
            what = f" {first.stated!r}" if first.stated else ""
            yield self.finding(
                message=f"{comp.name} license{what} not identified, please review "
                f"({_where(evs)}): {first.evidence[0].excerpt}",
                path=first.evidence[0].path,
                component=comp.name,
                evidence=tuple(dict.fromkeys(evs)),
                fix=FIX,
            )
        for det in result.detections:
            ev = det.evidence[0]
            if det.key != UNKNOWN_KEY or (ev.path, ev.start_line) in told:
                continue
            if not self._stands_alone(det, result):
                continue
            told.add((ev.path, ev.start_line))
            yield self.finding(
                message=f"license not identified, please review: {ev.excerpt}",
                path=ev.path,
                component=None,
                evidence=det.evidence,
                fix=FIX,
            )

    @staticmethod
    def _stands_alone(det: LicenseDetection, result: AuditResult) -> bool:
        """A license file's own text, or a source header naming a license, that nothing
        identifies: news whatever else the repo says."""
        method = det.evidence[0].method
        if det.place is Place.TEXT and method is Method.LICENSE_TEXT:
            return True
        if det.place is Place.HEADER and method in (Method.LICENSE_HEADER, Method.SPDX_TAG):
            code = [c for c in result.components if c.kind.value == "code"]
            return not any(
                in_family(k, det.family) for c in code for k in license_keys(c.concluded)
            )
        return False
