"""Model information an AI-BOM asks for (SPDX 3.0.1 AI profile, CycloneDX 1.6 modelCard).

Facts only, no licenses, from three places:

* ``config.json`` (transformers; method ``package-metadata``): ``model_type``,
  one ``architecture`` per name in ``architectures``, and ``hyperparameter``
  ``name=value`` for the keys in ``HYPERPARAMETERS`` that hold a scalar (JSON
  spelling: ``4096``, ``10000.0``, ``true``; strings as they are). The
  evidence is the line of the top-level key. A file that is not JSON says
  nothing (no problem either: it is no license matter).
* the card's YAML front matter (method ``card-metadata``): ``language``,
  ``tag``, ``metric`` (``TYPE=VALUE``, ``TYPE=VALUE on DATASET`` from
  ``model-index``, at most ``METRIC_LIMIT``), ``co2_eq_emissions`` (``N g``)
  with ``training_hardware`` and ``training_type``, ``model_creator``,
  ``quantized_by``, ``model_version`` (or ``version``) and ``release_date``
  (or ``releaseDate``; a ``YYYY-MM-DD`` date, else ignored). Scalars are taken
  as written (``language: no`` is Norwegian, ``version: 1.10`` stays 1.10). A
  front matter that does not parse gives nothing: ``card-metadata`` reports it.
* the card's English prose (method ``readme-statement``): the text under
  headings (ATX and setext; a section runs to the next heading of the same or
  a higher level) on limitations (``limitation``), intended use
  (``intended_use``), training (``training_info``), and energy used
  (``energy_consumption``: ``N kWh``, MWh converted, or ``N MJ``, only from
  sections on environmental impact, carbon or energy). A sub-section about the
  same thing belongs to its parent ("Uses" > "Direct Use"); one about another
  thing is a section of its own ("Uses" > "Out-of-Scope Use" is a limitation).
  Markdown and HTML are reduced to plain text, code blocks dropped, and text
  that only repeats the Hub's card template ("[More Information Needed]",
  "More information needed", the template's stock sentences) does not count:
  an unfilled template states nothing.

Which files: ``config.json`` and ``README.md`` (``README``, ``README.markdown``)
in a folder that holds a model, that is the repo root and, once the pipeline
hands the detector its inventory (``prepare``), each folder that directly holds
weights. Without the inventory only the root is read.

Everything is bounded and linear: the first ``README_LIMIT`` characters of a
card, ``LINE_LIMIT`` characters of a line, ``SECTION_BUDGET`` characters of a
section, values of at most ``VALUE_LIMIT`` characters (cut at a sentence, else
a word), at most ``PROSE_FACTS_LIMIT`` facts of each prose kind; headings,
fences and comments are found with string operations, and the few regexes
have bounded repeats only.
"""

from __future__ import annotations

import datetime
import html
import json
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.detectors import DETECTORS, Detected, Detector
from auditor.detectors.card_metadata import FrontMatterError, parse_front_matter
from auditor.model import Evidence, Fact, FileEntry, FileKind, Inventory, Method

if TYPE_CHECKING:  # PyYAML loads only when a card has front matter (~15 ms to import)
    import yaml

README_LIMIT = 256 * 1024  # characters of a card read
VALUE_LIMIT = 1000  # characters of one fact's value
EXCERPT_LIMIT = 200
METRIC_LIMIT = 50  # metric facts of one card
SEQUENCE_LIMIT = 256  # items of one YAML list read (a 4,000-item list is junk or an attack)
PROSE_FACTS_LIMIT = 5  # facts of each prose kind from one card
LINE_LIMIT = 4000  # characters of one Markdown line read
SECTION_BUDGET = 16 * 1024  # characters of one section read for its value

CONFIG_NAME = "config.json"
README_NAMES = frozenset({"readme.md", "readme", "readme.markdown"})

