"""Sources: where the files of an audit come from.

A source lists its files (``inventory``) and reads them (``read_bytes``,
``reader``); everything else in the pipeline is the same for a local folder,
a git revision or a Hub repo. Adding a source is one module with a class
registered in ``SOURCES`` and one import line at the bottom of this file.
"""

from __future__ import annotations

import errno
import os
import re
import time
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from pathlib import Path

from auditor.classify import (
    LFS_MAX_POINTER,
    expected_format,
    kind_from_name,
    parse_lfs_pointer,
    sniff_kind,
)
from auditor.errors import UsageError
from auditor.model import FileEntry, FileKind, Inventory, Skipped
from auditor.pdftext import AUDIT_SECONDS
from auditor.plugins import Plugins
from auditor.progress import SILENT, Progress
from auditor.safeio import is_regular, read_regular
from auditor.textio import Decoded, NotTextError, decode, extract_pdf
from auditor.weights import HeaderError, ReadAt, read_header

MAX_PDF = 32 << 20


class Source(ABC):
    """A tree of files to audit."""

    #: What ``auditor scan`` shows as the target.
    target: str
    #: Where ``inventory`` reports each file it lists (the pipeline sets it).
    progress: Progress = SILENT
    #: Seconds left for reading PDFs in this audit (auditor.pdftext.AUDIT_SECONDS).
    _pdf_seconds: float = AUDIT_SECONDS

    @classmethod
    @abstractmethod
    def accepts(cls, target: str) -> bool:
        """Whether this source understands ``target`` (a path, ``hf://...``)."""

    @abstractmethod
    def inventory(self) -> Inventory: ...

    @abstractmethod
    def reader(self, path: str) -> AbstractContextManager[ReadAt]:
        """Random access to one file's bytes, for bounded header reads."""

    @property
    def name(self) -> str:
        """The repo's own name (``tiny-chat`` for ``hf://acme/tiny-chat@v1``): names its
        BOM documents and tells the repo's own name from a base model's."""
        rest = self.target.split("://", 1)[-1].split("@", 1)[0].rstrip("/")
        return rest.rsplit("/", 1)[-1] or "repository"

    @property
    def download_location(self) -> str | None:
        """Where others get this repo (a BOM's download location); None when unknown."""
        return None

    def location(self, path: str) -> str | None:
        """The file's absolute path on this machine, when it has one (fast hashing)."""
        return None

    def stat_key(self, path: str) -> tuple[int, ...] | None:
        """What identifies this version of the file without reading it, for the
        checksum cache: (device, inode, size, mtime ns, ctime ns); None when the
        source has no such thing (a Hub repo has its own hashes)."""
        return None

    def read_bytes(self, path: str, limit: int) -> tuple[bytes, bool]:
        """At most ``limit`` bytes of ``path`` and whether the file is longer."""
        with self.reader(path) as read_at:
            data = read_at(0, limit + 1)
        return data[:limit], len(data) > limit

    def read_text(self, path: str, limit: int) -> Decoded:
        """Text of ``path`` (first ``limit`` bytes); raises NotTextError or OSError.

        A PDF is read whole (up to ``MAX_PDF``) and its text extracted in a child
        process, within this source's budget for PDFs (``auditor.pdftext``).
        """
        data, truncated = self.read_bytes(path, limit)
        if data.startswith(b"%PDF-"):
            if truncated:
                data, truncated = self.read_bytes(path, MAX_PDF)
                if truncated:
                    raise NotTextError(f"PDF larger than {MAX_PDF >> 20} MiB, not read")
            start = time.monotonic()
            try:
                return extract_pdf(data, self._pdf_seconds)
            finally:
                self._pdf_seconds -= time.monotonic() - start
        return decode(data, truncated=truncated)


SOURCES: Plugins[Source] = Plugins("source")


def open_source(target: str) -> Source:
    if not target.strip():  # "" would read as the current folder: say so, do not guess
        raise UsageError("empty target: name a folder (. for the current one) or hf://ORG/NAME")
    for _name, cls in SOURCES:
        if cls.accepts(target):
            return cls(target)  # type: ignore[call-arg]
    raise UsageError(f"no source understands target {target!r}")


