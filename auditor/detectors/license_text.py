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
from auditor.matcher import EXACT, Leftover, Match, match_text
from auditor.model import (
    Evidence,
    FileEntry,
    FileKind,
    LicenseDetection,
    LicenseReference,
    Method,
    Place,
    Scope,
)
from auditor.signatures import is_policy

_MODEL_NAME = re.compile(r"model|weight|权重|模型", re.IGNORECASE)
_CODE_NAME = re.compile(r"(^|[-_. ])code([-_. ]|$)|代码", re.IGNORECASE)
_DATA_NAME = re.compile(r"(^|[-_. ])data(set)?([-_. ]|$)|数据", re.IGNORECASE)
#: Leftover text this close to a matched license is a change to it, not another license.
ATTACH_LINES = 3
#: In a README only near-whole copies count: prose around them is not a license.
README_MIN = 0.8
#: A line after the first license text that starts the texts of bundled parts.
_THIRD_PARTY = re.compile(
    r"licen[cs]e\s+for\b|third[- ]party|3rd[- ]party|also\s+(?:contains?|includes?)\s+"
    r"(?:code|software|files|components?|parts?)|following\s+(?:copyright|licen[cs]e|notice)|"
    r"subcomponents?|separate\s+(?:copyright|licen[cs]e)|"
    r"includes?\s+(?:software|code)\s+(?:from|developed)|第三方|以下组件",
    re.IGNORECASE,
)
#: Beside a license text, a sentence that says where another part's terms are ("The
#: model weights' license terms can be found in LICENSE_MODEL") is a pointer, not a term.
_POINTER = re.compile(
    r"(?:can\s+be\s+found|(?:are|is)\s+(?:available|provided|located)\s+(?:in|at)|"
    r"please\s+(?:see|refer)|refer\s+to\s+(?:the\s+)?(?:file|licen)|see\s+the\s+file)\b"
    r"[^\n]{0,80}(?:LICEN[CS]E|NOTICE|ACKNOWLEDG|COPYING|https?://)",
    re.IGNORECASE,
)
#: A license file this short that names a URL or another file points at the license.
POINTER_WORDS = 60
_URL = re.compile(r"https?://[^\s)\]>\"'<]{3,300}")
_FILE_NAME = re.compile(
    r"(?<![\w/.-])((?:[\w.-]{0,60}(?:LICEN[CS]E|COPYING)[\w.-]{0,60}|README[\w.-]{0,30}))(?![\w/-])"
)


def scope_of(path: str) -> Scope:
    """The part a license file's name says it covers; a file in a folder named for a part
    (``model_licenses/LICENSE-SVD``) covers that part."""
    pure = PurePosixPath(path)
    names = [pure.name]
    if re.search(r"licen[cs]e", pure.parent.name, re.IGNORECASE):
        names.append(pure.parent.name)
    for name in names:
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
        matches = sorted(
            (m for m in found.matches if not readme or min(m.coverage, m.precision) >= README_MIN),
            key=lambda m: m.start_line,
        )
        # In a license file, the texts after a "LICENSE FOR ..." / "third-party" line are
        # the bundled parts' (Apache-2.0 followed by the BSD text of vendored code).
        boundary = self._boundary(lines, matches) if entry.kind is FileKind.LICENSE else None
        notice = entry.kind is FileKind.NOTICE
        leftovers = [
            r
            for r in found.unmatched
            if r.significant
            and (boundary is None or r.last < boundary)
            and not (matches and _POINTER.search(" ".join(lines[r.first - 1 : r.last])))
        ]
        for m in matches:
            third = notice or (boundary is not None and m.start_line >= boundary)
            if boundary is not None and not third and m.end_line >= boundary:
                # the text's span ran on into the bundled parts: what differs there is theirs
                kept = tuple(ln for ln in m.differing_lines if ln < boundary)
                m = replace(m, differing_lines=kept, exact=not kept and m.coverage >= EXACT)
            near = [] if third else [r for r in leftovers if self._touches(r, m)]
            leftovers = [r for r in leftovers if r not in near]
            det = self._detection(entry, lines, m, near, scope)
            if third and not is_policy(m.key):
                det = replace(det, place=Place.THIRD_PARTY)
            out.append(det)
        for start, end, keys in found.ambiguous:
            excerpt = f"matches {' and '.join(keys)} equally: {_excerpt(lines, start, end)}"
            third = notice or (boundary is not None and start >= boundary)
            ev = Evidence(entry.path, start, end, Method.LICENSE_TEXT, excerpt)
            out.append(unknown(ev, scope, Place.THIRD_PARTY if third else Place.TEXT))
        if entry.kind is not FileKind.LICENSE:
            # A README's prose, or a NOTICE naming licenses, is no license text: only what
            # matches a known text (a license, an acceptable-use policy) counts there.
            return Detected(tuple(out))
        if not matches and not found.ambiguous and found.unmatched:
            pointer = self._pointer(entry, text, scope)
            if pointer is not None:
                return pointer
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
    def _boundary(lines: list[str], matches: list[Match]) -> int | None:
        """The first line after the first license text's start that introduces bundled
        parts: a "third-party" / "LICENSE FOR ..." line that no license text explains
        (Apache-2.0's own "derived from" is part of Apache-2.0)."""
        if not matches:
            return None
        first = matches[0]
        inside = [(m.start_line, m.end_line) for m in matches]
        for ln in range(first.start_line + 1, len(lines) + 1):
            if not _THIRD_PARTY.search(lines[ln - 1]):
                continue
            explained = any(a <= ln <= b for a, b in inside) and ln not in first.differing_lines
            if not explained:
                return ln
        return None

    @staticmethod
    def _pointer(entry: FileEntry, text: str, scope: Scope) -> Detected | None:
        """A license file that only points elsewhere ("Please refer to license: URL"):
        a reference to what it names, resolved like a README link; unknown when the
        page is not a known license's."""
        from auditor.names import key_for_url

        if len(re.findall(r"\w+", text)) > POINTER_WORDS:
            return None
        urls = _URL.findall(text)
        names = [n for n in _FILE_NAME.findall(_URL.sub(" ", text)) if n != entry.path]
        if not urls and not names:
            return None
        target = urls[0].rstrip(".,;") if urls else names[0]
        line = next((i for i, ln in enumerate(text.split("\n"), 1) if target in ln), 1)
        excerpt = " ".join(text.split())[:200]
        ev = Evidence(entry.path, line, line, Method.LICENSE_TEXT, excerpt)
        ref = LicenseReference(target, scope, ev, target, True, mention=not urls, place=Place.TEXT)
        dets: tuple[LicenseDetection, ...] = ()
        if urls and key_for_url(target) is None:
            dets = (unknown(ev, scope, Place.TEXT, stated=f"the license at {target}"),)
        return Detected(dets, references=(ref,))

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
        if not modified and m.filled_lines:
            # names and dates filled into the text: kept for the reader, not a modification
            diffs = tuple(
                Evidence(entry.path, ln, ln, Method.LICENSE_TEXT, lines[ln - 1].strip()[:200])
                for ln in m.filled_lines
                if ln <= len(lines) and lines[ln - 1].strip()
            )
        # A policy (an acceptable-use policy, a notice) goes with the model's license.
        det = detection(m.key, ev, scope=Scope.MODEL if is_policy(m.key) else scope, score=m.score)
        return replace(det, modified=modified, coverage=m.coverage, differences=diffs)
