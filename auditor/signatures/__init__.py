"""The license knowledge the auditor ships: keys, names, ids and obligations.

``catalog.json`` is derived by ``make signatures`` (see ``build.py``) from the
installed ScanCode LicenseDB and ../shared/licenses/index.json, and committed,
so the tool needs neither at run time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from auditor.errors import SignatureError

CATALOG_FILE = Path(__file__).with_name("catalog.json")

# Hugging Face model-card ``license`` ids whose key is not found by reading the
# id as an SPDX id. Our own facts, reviewed like data.
HUB_IDS: dict[str, list[str]] = {
    "bsl-1.0": ["boost-1.0"],  # the Hub's bsl-1.0 is the Boost license
    "c-uda": ["c-uda-1.0"],
    "lgpl-lr": ["lgpllr"],
    "odc-by": ["odc-by-1.0"],
    "odbl": ["odbl-1.0"],
    "pddl": ["pddl-1.0"],
    "ncsa": ["uoi-ncsa"],
    "wtfpl": ["wtfpl-2.0"],
}

# Hub ids that name a family, not a license: reporting one member would be a guess.
AMBIGUOUS_HUB_IDS: dict[str, str] = {
    "gpl": "GNU GPL, version not stated",
    "lgpl": "GNU LGPL, version not stated",
    "agpl": "GNU AGPL, version not stated",
    "gfdl": "GNU FDL, version not stated",
    "bsd": "a BSD license, variant not stated",
    "cc": "a Creative Commons license, variant not stated",
    "unknown": "license stated as unknown",
}


# Family names that are no SPDX id of one license, whatever aliases ScanCode keeps.
AMBIGUOUS_IDS = frozenset(
    {
        "gpl",
        "lgpl",
        "agpl",
        "fdl",
        "gfdl",
        "bsd",
        "mpl",
        "cc",
        "cc-by",
        "apache",
        "artistic",
        "epl",
        "eupl",
        "afl",
        "osl",
        "public-domain",
    }
)


@dataclass(frozen=True)
class LicenseInfo:
    key: str
    name: str
    spdx_id: str
    category: str | None
    family: str | None
    facts: dict[str, Any]
    raw: dict[str, Any]


class Catalog:
    def __init__(self, data: dict[str, Any]) -> None:
        self._licenses: dict[str, dict[str, Any]] = data["licenses"]
        self.hub_ids: dict[str, list[str]] = data["hub_ids"]
        self.hub_names: dict[str, list[str]] = data["hub_names"]
        # Written by `make signatures` (names.build_*_index), read by auditor.names.
        self.name_index: dict[str, str | None] = data.get("name_index", {})
        self.url_index: dict[str, str | None] = data.get("url_index", {})
        #: signatures/obligations.yaml as built into the catalog (auditor.obligations).
        self.own_facts: dict[str, dict[str, Any]] = data.get("own_facts", {})
        self.sources: dict[str, Any] = data["sources"]
        self._spdx: dict[str, str] = {}
        # Primary ids first so that an alias never shadows the license that owns an id.
        for key, rec in self._licenses.items():
            if not rec.get("deprecated"):
                self._spdx.setdefault(rec["spdx_id"].lower(), key)
        for key, rec in self._licenses.items():
            if not rec.get("deprecated"):
                for other in rec.get("other_spdx_ids", []):
                    self._spdx.setdefault(other.lower(), key)
        for key, rec in self._licenses.items():
            self._spdx.setdefault(rec["spdx_id"].lower(), key)

    def __len__(self) -> int:
        return len(self._licenses)

    def __contains__(self, key: object) -> bool:
        return key in self._licenses

    def keys(self) -> list[str]:
        return list(self._licenses)

    def __iter__(self) -> Iterator[str]:
        return iter(self._licenses)

    def get(self, key: str) -> LicenseInfo:
        try:
            rec = self._licenses[key]
        except KeyError:
            raise SignatureError(f"license key {key!r} is not in the catalog") from None
        return LicenseInfo(
            key=key,
            name=rec["name"],
            spdx_id=rec["spdx_id"],
            category=rec.get("category"),
            family=rec.get("family"),
            facts=rec.get("facts") or {},
            raw=rec,
        )

    def by_spdx(self, spdx_id: str) -> str | None:
        """The key for an SPDX id (any case, deprecated ids included), or None.

        Bare family names that ScanCode keeps as aliases ("GPL", "BSD") name no one
        license: None, so that callers report them as unknown.
        """
        sid = spdx_id.strip().lower()
        if sid in AMBIGUOUS_HUB_IDS or sid in AMBIGUOUS_IDS:
            return None
        return self._spdx.get(sid)

    def by_hub_id(self, hub_id: str) -> list[str]:
        """Candidate keys for a Hub ``license`` id; more than one means the id is ambiguous."""
        hid = hub_id.strip().lower()
        if hid in self.hub_ids:
            return list(self.hub_ids[hid])
        key = self.by_spdx(hid)
        return [key] if key else []

    def by_hub_name(self, name: str) -> list[str]:
        return list(self.hub_names.get(name.strip().lower(), []))

    def key_for_hub(self, license_id: str, names: list[str]) -> str | None:
        """The one key a Hub ``license`` id (with ``license_name`` values for "other")
        stands for; None when it names a family, nothing known, or several licenses."""
        lid = license_id.strip().lower()
        if lid in AMBIGUOUS_HUB_IDS:
            return None
        if lid == "other":  # the Hub's "see license_name"
            keys = sorted({k for n in names for k in self.by_hub_name(n)})
        else:
            keys = self.by_hub_id(lid)
        return keys[0] if len(keys) == 1 else None


POLICY_FAMILIES = frozenset({"acceptable-use-policy", "notice"})
#: Families of the shared index that are no model license: permissive code licenses
#: kept there for their facts, notices and use policies.
NOT_MODEL_FAMILIES = frozenset({"permissive", "notice", "acceptable-use-policy"})


def is_model_license(key: str) -> bool:
    """A license written for models (Llama, DeepSeek, OpenRAIL, Tongyi Qianwen...): a lone
    LICENSE holding one covers the weights too, whatever else speaks for them."""
    cat = catalog()
    if key not in cat:
        return False
    info = cat.get(key)
    return (
        "shared" in info.raw.get("origin", ())
        and info.family is not None
        and info.family not in NOT_MODEL_FAMILIES
    )


def is_policy(key: str) -> bool:
    """An acceptable-use policy or a notice: it goes with a license, it is not one."""
    cat = catalog()
    return key in cat and cat.get(key).family in POLICY_FAMILIES


@cache
def catalog() -> Catalog:
    try:
        data = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
        return Catalog(data)
    except (OSError, ValueError, KeyError) as exc:
        raise SignatureError(f"cannot read license catalog {CATALOG_FILE}: {exc}") from exc


def label(key: str) -> str:
    """``Apache License 2.0 (apache-2.0)``: people read names, tools read keys."""
    cat = catalog()
    return f"{cat.get(key).name} ({key})" if key in cat else key


def license_keys(expression: str | None) -> list[str]:
    """The license keys of ``apache-2.0 AND (mit OR bsd-new)``, in order, without repeats;
    an exception after ``WITH`` is not a license and is left out.

    A lone key is taken as it is; an expression is parsed by license-expression (loaded
    only then: ~15 ms to import, and most parts have one license)."""
    text = (expression or "").strip()
    if not text:
        return []
    if not re.search(r"[\s()]", text):
        return [text]
    from license_expression import ExpressionError, LicenseWithExceptionSymbol

    try:
        symbols = _licensing().license_symbols(text, unique=True, decompose=False)
    except ExpressionError as exc:
        raise ValueError(f"not a license expression: {text!r} ({exc})") from exc
    keys: list[str] = []
    for symbol in symbols:
        key = (
            symbol.license_symbol.key
            if isinstance(symbol, LicenseWithExceptionSymbol)
            else symbol.key
        )
        if key not in keys:
            keys.append(key)
    return keys


@cache
def _licensing() -> Any:
    from license_expression import Licensing

    return Licensing()
