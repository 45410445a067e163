"""License texts in license, notice and README files, by the fingerprint matcher.

Each known text found becomes a detection with its line span. A text that
matches a license only in part is that license, ``modified``, with the lines
that differ. Text in a license file that matches nothing, or matches near
relatives equally well, is ``unknown-license-reference``: reported, never
guessed. The scope comes from the file name: LICENSE-CODE speaks for code,
MODEL_LICENSE and LICENSE-MODEL for the model, a plain LICENSE for nothing in
particular (the components stage decides).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import PurePosixPath

from auditor.detectors import DETECTORS, Detected, Detector, detection, unknown
from auditor.matcher import Leftover, Match, match_text
from auditor.model import Evidence, FileEntry, FileKind, LicenseDetection, Method, Scope
from auditor.signatures import is_policy

_MODEL_NAME = re.compile(r"model|weight|权重|模型", re.IGNORECASE)
_CODE_NAME = re.compile(r"(^|[-_. ])code([-_. ]|$)|代码", re.IGNORECASE)
_DATA_NAME = re.compile(r"(^|[-_. ])data(set)?([-_. ]|$)|数据", re.IGNORECASE)
#: Leftover text this close to a matched license is a change to it, not another license.
ATTACH_LINES = 3
#: In a README only near-whole copies count: prose around them is not a license.
README_MIN = 0.8


def scope_of(path: str) -> Scope:
    name = PurePosixPath(path).name
    if _CODE_NAME.search(name):
        return Scope.CODE
    if _MODEL_NAME.search(name):
        return Scope.MODEL
    if _DATA_NAME.search(name):
        return Scope.DATA
    return Scope.UNSPECIFIED


def _excerpt(lines: list[str], start: int, end: int, limit: int = 160) -> str:
    for ln in range(start, min(end, len(lines)) + 1):
        text = lines[ln - 1].strip()
        if text:
            return text if len(text) <= limit else text[:limit] + "…"
    return ""


@DETECTORS.register("license-text")
class LicenseTextDetector(Detector):
    text_limit = 1 << 20

    def applies_to(self, entry: FileEntry) -> bool:
        return entry.kind in (FileKind.LICENSE, FileKind.NOTICE, FileKind.README)

    def detect(self, entry: FileEntry, text: str) -> Detected:
        found = match_text(text)
        lines = text.split("\n")
        readme = entry.kind is FileKind.README
        scope = scope_of(entry.path)
        out: list[LicenseDetection] = []
        matches = [
            m for m in found.matches if not readme or min(m.coverage, m.precision) >= README_MIN
        ]
        leftovers = [r for r in found.unmatched if r.significant]
        for m in matches:
            near = [r for r in leftovers if self._touches(r, m)]
            leftovers = [r for r in leftovers if r not in near]
            out.append(self._detection(entry, lines, m, near, scope))
        for start, end, keys in found.ambiguous:
            excerpt = f"matches {' and '.join(keys)} equally: {_excerpt(lines, start, end)}"
            out.append(
                unknown(Evidence(entry.path, start, end, Method.LICENSE_TEXT, excerpt), scope)
            )
        if entry.kind is not FileKind.LICENSE:
            # A README's prose, or a NOTICE naming licenses, is no license text: only what
            # matches a known text (a license, an acceptable-use policy) counts there.
            return Detected(tuple(out))
        if not matches and not found.ambiguous and found.unmatched:
            # A license file that matches nothing is unknown, however short its text.
            first, last = found.unmatched[0].first, found.unmatched[-1].last
            leftovers = [Leftover(first, last, sum(r.tokens for r in found.unmatched), True)]
        for r in leftovers:
            excerpt = f"no known license text: {_excerpt(lines, r.first, r.last)}"
            out.append(
                unknown(Evidence(entry.path, r.first, r.last, Method.LICENSE_TEXT, excerpt), scope)
            )
        return Detected(tuple(out))

    @staticmethod
    def _touches(run: Leftover, m: Match) -> bool:
        return run.first <= m.end_line + ATTACH_LINES and run.last >= m.start_line - ATTACH_LINES

    @staticmethod
    def _detection(
        entry: FileEntry, lines: list[str], m: Match, extra: list[Leftover], scope: Scope
    ) -> LicenseDetection:
        start = min([m.start_line] + [r.first for r in extra])
        end = max([m.end_line] + [r.last for r in extra])
        ev = Evidence(entry.path, start, end, Method.LICENSE_TEXT, _excerpt(lines, start, end))
        differing = set(m.differing_lines)
        for r in extra:
            differing.update(range(r.first, r.last + 1))
        diffs = tuple(
            Evidence(entry.path, ln, ln, Method.LICENSE_TEXT, lines[ln - 1].strip()[:200])
            for ln in sorted(differing)
            if ln <= len(lines) and lines[ln - 1].strip()
        )
        modified = not m.exact or bool(diffs)
        # A policy (an acceptable-use policy, a notice) goes with the model's license.
        det = detection(m.key, ev, scope=Scope.MODEL if is_policy(m.key) else scope, score=m.score)
        return replace(det, modified=modified, coverage=m.coverage, differences=diffs)
