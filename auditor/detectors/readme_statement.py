"""License statements in README prose, badges and tables, with what each covers and
where it stands.

"The code of this repository is licensed under Apache-2.0. The use of the
model weights is subject to the [Model License](LICENSE-MODEL)" gives an
Apache-2.0 detection scoped to code and a reference, scoped to the model, to
LICENSE-MODEL (resolved by the pipeline to whatever that file holds). Chinese
statements ("代码依照 Apache-2.0 协议开源", "模型权重的使用需要遵循…许可协议"),
shields.io badges ("Code License: MIT") and tables with a License column work
the same way.

Each statement records its place (``Place``): the README's License section
(or a "License:" line), a badge, a table row, other prose. Statements that
are not about this repo's own terms are mentions (``is_clue``): quotes,
changelog and news sections, sections copied from another model's card,
comparison tables, and sentences about where something came from ("derived
from X, which is licensed under Y", "originally released under ..."). A
mention never concludes a license and never voids one.

A named license that cannot be identified is unknown, with the name kept. A
vague name ("the Model License", "an open license") is a reference to the
repo's own license file for that scope, resolved by the pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import unquote

from auditor.detectors import DETECTORS, Detected, Detector, detection, unknown
from auditor.markdown import Block, read
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
from auditor.names import family_of, is_vague, key_for_name, key_for_url
from auditor.signatures import catalog

_LICENSE_CONTEXT = re.compile(
    r"licen[cs]|许可|协议|授权|terms of use|使用条款|open[- ]?sourced?|开源|copyleft|\bMIT\b|"
    r"\bapache\b|\bGPL|\bBSD\b|creative commons|openrail|\bCC[- ]BY",
    re.IGNORECASE,
)
_CODE = re.compile(
    r"\b(code|codes|source code|codebase|scripts?|software|implementation|repository code|"
    r"library)\b|代码|源码|源代码|程序",
    re.IGNORECASE,
)
# "Qwen2.5-7B", "8x7B", "1.5B": a parameter count names a model.
_MODEL = re.compile(
    r"\b(models?|weights?|checkpoints?|parameters|model weights)\b|模型|权重|参数|"
    r"(?<![\w.])(?:[\w.]+-)?\d+(?:\.\d+)?(?:x\d+)?[bBmM]\b",
    re.IGNORECASE,
)
_DATA = re.compile(r"\b(data|datasets?|corpus|corpora|annotations?)\b|数据", re.IGNORECASE)
# Wording that states which license applies (as opposed to mentioning one).
_STATES = re.compile(
    r"\b(licen[cs]ed|released|distributed|available|provided|published|open[- ]?sourced?|"
    r"made available|covered|governed|subject to|under the terms|under|comply|complies|"
    r"in accordance with|bound by|according to|follows?|adhere|has a .{0,40}licen[cs]e)\b|"
    r"依照|遵循|遵守|采用|按照|依据|适用|协议开源|开源|受.*约束",
    re.IGNORECASE,
)
# Terms stated without a license name ("weights are open for academic research and
# allow free commercial use"): in a License section, a statement all the same.
_TERMS_WORDS = re.compile(
    r"\b(commercial(?:ly)?|non-?commercial|research|academic|permit(?:ted|s)?|allow(?:s|ed)?|"
    r"free(?:ly)? (?:to|for)|restrict(?:ed|ions?)?|prohibit(?:ed)?)\b|商用|商业|研究|学术|免费",
    re.IGNORECASE,
)
_NAME_END = (
    r"(?P<ver>,?\s+(?:version|v)\s*\d+(?:\.\d+)*)?"
    r"(?=\s*(?:[,;()\[\]\n]|\.(?:\s|$)|$|\s+(?:and|or|for|with|while|which|see|unless|except|"
    r"but|that|as|if|is|are)\b))"
)
_NAMED = [
    re.compile(
        r"(?:licen[cs]ed|released|distributed|available|provided|published|open[- ]?sourced?|"
        r"governed|covered)\s+(?:\w+\s+){0,2}?under\s+(?:the\s+)?(?:terms\s+of\s+(?:the\s+)?)?"
        r"(?P<name>[^,;()\[\]\n]{1,120}?)" + _NAME_END,
        re.IGNORECASE,
    ),
    re.compile(
        r"subject\s+to\s+(?:the\s+)?(?:terms\s+of\s+(?:the\s+)?)?(?P<name>[^,;()\[\]\n]{1,120}?)"
        + _NAME_END,
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:(?:comply|complies|complying)\s+with|in\s+accordance\s+with|(?:governed|bound)\s+by|"
        r"according\s+to|follows?|adhere\s+(?:\w+\s+)?to)\s+(?:the\s+)?"
        r"(?:(?:terms|provisions)\s+of\s+(?:the\s+)?)?(?P<name>[^,;()\[\]\n]{1,120}?)" + _NAME_END,
        re.IGNORECASE,
    ),
    re.compile(
        r"has\s+an?\s+(?:[\w-]+\s+){0,3}licen[cs]e,?\s+(?:called|named)\s+(?:the\s+)?"
        r"(?P<name>[^,;()\[\]\n]{1,120}?)" + _NAME_END,
        re.IGNORECASE,
    ),
    re.compile(r"《(?P<name>[^《》]{2,80})》"),
    re.compile(
        r"(?:依照|遵循|遵守|采用|按照|依据|适用|基于)\s*(?P<name>[A-Za-z][\w .+-]{1,60}?)\s*"
        r"(?:的)?\s*(?:开源)?\s*(?:协议|许可证|许可|license)",
        re.IGNORECASE,
    ),
]
# "the license agreement pertinent to the Llama-2 model": a license named by its model.
_LICENSE_OF = re.compile(
    r"licen[cs]e(?:\s+agreement)?\s+(?:pertinent\s+to|of|for|governing)\s+(?:the\s+)?"
    r"(?P<name>[A-Za-z][\w.+-]*(?:[ -][\w.+-]+)?)(?:\s+models?)?",
    re.IGNORECASE,
)
_MD_LINK = re.compile(
    r"(?<!!)\[(?P<text>[^\]]{0,200})\]\((?P<target>[^)\s]{1,500})(?:\s+\"[^\"]{0,200}\")?\)"
)
_HTML_HREF = re.compile(
    r"<a\s[^>]{0,300}?href=[\"'](?P<target>[^\"']{1,500})[\"'][^>]{0,300}>(?P<text>.{0,500}?)</a>",
    re.I,
)
_BARE_URL = re.compile(r"(?<![(\"'=])\bhttps?://[^\s)\]>\"']{3,300}")
_BADGE = re.compile(r"img\.shields\.io/badge/(?P<body>[^\s)\"'?]{1,300})", re.IGNORECASE)
_IDLIKE = re.compile(
    r"(?<![\w.-])(?:[A-Za-z][\w.+-]{0,40}\d[\w.+-]{0,20}|MIT|ISC|Unlicense|WTFPL|Zlib)(?![\w-])"
)
# License files named in prose: "(see LICENSE-MODEL)", "in MODEL_LICENSE.pdf".
_FILE_MENTION = re.compile(
    r"(?<![\w/.-])((?:[\w.-]{0,60}(?:LICEN[CS]E|COPYING)[\w.-]{0,60}|NOTICE|USE_POLICY[\w.-]{0,40}))"
    r"(?![\w/-])"
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=\S)|(?<=[。！？；])")
_CLAUSE = re.compile(
    r",\s*(?:and|while|whereas|but|however|except)\s+|;\s*|，|；|\s+while\s+|\s+whereas\s+|"
    r"\s+except\s+(?:for\s+)?|而|但"
)
# A clause about a bundled part that is not the repo's own work: fonts, vendored code.
_BUNDLED = re.compile(
    r"\b(?:fonts?|icons?|emoji|third[- ]party|vendored|bundled|adapted\s+from|"
    r"borrowed\s+from|copied\s+from)\b|第三方|字体",
    re.IGNORECASE,
)
# "**License:** ...", "- License: ...", "许可证：...": a card's field line states the license.
_FIELD_LINE = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__)?\s*(?:(?:model|code|weights?|data(?:set)?)\s+)?"
    r"(?:licen[cs]e(?:\s+agreement)?|许可证?|许可协议)\s*(?:\*\*|__)?\s*(?:[:：]|\*\*)",
    re.IGNORECASE,
)
# Where something came from, and what once was: about another work, or another time.
_ELSEWHERE = re.compile(
    r"\b(?:originally|previously|formerly|initially|prior\s+to|used\s+to\s+be|was\s+(?:licensed|"
    r"released|distributed)|were\s+(?:licensed|released|distributed)|"
    r"(?:derived|adapted|based\s+off|based\s+on|fine-?tuned\s+from|built\s+(?:on|upon)|"
    r"distilled\s+from|modifications?\s+of)\b[^.;]{0,160}?\b(?:which|that)\s+(?:is|are|was|were)"
    r"(?:\s+\w+){0,2}\s+(?:licen[cs]ed|released|distributed|available)|"
    r"unlike|compar(?:e|ed|ing)\b[^.;]{0,40}?\b(?:to|with|against)|in\s+contrast)\b|"
    r"原先|之前|此前|曾经|相比|对比",
    re.IGNORECASE,
)
# A dated line ("[2024.05.01] We release ... under Apache 2.0"): news, not the current terms.
_DATED = re.compile(r"^\W{0,6}(?:\[|\*\*|\()?\s*(?:19|20)\d\d[./-]\d{1,2}(?:[./-]\d{1,2})?\b")
_PRONOUN = re.compile(r"\s*(?:they|these|those|it|its|their|this|both|该|其|它们|它)\b", re.I)
_LICENSE_HEADER_CELL = re.compile(r"licen[cs]|许可|协议|授权", re.IGNORECASE)
_LANG_SUFFIX = re.compile(r"^(?:[a-z]{2,3}(?:[-_][a-z]{2,4})?)$", re.IGNORECASE)
_LICENSE_URL = re.compile(
    r"licen[cs]|legal|terms|copying|rail|agreement|policy|/mit\b|/bsd|/gpl|/apache",
    re.IGNORECASE,
)


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


def scopes_of_text(text: str) -> tuple[Scope, ...]:
    """Every part a statement names ("code and data" is two); ALL is code and model."""
    code, model, data = (bool(p.search(text)) for p in (_CODE, _MODEL, _DATA))
    out: list[Scope] = []
    if code and model:
        out.append(Scope.ALL)
    elif code:
        out.append(Scope.CODE)
    elif model:
        out.append(Scope.MODEL)
    if data:
        out.append(Scope.DATA)
    return tuple(out) or (Scope.UNSPECIFIED,)


def file_scope(target: str) -> Scope:
    """What a linked license file's name says it covers (LICENSE-MODEL: the model)."""
    from auditor.detectors.license_text import scope_of

    path = unquote(target.split("#", 1)[0].split("?", 1)[0]).rstrip("/")
    return scope_of(path) if path else Scope.UNSPECIFIED


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