HYPERPARAMETERS = (
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
    "max_position_embeddings",
    "rope_theta",
    "torch_dtype",
    "n_embd",
    "n_layer",
    "n_head",
    "n_positions",
    "d_model",
    "num_layers",
    "num_heads",
    "n_routed_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "sliding_window",
)

MODEL_TYPE = "model_type"
ARCHITECTURE = "architecture"
HYPERPARAMETER = "hyperparameter"
LANGUAGE = "language"
TAG = "tag"
METRIC = "metric"
CO2 = "co2_eq_emissions"
TRAINING_HARDWARE = "training_hardware"
TRAINING_TYPE = "training_type"
LIMITATION = "limitation"
INTENDED_USE = "intended_use"
TRAINING_INFO = "training_info"
ENERGY = "energy_consumption"
#: Card fields read as they are: fact name -> the keys that may hold it, first found wins.
CARD_STRINGS = (
    ("model_creator", ("model_creator",)),
    ("quantized_by", ("quantized_by",)),
    ("model_version", ("model_version", "version")),
    ("release_date", ("release_date", "releaseDate")),
)


def model_folders(inventory: Inventory) -> frozenset[str]:
    """The repo root and every folder that directly holds a weights file."""
    return frozenset(
        {""} | {posixpath.dirname(f.path) for f in inventory.files if f.kind is FileKind.WEIGHTS}
    )


def _cap(text: str, limit: int = EXCERPT_LIMIT) -> str:
    return " ".join(text.split())[:limit]


class _Facts:
    """Facts in the order found, each (name, value) once, never an empty value."""

    def __init__(self) -> None:
        self.facts: list[Fact] = []
        self._seen: set[tuple[str, str]] = set()

    def count(self, name: str) -> int:
        return sum(1 for f in self.facts if f.name == name)

    def add(self, name: str, value: str, evidence: Evidence) -> bool:
        value = value.strip()
        if not value or (name, value) in self._seen:
            return False
        self._seen.add((name, value))
        self.facts.append(Fact(name, value, evidence))
        return True


# --- config.json ------------------------------------------------------------------

# A JSON string (no nested repeats: each character is taken by one branch only) or a
# character that changes the nesting or the line.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]\n]')
_COLON = re.compile(r"[ \t\r\n]*:")


def _top_level_lines(text: str, wanted: frozenset[str]) -> dict[str, int]:
    """1-based line of each wanted key of the top-level JSON object, in one pass."""
    found: dict[str, int] = {}
    depth = 0
    line = 1
    for m in _JSON_TOKEN.finditer(text):
        token = m.group(0)
        if token == "\n":
            line += 1
        elif token in "{[":
            depth += 1
        elif token in "}]":
            depth -= 1
        elif depth == 1 and _COLON.match(text, m.end()):
            try:
                key = json.loads(token)
            except ValueError:
                continue
            if key in wanted and key not in found:
                found[key] = line
    return found


def _json_value(value: object) -> str | None:
    """A scalar as JSON spells it (strings as they are); None for anything else."""
    if isinstance(value, str):
        return _cap(value, VALUE_LIMIT) or None
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    return None


def read_config(path: str, text: str) -> list[Fact]:
    """``model_type``, ``architecture`` and ``hyperparameter`` facts of a transformers config."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []  # not JSON (or nested past all reason): it states nothing
    if not isinstance(data, dict):
        return []
    lines = text.split("\n")
    where = _top_level_lines(text, frozenset({MODEL_TYPE, "architectures", *HYPERPARAMETERS}))
    out = _Facts()

    def evidence(key: str) -> Evidence:
        line = where.get(key, 1)
        excerpt = _cap(lines[line - 1]) if line <= len(lines) else f'"{key}"'
        return Evidence(path, line, line, Method.PACKAGE_METADATA, excerpt)

    model_type = data.get(MODEL_TYPE)
    if isinstance(model_type, str):
        out.add(MODEL_TYPE, _cap(model_type, VALUE_LIMIT), evidence(MODEL_TYPE))
    architectures = data.get("architectures")
    if isinstance(architectures, str):
        architectures = [architectures]
    if isinstance(architectures, list):
        for name in architectures:
            if isinstance(name, str):
                out.add(ARCHITECTURE, _cap(name, VALUE_LIMIT), evidence("architectures"))
    for key in HYPERPARAMETERS:
        value = _json_value(data.get(key))
        if value is not None:
            out.add(HYPERPARAMETER, f"{key}={value}", evidence(key))
    return out.facts


# --- the card's YAML front matter --------------------------------------------------

_NULL_TAG = "tag:yaml.org,2002:null"
_NUMBER = re.compile(r"\+?(?:\d{1,30}(?:\.\d{0,30})?|\.\d{1,30})(?:[eE][-+]?\d{1,4})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _entry(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """(key node, value node) of a mapping's key; None when there is none."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None


