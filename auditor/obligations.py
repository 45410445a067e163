"""What a concluded license asks of whoever redistributes what it covers.

Facts come from the catalog (../shared/licenses/index.json, with the
license's own words) or, for common licenses the index does not cover, from
``signatures/obligations.yaml`` (our summaries, with clause numbers). A
license with neither gets one ``review`` obligation: an uncatalogued license
may ask anything, and saying "nothing" would be a guess.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from auditor.model import Obligation, ObligationKind
from auditor.signatures import catalog

OWN_FACTS = Path(__file__).with_name("signatures") / "obligations.yaml"

#: Commercial-use values, as the index records them, that limit commercial use.
LIMITED = {
    "non-commercial": "non-commercial use only",
    "threshold": "commercial use needs a separate license above a size threshold",
    "application-required": "commercial use requires applying to or registering with the licensor",
}


def own_facts() -> dict[str, dict[str, Any]]:
    """``signatures/obligations.yaml``, as ``make signatures`` built it into the catalog (a
    scan parses no YAML for it; the build check keeps the two in step)."""
    return catalog().own_facts


def facts_for(key: str) -> dict[str, dict[str, str]] | None:
    """The fact fields of one license as {field: {value, quote}}, or None when uncatalogued."""
    cat = catalog()
    if key in cat:
        shared = cat.get(key).facts
        if shared:
            return {f: v for f, v in shared.items() if v}
    own = own_facts().get(key)
    if own is None:
        return None
    out: dict[str, dict[str, str]] = {}
    for field, raw in own.items():
        text = str(raw)
        if field == "commercial_use":
            value, _, quote = text.partition("|")
            out[field] = {"value": value, "quote": quote}
        else:
            out[field] = {"value": "true", "quote": text}
    return out


def _get(facts: dict[str, dict[str, str]], field: str) -> tuple[str, str] | None:
    fact = facts.get(field)
    if not fact:
        return None
    value = fact.get("value")
    if value in (None, False, "", "false"):
        return None
    return str(value), str(fact.get("quote") or "")


@cache
def obligations_for(key: str) -> tuple[Obligation, ...]:
    facts = facts_for(key)
    cat = catalog()
    name = cat.get(key).name if key in cat else key
    if facts is None:
        if key in cat and cat.get(key).category == "Public Domain":
            return ()
        return (
            Obligation(
                key,
                ObligationKind.REVIEW,
                f"obligations of {name} are not catalogued: read the license before redistributing",
            ),
        )
    out: list[Obligation] = []

    def add(kind: ObligationKind, field: str, summary: str, with_value: bool = False) -> None:
        got = _get(facts, field)
        if got:
            value, quote = got
            shown = value if with_value and value != "true" else ""
            out.append(
                Obligation(key, kind, summary + (f": {shown}" if shown else ""), shown, quote)
            )

    add(ObligationKind.LICENSE_COPY, "requires_license_copy", "ship a copy of the license")
    add(
        ObligationKind.COPYRIGHT_NOTICE,
        "requires_copyright_notice",
        "keep the copyright and attribution notices",
    )
    add(
        ObligationKind.NOTICE_FILE,
        "requires_notice_file",
        "carry the attribution notices of the NOTICE file, if the work has one",
    )
    add(
        ObligationKind.MODIFICATION_NOTICE,
        "requires_modification_notice",
        "state prominently which files you changed",
    )
    add(
        ObligationKind.USE_RESTRICTIONS,
        "use_restrictions_must_propagate",
        "carry the use-based restrictions into the license of every derivative",
    )
    add(ObligationKind.SHARE_ALIKE, "share_alike", "share derivatives under the same license")
    add(ObligationKind.SHARE_ALIKE, "no_derivatives", "adapted material may not be shared")
    add(ObligationKind.ATTRIBUTION, "attribution_text", "show the required attribution", True)
    add(ObligationKind.NAMING, "naming_requirement", "naming rule for derivatives", True)
    add(
        ObligationKind.ACCEPTABLE_USE_POLICY,
        "acceptable_use_policy",
        "pass on the use policy",
        True,
    )
    commercial = _get(facts, "commercial_use")
    if commercial and commercial[0] in LIMITED:
        summary = LIMITED[commercial[0]]
        threshold = _get(facts, "commercial_threshold")
        value = threshold[0] if threshold else ""
        quote = threshold[1] if threshold and threshold[1] else commercial[1]
        if value:
            summary += f" ({value})"
        out.append(Obligation(key, ObligationKind.COMMERCIAL, summary, value, quote))
    return tuple(out)


def requires(key: str, kind: ObligationKind) -> Obligation | None:
    """The obligation of ``kind`` that license ``key`` imposes, if the catalog knows it does."""
    return next((o for o in obligations_for(key) if o.kind is kind), None)