def readme_role(path: str) -> str:
    """``primary`` for a folder's README (and its translations, README_zh.md), ``card`` for a
    model card file, ``other`` for other README-like files (README_20240605.md)."""
    name = path.rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    lower = stem.lower()
    if lower == "readme":
        return "primary"
    if lower.startswith("readme") and len(lower) > 6 and lower[6] in "-_.":
        return "primary" if _LANG_SUFFIX.match(lower[7:]) else "other"
    if re.match(r"^model[-_]?card", lower):
        return "card"
    return "other"


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


@dataclass
class _Out:
    found: list[LicenseDetection]
    refs: list[LicenseReference]
    seen: set[tuple[str, Scope, int, bool]]

    def add(
        self,
        key: str,
        ev: Evidence,
        scope: Scope,
        place: Place,
        *,
        is_clue: bool,
        joint: str = "",
    ) -> None:
        """One detection per key, scope and line, however many ways a sentence names it."""
        sig = (key, scope, ev.start_line, is_clue)
        if sig not in self.seen:
            self.seen.add(sig)
            det = detection(key, ev, scope=scope, is_clue=is_clue, place=place)
            self.found.append(replace(det, joint=joint) if joint else det)

    def unknown(
        self, ev: Evidence, scope: Scope, place: Place, name: str, *, is_clue: bool
    ) -> None:
        """An unknown is always a clue; one that is only mentioned stands in no way."""
        sig = ("", scope, ev.start_line, is_clue)
        if sig in self.seen:
            return
        self.seen.add(sig)
        where = Place.MENTION if is_clue else place
        self.found.append(unknown(ev, scope, where, stated=name, family=family_of(name)))


