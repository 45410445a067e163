"""``--upstream``: what a derivative changed, and which notices it dropped, against its upstream.

The upstream is a local copy of the repo the audited one derives from. It is
audited like any target (checks off) for its inventory and concluded
licenses, then compared path by path:

* **changes** by sha256, reading no more than needed: a size difference is a
  change without reading a byte; a known sha256 (a Git LFS pointer's) is used
  as is; anything else is streamed through the source in 1 MiB chunks. A file
  is never loaded whole, unpickled or imported.
* **statements**: for each ``modified`` file, where the derivative says it
  changed it (a header in the file, a NOTICE/CHANGELOG/CHANGES/MODIFICATIONS/
  README line naming it, or, for weights/config/tokenizer files, a model card
  saying the model was fine-tuned, quantized, merged...). A line the upstream's
  copy of the same file already has is the upstream's statement, never the
  derivative's.
* **dropped notices**: upstream NOTICE files, license files and copyright lines
  that the derivative does not carry.

Files that cannot be read are never dropped silently:

* a file present on both sides with the same size, whose content could not be
  read on either side, is a ``FileChange`` with change ``unreadable``;
* a path present on one side only, under a path the other side could not list
  (an unreadable directory, a skipped symlink, a name that is not UTF-8), is
  ``unreadable`` too, not ``added`` or ``removed``;
* a file whose text could not be read for a statement or a copyright
  comparison keeps its change (``modified`` is known from its size or hash)
  and is logged as a warning; the audit's own ``skipped`` list already names
  it with the reason.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from auditor.copyright import is_copyright
from auditor.errors import UsageError
from auditor.model import (
    AuditResult,
    DroppedNotice,
    Evidence,
    FileChange,
    FileEntry,
    FileKind,
    Inventory,
    Method,
    Upstream,
)
from auditor.sources import SOURCES, Source, open_source, os_reason
from auditor.textio import NotTextError

log = logging.getLogger(__name__)

MODIFIED = "modified"
ADDED = "added"
REMOVED = "removed"
#: Same path and size on both sides, but the content of one could not be read.
UNREADABLE = "unreadable"

TEXT_LIMIT = 1 << 20  # whole-text comparisons only for files up to this size
STATEMENT_LIMIT = 64 << 10  # a modification header is at the top of a file
EXCERPT = 200
MISSING_SHOWN = 3  # missing NOTICE lines quoted in a DroppedNotice's text

IGNORED_DIRS = frozenset({".git"})
#: Kinds whose own text may say the file was modified.
IN_FILE_KINDS = frozenset(
    {FileKind.CODE, FileKind.CONFIG, FileKind.LICENSE, FileKind.NOTICE, FileKind.README}
)
#: Kinds a model card's "fine-tuned"/"quantized"... speaks for.
MODEL_KINDS = frozenset({FileKind.WEIGHTS, FileKind.CONFIG, FileKind.TOKENIZER})
#: Upstream kinds whose copyright lines must survive in the derivative's copy.
COPYRIGHT_KINDS = frozenset({FileKind.CODE, FileKind.LICENSE, FileKind.NOTICE, FileKind.README})
#: Derivative kinds searched for a renamed copy of an upstream license text.
LICENSE_COPY_KINDS = frozenset({FileKind.LICENSE, FileKind.NOTICE, FileKind.README, FileKind.OTHER})

# A line in a file saying that file was changed.
_IN_FILE = re.compile(
    r"\bmodified\s+(?:by|from)\b"
    r"|\bmodifications?\s+(?:\(c\)\s*|©\s*)?(?:copyright|by)\b"
    r"|\bchanges?\s+made\s+by\b"
    r"|\b(?:this|the)\s+(?:file|code|source)\s+(?:has\s+been|was|is)\s+(?:\w+\s+)?modified\b"
    r"|\bchanged\b.{0,80}\bfrom\s+the\s+original\b"
    r"|\bmodified\s+version\s+of\b"
    r"|(?:由|经|被|已|基于|在).{0,40}修改|修改(?:自|者|人|于|记录|说明|内容|版)",
    re.IGNORECASE,
)
# A word saying something was changed, next to a file's name in a NOTICE/CHANGELOG/README.
_CHANGE_WORD = re.compile(
    r"\b(?:modif(?:y|ied|ies|ication|ications)|chang(?:e|ed|es)|updat(?:e|ed|es)"
    r"|edited|patched|rewritten|replaced)\b|修改|更改|改动|更新",
    re.IGNORECASE,
)
# A model card saying the model itself was changed.
_MODEL_CHANGED = re.compile(
    r"\b(?:fine[-\s]?tuned|trained\s+further|further\s+trained|continued\s+pre-?training"
    r"|quanti[sz]ed|merged|distilled|pruned|converted|q?lora|adapters?|modified)\b"
    r"|微调|量化|合并|蒸馏|剪枝",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_CHANGES_NAME = re.compile(r"^(?:changelog|changes|modifications)(?:[-_.].*)?$", re.IGNORECASE)

_WS = re.compile(r"\s+")
_COMMENT_LEAD = re.compile(r"^\s*(?:#+|//+|/\*+|\*+/?|--|;+|%+|<!--|\"\"\"|''')\s*")
_COMMENT_TAIL = re.compile(r"\s*(?:\*/|-->)\s*$")


def file_sha256(source: Source, path: str) -> str:
    """sha256 of ``path``'s bytes, streamed (auditor.checksums); raises OSError."""
    from auditor.checksums import stream_digests

    with source.reader(path) as read_at:
        return stream_digests(read_at, ("sha256",))["sha256"]