def _get(node: yaml.Node | None, *keys: str) -> yaml.Node | None:
    """The value of the first of ``keys`` a mapping has."""
    for key in keys:
        found = _entry(node, key)
        if found:
            return found[1]
    return None


def _text(node: yaml.Node | None) -> str | None:
    """A scalar as written (not as YAML 1.1 reads it: ``no`` stays ``no``); None if empty."""
    import yaml

    if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL_TAG:
        return None
    return _cap(node.value, VALUE_LIMIT) or None


def _items(node: yaml.Node | None) -> list[yaml.Node]:
    """The items of a sequence, or a lone scalar as one item."""
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value[:SEQUENCE_LIMIT])
    return [node] if isinstance(node, yaml.ScalarNode) else []


def _number(node: yaml.Node | None) -> str | None:
    value = _text(node)
    if value is None or not _NUMBER.fullmatch(value):
        return None
    return value.removeprefix("+")


def _last_line(node: yaml.Node) -> int:
    """0-based last line of a node's text: where its last scalar or flow collection ends.

    (A block collection's own end mark is the start of whatever follows it.)"""
    import yaml

    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style:
        if not node.value:
            return int(node.start_mark.line)
        last = node.value[-1]
        node = last[1] if isinstance(node, yaml.MappingNode) else last
    mark = node.end_mark
    return int(mark.line if mark.column > 0 else mark.line - 1)


class _Card:
    """Evidence for the nodes of one front matter: file lines from the nodes' marks."""

    def __init__(self, path: str, lines: list[str], first_line: int) -> None:
        self.path = path
        self.lines = lines
        self.first_line = first_line

    def evidence(self, start: yaml.Node, end: yaml.Node | None = None) -> Evidence:
        first = start.start_mark.line
        last = min(max(first, _last_line(end or start)), len(self.lines) - 1)
        excerpt = _cap(" ".join(self.lines[first : min(last, first + 5) + 1]))
        return Evidence(
            self.path,
            self.first_line + first,
            self.first_line + last,
            Method.CARD_METADATA,
            excerpt,
        )


def _metrics(root: yaml.Node | None, card: _Card, out: _Facts) -> None:
    added = 0
    for model in _items(_get(root, "model-index")):
        for result in _items(_get(model, "results")):
            dataset = _get(result, "dataset")
            on = _text(_get(dataset, "name")) or _text(_get(dataset, "type"))
            for metric in _items(_get(result, "metrics")):
                kind = _text(_get(metric, "type")) or _text(_get(metric, "name"))
                value = _text(_get(metric, "value"))
                if not (kind and value):
                    continue
                fact = f"{kind}={value}" + (f" on {on}" if on else "")
                if out.add(METRIC, fact, card.evidence(metric)):
                    added += 1
                    if added >= METRIC_LIMIT:
                        return


