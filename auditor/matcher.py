"""The fast license-text matcher: normalized token shingles through an inverted index.

Reference texts are never shipped. ``make signatures`` keeps, per reference,
the CRC32 hashes of its word 5-shingles that fall in a fixed 1-in-4 sample
(``hash % 4 == 0``); a query is sampled the same way, so set overlaps on the
samples estimate overlaps of the full texts without bias. Candidates come from
an inverted index (sorted hashes, binary search); each candidate is then
verified on the query span it matches, and near relatives are told apart by
which of them explains more of that span.

Normalization follows license matchers: case, punctuation, quotes, bullets,
Markdown and HTML markup, whitespace and copyright lines do not count. CJK
text is tokenized per character.
"""

from __future__ import annotations

import html
import re
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Literal

SHINGLE = 5
SAMPLE_MOD = 4
FINGERPRINTS = Path(__file__).with_name("signatures") / "fingerprints.bin"

_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HTML_TAG = re.compile(r"<[a-zA-Z/!][^<>]{0,400}>")
# A target ends at the next "]": a run of "](" costs one scan, not 400 each.
_MD_LINK_TARGET = re.compile(r"\]\((?:[^)\s\]]|\n){0,400}\)")
# List markers ("1.", "(a)", "iv)", "-", "•") are numbering, not words: renumbered or
# re-bulleted copies of a license are the same license.
_LIST_MARKER = re.compile(
    r"^\s*(?:[-*+•·●▪◦]\s+|\((?:\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{1,6})\)\s*|"
    r"(?:\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{1,6})\)\s*|"
    # "1.", "2.1", "a.", "iv." are markers before a capital ("2.1 of this License" is text)
    r"(?:\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{1,6})\.(?:\d{1,3}\.?)*\s*(?=[A-Z\"“'(\[\u4e00-\u9fff]|$)|"
    r"第[一二三四五六七八九十百\d]+[条章节款]\s*|[一二三四五六七八九十]+[、.．]\s*)"
)
# The same markers inside a line, where re-wrapping puts them: "x." before a capital,
# "x)" and "(x)" anywhere after a space.
_INLINE_MARKER = re.compile(
    r"(?<=\s)(?:(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})\.(?=\s+[A-Z\"“'(\[]|\s*$)|"
    r"\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})\)(?=\s|$))"
)
# Words whose number is content, not numbering: "version 2. The", "Section 3. Definitions".
_NUMBERED = frozenset(
    "version v section article clause paragraph chapter part schedule exhibit "
    "appendix attachment annex no".split()
)
_RESERVED = re.compile(r"\ball\s+rights\s+reserved\b\.?", re.IGNORECASE)
# A copyright statement, wherever it stands: from "Copyright (c)", "Copyright 2024",
# "Copyright [yyyy]" or "©" to its placeholder's end ("<name of author>"), its sentence's
# end or its line's end. It names a holder and a year, never a term; removing the
# statement rather than its line keeps what a re-wrap joined to it.
_COPYRIGHT = re.compile(
    r"(?:(?i:copyright)\s*(?:\((?i:c)\)|©)|"
    r"(?i:copyright)\s+(?=\d{4}|\[\d{4}\]|\[yyyy\]|<year>|\{year\}|\[year\])|"
    r"\([cC]\)\s*(?=\d{4})|©|版权所有)"
    r"[^\n]*?(?:(?<=[>\]])(?=\s+[A-Z])|\.(?=\s+[A-Z\"“])|;|$)|"
    # A line of its own that is only a copyright statement, its holder's name filled into
    # a template ("Copyright Zhengxiao Du", "Copyright [OpenBMB]" in Apache's appendix).
    r"^[ \t#*/-]{0,8}(?:Copyright|COPYRIGHT)[ \t]+(?=[A-Z0-9\[])(?!(?i:licen|and\b|notice|holder|"
    r"owner|statement|law|protection|infringement|act\b|of\b|the\b|to\b|in\b|or\b))"
    r"[^\n.;:]{1,50}$",
    re.MULTILINE,
)
# Spelling variants license matchers treat as one word.
_EQUIVALENT = {
    "licence": "license",
    "licences": "licenses",
    "licenced": "licensed",
    "licensor": "licensor",
    "organisation": "organization",
}


@dataclass(frozen=True)
class Tokens:
    words: list[str]
    lines: list[int]  # 1-based line of each token