def _ignored(path: str) -> bool:
    return any(part in IGNORED_DIRS for part in path.split("/"))


def _collapse(text: str) -> str:
    return _WS.sub(" ", text).strip()


def _norm_line(line: str) -> str:
    """A line without comment markers and with whitespace collapsed, for comparisons."""
    return _collapse(_COMMENT_TAIL.sub("", _COMMENT_LEAD.sub("", line)))


def _contains(text: str, line: str) -> bool:
    """Whether normalized ``text`` holds normalized ``line`` as whole words.

    "Copyright 2024 Example Org" is in "... Example Org. Modifications ...",
    not in "... Example Organization".
    """
    start = text.find(line)
    while start >= 0:
        end = start + len(line)
        before_ok = start == 0 or not (text[start - 1].isalnum() and line[0].isalnum())
        after_ok = end == len(text) or not (text[end].isalnum() and line[-1].isalnum())
        if before_ok and after_ok:
            return True
        start = text.find(line, start + 1)
    return False


def _excerpt(line: str) -> str:
    return line.strip()[:EXCERPT]


def _method(kind: FileKind) -> Method:
    return Method.README_STATEMENT if kind is FileKind.README else Method.LICENSE_TEXT


def _names_file(path: str) -> re.Pattern[str]:
    """A pattern for a line naming ``path`` (its repo path or its base name) as a file.

    A base name without a dot that is all lower case ("model") reads as a word,
    so it counts only quoted (`model`).
    """
    base = PurePosixPath(path).name
    plain = [n for n in dict.fromkeys((path, base)) if "/" in n or "." in n or not n.islower()]
    alternatives = [r"(?:\./)?" + re.escape(n) for n in sorted(plain, key=len, reverse=True)]
    body = r"(?<![\w./-])(?:" + "|".join(alternatives) + r")(?![\w/-]|\.\w)" if alternatives else ""
    quoted = r"(?<=[`'\"])" + re.escape(base) + r"(?=[`'\"])"
    return re.compile(f"{body}|{quoted}" if body else quoted)


@dataclass
class _Text:
    lines: list[str] | None  # None: not text, LFS or unreadable
    limit: int
    complete: bool


