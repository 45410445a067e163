"""License statements in README prose and badges, with what each one covers.

"The code of this repository is licensed under Apache-2.0. The use of the
model weights is subject to the [Model License](LICENSE-MODEL)" gives an
Apache-2.0 detection scoped to code and a reference, scoped to the model, to
LICENSE-MODEL (resolved by the pipeline to whatever that file holds). Chinese
statements ("代码依照 Apache-2.0 协议开源", "模型权重的使用需要遵循…许可协议") and
shields.io badges ("Code License: MIT") work the same way.

An explicit statement of which license covers what is a detection; a mere
mention is a clue. A named license that cannot be identified ("the Model
License" with no link) is an unknown clue: reported, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from auditor.detectors import DETECTORS, Detected, Detector, detection, unknown
from auditor.detectors.card_metadata import FrontMatterError, parse_front_matter
from auditor.model import (
    Evidence,
    FileEntry,
    FileKind,
    LicenseDetection,
    LicenseReference,
    Method,
    Scope,
)
from auditor.names import key_for_name, key_for_url

_LICENSE_CONTEXT = re.compile(
    r"licen[cs]|许可|协议|授权|terms of use|使用条款|open[- ]?sourced?|开源|copyleft|\bMIT\b|"
    r"\bapache\b|\bGPL|\bBSD\b|creative commons|openrail|\bCC[- ]BY",
    re.IGNORECASE,
)
_CODE = re.compile(
    r"\b(code|codes|source code|codebase|scripts?|software|implementation|repository code)\b|"
    r"代码|源码|源代码|程序",
    re.IGNORECASE,
)
# "Qwen2.5-7B", "8x7B", "1.5B": a parameter count names a model.
_MODEL = re.compile(
    r"\b(models?|weights?|checkpoints?|parameters|model weights)\b|模型|权重|参数|"
    r"(?<![\w.])(?:[\w.]+-)?\d+(?:\.\d+)?(?:x\d+)?[bBmM]\b",
    re.IGNORECASE,
)
_DATA = re.compile(r"\b(data|datasets?|corpus|corpora)\b|数据", re.IGNORECASE)
# Wording that states which license applies (as opposed to mentioning one).
_STATES = re.compile(
    r"\b(licen[cs]ed|released|distributed|available|provided|published|open[- ]?sourced?|"
    r"made available|covered|governed|subject to|under the terms|under|comply|complies|"
    r"in accordance with|bound by|according to)\b|"
    r"依照|遵循|遵守|采用|按照|依据|适用|协议开源|开源|受.*约束",
    re.IGNORECASE,
)
_NAMED = [
    re.compile(
        r"(?:licen[cs]ed|released|distributed|available|provided|published|open[- ]?sourced?|"
        r"governed|covered)\s+(?:\w+\s+){0,2}?under\s+(?:the\s+)?(?:terms\s+of\s+(?:the\s+)?)?"
        r"(?P<name>[^,;()\[\]\n]+?)(?=\s*(?:[,;()\[\]\n]|\.(?:\s|$)|$|\s+(?:and|or|for|with|while|"
        r"which|see|unless|except|but)\b))",
        re.IGNORECASE,
    ),
    re.compile(
        r"subject\s+to\s+(?:the\s+)?(?:terms\s+of\s+(?:the\s+)?)?(?P<name>[^,;()\[\]\n]+?)"
        r"(?=\s*(?:[,;()\[\]\n]|\.(?:\s|$)|$|\s+(?:and|or|for|with|which|see)\b))",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:(?:comply|complies|complying)\s+with|in\s+accordance\s+with|(?:governed|bound)\s+by|"
        r"according\s+to)\s+(?:the\s+)?(?:terms\s+of\s+(?:the\s+)?)?(?P<name>[^,;()\[\]\n]+?)"
        r"(?=\s*(?:[,;()\[\]\n]|\.(?:\s|$)|$|\s+(?:and|or|for|with|which|see)\b))",
        re.IGNORECASE,
    ),
    re.compile(r"《(?P<name>[^《》]{2,80})》"),
    re.compile(
        r"(?:依照|遵循|遵守|采用|按照|依据|适用|基于)\s*(?P<name>[A-Za-z][\w .+-]{1,60}?)\s*"
        r"(?:开源)?\s*(?:协议|许可证|许可|license)",
        re.IGNORECASE,
    ),
]
_MD_LINK = re.compile(
    r"(?<!!)\[(?P<text>[^\]]{0,200})\]\((?P<target>[^)\s]{1,500})(?:\s+\"[^\"]*\")?\)"
)
_HTML_HREF = re.compile(
    r"<a\s[^>]*href=[\"'](?P<target>[^\"']{1,500})[\"'][^>]*>(?P<text>.*?)</a>", re.I
)
_BARE_URL = re.compile(r"(?<![(\"'=])\bhttps?://[^\s)\]>\"']{3,300}")
_BADGE = re.compile(r"img\.shields\.io/badge/(?P<body>[^\s)\"'?]+)", re.IGNORECASE)
_IDLIKE = re.compile(
    r"(?<![\w.-])(?:[A-Za-z][\w.+-]*\d[\w.+-]*|MIT|ISC|Unlicense|WTFPL|Zlib)(?![\w-])"
)
# License files named in prose: "(see LICENSE-MODEL)", "in MODEL_LICENSE.pdf".
_FILE_MENTION = re.compile(
    r"(?<![\w/.-])((?:[\w.-]*(?:LICEN[CS]E|COPYING)[\w.-]*|NOTICE|USE_POLICY[\w.-]*))(?![\w/-])"
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=\S)|(?<=[。！？；])")
_CLAUSE = re.compile(r",\s*(?:and|while|whereas|but)\s+|;\s*|，|；|\s+while\s+|\s+whereas\s+|而")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<title>.+)$")


@dataclass(frozen=True)
class _Span:
    text: str
    line: int  # first line of the text in the file


def scope_of_text(text: str) -> Scope:
    code, model, data = (bool(p.search(text)) for p in (_CODE, _MODEL, _DATA))
    if code and model:
        return Scope.ALL
    if code:
        return Scope.CODE
    if model:
        return Scope.MODEL
    if data:
        return Scope.DATA
    return Scope.UNSPECIFIED


def _badge_parts(body: str) -> tuple[str, str] | None:
    """shields.io static badge path -> (label, message); '--' is '-', '__' is '_', '_' a space."""
    body = unquote(body)
    body = re.sub(r"\.(svg|png)$", "", body)
    parts = re.split(r"(?<!-)-(?!-)", body)
    parts = [
        p.replace("--", "-").replace("__", "\0").replace("_", " ").replace("\0", "_") for p in parts
    ]
    if len(parts) >= 3:
        return parts[0].strip(), "-".join(parts[1:-1]).strip()
    if len(parts) == 2:
        return "", parts[0].strip()
    return None


def _paragraphs(lines: list[str], first: int) -> list[tuple[_Span, bool]]:
    """Paragraphs outside code fences, each flagged when it sits under a License heading."""
    out: list[tuple[_Span, bool]] = []
    buf: list[str] = []
    start = first
    fence = False
    in_license = False

    def flush() -> None:
        if buf:
            out.append((_Span("\n".join(buf), start), in_license))
            buf.clear()

    for i, line in enumerate(lines, first):
        if line.lstrip().startswith(("```", "~~~")):
            flush()
            fence = not fence
            continue
        if fence:
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            in_license = bool(re.search(r"licen[cs]|许可|协议|授权", heading["title"], re.I))
            out.append((_Span(heading["title"], i), False))
            continue
        if not line.strip():
            flush()
            continue
        if not buf:
            start = i
        buf.append(line)
    flush()
    return out


def _sentences(par: _Span) -> list[_Span]:
    out = []
    pos = 0
    for m in [*_SENTENCE_END.finditer(par.text), None]:
        end = m.start() if m else len(par.text)
        chunk = par.text[pos:end]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            out.append(_Span(chunk.strip(), par.line + par.text.count("\n", 0, pos + lead)))
        pos = m.end() if m else len(par.text)
    return out


@DETECTORS.register("readme-statement")
class ReadmeStatementDetector(Detector):
    text_limit = 512 * 1024

    def applies_to(self, entry: FileEntry) -> bool:
        return entry.kind is FileKind.README

    def detect(self, entry: FileEntry, text: str) -> Detected:
        lines = text.split("\n")
        first = 1
        try:
            fm = parse_front_matter(text)
        except FrontMatterError:
            fm = None  # the card detector reports it; the prose is still read
        if fm is not None or (lines and lines[0].strip() == "---"):
            for i in range(1, len(lines)):
                if lines[i].strip() in ("---", "..."):
                    first = i + 2
                    break
        found: list[LicenseDetection] = []
        refs: list[LicenseReference] = []
        seen: set[tuple[str, Scope, int]] = set()
        for par, in_license in _paragraphs(lines[first - 1 :], first):
            for sentence in _sentences(par):
                self._sentence(entry, sentence, in_license, found, refs, seen)
        return Detected(tuple(found), references=tuple(refs))

    def _sentence(
        self,
        entry: FileEntry,
        s: _Span,
        in_license: bool,
        found: list[LicenseDetection],
        refs: list[LicenseReference],
        seen: set[tuple[str, Scope, int]],
    ) -> None:
        badges = list(_BADGE.finditer(s.text))
        if not (in_license or badges or _LICENSE_CONTEXT.search(s.text)):
            return
        sentence_scope = scope_of_text(_strip_links(s.text))
        clauses = [c for c in _CLAUSE.split(s.text) if c and c.strip()]
        for clause in clauses:
            line = s.line + s.text.count("\n", 0, max(0, s.text.find(clause)))
            ev = Evidence(
                entry.path,
                line,
                line + clause.count("\n"),
                Method.README_STATEMENT,
                " ".join(clause.split())[:200],
            )
            plain = _strip_links(clause)
            scope = scope_of_text(plain)
            if scope is Scope.UNSPECIFIED and sentence_scope is not Scope.ALL:
                scope = sentence_scope
            states = bool(_STATES.search(plain)) or in_license
            self._badges(clause, ev, found, refs, seen)
            keys, unresolved = self._names(clause, plain)
            link_targets = self._links(clause, scope, ev, refs, found, seen, states)
            for name in _FILE_MENTION.findall(_strip_links(clause)):
                if name not in link_targets:
                    link_targets.append(name)
                    refs.append(LicenseReference(name, scope, ev, name, states, mention=True))
            for key in keys:
                _add_once(found, seen, key, ev, scope, is_clue=not states)
            if states and unresolved and not keys and not link_targets:
                found.append(unknown(ev, scope))

    @staticmethod
    def _names(clause: str, plain: str) -> tuple[list[str], bool]:
        """Keys named in the clause, and whether a license was named that maps to none."""
        keys: list[str] = []
        unresolved = False
        names = [m["name"].strip(" *`\"'“”") for p in _NAMED for m in p.finditer(plain)]
        for name in names:
            key = key_for_name(name)
            if key:
                keys.append(key)
            elif _LICENSE_CONTEXT.search(name) or len(name.split()) <= 6:
                unresolved = True
        if _LICENSE_CONTEXT.search(plain):
            for m in _IDLIKE.finditer(plain):
                key = key_for_name(m.group(0))
                if key and key not in keys and _looks_like_id(m.group(0)):
                    keys.append(key)
        return list(dict.fromkeys(keys)), unresolved

    @staticmethod
    def _links(
        clause: str,
        scope: Scope,
        ev: Evidence,
        refs: list[LicenseReference],
        found: list[LicenseDetection],
        seen: set[tuple[str, Scope, int]],
        states: bool,
    ) -> list[str]:
        targets = []
        links = [(m["text"], m["target"]) for m in _MD_LINK.finditer(clause)]
        links += [(m["text"], m["target"]) for m in _HTML_HREF.finditer(clause)]
        links += [("", m.group(0)) for m in _BARE_URL.finditer(clause)]
        for text, target in links:
            if "shields.io" in target or "shields.io" in text:
                continue  # a badge, or a link around one: _badges reads it with the badge's scope
            text = re.sub(r"<[^>]+>", " ", text)
            named = key_for_name(text) if text.strip() else None
            url_key = key_for_url(target) if "://" in target else None
            licensey = bool(_LICENSE_CONTEXT.search(text + " " + target))
            if not (licensey or named or url_key):
                continue
            targets.append(target)
            refs.append(LicenseReference(target, scope, ev, " ".join(text.split()), states))
            # A known URL is resolved by the pipeline; a link's text naming a license is ours.
            if named:
                _add_once(found, seen, named, ev, scope, is_clue=not states)
        return targets

    @staticmethod
    def _badges(
        clause: str,
        ev: Evidence,
        found: list[LicenseDetection],
        refs: list[LicenseReference],
        seen: set[tuple[str, Scope, int]],
    ) -> None:
        for m in _BADGE.finditer(clause):
            parts = _badge_parts(m["body"])
            if not parts:
                continue
            label, message = parts
            if not re.search(r"licen[cs]|许可|协议", label, re.I):
                continue
            scope = scope_of_text(label)
            key = key_for_name(message)
            badge_ev = Evidence(
                ev.path,
                ev.start_line,
                ev.end_line,
                Method.README_STATEMENT,
                f"badge {label}: {message}",
            )
            if key:
                _add_once(found, seen, key, badge_ev, scope, is_clue=False)
            # The badge's own link says where the text is: [![..](badge)](LICENSE-CODE)
            # in Markdown, <a href="LICENSE-CODE"><img src="badge"></a> in HTML.
            target = _badge_link(clause, m.start(), m.end())
            if target:
                refs.append(LicenseReference(target, scope, badge_ev, message))
            elif not key:
                found.append(unknown(badge_ev, scope))


def _add_once(
    found: list[LicenseDetection],
    seen: set[tuple[str, Scope, int]],
    key: str,
    ev: Evidence,
    scope: Scope,
    *,
    is_clue: bool,
) -> None:
    """One detection per key, scope and line, however many ways a sentence names it."""
    if (key, scope, ev.start_line) not in seen:
        seen.add((key, scope, ev.start_line))
        found.append(detection(key, ev, scope=scope, is_clue=is_clue))


def _badge_link(text: str, start: int, end: int) -> str | None:
    md = re.match(r"[^)]*\)\]\((?P<target>[^)\s]+)\)", text[end:])
    if md:
        return md["target"]
    for a in _HTML_HREF.finditer(text):
        if a.start() <= start and end <= a.end():
            return a["target"]
    return None


def _strip_links(text: str) -> str:
    """Link targets and badge URLs say nothing about scope ("LICENSE-MODEL" is not prose)."""
    text = _MD_LINK.sub(lambda m: m["text"], text)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return _BARE_URL.sub(" ", text)


def _looks_like_id(token: str) -> bool:
    """Version-like tokens ("v2.0", "3.1", "Qwen2.5") are not license ids."""
    return not re.fullmatch(r"v?\d[\d.]*", token, re.IGNORECASE)
