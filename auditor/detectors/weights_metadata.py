"""License and lineage statements in weight-file headers (GGUF ``general.*``, safetensors metadata).

The source already parsed the header (bounded, never executing) into
``FileEntry.header``; this detector reads only that, never the file. GGUF
converters copy the model card into ``general.license`` (a Hub id, several
joined with commas, or an SPDX expression), ``general.license.name`` /
``.link`` and ``general.base_model.N.*``; safetensors files may carry
``license`` and ``base_model`` in ``__metadata__``. The header speaks for the
model (scope ``model``). A header has no lines: evidence points at line 1 and
quotes ``key = value``.
"""

from __future__ import annotations

import json
import re

from auditor.detectors import DETECTORS, Detected, Detector, detection, unknown
from auditor.model import (
    Evidence,
    Fact,
    FileEntry,
    FileKind,
    LicenseDetection,
    Method,
    Place,
    Scope,
)
from auditor.names import hub_candidates

GGUF_LICENSE = "general.license"
GGUF_FACTS = {
    "general.name": "model_name",
    "general.license.name": "license_name",
    "general.license.link": "license_link",
}
_GGUF_BASE = re.compile(r"^general\.base_model\.(\d+)\.(name|organization|repo_url)$")
ST_LICENSE = "license"
ST_FACTS = {"base_model": "base_model"}

_OPERATORS = frozenset({"and", "or", "with"})
_SEPARATORS = re.compile(r"[\s(),]+")


def _evidence(entry: FileEntry, key: str, value: str) -> Evidence:
    return Evidence(entry.path, 1, 1, Method.WEIGHTS_METADATA, f"{key} = {value}")


def _values(raw: str) -> list[str]:
    """A header value as a list: the reader stores a string array as JSON."""
    text = raw.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except (ValueError, RecursionError):
            return [text]
        if isinstance(items, list):
            return [str(v).strip() for v in items if str(v).strip()]
    return [text] if text else []


def _license_ids(value: str) -> list[str]:
    """Ids named by one license value: a single id, a comma list or an SPDX expression.

    A value with no separator stays whole, so a free-text name ("MIT License")
    is one unknown, not a word that happens to be an id plus some unknowns.
    """
    tokens = [t for t in _SEPARATORS.split(value) if t]
    is_list = any(t.lower() in _OPERATORS for t in tokens) or bool(re.search(r"[(),]", value))
    if not is_list:
        return [value.strip()] if value.strip() else []
    return [t for t in tokens if t.lower() not in _OPERATORS]


def _detections(value: str, names: list[str], ev: Evidence) -> list[LicenseDetection]:
    found: list[LicenseDetection] = []
    seen: set[str | None] = set()
    for raw in _values(value):
        for lid in _license_ids(raw):
            candidates = hub_candidates(lid, names)
            key = candidates[0] if len(candidates) == 1 else None
            if key in seen:
                continue
            seen.add(key)
            found.append(
                detection(key, ev, scope=Scope.MODEL, place=Place.FIELD)
                if key
                else unknown(ev, Scope.MODEL, Place.FIELD, stated=value)
            )
    return found


@DETECTORS.register("weights-metadata")
class WeightsMetadataDetector(Detector):
    text_limit = 0  # reads entry.header only

    def applies_to(self, entry: FileEntry) -> bool:
        return entry.kind is FileKind.WEIGHTS and bool(entry.header)

    def detect(self, entry: FileEntry, text: str) -> Detected:
        header = dict(entry.header)
        if entry.format == "gguf" or any(k.startswith("general.") for k in header):
            return self._gguf(entry, header)
        return self._safetensors(entry, header)

    def _gguf(self, entry: FileEntry, header: dict[str, str]) -> Detected:
        facts = [
            Fact(name, header[key], _evidence(entry, key, header[key]))
            for key, name in GGUF_FACTS.items()
            if header.get(key, "").strip()
        ]
        bases: dict[int, dict[str, str]] = {}
        for key, value in header.items():
            m = _GGUF_BASE.match(key)
            if m and value.strip():
                bases.setdefault(int(m.group(1)), {})[m.group(2)] = value.strip()
        for index in sorted(bases):
            facts.append(self._base_model(entry, index, bases[index]))
        detections: list[LicenseDetection] = []
        if header.get(GGUF_LICENSE, "").strip():
            value = header[GGUF_LICENSE]
            names = _values(header.get("general.license.name", ""))
            ev = _evidence(entry, GGUF_LICENSE, value)
            detections = _detections(value, names, ev)
        return Detected(tuple(detections), tuple(facts))

    @staticmethod
    def _base_model(entry: FileEntry, index: int, fields: dict[str, str]) -> Fact:
        prefix = f"general.base_model.{index}."
        if "repo_url" in fields:
            value, used = fields["repo_url"], ["repo_url"]
        else:
            used = [f for f in ("organization", "name") if f in fields]
            value = "/".join(fields[f] for f in used)
        excerpt = "; ".join(f"{prefix}{f} = {fields[f]}" for f in used)
        return Fact(
            "base_model", value, Evidence(entry.path, 1, 1, Method.WEIGHTS_METADATA, excerpt)
        )

    def _safetensors(self, entry: FileEntry, header: dict[str, str]) -> Detected:
        facts = [
            Fact(name, value, _evidence(entry, key, header[key]))
            for key, name in ST_FACTS.items()
            for value in _values(header.get(key, ""))
        ]
        detections: list[LicenseDetection] = []
        if header.get(ST_LICENSE, "").strip():
            value = header[ST_LICENSE]
            detections = _detections(value, [], _evidence(entry, ST_LICENSE, value))
        return Detected(tuple(detections), tuple(facts))
