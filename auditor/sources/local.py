"""A local directory: the working tree a pre-commit hook or a release audit sees."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from auditor.classify import kind_from_name
from auditor.errors import SourceError, UsageError
from auditor.ignore import Ignores
from auditor.model import FileEntry, Inventory, Skipped
from auditor.safeio import open_regular, within
from auditor.sources import (
    SOURCES,
    Source,
    entries_sorted,
    examine,
    os_reason,
    remote_url,
)
from auditor.weights import ReadAt


@SOURCES.register("dir")
class LocalSource(Source):
    #: Leave out what git would not commit, virtualenvs and tool caches (auditor.ignore);
    #: ``--no-ignore`` sets it off.
    ignore: bool = True

    def __init__(self, target: str) -> None:
        self.target = target
        root = Path(target)
        if not os.path.lexists(root):
            raise UsageError(f"no such file or directory: {target}")
        if not root.is_dir():
            raise UsageError(f"not a directory: {target} (auditor scans a repository folder)")
        self.root = root.resolve()

    @classmethod
    def accepts(cls, target: str) -> bool:
        return "://" not in target

    def _location(self, path: str) -> Path:
        return self.root / path

    @property
    def name(self) -> str:
        return self.root.name or "repository"

    @property
    def download_location(self) -> str | None:
        return remote_url(self.root)

    def _file(self, path: str) -> Path:
        """The file that holds ``path``'s bytes (a subclass may look through links);
        raises OSError."""
        return self._location(path)

    def location(self, path: str) -> str | None:
        try:
            return str(self._file(path))
        except OSError:
            return None

    def stat_key(self, path: str) -> tuple[int, ...] | None:
        try:
            st = os.stat(self._file(path))
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    @contextmanager
    def reader(self, path: str) -> Iterator[ReadAt]:
        location = self._file(path)
        if not self._readable(location):
            raise OSError(errno.EACCES, "leads outside the repository, not read")
        # A file swapped for a FIFO since the walk fails instead of hanging.
        with open(open_regular(location), "rb") as fh:

            def read_at(offset: int, length: int) -> bytes:
                fh.seek(offset)
                return fh.read(length)

            yield read_at

    def _readable(self, location: Path) -> bool:
        """Whether ``location`` (symlinks resolved) lies in the repository: a folder of it
        replaced by a symlink since the walk (or named by ``auditor check``) is not read."""
        return within(self.root, location)

    def inventory(self) -> Inventory:
        files: list[FileEntry] = []
        skipped: list[Skipped] = []
        ignores = Ignores(self.root, self.ignore)
        self.progress.start("listing files")
        for path, size in self._files(skipped, ignores):
            entry, problem = self._entry(path, size)
            self.progress.advance()
            files.append(entry)
            if problem:
                skipped.append(problem)
        f, s = entries_sorted(files, skipped)
        return Inventory(
            root=str(self.root), revision=None, files=f, skipped=s, ignored=ignores.count
        )

    def _files(self, skipped: list[Skipped], ignores: Ignores) -> Iterator[tuple[str, int]]:
        """(path, size) of every file the inventory lists: the folder walked; a subclass
        may list them otherwise (``auditor check`` takes the git index)."""
        yield from self._walk(skipped, ignores)

    def _entry(self, path: str, size: int) -> tuple[FileEntry, Skipped | None]:
        """The entry of one file from a bounded look at it; a file that cannot be opened
        keeps its entry (kind from the name) and says why. A subclass may decline to
        look (``auditor check`` reads only what a change concerns)."""
        try:
            with self.reader(path) as read_at:
                return examine(path, size, read_at)
        except OSError as exc:
            return FileEntry(path, size, kind_from_name(path)), Skipped(
                path, f"cannot read: {os_reason(exc)}"
            )

    def _walk(
        self, skipped: list[Skipped], ignores: Ignores | None = None
    ) -> Iterator[tuple[str, int]]:
        """Yield (path, size) of regular files; record everything passed over.

        Directory symlinks are never followed, so a symlink loop cannot
        recurse; file symlinks are followed only when they stay in the root.
        What ``ignores`` leaves out is neither yielded nor recorded (only counted).
        """
        ignores = ignores or Ignores(self.root, enabled=False)
        try:
            os.scandir(self.root).close()
        except OSError as exc:
            raise SourceError(f"cannot list {self.target}: {os_reason(exc)}") from exc
        stack = [""]
        while stack:
            rel = stack.pop()
            folder = self._location(rel) if rel else self.root
            ignores.enter(rel, folder)
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name, reverse=True)
            except OSError as exc:
                skipped.append(Skipped(rel, f"cannot list directory: {os_reason(exc)}"))
                continue
            for de in entries:
                path = f"{rel}/{de.name}" if rel else de.name
                try:
                    is_dir = de.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if ignores.skips(path, Path(de.path), is_dir):
                    continue
                if not utf8_name(path, skipped):
                    continue
                try:
                    st = de.stat(follow_symlinks=False)
                    if stat.S_ISLNK(st.st_mode):
                        size = self._symlink(path, skipped)
                        if size is not None:
                            yield path, size
                    elif stat.S_ISDIR(st.st_mode):
                        stack.append(path)
                    elif stat.S_ISREG(st.st_mode):
                        yield path, st.st_size
                    else:
                        skipped.append(Skipped(path, "not a regular file (device, socket or fifo)"))
                except OSError as exc:
                    skipped.append(Skipped(path, f"cannot read: {os_reason(exc)}"))

    def _symlink(self, path: str, skipped: list[Skipped]) -> int | None:
        location = self._location(path)
        try:
            st = os.stat(location)  # follows; ELOOP on a loop
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                skipped.append(Skipped(path, f"broken symlink -> {os.readlink(location)}"))
            else:
                skipped.append(Skipped(path, os_reason(exc)))
            return None
        real = Path(os.path.realpath(location))
        if real != self.root and self.root not in real.parents:
            skipped.append(Skipped(path, "symlink points outside the repository, not followed"))
            return None
        return linked_file_size(path, st, skipped)


def utf8_name(path: str, skipped: list[Skipped]) -> bool:
    """Whether ``path`` is valid UTF-8 (reports need it); a name that is not is recorded
    in ``skipped``, shown with replacement characters."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        skipped.append(Skipped(shown, "file name is not valid UTF-8"))
        return False
    return True


def linked_file_size(path: str, st: os.stat_result, skipped: list[Skipped]) -> int | None:
    """The size of the regular file a symlink leads to; a link to anything else is
    recorded in ``skipped`` and gives None."""
    if stat.S_ISDIR(st.st_mode):
        skipped.append(
            Skipped(
                path,
                "symlink to a directory, not followed (its files are audited where they are)",
            )
        )
        return None
    if not stat.S_ISREG(st.st_mode):
        skipped.append(Skipped(path, "symlink to something that is not a regular file"))
        return None
    return st.st_size