def tokenize(text: str) -> Tokens:
    """Tokens that survive normalization, each with its line number."""
    words: list[str] = []
    lines: list[int] = []
    # Link targets and "All Rights Reserved" may span lines: drop them, keep the line count.
    if "](" in text:
        text = _MD_LINK_TARGET.sub(_keep_newlines, text)
    if "eserved" in text or "ESERVED" in text:
        text = _RESERVED.sub(_keep_newlines, text)
    if "&" in text:  # entities first, so "&lt;year&gt;" is "<year>" to every rule below
        text = html.unescape(text)
    if "opyright" in text or "OPYRIGHT" in text or "©" in text or "版权" in text:
        text = _COPYRIGHT.sub(" ", text)
    for lineno, line in enumerate(text.split("\n"), 1):
        if "<" in line:
            line = _HTML_TAG.sub(" ", line)
        if "**" in line or "__" in line:
            line = line.replace("**", " ").replace("__", " ")  # Markdown emphasis
        for _ in range(3):  # stacked markers: "* 7. Limitation", "1. (a) The"
            marker = _LIST_MARKER.match(line)
            if marker is None or not marker.end():
                break
            line = line[marker.end() :]
        if "." in line or ")" in line:
            line = _INLINE_MARKER.sub(_unmark, line)
        for tok in _TOKEN.findall(line.lower()):
            words.append(_EQUIVALENT.get(tok, tok))
            lines.append(lineno)
    return Tokens(words, lines)


def _keep_newlines(m: re.Match[str]) -> str:
    return " " + "\n" * m.group(0).count("\n")


def _unmark(m: re.Match[str]) -> str:
    """Drop an enumerator ("a.", "12.", "b)") unless the word before makes it a number."""
    head = m.string[: m.start()].rstrip()
    before = head[head.rfind(" ") + 1 :] if head else ""
    if before[-1:] not in ".;:!?)\"”'" and before.lower() in _NUMBERED:
        return m.group(0)
    return ""


def shingle_hashes(words: list[str]) -> list[int]:
    """CRC32 of each word 5-shingle; position i covers words i..i+4."""
    if len(words) < SHINGLE:
        return [zlib.crc32(" ".join(words).encode())] if words else []
    return [
        zlib.crc32(" ".join(words[i : i + SHINGLE]).encode())
        for i in range(len(words) - SHINGLE + 1)
    ]


def sampled(h: int) -> bool:
    return h % SAMPLE_MOD == 0


@dataclass(frozen=True)
class Reference:
    key: str
    origin: str  # "scancode" or "shared:<file>"
    start: int  # offset into the sample array
    count: int  # number of sampled shingles


class Fingerprints:
    """The committed fingerprints: per-reference sample sets and an inverted index.

    The arrays are typed views of a memory-mapped file: nothing is copied, and
    only the pages a scan touches are read.
    """

    def __init__(
        self,
        refs: list[Reference],
        samples: Sequence[int],
        keys: Sequence[int],
        postings: Sequence[int],
        rel_keys: Sequence[int],
        rel_spans: Sequence[int],
        diffs: Sequence[int],
        full_refs: Sequence[int],
        full_spans: Sequence[int],
        full: Sequence[int],
    ) -> None:
        self.refs = refs
        self.samples = samples  # uint32, per reference sorted, concatenated
        self.keys = keys  # uint32 sorted: every (hash, ref) pair's hash
        self.postings = postings  # uint16: the ref of each pair
        self.rel_keys = rel_keys  # uint32 sorted: a << 16 | b for each stored (a, b)
        self.rel_spans = rel_spans  # uint32 pairs: start, count in diffs
        self.diffs = diffs  # uint32: shingles of a that its near relative b lacks
        self.full_refs = full_refs  # uint32 sorted: references stored whole
        self.full_spans = full_spans  # uint32 pairs: start, count in full
        self.full = full  # uint32: every shingle of those references
        self._sets: dict[int, frozenset[int]] = {}  # built on first use, kept for the next file
        self._full: dict[int, frozenset[int] | None] = {}
        self.refs_of_key: dict[str, list[int]] = {}
        for i, ref in enumerate(refs):
            self.refs_of_key.setdefault(ref.key, []).append(i)

    def ref_set(self, ref_id: int) -> frozenset[int]:
        cached = self._sets.get(ref_id)
        if cached is None:
            ref = self.refs[ref_id]
            cached = self._sets[ref_id] = frozenset(self.samples[ref.start : ref.start + ref.count])
        return cached

    @staticmethod
    def _span_set(
        keys: Sequence[int], spans: Sequence[int], values: Sequence[int], k: int
    ) -> frozenset[int] | None:
        """The values stored for ``k`` (keys sorted, spans as start/count pairs), or None."""
        i = bisect_left(keys, k)
        if i == len(keys) or keys[i] != k:
            return None
        start, count = spans[2 * i], spans[2 * i + 1]
        return frozenset(values[start : start + count])

    def only_in(self, a: int, b: int) -> frozenset[int] | None:
        """The shingles of reference ``a`` that its near relative ``b`` lacks, if stored."""
        return self._span_set(self.rel_keys, self.rel_spans, self.diffs, a << 16 | b)

    def full_set(self, ref_id: int) -> frozenset[int] | None:
        """Every shingle of ``ref_id``, for the references stored whole."""
        if ref_id not in self._full:
            self._full[ref_id] = self._span_set(self.full_refs, self.full_spans, self.full, ref_id)
        return self._full[ref_id]

    def lookup(self, h: int) -> Sequence[int]:
        lo = bisect_left(self.keys, h)
        hi = bisect_right(self.keys, h, lo)
        return self.postings[lo:hi]