@DETECTORS.register("readme-statement")
class ReadmeStatementDetector(Detector):
    text_limit = 512 * 1024

    def applies_to(self, entry: FileEntry) -> bool:
        return entry.kind is FileKind.README

    def detect(self, entry: FileEntry, text: str) -> Detected:
        doc = read(text)
        out = _Out([], [], set())
        for block in doc.blocks:
            self._block(entry, block, out)
        return Detected(tuple(out.found), references=tuple(out.refs))

    def _block(self, entry: FileEntry, block: Block, out: _Out) -> None:
        mention = block.quoted or block.copied or block.in_history
        if block.kind == "row":
            self._row(entry, block, out, mention)
            return
        if block.kind == "heading":
            place = Place.PROSE
        elif block.in_license_section or _FIELD_LINE.match(block.text):
            place = Place.SECTION
        else:
            place = Place.PROSE
        if not (place is Place.SECTION or "shields.io" in block.text or _licensey(block.text)):
            return  # most of a README says nothing of licenses
        for par in self._paragraphs(block):
            sentences = _sentences(par)
            for i, sentence in enumerate(sentences):
                inherited = None
                if i and _PRONOUN.match(sentence.text):
                    # "They are also restricted to ...": the subject of a sentence before
                    own = scopes_of_text(_strip_links(sentence.text))
                    if own == (Scope.UNSPECIFIED,):
                        inherited = _subject(sentences[:i])
                self._sentence(entry, sentence, place, mention, out, scopes=inherited)

    @staticmethod
    def _paragraphs(block: Block) -> list[_Span]:
        """An HTML block is read line by line (badge rows, centred paragraphs)."""
        if block.kind != "html":
            return [_Span(block.text, block.start)]
        return [
            _Span(line, block.start + i) for i, line in enumerate(block.text.split("\n")) if line
        ]

    def _row(self, entry: FileEntry, block: Block, out: _Out, mention: bool) -> None:
        """A table row: with a License column, the row's license for the row's subject;
        without one (comparisons, download lists), whatever it names is a mention."""
        column = next(
            (i for i, h in enumerate(block.header) if _LICENSE_HEADER_CELL.search(h)), None
        )
        if column is None or column >= len(block.cells) or column == 0:
            first = block.cells[0] if block.cells else ""
            if _FIELD_LINE.match(first + ":") and len(block.cells) >= 2:
                # A key/value table ("| License | Apache 2.0 |"): a field line.
                text = " ".join(block.cells[1:])
                span = _Span(f"License: {text}", block.start)
                self._sentence(entry, span, Place.SECTION, mention, out)
                return
            span = _Span(block.text, block.start)
            self._sentence(entry, span, Place.TABLE, True, out)
            return
        subject = " ".join([block.header[0] if block.header else "", block.cells[0]])
        scope = scope_of_text(subject)
        if scope is Scope.UNSPECIFIED:
            scope = Scope.MODEL  # tables of licenses in model repos list models
        cell = block.cells[column]
        span = _Span(f"{block.cells[0]} is licensed under {cell}", block.start)
        self._sentence(entry, span, Place.TABLE, mention, out, scopes=(scope,))

    def _sentence(
        self,
        entry: FileEntry,
        s: _Span,
        place: Place,
        mention: bool,
        out: _Out,
        *,
        scopes: tuple[Scope, ...] | None = None,
    ) -> None:
        """``scopes``: the parts the sentence speaks of when its own words do not say (a
        table row's subject; the sentence before, for "They are ...")."""
        badges = list(_BADGE.finditer(s.text))
        in_section = place is Place.SECTION
        if not (in_section or badges or _LICENSE_CONTEXT.search(s.text)):
            return
        plain_sentence = _strip_links(s.text)
        sentence_scopes = scopes or scopes_of_text(plain_sentence)
        dated = bool(_DATED.match(s.text))
        for clause, offset in _clauses(s.text):
            line = s.line + s.text.count("\n", 0, offset)
            ev = Evidence(
                entry.path,
                line,
                line + clause.count("\n"),
                Method.README_STATEMENT,
                " ".join(clause.split())[:200],
            )
            plain = _strip_links(clause)
            parts = scopes_of_text(plain)
            if parts == (Scope.UNSPECIFIED,) and (scopes or Scope.ALL not in sentence_scopes):
                parts = sentence_scopes
            states = bool(_STATES.search(plain)) or in_section
            clue = (
                mention
                or dated
                or not states
                or bool(_ELSEWHERE.search(plain))
                or bool(_BUNDLED.search(plain))
            )
            self._badges(clause, ev, out, mention)
            keys, unresolved = self._names(clause, plain)
            targets = self._links(clause, parts, ev, out, place, clue)
            for name in _FILE_MENTION.findall(plain):
                if name not in targets:
                    targets.append(name)
                    for sc in parts:
                        out.refs.append(
                            LicenseReference(
                                name, sc, ev, name, not clue, mention=True, place=place
                            )
                        )
            joint = _joint(plain) if len(keys) > 1 else ""
            for key in keys:
                for sc in parts:
                    out.add(key, ev, sc, place, is_clue=clue, joint=joint)
            if keys or targets:
                continue
            if unresolved and is_vague(unresolved) and states:
                # "subject to the Model License": the repo's own license file for that scope.
                for sc in parts:
                    out.refs.append(
                        LicenseReference("", sc, ev, unresolved, not clue, vague=True, place=place)
                    )
            elif unresolved and states:
                for sc in parts:
                    out.unknown(ev, sc, place, unresolved, is_clue=clue)
            elif in_section and not clue and _TERMS_WORDS.search(plain):
                # Terms without a name, in the License section: the part has terms of its
                # own that no key names ("weights are open for academic research").
                for sc in parts:
                    if sc is not Scope.UNSPECIFIED:
                        out.unknown(ev, sc, place, "", is_clue=False)

    @staticmethod
    def _names(clause: str, plain: str) -> tuple[list[str], str]:
        """Keys named in the clause, and a name given that maps to none ("" if none)."""
        keys: list[str] = []
        unresolved = ""
        names = [
            (m["name"] + (m["ver"] or "") if "ver" in m.groupdict() else m["name"]).strip(
                " *`\"'“”"
            )
            for p in _NAMED
            for m in p.finditer(plain)
        ]
        names += [m["name"] + " license" for m in _LICENSE_OF.finditer(plain)]
        for name in names:
            key = key_for_name(name)
            if key:
                keys.append(key)
            elif (_LICENSE_CONTEXT.search(name) or len(name.split()) <= 6) and not unresolved:
                unresolved = name
        if _LICENSE_CONTEXT.search(plain):
            for m in _IDLIKE.finditer(plain):
                key = _id_key(m.group(0), plain, m.end())
                if key and key not in keys:
                    keys.append(key)
        if keys:
            unresolved = ""
        return list(dict.fromkeys(keys)), unresolved

    @staticmethod
    def _links(
        clause: str,
        scopes: tuple[Scope, ...],
        ev: Evidence,
        out: _Out,
        place: Place,
        clue: bool,
    ) -> list[str]:
        links = [(m["text"], m["target"]) for m in _MD_LINK.finditer(clause)]
        links += [(m["text"], m["target"]) for m in _HTML_HREF.finditer(clause)]
        links += [("", m.group(0)) for m in _BARE_URL.finditer(clause)]
        kept: list[tuple[str, str]] = []
        for text, target in links:
            if "shields.io" in target or "shields.io" in text:
                continue  # a badge, or a link around one: _badges reads it with the badge's scope
            text = re.sub(r"<[^>]+>", " ", text)
            named = _link_text_key(text)
            url_key = key_for_url(target) if "://" in target else None
            licensey = bool(_LICENSE_CONTEXT.search(text) or _LICENSE_URL.search(target))
            if not (licensey or named or url_key):
                continue
            kept.append((text, target))
        # Several links to license files in one clause: each takes the part its file is
        # named for ("[LICENSE](LICENSE) for the code and [LICENSE_MODEL](LICENSE_MODEL)").
        claimed = {file_scope(t) for _, t in kept} - {Scope.UNSPECIFIED}
        targets = []
        for text, target in kept:
            own = file_scope(target)
            if own is not Scope.UNSPECIFIED:
                link_scopes: tuple[Scope, ...] = (own,)
            else:
                link_scopes = _without(scopes, claimed)
            targets.append(target)
            named = _link_text_key(text)
            for sc in link_scopes:
                out.refs.append(
                    LicenseReference(target, sc, ev, " ".join(text.split()), not clue, place=place)
                )
                # A link's text naming a license is ours; its target is resolved later.
                if named:
                    out.add(named, ev, sc, place, is_clue=clue)
        return targets

    @staticmethod
    def _badges(clause: str, ev: Evidence, out: _Out, mention: bool) -> None:
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
                out.add(key, badge_ev, scope, Place.BADGE, is_clue=mention)
            # The badge's own link says where the text is: [![..](badge)](LICENSE-CODE)
            # in Markdown, <a href="LICENSE-CODE"><img src="badge"></a> in HTML.
            target = _badge_link(clause, m.start(), m.end())
            if target:
                own = file_scope(target)
                sc = own if own is not Scope.UNSPECIFIED and scope is Scope.UNSPECIFIED else scope
                out.refs.append(
                    LicenseReference(target, sc, badge_ev, message, not mention, place=Place.BADGE)
                )
            elif not key:
                out.unknown(badge_ev, scope, Place.BADGE, message, is_clue=True)