class _Side:
    """One tree of the comparison: its entries, and cached hashes and texts."""

    def __init__(self, name: str, source: Source, inventory: Inventory) -> None:
        self.name = name
        self.source = source
        self.files = {f.path: f for f in inventory.files if not _ignored(f.path)}
        #: Paths the inventory passed over without an entry (unlistable folders...).
        self.blind = {s.path for s in inventory.skipped if s.path not in self.files}
        self._sha: dict[str, str | None] = {}
        self._text: dict[str, _Text] = {}
        self._norm: dict[str, str | None] = {}

    def hidden(self, path: str) -> bool:
        """Whether ``path`` may exist here but could not be seen."""
        parts = path.split("/")
        return any("/".join(parts[:i]) in self.blind for i in range(1, len(parts) + 1))

    def sha256(self, path: str) -> str | None:
        """The content's sha256, known or streamed; None when it cannot be read."""
        entry = self.files[path]
        if entry.sha256:
            return entry.sha256
        if entry.lfs:
            return None  # a pointer without a digest: the content is not here
        if path not in self._sha:
            try:
                self._sha[path] = file_sha256(self.source, path)
            except OSError as exc:
                log.warning("--upstream: cannot hash %s %s: %s", self.name, path, os_reason(exc))
                self._sha[path] = None
        return self._sha[path]

    def lines(self, path: str, limit: int = TEXT_LIMIT, whole: bool = True) -> list[str] | None:
        """Text lines of ``path`` (first ``limit`` bytes); with ``whole``, only if it fits.

        None when the file is not text, is too large for a whole-text
        comparison, is a Git LFS pointer or cannot be read (logged).
        """
        entry = self.files.get(path)
        if entry is None or entry.lfs or (whole and entry.size > limit):
            return None
        cached = self._text.get(path)
        if cached is not None and (cached.complete or cached.limit >= limit):
            return cached.lines
        lines: list[str] | None
        try:
            lines = self.source.read_text(path, limit).text.split("\n")
        except NotTextError:
            lines = None
        except OSError as exc:
            log.warning("--upstream: cannot read %s %s: %s", self.name, path, os_reason(exc))
            lines = None
        self._text[path] = _Text(lines, limit, entry.size <= limit)
        return lines

    def normalized(self, path: str) -> str | None:
        """The whole text, comment markers dropped and whitespace collapsed, for containment."""
        if path not in self._norm:
            lines = self.lines(path)
            self._norm[path] = (
                None if lines is None else " ".join(n for n in map(_norm_line, lines) if n)
            )
        return self._norm[path]

    def line_set(self, path: str) -> set[str]:
        """Normalized lines of ``path``'s first ``TEXT_LIMIT`` bytes; empty when absent."""
        lines = self.lines(path, whole=False) if path in self.files else None
        return {n for n in map(_norm_line, lines or ()) if n}