_LAYOUT: tuple[tuple[str, Literal["I", "H"]], ...] = (
    ("samples", "I"),
    ("keys", "I"),
    ("postings", "H"),
    ("rel_keys", "I"),
    ("rel_spans", "I"),
    ("diffs", "I"),
    ("full_refs", "I"),
    ("full_spans", "I"),
    ("full", "I"),
)


def write_fingerprints(
    path: Path,
    refs: list[tuple[str, str, list[int]]],
    relatives: list[tuple[int, int, list[int]]],
    whole: dict[int, list[int]] | None = None,
) -> None:
    """Layout: a JSON header line, then little-endian arrays in ``_LAYOUT`` order, each
    starting on a 4-byte boundary."""
    import json

    if len(refs) >= 1 << 16:
        raise RuntimeError("more than 65535 reference texts do not fit the 16-bit postings")
    arrays: dict[str, array[int]] = {name: array(code) for name, code in _LAYOUT}
    meta = []
    pairs: list[tuple[int, int]] = []
    for ref_id, (key, origin, hashes) in enumerate(refs):
        uniq = sorted(set(hashes))
        meta.append([key, origin, len(arrays["samples"]), len(uniq)])
        arrays["samples"].extend(uniq)
        pairs.extend((h, ref_id) for h in uniq)
    pairs.sort()
    arrays["keys"].extend(h for h, _ in pairs)
    arrays["postings"].extend(r for _, r in pairs)
    for a, b, only_a in sorted(relatives):
        arrays["rel_keys"].append(a << 16 | b)
        arrays["rel_spans"].extend((len(arrays["diffs"]), len(only_a)))
        arrays["diffs"].extend(sorted(set(only_a)))
    for ref_id, hashes in sorted((whole or {}).items()):
        uniq = sorted(set(hashes))
        arrays["full_refs"].append(ref_id)
        arrays["full_spans"].extend((len(arrays["full"]), len(uniq)))
        arrays["full"].extend(uniq)
    counts = {name: len(arr) for name, arr in arrays.items()}
    header = (
        json.dumps(
            {
                "format": 3,
                "shingle": SHINGLE,
                "sample_mod": SAMPLE_MOD,
                "hash": "crc32",
                "counts": counts,
                "refs": meta,
            },
            separators=(",", ":"),
        ).encode()
        + b"\n"
    )
    import sys

    # Written beside and renamed over: a scan that has the old file mapped keeps reading it
    # (rewriting a mapped file in place would kill that scan with SIGBUS).
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(header)
        fh.write(b" " * (-len(header) % 4))
        for name, _ in _LAYOUT:
            arr = arrays[name]
            if sys.byteorder != "little":
                arr.byteswap()
            data = arr.tobytes()
            fh.write(data + b"\0" * (-len(data) % 4))
    tmp.replace(path)