_CONTEXT_WORDS = (
    "licen",
    "许可",
    "协议",
    "授权",
    "terms of use",
    "使用条款",
    "open",
    "开源",
    "copyleft",
    "mit",
    "apache",
    "gpl",
    "bsd",
    "creative commons",
    "openrail",
    "cc-by",
    "cc by",
)


def _licensey(text: str) -> bool:
    """_LICENSE_CONTEXT, with a substring test first: most paragraphs have none of it."""
    lower = text.lower()
    return any(w in lower for w in _CONTEXT_WORDS) and bool(_LICENSE_CONTEXT.search(text))


_CHOICE = re.compile(
    r"\bdual[- ]?licen[cs]|\beither\b|\bat\s+(?:your|the\s+user'?s?)\s+(?:option|choice)|"
    r"\bchoose\b|\bchoice\s+of\b|任选|任意一种|双重许可",
    re.IGNORECASE,
)
_BOTH = re.compile(r"\bboth\b|\bas\s+well\s+as\b|同时(?:遵循|遵守|适用)", re.IGNORECASE)


def _joint(plain: str) -> str:
    """How the licenses one clause names go together: a choice, all of them, or not said."""
    if _CHOICE.search(plain) and re.search(r"\bor\b|或", plain, re.IGNORECASE):
        return "or"
    if _BOTH.search(plain):
        return "and"
    return ""


