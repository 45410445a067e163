"""License sentences in source file headers: "Licensed under the Apache License, Version
2.0", "This source code is licensed under the MIT license found in the LICENSE file in the
root directory of this source tree", "may be used and distributed according to the terms
of the Llama 2 Community License Agreement".

A header speaks for its own file, like an SPDX-License-Identifier tag (scope code,
place ``header``). A header that points at a license file ("found in the LICENSE file
in the root directory") is a reference to that file: resolved to what the file holds,
or a broken reference when the repo has no such file. Only the first lines are read,
and only comment lines count: a string in the code that names a license is no header.
"""

from __future__ import annotations

import posixpath
import re

from auditor.detectors import DETECTORS, Detected, Detector, detection, unknown
from auditor.model import (
    Evidence,
    FileEntry,
    FileKind,
    Inventory,
    LicenseDetection,
    LicenseReference,
    Method,
    Place,
    Scope,
)
from auditor.names import is_vague, key_for_name

#: Headers sit in the first lines; the pipeline reads at most the spdx-tag detector's bytes.
HEADER_LINES = 40
_COMMENT = re.compile(r"^\s*(?:#+|//+|/\*+|\*+|--|;+|%+|<!--|\"{3}|'{3}|rem\b|\.\.)\s?", re.I)
_NAMED = re.compile(
    r"(?:licen[cs]ed|distributed|released|used\s+and\s+distributed)\s+(?:\w+\s+){0,2}?"
    r"(?:under|according\s+to|in\s+accordance\s+with)\s+(?:the\s+)?(?:terms\s+(?:of|described\s+"
    r"in)\s+(?:the\s+)?)?(?P<name>[A-Za-z][\w .+-]{1,80}?(?:licen[cs]e|agreement)"
    r"(?:,?\s+version\s+\d+(?:\.\d+)*)?)",
    re.IGNORECASE,
)
# "... found in the LICENSE file in the root directory of this source tree",
# "For licensing see accompanying LICENSE file", "the LICENSE file in the sav_dataset directory".
_FILE = re.compile(
    r"(?P<file>\b(?:LICEN[CS]E|COPYING)[\w.-]*)\s+file(?:s)?(?P<where>[^.;]{0,80})",
    re.IGNORECASE,
)
_POINTS = re.compile(r"\b(?:found|file|files|described|accompanying|see)\b", re.IGNORECASE)
_ROOT = re.compile(r"\b(?:root|top[- ]level)\b", re.IGNORECASE)
_DIRECTORY = re.compile(r"\bin\s+the\s+(?P<dir>[\w.-]+)\s+(?:directory|folder)\b", re.IGNORECASE)


@DETECTORS.register("license-header")
class LicenseHeaderDetector(Detector):
    text_limit = 8 * 1024

    def __init__(self) -> None:
        self._files: set[str] = set()

    def prepare(self, inventory: Inventory) -> None:
        self._files = {f.path for f in inventory.files}

    def applies_to(self, entry: FileEntry) -> bool:
        return entry.kind is FileKind.CODE

    def detect(self, entry: FileEntry, text: str) -> Detected:
        if "icens" not in text and "ICENS" not in text:
            return Detected()
        lines = text.split("\n", HEADER_LINES)[:HEADER_LINES]
        comment: list[tuple[int, str]] = []
        for i, raw in enumerate(lines, 1):
            lead = _COMMENT.match(raw)
            if lead:
                comment.append((i, raw[lead.end() :].strip()))
        if not comment:
            return Detected()
        joined = " ".join(t for _, t in comment)
        starts = []
        pos = 0
        for _, t in comment:
            starts.append(pos)
            pos += len(t) + 1
        found: list[LicenseDetection] = []
        refs: list[LicenseReference] = []

        def where(offset: int) -> tuple[int, str]:
            index = max(i for i, s in enumerate(starts) if s <= offset)
            line, excerpt = comment[index]
            return line, excerpt

        for m in _NAMED.finditer(joined):
            name = m["name"].strip()
            if _POINTS.search(name) or is_vague(name):
                continue  # "the license found in the LICENSE file": a reference, below
            line, excerpt = where(m.start())
            ev = Evidence(entry.path, line, line, Method.LICENSE_HEADER, excerpt[:200])
            key = key_for_name(name)
            if key:
                found.append(detection(key, ev, scope=Scope.CODE, place=Place.HEADER))
            elif re.search(r"licen[cs]e|agreement", name, re.I):
                found.append(unknown(ev, Scope.CODE, Place.HEADER, stated=name))
        for m in _FILE.finditer(joined):
            line, excerpt = where(m.start())
            ev = Evidence(entry.path, line, line, Method.LICENSE_HEADER, excerpt[:200])
            target = self._target(entry.path, m["file"], m["where"])
            refs.append(
                LicenseReference(target, Scope.CODE, ev, m["file"], True, place=Place.HEADER)
            )
        return Detected(tuple(found), references=tuple(refs))

    def _target(self, path: str, name: str, where: str) -> str:
        """The file a header means: at the root, in a named folder, or the nearest one up
        the tree from the source file ("see accompanying LICENSE file")."""
        if _ROOT.search(where):
            return "/" + name
        named = _DIRECTORY.search(where)
        if named:
            folder = named["dir"]
            candidates = sorted(f for f in self._files if f.endswith(f"{folder}/{name}"))
            return "/" + (candidates[0] if candidates else f"{folder}/{name}")
        folder = posixpath.dirname(path)
        while True:
            candidate = posixpath.join(folder, name) if folder else name
            if candidate in self._files:
                return "/" + candidate
            if not folder:
                return "/" + name
            folder = posixpath.dirname(folder)