def read_card(path: str, text: str) -> list[Fact]:
    """Facts of a model card's YAML front matter (nothing when it has none or it is broken)."""
    try:
        fm = parse_front_matter(text)
    except (FrontMatterError, ValueError, RecursionError):
        # card-metadata reports a broken front matter; ValueError: a date such as 2024-02-30
        return []
    if fm is None or not fm.data:
        return []
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose("\n".join(fm.lines), Loader=loader)  # a safe loader: nodes only
    except (yaml.YAMLError, RecursionError):
        return []
    card = _Card(path, fm.lines, fm.first_line)
    out = _Facts()
    for name, key in ((LANGUAGE, "language"), (TAG, "tags")):
        for item in _items(_get(root, key)):
            value = _text(item)
            if value:
                out.add(name, value, card.evidence(item))
    _metrics(root, card, out)
    co2 = _entry(root, CO2)
    if co2:
        key_node, node = co2
        grams = _number(node) or _number(_get(node, "emissions"))
        if grams:
            out.add(CO2, f"{grams} g", card.evidence(key_node, node))
        for name, field in ((TRAINING_HARDWARE, "hardware_used"), (TRAINING_TYPE, "training_type")):
            found = _entry(node, field)
            value = _text(found[1]) if found else None
            if found and value:
                out.add(name, value, card.evidence(found[0], found[1]))
    for name, keys in CARD_STRINGS:
        found = next((e for e in (_entry(root, k) for k in keys) if e and _text(e[1])), None)
        if found is None:
            continue
        value = _text(found[1]) or ""
        if name == "release_date" and not _is_date(value):
            continue
        out.add(name, value, card.evidence(found[0], found[1]))
    return out.facts


def _is_date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


# --- the card's prose --------------------------------------------------------------

_IMAGE = re.compile(r"!\[[^\[\]]{0,300}\]\([^()\s]{0,500}(?:\s{1,5}\"[^\"]{0,200}\")?\)")
_LINK = re.compile(r"\[(?P<text>[^\[\]]{0,300})\]\([^()\s]{0,500}(?:\s{1,5}\"[^\"]{0,200}\")?\)")
_REF_LINK = re.compile(r"\[(?P<text>[^\[\]]{1,300})\]\[[^\[\]]{0,100}\]")
_REF_DEF = re.compile(r"\s{0,3}\[[^\[\]]{1,100}\]:\s")
_AUTOLINK = re.compile(r"<(?P<url>https?://[^<>\s]{1,500})>")
_TAG_RE = re.compile(r"<[^<>]{0,300}>")
_UNDERSCORE = re.compile(r"(?<!\w)_+(?=\w)|(?<=\w)_+(?!\w)")
_LIST_MARK = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?:\s|$)")
_NUMBERING = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){0,3}\.?|[a-z]\.|[ivx]{1,5}\.)\s")

# What the Hub's card templates leave in a section nobody filled in: stock sentences
# (matched first, whole) and placeholders.
_TEMPLATE_SENTENCES = (
    "Users (both direct and downstream) should be made aware of the risks, biases and "
    "limitations of the model. More information needed for further recommendations.",
    "Carbon emissions can be estimated using the Machine Learning Impact calculator "
    "presented in Lacoste et al. (2019).",
    "Use the code below to get started with the model.",
    "Click to expand",
)
_TEMPLATE = re.compile(
    "|".join(re.escape(s) for s in _TEMPLATE_SENTENCES)
    + r"|\[?\s?more\s?information\s?needed\s?\]?\.?|\{\{[^{}]{0,500}\}\}|\{%[^{}]{0,500}%\}"
    + r"|\[optional\]",
    re.IGNORECASE,
)

