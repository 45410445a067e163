"""One reading of a README or model card, shared by every detector that reads prose.

markdown-it-py parses the block structure (CommonMark plus tables); its inline
pass is switched off, since detectors match links and names in the raw inline
Markdown themselves and need nothing else of it. Each block keeps its source
lines and what it stands in: the headings above it, a blockquote, a table
(with the table's header), a section a quantizer copied from the model it
quantized ("Original model card"), a news or changelog section. Detectors
weigh a statement by where it stands, so a license named in a quote, a
comparison table or a changelog line does not count as much as the License
section does.

The front matter is not Markdown: its lines are blanked before parsing (line
numbers stay those of the file). HTML comments and code blocks are no blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

#: Text past this many characters is not read as Markdown (a README is far shorter).
READ_LIMIT = 512 * 1024

LICENSE_HEADING = re.compile(
    r"licen[cs]|许可|协议|授权|terms\s+of\s+use|使用条款|ライセンス|라이선스|라이센스|"
    r"usage\s+and\s+licen|copyright",
    re.IGNORECASE,
)
#: A section a quantizer or fine-tuner copied from the model it started from.
COPIED_HEADING = re.compile(
    r"original\s+(?:model\s*)?card|original\s+model\s+(?:description|readme)|"
    r"原(?:始)?模型(?:卡片|介绍|说明)",
    re.IGNORECASE,
)
#: News, changelogs and release notes: what the repo said at some time, not what holds now.
HISTORY_HEADING = re.compile(
    r"\b(?:news|updates?|changelog|change\s+log|release\s+notes?|history|what'?s\s+new|"
    r"announcements?|timeline|roadmap|todo)\b|新闻|动态|更新|公告",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)


@dataclass(frozen=True)
class Block:
    """A heading, a paragraph, a list item's paragraph, an HTML block or a table row.

    ``text`` is the block's inline Markdown (quote and list markers removed;
    a table row's cells joined by `` | ``), ``start`` and ``end`` its 1-based
    source lines.
    """

    kind: str  # "heading", "paragraph", "html", "row"
    text: str
    start: int
    end: int
    #: Heading titles above this block, outermost first (a heading lists its parents).
    headings: tuple[str, ...] = ()
    level: int = 0  # a heading's level
    quoted: bool = False
    list_item: bool = False
    #: Table rows: the cells, and the header cells of their table.
    cells: tuple[str, ...] = ()
    header: tuple[str, ...] = ()

    #: Under a License heading; under an "Original model card" heading; under a news or
    #: changelog heading (set from ``headings`` when the block is read).
    in_license_section: bool = False
    copied: bool = False
    in_history: bool = False


@dataclass(frozen=True)
class Document:
    lines: tuple[str, ...]
    #: 1-based line of the first Markdown line (after the front matter).
    body_start: int
    blocks: tuple[Block, ...]

    def own_lines(self) -> frozenset[int]:
        """1-based lines holding the repo's own statements: blocks outside quotes and
        copied sections (code, comments and the front matter are no blocks)."""
        out: set[int] = set()
        for b in self.blocks:
            if not b.quoted and not b.copied:
                out.update(range(b.start, b.end + 1))
        return frozenset(out)


@lru_cache(maxsize=256)
def _flags(headings: tuple[str, ...]) -> tuple[bool, bool, bool]:
    """(license section, copied section, history section) for a stack of headings."""
    return (
        any(LICENSE_HEADING.search(h) for h in headings),
        any(COPIED_HEADING.search(h) for h in headings),
        any(HISTORY_HEADING.search(h) for h in headings),
    )


def _block(
    kind: str,
    text: str,
    start: int,
    end: int,
    headings: tuple[str, ...],
    *,
    level: int = 0,
    quoted: bool = False,
    list_item: bool = False,
    cells: tuple[str, ...] = (),
    header: tuple[str, ...] = (),
) -> Block:
    lic, copied, history = _flags(headings)
    return Block(
        kind,
        text,
        start,
        end,
        headings,
        level,
        quoted,
        list_item,
        cells,
        header,
        in_license_section=lic,
        copied=copied,
        in_history=history,
    )


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    md.disable(["inline", "text_join"], ignoreInvalid=True)
    return md


def front_matter_end(lines: list[str]) -> int:
    """Number of leading lines that are YAML front matter (0 when there is none)."""
    if not lines or lines[0].strip() != "---":
        return 0
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return i + 1
    return 0


def read(text: str) -> Document:
    """The blocks of ``text`` (cached: several detectors read the same README)."""
    return _read(text[:READ_LIMIT])


@lru_cache(maxsize=4)
def _read(text: str) -> Document:
    lines = text.split("\n")
    skip = front_matter_end(lines)
    body = [""] * skip + lines[skip:]
    # Comments may hide whole sections; blank them, keeping the line count.
    source = "\n".join(body)
    if "<!--" in source:
        source = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    tokens = _parser().parse(source)
    blocks: list[Block] = []
    stack: list[tuple[int, str]] = []  # (level, title) of the open headings
    quote = 0
    items = 0
    header: tuple[str, ...] = ()
    row: list[str] = []
    row_map: list[int] | None = None
    in_head = False
    pending_heading: int | None = None
    for tok in tokens:
        kind = tok.type
        if kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "list_item_open":
            items += 1
        elif kind == "list_item_close":
            items -= 1
        elif kind == "heading_open":
            pending_heading = int(tok.tag[1:]) if tok.tag[1:].isdigit() else 1
        elif kind == "thead_open":
            in_head = True
            header = ()
        elif kind == "thead_close":
            in_head = False
        elif kind == "tr_open":
            row = []
            row_map = tok.map
        elif kind == "tr_close":
            if in_head:
                header = tuple(row)
            elif row_map is not None:
                blocks.append(
                    _block(
                        "row",
                        " | ".join(row),
                        row_map[0] + 1,
                        row_map[1],
                        tuple(t for _, t in stack),
                        quoted=quote > 0,
                        cells=tuple(row),
                        header=header,
                    )
                )
        elif kind == "inline" and tok.map is not None:
            content = tok.content
            if row_map is not None and tok.map == row_map:
                row.append(content.strip())
                continue
            if pending_heading is not None:
                level = pending_heading
                pending_heading = None
                while stack and stack[-1][0] >= level:
                    stack.pop()
                title = " ".join(content.split())
                blocks.append(
                    _block(
                        "heading",
                        title,
                        tok.map[0] + 1,
                        tok.map[1],
                        tuple(t for _, t in stack),
                        level=level,
                        quoted=quote > 0,
                    )
                )
                stack.append((level, title))
                continue
            blocks.append(
                _block(
                    "paragraph",
                    content,
                    tok.map[0] + 1,
                    max(tok.map[0] + 1, tok.map[1]),
                    tuple(t for _, t in stack),
                    quoted=quote > 0,
                    list_item=items > 0,
                )
            )
        elif kind == "html_block" and tok.map is not None and tok.content.strip():
            blocks.append(
                _block(
                    "html",
                    tok.content.rstrip("\n"),
                    tok.map[0] + 1,
                    max(tok.map[0] + 1, tok.map[1]),
                    tuple(t for _, t in stack),
                    quoted=quote > 0,
                )
            )
        elif kind == "table_close":
            row_map = None
            header = ()
    return Document(tuple(lines), skip + 1, tuple(blocks))