class _Comparison:
    def __init__(self, here: _Side, there: _Side) -> None:
        self.here = here  # the derivative
        self.there = there  # the upstream
        self._own: dict[tuple[str, int], list[tuple[int, str, bool]]] = {}

    # -- changes ---------------------------------------------------------------

    def changes(self) -> list[FileChange]:
        here, there = self.here, self.there
        out: list[FileChange] = []
        for path in sorted(here.files.keys() | there.files.keys()):
            mine, theirs = here.files.get(path), there.files.get(path)
            if mine is not None and theirs is not None:
                change = self._differs(mine, theirs)
                if change is not None:
                    out.append(FileChange(path, change, mine.kind))
            elif mine is not None:
                change = UNREADABLE if there.hidden(path) else ADDED
                out.append(FileChange(path, change, mine.kind))
            elif theirs is not None:
                change = UNREADABLE if here.hidden(path) else REMOVED
                out.append(FileChange(path, change, theirs.kind))
        return out

    def _differs(self, mine: FileEntry, theirs: FileEntry) -> str | None:
        if mine.size != theirs.size:
            return MODIFIED
        if mine.sha256 and theirs.sha256:
            return None if mine.sha256 == theirs.sha256 else MODIFIED
        # Hash the side whose digest is not known first: if it cannot be read, the
        # other need not be read either.
        first, second = (self.here, self.there) if not mine.sha256 else (self.there, self.here)
        a = first.sha256(mine.path)
        if a is None:
            return UNREADABLE
        b = second.sha256(mine.path)
        if b is None:
            return UNREADABLE
        return None if a == b else MODIFIED

    # -- statements ------------------------------------------------------------

    def statement(self, entry: FileEntry) -> Evidence | None:
        if entry.kind in IN_FILE_KINDS:
            found = self._in_file(entry)
            if found is not None:
                return found
        found = self._named(entry.path)
        if found is not None:
            return found
        if entry.kind in MODEL_KINDS:
            return self._card(entry.path)
        return None

    def _own_lines(self, path: str, limit: int = TEXT_LIMIT) -> list[tuple[int, str, bool]]:
        """(line number, line, whether the upstream's copy of the file lacks it)."""
        key = (path, limit)
        if key not in self._own:
            lines = self.here.lines(path, limit, whole=False)
            upstream = self.there.line_set(path) if lines else set()
            self._own[key] = [
                (n, line, _norm_line(line) not in upstream) for n, line in enumerate(lines or (), 1)
            ]
        return self._own[key]

    def _evidence(self, path: str, lineno: int, line: str) -> Evidence:
        return Evidence(path, lineno, lineno, _method(self.here.files[path].kind), _excerpt(line))

    def _in_file(self, entry: FileEntry) -> Evidence | None:
        for lineno, line, own in self._own_lines(entry.path, STATEMENT_LIMIT):
            if own and _IN_FILE.search(line):
                return self._evidence(entry.path, lineno, line)
        return None

    def _statement_files(self) -> list[str]:
        def rank(path: str) -> tuple[int, str]:
            entry = self.here.files[path]
            if _CHANGES_NAME.match(PurePosixPath(path).name):
                return 0, path
            return (1 if entry.kind is FileKind.NOTICE else 2), path

        return sorted(
            (
                p
                for p, e in self.here.files.items()
                if e.kind in (FileKind.NOTICE, FileKind.README)
                or _CHANGES_NAME.match(PurePosixPath(p).name)
            ),
            key=rank,
        )

    def _named(self, path: str) -> Evidence | None:
        """A NOTICE/CHANGELOG/CHANGES/MODIFICATIONS/README line naming ``path`` as changed.

        In a changes file naming the file is enough; in a NOTICE or README the
        line, or the heading it stands under, needs a change word.
        """
        names = _names_file(path)
        for doc in self._statement_files():
            if doc == path:
                continue
            changes_file = bool(_CHANGES_NAME.match(PurePosixPath(doc).name))
            heading_says = False
            for lineno, line, own in self._own_lines(doc):
                says = bool(_CHANGE_WORD.search(line))
                if own and names.search(line) and (changes_file or heading_says or says):
                    return self._evidence(doc, lineno, line)
                if _HEADING.match(line) or (says and line.rstrip().endswith(":")):
                    heading_says = says
        return None

    def _card(self, path: str) -> Evidence | None:
        """The nearest README/model card above ``path`` saying the model was changed."""
        folder = PurePosixPath(path).parent
        cards = [
            p
            for p, e in self.here.files.items()
            if e.kind is FileKind.README
            and (PurePosixPath(p).parent == folder or PurePosixPath(p).parent in folder.parents)
        ]
        cards.sort(key=lambda p: (-len(PurePosixPath(p).parts), p))
        for card in cards:
            for lineno, line, own in self._own_lines(card):
                if own and _MODEL_CHANGED.search(line):
                    return self._evidence(card, lineno, line)
        return None

    # -- dropped notices -------------------------------------------------------

    def dropped(self, changes: dict[str, str]) -> list[DroppedNotice]:
        out: list[DroppedNotice] = []
        for path, entry in sorted(self.there.files.items()):
            if entry.kind is FileKind.NOTICE:
                out.extend(self._notice_file(entry, changes.get(path)))
            elif (
                entry.kind is FileKind.LICENSE
                and path not in self.here.files
                and not self._copied(entry, self._license_candidates())
            ):
                out.append(self._whole_file("license-file", entry))
            if entry.kind in COPYRIGHT_KINDS and changes.get(path) == MODIFIED:
                out.extend(self._copyright(entry))
        return out

    def _whole_file(self, what: str, entry: FileEntry, note: str = "") -> DroppedNotice:
        lines = self.there.lines(entry.path, whole=False) or []
        first = next((ln for ln in lines if ln.strip()), "")
        count = len(lines) - 1 if lines and lines[-1] == "" else len(lines)
        evidence = Evidence(entry.path, 1, max(1, count), _method(entry.kind), _excerpt(first))
        return DroppedNotice(what, entry.path, entry.path + note, evidence)

    def _license_candidates(self) -> list[str]:
        return [p for p, e in self.here.files.items() if e.kind in LICENSE_COPY_KINDS]

    def _copied(self, entry: FileEntry, text_candidates: list[str]) -> bool:
        """Whether the derivative carries ``entry``'s content under some path.

        Same bytes anywhere (only same-size files are hashed), or the text,
        whitespace collapsed, inside one of ``text_candidates``.
        """
        digest: str | None = None
        for path, mine in sorted(self.here.files.items()):
            if mine.size != entry.size:
                continue
            digest = digest or self.there.sha256(entry.path)
            if digest is None:
                break
            if self.here.sha256(path) == digest:
                return True
        wanted = self.there.normalized(entry.path)
        if not wanted:
            return False
        for path in sorted(text_candidates):
            mine = self.here.files[path]
            # Collapsing whitespace never lengthens a text, and no encoding takes
            # fewer bytes than characters: a shorter file cannot contain it.
            if mine.size < len(wanted) or mine.size > TEXT_LIMIT:
                continue
            text = self.here.normalized(path)
            if text and wanted in text:
                return True
        return False

    def _notice_file(self, entry: FileEntry, change: str | None) -> list[DroppedNotice]:
        path = entry.path
        if path not in self.here.files:
            notices = [p for p, e in self.here.files.items() if e.kind is FileKind.NOTICE]
            if self._copied(entry, notices + self._license_candidates()):
                return []
            if any(self._missing_lines(entry, p) == [] for p in notices):
                return []  # every line is in one of the derivative's notices
            readable = self.there.lines(path) is not None
            return [self._whole_file("notice-file", entry, "" if readable else " (unreadable)")]
        if change is None or change == UNREADABLE:
            return []  # the same bytes, or nothing to compare (a FileChange says so)
        missing = self._missing_lines(entry, path)
        if missing is None:
            log.warning("--upstream: lines of %s not compared (not text or unreadable)", path)
            return []
        if not missing:
            return []
        shown = "; ".join(repr(_excerpt(line)) for _, line in missing[:MISSING_SHOWN])
        more = f" and {len(missing) - MISSING_SHOWN} more" if len(missing) > MISSING_SHOWN else ""
        text = f"{path}: {len(missing)} line(s) missing from the derivative's copy: {shown}{more}"
        lineno, line = missing[0]
        evidence = Evidence(path, lineno, lineno, _method(entry.kind), _excerpt(line))
        return [DroppedNotice("notice-file", path, text, evidence)]

    def _missing_lines(self, entry: FileEntry, mine: str) -> list[tuple[int, str]] | None:
        """Non-blank upstream lines of ``entry`` not in the derivative's ``mine``; None: unknown."""
        theirs = self.there.lines(entry.path)
        text = self.here.normalized(mine)
        if theirs is None or text is None:
            return None
        return [
            (n, line)
            for n, line in enumerate(theirs, 1)
            if (norm := _norm_line(line)) and not _contains(text, norm)
        ]

    def _copyright(self, entry: FileEntry) -> list[DroppedNotice]:
        theirs = self.there.lines(entry.path)
        text = self.here.normalized(entry.path)
        if theirs is None or text is None:
            if self.here.files[entry.path].size <= TEXT_LIMIT and entry.size <= TEXT_LIMIT:
                log.warning(
                    "--upstream: copyright lines of %s not compared (not text or unreadable)",
                    entry.path,
                )
            return []
        out: list[DroppedNotice] = []
        for lineno, line in enumerate(theirs, 1):
            if not is_copyright(line):
                continue
            norm = _norm_line(line)
            if norm and not _contains(text, norm):
                ev = Evidence(entry.path, lineno, lineno, _method(entry.kind), _excerpt(line))
                out.append(DroppedNotice("copyright", entry.path, _excerpt(line), ev))
        return out


