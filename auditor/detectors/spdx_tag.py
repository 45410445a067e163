"""``SPDX-License-Identifier:`` tags in source headers (REUSE style); they speak for code."""

from __future__ import annotations

import re

from auditor.detectors import DETECTORS, Detected, Detector, detection, line_of, unknown
from auditor.model import Evidence, FileEntry, FileKind, LicenseDetection, Method, Place, Scope
from auditor.signatures import catalog

# A tag is a line of its own, behind at most a comment leader, whose value is an
# SPDX expression; a mention of the tag in prose or in a string is not one.
_TAG = re.compile(
    r"^[ \t]*(?:#+|//+|/\*+|\*+|--|;+|%+|<!--|\.\.|rem\b|@rem\b|'|\"{3})?[ \t]*"
    r"SPDX-License-Identifier:[ \t]*"
    r"(?P<expr>[A-Za-z0-9.+\-:() \t]+?)[ \t]*(?:\*/|-->|\"{3})?[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_OPERATORS = frozenset({"and", "or", "with"})
# Tags sit in the first lines of a file; reading all of a large source file is waste.
HEADER_BYTES = 8 * 1024


def _ids(expression: str) -> list[str]:
    return [t for t in re.split(r"[\s()]+", expression) if t and t.lower() not in _OPERATORS]


@DETECTORS.register("spdx-tag")
class SpdxTagDetector(Detector):
    text_limit = HEADER_BYTES

    def applies_to(self, entry: FileEntry) -> bool:
        return entry.kind is FileKind.CODE

    def detect(self, entry: FileEntry, text: str) -> Detected:
        if "spdx" not in text.lower():
            return Detected()  # most files have no tag: one literal search, not a line scan
        found: list[LicenseDetection] = []
        cat = catalog()
        for m in _TAG.finditer(text):
            line = line_of(text, m.start())
            ev = Evidence(entry.path, line, line, Method.SPDX_TAG, m.group(0).strip())
            for spdx_id in dict.fromkeys(_ids(m.group("expr"))):
                key = cat.by_spdx(spdx_id)
                found.append(
                    detection(key, ev, scope=Scope.CODE, place=Place.HEADER)
                    if key
                    else unknown(ev, Scope.CODE, Place.HEADER, stated=spdx_id)
                )
        return Detected(tuple(found))