# Which fact a heading's section gives, first match wins; "" is a section of something
# else (evaluation results) that is no part of the section around it.
_HEADING_FACTS = (
    (re.compile(r"\b(?:intended )?uses? ?(?:&|and) ?limitations?\b"), INTENDED_USE),
    (re.compile(r"\benvironmental impact\b|\bcarbon\b|\benergy\b"), ENERGY),
    (
        re.compile(
            r"\blimitations?\b|\bbias, risks,? and limitations\b|\brisks and limitations\b|"
            r"\bout[- ]of[- ]scope uses?\b"
        ),
        LIMITATION,
    ),
    (
        re.compile(r"\bintended uses?\b|\buses\b|\bdirect use\b|\bintended use cases\b"),
        INTENDED_USE,
    ),
    (re.compile(r"\btraining and evaluation data\b"), TRAINING_INFO),
    (re.compile(r"\bresults?\b|\bevaluation\b|\bbenchmarks?\b"), ""),
    (re.compile(r"\btraining\b"), TRAINING_INFO),  # "training", "... details", "... procedure"
)
_ENERGY_AMOUNT = re.compile(
    r"(?<![\w.,])(?P<number>\d{1,3}(?:,\d{3}){1,6}|\d{1,15})(?P<fraction>\.\d{1,9})?"
    r" ?(?P<unit>kWh|KWh|kwh|KWH|MWh|MWH|MJ)(?![A-Za-z])"
)

_BLANK, _TEXT, _SKIP = 0, 1, 2


@dataclass
class _Heading:
    index: int  # 0-based line of the heading (the title line of a setext heading)
    level: int
    name: str | None  # the fact its section gives, "" for none, None when it is no section


def _drop_comments(text: str) -> str:
    """HTML comments blanked, their line breaks kept (``str.find``, so linear)."""
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:start])
        close = text.find("-->", start + 4)
        end = len(text) if close < 0 else close + 3
        out.append("\n" * text.count("\n", start, end))
        pos = end


def _prose_start(lines: list[str]) -> int | None:
    """0-based first line after the front matter; None when the front matter never ends."""
    if not lines or lines[0].strip() != "---":
        return 0
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return i + 1
    return None


def _atx(stripped: str) -> tuple[int, str] | None:
    """(level, title) of an ATX heading line (indent already removed)."""
    hashes = len(stripped) - len(stripped.lstrip("#"))
    if not 1 <= hashes <= 6:
        return None
    rest = stripped[hashes:]
    if rest and rest[0] not in " \t":
        return None
    title = rest.strip()
    closed = title.rstrip("#")
    if closed != title and (not closed or closed[-1] in " \t"):
        title = closed.strip()
    return hashes, title


def _heading_name(title: str) -> str | None:
    normalized = _NUMBERING.sub("", _plain(title[:EXCERPT_LIMIT]).lower().replace("[optional]", ""))
    for pattern, name in _HEADING_FACTS:
        if pattern.search(normalized):
            return name
    return None


def _scan(lines: list[str], start: int) -> tuple[list[int], list[_Heading]]:
    """Each line's kind (blank, text, skipped) and the headings, in one pass."""
    kinds = [_SKIP] * len(lines)
    headings: list[_Heading] = []
    fence = ""  # the opening fence while inside a code block
    for i in range(start, len(lines)):
        line = lines[i]
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        stripped = stripped.rstrip()
        if fence:
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                fence = ""
            continue
        if not stripped:
            kinds[i] = _BLANK
            continue
        if indent <= 3 and stripped.startswith(("```", "~~~")):
            char = stripped[0]
            fence = char * (len(stripped) - len(stripped.lstrip(char)))
            continue
        if indent <= 3 and stripped[0] == "#":
            atx = _atx(stripped)
            if atx:
                headings.append(_Heading(i, atx[0], _heading_name(atx[1])))
                continue
        underline = indent <= 3 and stripped[0] in "=-" and not stripped.strip(stripped[0])
        if underline:
            prev = i - 1
            if (
                prev >= start
                and kinds[prev] == _TEXT
                and not _LIST_MARK.match(lines[prev].strip())
                and not lines[prev].lstrip().startswith(("|", ">"))
            ):
                kinds[prev] = _SKIP
                level = 1 if stripped[0] == "=" else 2
                headings.append(_Heading(prev, level, _heading_name(lines[prev].strip())))
            elif stripped[0] == "-":
                kinds[i] = _BLANK  # a thematic break
            continue
        kinds[i] = _TEXT
    return kinds, headings