@cache
def fingerprints() -> Fingerprints:
    import json
    import mmap
    import sys

    from auditor.errors import SignatureError

    try:
        with open(FINGERPRINTS, "rb") as fh:
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        end = mapped.find(b"\n")
        header = json.loads(mapped[:end])
        counts = header["counts"]
    except (OSError, ValueError, KeyError) as exc:
        raise SignatureError(f"cannot read license fingerprints {FINGERPRINTS}: {exc}") from exc
    offset = end + 1
    offset += -offset % 4
    views: dict[str, Sequence[int]] = {}
    for name, code in _LAYOUT:
        size = counts[name] * (2 if code == "H" else 4)
        if offset + size > len(mapped):
            raise SignatureError(f"license fingerprints {FINGERPRINTS} are truncated")
        raw = memoryview(mapped)[offset : offset + size]
        if sys.byteorder == "little":
            views[name] = raw.cast("H") if code == "H" else raw.cast("I")
        else:  # pragma: no cover - big-endian hosts copy and swap
            arr = array(code)
            arr.frombytes(raw)
            arr.byteswap()
            views[name] = arr
        offset += size + (-size % 4)
    refs = [Reference(k, o, s, c) for k, o, s, c in header["refs"]]
    return Fingerprints(refs, **views)


# --- matching ---------------------------------------------------------------

#: A match this complete both ways is the license, exactly (modulo formatting).
EXACT = 0.95
#: Below this share of the reference present, a span is not that license (too little of it).
MIN_COVERAGE = 0.35
#: Below this share of the span explained by the reference, the span is something else.
MIN_PRECISION = 0.6
#: Shingles of its own text a candidate must show to beat a near relative.
MIN_EVIDENCE = 3
#: Candidates within this F-score of the best are near relatives to settle on their differences.
RELATIVE_MARGIN = 0.2
#: Unexplained text shorter than this many tokens is a title, a URL, a signature line...
MIN_LEFTOVER_TOKENS = 12
#: ...unless it reads like a term: then even a short clause changes the license.
_TERMS = re.compile(
    r"\b(shall|must|may not|prohibit\w*|restrict\w*|except|commercial\w*|permi\w+|not allowed|"
    r"forbid\w*|terminat\w+|royalt\w+|fee|liab\w+|warrant\w*|revoc\w+|notwithstanding)\b|"
    r"不得|禁止|必须|应当|商业|授权|许可|限制|免责",
    re.IGNORECASE,
)
#: A span needs this many sampled shingles in common with a reference to count.
MIN_SHARED = 6
#: Tokens of unmatched text that end a span (an inserted paragraph is shorter).
SPAN_GAP = 150
#: Tokens beyond a span's sampled matches in which near relatives' differences are sought.
EDGE = 40


@dataclass(frozen=True)
class Match:
    key: str
    start_line: int
    end_line: int
    coverage: float  # share of the reference's samples found in the span
    precision: float  # share of the span's samples found in the reference
    exact: bool
    differing_lines: tuple[int, ...] = ()  # lines of the span with text the reference lacks
    #: Lines where only names or dates differ (a holder, a model's name, a release date
    #: filled into the license's own wording): the license, not a modified one.
    filled_lines: tuple[int, ...] = ()

    @property
    def score(self) -> float:
        return round(100 * _f(self.coverage, self.precision), 1)


@dataclass(frozen=True)
class Leftover:
    first: int
    last: int
    tokens: int
    termlike: bool

    @property
    def significant(self) -> bool:
        """Long enough, or worded like a term, to change a license it sits in."""
        return self.tokens >= MIN_LEFTOVER_TOKENS or self.termlike


@dataclass
class FileMatches:
    matches: list[Match] = field(default_factory=list)
    ambiguous: list[tuple[int, int, list[str]]] = field(default_factory=list)
    #: Runs of text no match explains, with their size and whether they read like terms.
    unmatched: list[Leftover] = field(default_factory=list)


def _f(c: float, p: float) -> float:
    return 0.0 if c + p == 0 else 2 * c * p / (c + p)


def _cluster(positions: list[int], gap: int) -> tuple[int, int]:
    """The densest run of matched positions: where the license actually is in the file."""
    best = (positions[0], positions[0])
    best_n = 0
    start = 0
    for i in range(1, len(positions) + 1):
        if i == len(positions) or positions[i] - positions[i - 1] > gap:
            if i - start > best_n:
                best_n = i - start
                best = (positions[start], positions[i - 1])
            start = i
    return best