def _subject(before: list[_Span]) -> tuple[Scope, ...] | None:
    """The parts the nearest sentence before names, for a sentence that says "they"."""
    for sentence in reversed(before):
        said = scopes_of_text(_strip_links(sentence.text))
        if said != (Scope.UNSPECIFIED,):
            return said
    return None


def _clauses(text: str) -> list[tuple[str, int]]:
    """(clause, offset) of each clause; a clause that states nothing and names no license
    is the first part of an enumeration ("The checkpoints, the demo code, and the training
    code are licensed under ..."): it joins the clause after it."""
    out: list[tuple[str, int]] = []
    carry: tuple[str, int] | None = None
    pos = 0
    for m in [*_CLAUSE.finditer(text), None]:
        end = m.start() if m else len(text)
        chunk = text[pos:end]
        if chunk.strip():
            if carry is not None:
                chunk, start = text[carry[1] : end], carry[1]
                carry = None
            else:
                start = pos
            if m is not None and not (_STATES.search(chunk) or _LICENSE_CONTEXT.search(chunk)):
                carry = (chunk, start)
            else:
                out.append((chunk, start))
        pos = m.end() if m else len(text)
    if carry is not None:
        out.append(carry)
    return out


def _without(scopes: tuple[Scope, ...], claimed: set[Scope]) -> tuple[Scope, ...]:
    """The parts a clause names that no other link of it claims."""
    if not claimed:
        return scopes
    parts: list[Scope] = []
    for sc in scopes:
        parts.extend((Scope.CODE, Scope.MODEL) if sc is Scope.ALL else (sc,))
    left = tuple(p for p in parts if p not in claimed)
    return left or scopes