_CREDENTIALS = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", re.IGNORECASE)


def remote_url(repo: Path, revision: str | None = None) -> str | None:
    """``git+https://host/path[@REVISION]`` from the repo's ``origin`` remote, read from
    ``.git/config`` without running git; credentials in the URL are dropped. None for a
    repo without an https origin (ssh remotes name no public download location)."""
    from auditor.gitrepo import common_dir, git_dir

    if os.path.lexists(repo / ".git"):
        gitdir = git_dir(repo)  # None: a .git that is not this repository's own
    else:
        gitdir = repo if is_regular(repo / "HEAD") else None  # a bare repository
    if gitdir is None:
        return None
    try:
        text = read_regular(common_dir(gitdir) / "config", 1 << 20).decode("utf-8", "replace")
    except OSError:
        return None
    section = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.replace(" ", "").lower()
            continue
        key, sep, value = stripped.partition("=")
        if section == '[remote"origin"]' and sep and key.strip().lower() == "url":
            url = _CREDENTIALS.sub(r"\1", value.strip())
            if not url.lower().startswith(("https://", "http://")):
                return None
            return f"git+{url}" + (f"@{revision}" if revision else "")
    return None


def os_reason(exc: OSError) -> str:
    """A short stable reason for a report ("permission denied"), without the path."""
    if exc.errno == errno.EACCES or isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno == errno.ENOENT:
        return "vanished while reading"
    return (exc.strerror or str(exc)).lower()


def examine(path: str, size: int, read_at: ReadAt) -> tuple[FileEntry, Skipped | None]:
    """Build the entry for one file from its name and a bounded look at its bytes.

    Git LFS pointers become entries for the file they stand for. Weight
    headers are parsed (never loaded); a broken one leaves the file in the
    inventory and adds the reason it could not be read.
    """
    kind = kind_from_name(path)
    if size <= LFS_MAX_POINTER:
        pointer = parse_lfs_pointer(read_at(0, LFS_MAX_POINTER))
        if pointer is not None:
            return FileEntry(path, pointer.size, kind, pointer.sha256, lfs=True), None
    if kind is FileKind.WEIGHTS and size == 0:
        return FileEntry(path, 0, kind), Skipped(path, "empty weights file (0 bytes)")
    kind, fmt = sniff_kind(path, kind, read_at, size)
    if kind is not FileKind.WEIGHTS:
        return FileEntry(path, size, kind, format=fmt), None
    wanted = expected_format(path)
    if wanted and fmt and fmt != wanted:
        return (
            FileEntry(path, size, kind, format=fmt),
            Skipped(path, f"named as {wanted} but the content is {fmt}"),
        )
    try:
        # The extension picks the parser even when sniffing failed: a truncated
        # safetensors file must be reported as such, not as "unknown format".
        header = read_header(wanted or fmt or "", read_at, size)
    except HeaderError as exc:
        return FileEntry(path, size, kind, format=fmt), Skipped(path, str(exc))
    meta = header.metadata if header else ()
    return FileEntry(path, size, kind, format=header.format if header else fmt, header=meta), None


def entries_sorted(
    files: list[FileEntry], skipped: list[Skipped]
) -> tuple[tuple[FileEntry, ...], tuple[Skipped, ...]]:
    return (
        tuple(sorted(files, key=lambda f: f.path)),
        tuple(sorted(set(skipped), key=lambda s: (s.path, s.reason))),
    )


# Registration order is the order targets are tried in: most specific first. Only
# git_rev (PATH@REV) must come before local, which takes every target without "://";
# the URL schemes (hf-cache://, hf://) never overlap. Alphabetical (ruff's order) does it.
from auditor.sources import (  # noqa: E402,F401
    git_rev,
    hf_cache,
    hub,
    local,
)
from auditor.sources.hf_cache import expand as expand  # noqa: E402