def match_text(text: str, *, max_licenses: int = 8) -> FileMatches:
    """Every known license text in ``text``, each with its line span, or why not."""
    fp = fingerprints()
    toks = tokenize(text)
    hashes = shingle_hashes(toks.words)
    live = [i for i, h in enumerate(hashes) if sampled(h)]  # sampled positions not yet explained
    covered = [False] * len(toks.words)  # tokens inside a matched or ambiguous span
    out = FileMatches()
    for _ in range(max_licenses):
        if len(live) < MIN_SHARED:
            break
        # Postings hold each reference once per shingle: count them in C.
        votes: Counter[int] = Counter(chain.from_iterable(fp.lookup(hashes[i]) for i in live))
        best = _best(fp, hashes, live, votes)
        if best is None:
            break
        kind, span, result = best
        full = _full_sets(fp, result.key) if isinstance(result, Match) else []
        if full:
            assert isinstance(result, Match)
            lo, hi, verified = _verify_full(full, result, toks, hashes, covered, span)
        else:
            lo, hi = _grow(hashes, covered, toks.lines, *span)
        first, last = toks.lines[lo], toks.lines[min(hi + SHINGLE - 1, len(toks.lines) - 1)]
        if kind == "ambiguous":
            assert isinstance(result, list)
            out.ambiguous.append((first, last, result))
        elif full:
            out.matches.append(replace(verified, start_line=first, end_line=last))
        else:
            assert isinstance(result, Match)
            differing = _differing(fp, result, toks, hashes, lo, hi)
            out.matches.append(
                replace(result, start_line=first, end_line=last, differing_lines=differing)
            )
        for t in range(lo, min(hi + SHINGLE, len(covered))):
            covered[t] = True
        live = [i for i in live if not lo <= i <= hi]
    out.unmatched = _leftovers(text, toks, covered)
    return out


def _full_sets(fp: Fingerprints, key: str) -> list[frozenset[int]]:
    sets = [fp.full_set(r) for r in fp.refs_of_key.get(key, [])]
    return [s for s in sets if s]


def _verify_full(
    full: list[frozenset[int]],
    m: Match,
    toks: Tokens,
    hashes: list[int],
    covered: list[bool],
    span: tuple[int, int],
) -> tuple[int, int, Match]:
    """Check a match against every shingle of its reference, not a sample.

    The span's edges move to where the reference's text really starts and ends, and a
    token is unexplained only when no shingle covering it is in the reference: so one
    changed word is found, and exactly its line is reported.
    """
    # Of several references of one key (a text with and without its optional appendix),
    # the one the span matches best, and of equals the shortest: a copy without Apache's
    # "How to apply" appendix is Apache-2.0 whole, not Apache-2.0 with 10% missing.
    best = max(full, key=lambda r: (len(r.intersection(hashes[span[0] : span[1] + 1])), -len(r)))
    lo, hi = span
    while True:  # outwards, over gaps no longer than a filled-in name
        while lo > 0 and hashes[lo - 1] in best and not covered[lo - 1]:
            lo -= 1
        gap = next(
            (
                k
                for k in range(lo - 2, max(-1, lo - 2 - EDGE_GAP), -1)
                if hashes[k] in best and not covered[k]
            ),
            None,
        )
        if gap is None or any(covered[k] for k in range(gap, lo)):
            break
        if not _fill_gap(toks.words[gap + SHINGLE : lo + SHINGLE - 1]):
            break
        lo = gap
    while True:
        while hi + 1 < len(hashes) and hashes[hi + 1] in best and not covered[hi + SHINGLE]:
            hi += 1
        gap = next(
            (
                k
                for k in range(hi + 2, min(len(hashes), hi + 2 + EDGE_GAP))
                if hashes[k] in best and not covered[k + SHINGLE - 1]
            ),
            None,
        )
        if gap is None or any(covered[k + SHINGLE - 1] for k in range(hi + 1, gap + 1)):
            break
        if not _fill_gap(toks.words[hi + SHINGLE : gap]):
            break
        hi = gap
    while lo < hi and hashes[lo] not in best:
        lo += 1
    while hi > lo and hashes[hi] not in best:
        hi -= 1
    found = set(hashes[lo : hi + 1])
    shared = len(found & best)
    coverage = shared / len(best)
    precision = shared / max(1, len(found))
    if shared == len(found):  # every shingle of the span is the reference's: nothing differs
        verified = replace(
            m,
            coverage=round(coverage, 4),
            precision=1.0,
            exact=coverage >= EXACT,
            differing_lines=(),
        )
        return lo, hi, verified
    explained = [False] * len(toks.words)
    for i in range(lo, hi + 1):
        if hashes[i] in best:
            for t in range(i, min(i + SHINGLE, len(explained))):
                explained[t] = True
    last = min(hi + SHINGLE - 1, len(toks.words) - 1)
    lines = sorted({toks.lines[t] for t in range(lo, last + 1) if not explained[t]})
    if (
        lines
        and coverage >= FILLED_COVERAGE
        and _only_filled(toks, explained, lo, last, len(best) - shared)
    ):
        return (
            lo,
            hi,
            replace(
                m,
                coverage=round(coverage, 4),
                precision=round(precision, 4),
                exact=True,
                differing_lines=(),
                filled_lines=tuple(lines),
            ),
        )
    exact = not lines and coverage >= EXACT
    return (
        lo,
        hi,
        replace(
            m,
            coverage=round(coverage, 4),
            precision=round(precision, 4),
            exact=exact,
            differing_lines=tuple(lines),
        ),
    )