def _dropped_key(d: DroppedNotice) -> tuple[str, int, str, str]:
    return (d.path, d.evidence.start_line, d.what, d.text)


def open_upstream(upstream_target: str) -> Source:
    """The source of ``--upstream``: any target a source reads (a folder, a git revision
    ``PATH@REV``, a Hub repo or a cached one). Raises UsageError when it names a folder
    that does not exist, or a source cannot open it."""
    shown = upstream_target.replace("\r", "\\r").replace("\n", "\\n")
    local = not any(cls.accepts(upstream_target) for name, cls in SOURCES if name != "dir")
    if local and not os.path.isdir(upstream_target):
        raise UsageError(f"--upstream {shown}: no such directory")
    try:
        return open_source(upstream_target)
    except UsageError as exc:
        raise UsageError(f"--upstream {shown}: {exc}") from exc


def compare(
    source: Source,
    inventory: Inventory,
    upstream_target: str,
    upstream_source: Source,
    result: AuditResult,
) -> Upstream:
    """Compare the audited tree (``source``/``inventory``) with its upstream, audited
    (checks off) by the pipeline into ``result``."""
    comparison = _Comparison(
        _Side("derivative", source, inventory),
        _Side("upstream", upstream_source, result.inventory),
    )
    changes = comparison.changes()
    with_statements = tuple(
        FileChange(c.path, c.change, c.kind, comparison.statement(comparison.here.files[c.path]))
        if c.change == MODIFIED
        else c
        for c in changes
    )
    dropped = comparison.dropped({c.path: c.change for c in changes})
    licenses = tuple(
        sorted((c.name, c.concluded) for c in result.components if c.concluded is not None)
    )
    return Upstream(
        target=upstream_target,
        revision=result.inventory.revision,
        changes=with_statements,
        dropped=tuple(sorted(dropped, key=_dropped_key)),
        licenses=licenses,
    )