def _plain(line: str) -> str:
    """One Markdown line as plain text: links, images, emphasis, code and HTML dropped."""
    s = line[:LINE_LIMIT]
    s = _IMAGE.sub(" ", s)
    s = _LINK.sub(lambda m: m["text"], s)
    s = _REF_LINK.sub(lambda m: m["text"], s)
    s = _AUTOLINK.sub(lambda m: m["url"], s)
    s = _TAG_RE.sub(" ", s)
    s = html.unescape(s)
    s = s.replace("**", "").replace("~~", "").replace("`", "").replace("*", "")
    s = _UNDERSCORE.sub("", s)
    return " ".join(s.split())


def _table_row(stripped: str) -> str:
    cells = [c.strip() for c in stripped.strip("|").split("|")]
    if all(not c.strip("-: ") for c in cells):
        return ""  # the |---|---| line
    cells = [c for c in cells if c]
    return ": ".join(cells) if len(cells) == 2 else ", ".join(cells)


def _unfilled(text: str) -> str:
    """What a block says once the card template's stock text is taken out."""
    left = " ".join(_TEMPLATE.sub(" ", text).split())
    if not any(c.isalnum() for c in left):
        return ""
    if left != text and left.endswith(":") and len(left.split()) <= 8:
        return ""  # a label ("Hardware Type:") whose value was a placeholder
    return left


@dataclass
class _Block:
    first: int  # 0-based lines
    last: int
    text: str


def _blocks(
    lines: list[str], kinds: list[int], spans: Iterable[tuple[int, int]]
) -> Iterator[_Block]:
    """Paragraphs, list items and table rows of the given line spans, as plain text.

    Reads at most ``SECTION_BUDGET`` characters of the spans."""
    budget = SECTION_BUDGET
    for first, end in spans:
        block: _Block | None = None
        for i in range(first, end):
            if budget <= 0:
                break
            if kinds[i] != _TEXT:
                if block:
                    yield block
                block = None
                continue
            raw = lines[i][:LINE_LIMIT]
            budget -= len(raw)
            stripped = raw.strip()
            while stripped.startswith(">"):
                stripped = stripped[1:].lstrip()
            if _REF_DEF.match(stripped):
                continue
            starts = False
            mark = _LIST_MARK.match(stripped)
            if mark:
                stripped, starts = stripped[mark.end() :], True
            elif stripped.startswith("|"):
                stripped, starts = _table_row(stripped), True
            text = _plain(stripped)
            if block and (starts or not text):
                yield block
                block = None
            if not text:
                continue
            if block:
                block.text += " " + text
                block.last = i
            else:
                block = _Block(i, i, text)
        if block:
            yield block
        if budget <= 0:
            return


def _cut(text: str) -> str:
    """At most ``VALUE_LIMIT`` characters, cut after a sentence, else between words."""
    if len(text) <= VALUE_LIMIT:
        return text
    head = text[: VALUE_LIMIT + 1]
    end = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    if end >= VALUE_LIMIT // 3:
        return head[: end + 1]
    space = text.rfind(" ", 0, VALUE_LIMIT)
    return (text[:space] if space > 0 else text[: VALUE_LIMIT - 1]).rstrip() + "…"


def _section_value(blocks: Iterable[_Block]) -> tuple[str, int] | None:
    """The plain text of a section's first paragraphs and its last line; None when unfilled."""
    parts: list[str] = []
    size = 0
    last = -1
    for block in blocks:
        text = _unfilled(block.text)
        if not text:
            continue
        if parts and parts[-1][-1] not in ".!?:;,":
            parts[-1] += ";"  # list items without full stops
        parts.append(text)
        size += len(text) + 1
        last = block.last
        if size > VALUE_LIMIT:
            break
    if not parts:
        return None
    return _cut(" ".join(parts)), last


def _energy(number: str, fraction: str | None, unit: str) -> str:
    """``N kWh`` (MWh moved three places) or ``N MJ``, in plain decimal digits."""
    whole, digits = number.replace(",", ""), (fraction or "").lstrip(".")
    if unit.upper() == "MWH":
        digits = digits.ljust(3, "0")
        whole, digits = whole + digits[:3], digits[3:]
    whole, digits = whole.lstrip("0") or "0", digits.rstrip("0")
    return f"{whole}{'.' + digits if digits else ''} {'MJ' if unit == 'MJ' else 'kWh'}"