#: Unmatched shingles a span's edge may jump to reach more of its reference (a name).
EDGE_GAP = 12
#: A text with names or dates filled in is otherwise whole.
FILLED_COVERAGE = 0.9
#: Longest run of changed words that can be a name or a date, and most of them in all.
FILLED_RUN = 8
FILLED_TOTAL = 24
_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
#: Words that carry terms: a change touching one changes what the license says.
_OPERATIVE = frozenset(
    """shall must may might not no nor never only solely except unless without notwithstanding
    commercial commercially noncommercial non prohibit prohibited prohibits restrict restricted
    restriction restrictions permit permitted permits allow allowed allows license licensed
    licenses licensee licensor grant granted grants terminate terminated termination fee fees
    royalty free liability liable warranty warranties exclusive irrevocable perpetual revocable
    worldwide users user monthly active million billion thousand percent days months years
    law laws court courts jurisdiction attribution notice notices modify modification distribute
    redistribute sublicense use used using copy copies sell research purpose purposes any all
    each every other others otherwise any including include includes limited limitation""".split()
)


def _fill_gap(words: list[str]) -> bool:
    """Can the words between two matched parts be a filled-in name? (Then the span goes on
    over them; a sentence of terms, or a "third-party" heading, ends it.)"""
    return len(words) <= FILLED_RUN and not any(w in _OPERATIVE for w in words)


def _only_filled(toks: Tokens, explained: list[bool], lo: int, last: int, missing: int) -> bool:
    """Is every unexplained run a short fill-in: a name, a date, a model's name?

    Numbers count only as dates (beside a month name or a year); a run holding a
    word that carries terms ("not", "commercial", "million") is a change to the
    terms. The reference's shingles the text lacks (``missing``) must all be
    explained by what the runs replaced: nothing may be missing elsewhere."""
    runs: list[list[int]] = []
    for t in range(lo, last + 1):
        if explained[t]:
            continue
        if runs and runs[-1][-1] == t - 1:
            runs[-1].append(t)
        else:
            runs.append([t])
    total = 0
    for run in runs:
        words = [toks.words[t] for t in run]
        total += len(words)
        if len(words) > FILLED_RUN or total > FILLED_TOTAL:
            return False
        if any(w in _OPERATIVE for w in words):
            return False
        numbers = [w for w in words if w.isdigit()]
        if numbers:
            near = range(max(0, run[0] - 3), min(len(toks.words), run[-1] + 4))
            context = {toks.words[t] for t in near}
            if not context & _MONTHS and not any(
                len(n) == 4 and n.startswith(("19", "20")) for n in numbers
            ):
                return False
    return missing <= sum(len(run) + 2 * SHINGLE for run in runs)


def _grow(
    hashes: list[int], covered: list[bool], lines: list[int], lo: int, hi: int
) -> tuple[int, int]:
    """Extend a span over the unsampled shingles at its edges.

    A span ends at its outermost *sampled* match; the few positions beyond were
    never sampled, so nothing says they differ. They join the span unless a
    sampled shingle (one the span did not match), or another match's text, comes first.
    """
    limit = SAMPLE_MOD * 4
    for _ in range(limit):
        if lo == 0 or sampled(hashes[lo - 1]) or covered[lo - 1]:
            break
        if lines[lo] - lines[lo - 1] > 1:  # a blank line: another paragraph, maybe another text
            break
        lo -= 1
    for _ in range(limit):
        last = hi + SHINGLE  # the token the next position would add
        if hi + 1 >= len(hashes) or sampled(hashes[hi + 1]) or covered[last]:
            break
        if lines[last] - lines[last - 1] > 1:
            break
        hi += 1
    return lo, hi