def _link_text_key(text: str) -> str | None:
    """The license a link's text names; a model's name ("ChatGLM3-6B") is none, even
    where a license is named after the model."""
    if not text.strip():
        return None
    if not (_LICENSE_CONTEXT.search(text) or catalog().by_spdx(text.strip())):
        return None
    return key_for_name(text)


_NOT_QUITE = re.compile(r"(?:modified|custom|bespoke|adapted|variant\s+of)\W{0,3}$", re.I)


def _id_key(token: str, text: str, end: int) -> str | None:
    """A key for an id-like token: an SPDX id, or a name followed by "license"."""
    start = end - len(token)
    if _NOT_QUITE.search(text[max(0, start - 40) : start]):  # a tail: linear per token
        return None  # "Modified MIT": not MIT
    key = catalog().by_spdx(token)
    if key and _looks_like_id(token):
        return key
    if re.match(r"\s*(?:community\s+)?(?:licen[cs]e|协议|许可)", text[end : end + 30], re.I):
        return key_for_name(token)
    return None


def _badge_link(text: str, start: int, end: int) -> str | None:
    md = re.match(r"[^)]{0,300}\)\]\((?P<target>[^)\s]{1,500})\)", text[end:])
    if md:
        return md["target"]
    for a in _HTML_HREF.finditer(text):
        if a.start() <= start and end <= a.end():
            return a["target"]
    return None


def _strip_links(text: str) -> str:
    """Link targets and badge URLs say nothing about scope ("LICENSE-MODEL" is not prose)."""
    text = _MD_LINK.sub(lambda m: m["text"], text)
    text = re.sub(r"!\[[^\]]{0,300}\]\([^)]{0,500}\)", " ", text)
    text = re.sub(r"<[^>]{0,500}>", " ", text)
    return _BARE_URL.sub(" ", text)


def _looks_like_id(token: str) -> bool:
    """Version-like tokens ("v2.0", "3.1", "Qwen2.5") are not license ids."""
    return not re.fullmatch(r"v?\d[\d.]*", token, re.IGNORECASE)