def _owners(headings: list[_Heading]) -> list[int]:
    """For each heading, the heading whose section its text belongs to (-1: none).

    A heading that names no fact belongs to the section around it, and so does
    one that names the same fact as the section around it; a heading naming
    another fact starts a section of its own."""
    owners: list[int] = []
    stack: list[int] = []  # indexes of the enclosing headings
    for k, h in enumerate(headings):
        while stack and headings[stack[-1]].level >= h.level:
            stack.pop()
        outer = owners[stack[-1]] if stack else -1
        outer_name = headings[outer].name if outer >= 0 else None
        if h.name is None or (outer >= 0 and h.name == outer_name):
            owners.append(outer)
        else:
            owners.append(k)
        stack.append(k)
    return owners


def read_prose(path: str, text: str) -> list[Fact]:
    """``limitation``, ``intended_use``, ``training_info`` and ``energy_consumption`` facts."""
    lines = _drop_comments(text[:README_LIMIT]).split("\n")
    start = _prose_start(lines)
    if start is None:
        return []
    kinds, headings = _scan(lines, start)
    owners = _owners(headings)
    spans: dict[int, list[tuple[int, int]]] = {}
    for k, owner in enumerate(owners):
        if owner >= 0:
            end = headings[k + 1].index if k + 1 < len(headings) else len(lines)
            spans.setdefault(owner, []).append((headings[k].index + 1, end))
    out = _Facts()
    for k, h in enumerate(headings):
        if owners[k] != k or not h.name or out.count(h.name) >= PROSE_FACTS_LIMIT:
            continue
        excerpt = _cap(lines[h.index])
        blocks = _blocks(lines, kinds, spans[k])
        if h.name == ENERGY:
            for block in blocks:
                for m in _ENERGY_AMOUNT.finditer(_unfilled(block.text)):
                    value = _energy(m["number"], m["fraction"], m["unit"])
                    if out.count(ENERGY) < PROSE_FACTS_LIMIT:
                        ev = Evidence(
                            path,
                            block.first + 1,
                            block.last + 1,
                            Method.README_STATEMENT,
                            _cap(lines[block.first]),
                        )
                        out.add(ENERGY, value, ev)
            continue
        found = _section_value(blocks)
        if found:
            value, last = found
            ev = Evidence(path, h.index + 1, last + 1, Method.README_STATEMENT, excerpt)
            out.add(h.name, value, ev)
    return out.facts


# --- the detector ------------------------------------------------------------------


@DETECTORS.register("model-info")
class ModelInfoDetector(Detector):
    """What an AI-BOM says of a model: config.json, the card's fields and its prose."""

    text_limit = 1 << 20  # config.json whole; a card is cut at README_LIMIT

    def __init__(self, folders: Iterable[str] = ("",)) -> None:
        #: Folders whose config.json and README count: the root, and with the inventory
        #: every folder holding weights.
        self.folders = frozenset(folders)

    def prepare(self, inventory: Inventory) -> None:
        """Read the folders that hold weights as well as the root."""
        self.folders = model_folders(inventory)

    def applies_to(self, entry: FileEntry) -> bool:
        if posixpath.dirname(entry.path) not in self.folders:
            return False
        name = posixpath.basename(entry.path).lower()
        if entry.kind is FileKind.CONFIG:
            return name == CONFIG_NAME
        return entry.kind is FileKind.README and name in README_NAMES

    def detect(self, entry: FileEntry, text: str) -> Detected:
        if entry.kind is FileKind.CONFIG:
            return Detected(facts=tuple(read_config(entry.path, text)))
        text = text[:README_LIMIT]
        return Detected(facts=tuple(read_card(entry.path, text) + read_prose(entry.path, text)))