def _leftovers(text: str, toks: Tokens, covered: list[bool]) -> list[Leftover]:
    """Runs of lines whose tokens no match explains."""
    runs: list[tuple[int, int, int]] = []  # first line, last line, tokens
    for t, line in enumerate(toks.lines):
        if covered[t]:
            continue
        if runs and line - runs[-1][1] <= 1:
            runs[-1] = (runs[-1][0], line, runs[-1][2] + 1)
        else:
            runs.append((line, line, 1))
    lines = text.split("\n")
    return [
        Leftover(first, last, n, bool(_TERMS.search(" ".join(lines[first - 1 : last]))))
        for first, last, n in runs
    ]


@dataclass(frozen=True)
class _Cand:
    f: float
    key: str
    ref_id: int
    span: tuple[int, int]
    coverage: float
    precision: float


def _best(
    fp: Fingerprints, hashes: list[int], live: list[int], votes: Counter[int]
) -> tuple[str, tuple[int, int], Match | list[str]] | None:
    """Verify the most-voted references on the span each matches; pick one or call a tie."""
    cands: dict[str, _Cand] = {}  # several references of one key count as one candidate
    span_sets: dict[tuple[int, int], frozenset[int]] = {}
    for ref_id, n in votes.most_common(40):
        if n < MIN_SHARED:
            break
        if n < MIN_COVERAGE * fp.refs[ref_id].count:
            continue  # even if every vote fell in one span, too little of this text is here
        ref_set = fp.ref_set(ref_id)
        positions = [i for i in live if hashes[i] in ref_set]
        if len(positions) < MIN_SHARED:
            continue
        span = _cluster(positions, gap=SPAN_GAP)
        if span not in span_sets:
            span_sets[span] = frozenset(hashes[i] for i in live if span[0] <= i <= span[1])
        shared = len(span_sets[span] & ref_set)
        coverage = shared / max(1, len(ref_set))
        precision = shared / max(1, len(span_sets[span]))
        if shared < MIN_SHARED or coverage < MIN_COVERAGE or precision < MIN_PRECISION:
            continue
        cand = _Cand(
            _f(coverage, precision), fp.refs[ref_id].key, ref_id, span, coverage, precision
        )
        if cand.key not in cands or cand.f > cands[cand.key].f:
            cands[cand.key] = cand
    if not cands:
        return None
    ranked = sorted(cands.values(), key=lambda c: (-c.f, -(c.span[1] - c.span[0]), c.key))
    top = ranked[0]
    # Rivals are scored again on the best candidate's span, so that a short license quoted
    # inside a longer one cannot tie with it on a span of its own.
    top_set = span_sets[top.span]
    contenders = [top]
    for c in ranked[1:]:
        if not _overlap(c.span, top.span):
            continue
        ref_set = fp.ref_set(c.ref_id)
        shared = len(top_set & ref_set)
        cov, prec = shared / max(1, len(ref_set)), shared / max(1, len(top_set))
        rescored = _Cand(_f(cov, prec), c.key, c.ref_id, top.span, cov, prec)
        if top.f - rescored.f < RELATIVE_MARGIN:
            contenders.append(rescored)
    if len(contenders) == 1:
        winner = top
    else:
        # What tells relatives apart is often at a text's edges (its title, a last
        # clause), just outside the span of sampled matches: look a little beyond it.
        query = frozenset(hashes[max(0, top.span[0] - EDGE) : top.span[1] + SHINGLE + EDGE])
        winners = [
            c for c in contenders if all(_beats(fp, query, c, d) for d in contenders if d is not c)
        ]
        if len(winners) != 1:
            widest = _subsuming(fp, top_set, contenders)
            if widest is None:
                return "ambiguous", top.span, sorted(c.key for c in contenders)
            winners = [widest]
        winner = winners[0]
    return (
        "match",
        winner.span,
        Match(
            winner.key,
            0,
            0,
            round(winner.coverage, 4),
            round(winner.precision, 4),
            winner.coverage >= EXACT and winner.precision >= EXACT,
        ),
    )


