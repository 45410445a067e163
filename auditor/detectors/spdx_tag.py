"""``SPDX-License-Identifier:`` tags in source headers (REUSE style); they speak for code."""

from __future__ import annotations

import re

from auditor.detectors import DETECTORS, Detected, Detector, detection, line_of, unknown
from auditor.model import Evidence, FileEntry, FileKind, LicenseDetection, Method, Place, Scope
from auditor.signatures import catalog

# A tag is a line of its own, behind at most a comment leader, whose value is an
# SPDX expression; a mention of the tag in prose or in a string is not one. The line
# is cut into leader, tag and value and each part checked alone: one pattern over
# the whole line backtracks for minutes on a line of spaces that does not end right.
_KEYWORD = re.compile(r"SPDX-License-Identifier:", re.IGNORECASE)
_LEADER = re.compile(r"(?:#+|//+|/\*+|\*+|--|;+|%+|<!--|\.\.|rem\b|@rem\b|'|\"{3})?", re.IGNORECASE)
_VALUE = re.compile(r"[A-Za-z0-9.+\-:() \t]+")
_CLOSERS = ("*/", "-->", '"""')
_OPERATORS = frozenset({"and", "or", "with"})
# Tags sit in the first lines of a file; reading all of a large source file is waste.
HEADER_BYTES = 8 * 1024


def _ids(expression: str) -> list[str]:
    return [t for t in re.split(r"[\s()]+", expression) if t and t.lower() not in _OPERATORS]


def _tags(text: str) -> list[tuple[int, str, str]]:
    """(offset of the line, the line, the expression) of each tag line of ``text``."""
    out = []
    for m in _KEYWORD.finditer(text):
        begin = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        end = len(text) if end < 0 else end
        leader = text[begin : m.start()].strip(" \t")
        if not _LEADER.fullmatch(leader):
            continue
        value = text[m.end() : end].strip(" \t\r")
        for closer in _CLOSERS:
            if value.endswith(closer):
                value = value[: -len(closer)].rstrip(" \t")
                break
        if value and _VALUE.fullmatch(value):
            out.append((begin, text[begin:end], value))
    return out


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
        for start, line_text, expr in _tags(text):
            line = line_of(text, start)
            ev = Evidence(entry.path, line, line, Method.SPDX_TAG, line_text.strip()[:300])
            for spdx_id in dict.fromkeys(_ids(expr)):
                key = cat.by_spdx(spdx_id)
                found.append(
                    detection(key, ev, scope=Scope.CODE, place=Place.HEADER)
                    if key
                    else unknown(ev, Scope.CODE, Place.HEADER, stated=spdx_id)
                )
        return Detected(tuple(found))