def _beats(fp: Fingerprints, query: frozenset[int], c: _Cand, d: _Cand) -> bool:
    """Does the query show ``c`` rather than its near relative ``d``?

    Decided on the shingles the two texts do not share: stored whole at build
    time for texts differing by little (one changed word, a version number, must
    count), else taken from the two 1-in-4 samples, which is plenty when they
    differ by a lot. ``c`` wins on evidence: enough of its own text present, and
    (or all of it, when it is short), and of ``d``'s own text at most a quarter as
    much. A stray shared title is not
    enough; a truncated text whose remaining part both share is a tie.
    """
    only_c = fp.only_in(c.ref_id, d.ref_id)
    only_d = fp.only_in(d.ref_id, c.ref_id)
    need = MIN_EVIDENCE
    if only_c is None or only_d is None:
        set_c, set_d = fp.ref_set(c.ref_id), fp.ref_set(d.ref_id)
        only_c, only_d = set_c - set_d, set_d - set_c
        need = max(1, MIN_EVIDENCE // SAMPLE_MOD)
    seen_c, seen_d = len(query & only_c), len(query & only_d)
    # A text is "there" on enough of its own shingles, or all of them when it has few.
    there_c = bool(only_c) and seen_c >= min(need, len(only_c))
    there_d = bool(only_d) and seen_d >= min(need, len(only_d))
    if not only_c:  # c is d minus something: c unless d's extra text is there
        return bool(only_d) and not there_d
    if not only_d:  # c is d plus something: c when that something is there
        return there_c
    # Dominance in count, or in share of each text's own content (a title two texts
    # happen to share is a few shingles of a relative's long addition).
    return there_c and (4 * seen_d <= seen_c or 4 * seen_d * len(only_c) <= seen_c * len(only_d))


#: A text must be this much present to stand for relatives that only add to it.
SUBSUME_COVERAGE = 0.9


def _subsuming(fp: Fingerprints, span: frozenset[int], contenders: list[_Cand]) -> _Cand | None:
    """The one contender whose text explains everything any other explains here, nearly
    all of it present: its relatives add clauses the file lacks, so the file is that text
    (MIT with a clause of its own is MIT modified, not one of twenty MIT variants)."""
    found = {c.key: span & fp.ref_set(c.ref_id) for c in contenders}
    best = max(contenders, key=lambda c: (len(found[c.key]), c.coverage))
    if best.coverage < SUBSUME_COVERAGE:
        return None
    for c in contenders:
        if c is best:
            continue
        if not found[c.key] <= found[best.key] or c.coverage >= best.coverage:
            return None
    return best


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _differing(
    fp: Fingerprints, m: Match, toks: Tokens, hashes: list[int], lo: int, hi: int
) -> tuple[int, ...]:
    """Lines in the span with text the reference lacks.

    A token is unexplained when sampled shingles cover it and none of them is in
    the reference. A run of unexplained tokens spills up to four tokens past the
    change on each side (shingles span five), so a run marks the lines holding
    at least a shingle's width of it, or else the line holding most of it.
    """
    if m.exact and m.precision >= 0.999:
        return ()
    ref_sets = [fp.ref_set(i) for i in fp.refs_of_key[m.key]]
    state: dict[int, bool] = {}  # token -> explained by some sampled shingle
    for i in range(lo, min(hi + 1, len(hashes))):
        h = hashes[i]
        if not sampled(h):
            continue
        known = any(h in s for s in ref_sets)
        for t in range(i, min(i + SHINGLE, len(toks.words))):
            state[t] = state.get(t, False) or known
    out: set[int] = set()
    run: list[int] = []
    for t in [*sorted(state), -1]:
        if t >= 0 and state[t] is False and (not run or t == run[-1] + 1):
            run.append(t)
            continue
        if run:
            per_line: dict[int, int] = {}
            for u in run:
                per_line[toks.lines[u]] = per_line.get(toks.lines[u], 0) + 1
            wide = [ln for ln, n in per_line.items() if n >= SHINGLE]
            out.update(wide or [max(per_line, key=lambda ln: (per_line[ln], -ln))])
        run = [t] if t >= 0 and state[t] is False else []
    return tuple(sorted(out))
