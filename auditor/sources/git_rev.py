"""A git revision: the tree of one commit, read from the object store, never checked out.

Target grammar: ``PATH@REV`` (``./repo@v1.2``, ``repo@HEAD~1``, ``repo@3f2a9c1``), where
PATH is a git work tree (it has ``.git``) or a bare repository, and REV anything
git's revision syntax names a commit by (branch, tag, sha, ``HEAD~2``,
``main@{1}``...). ``auditor scan PATH --rev REV`` builds the same target. A
target that is itself an existing path is always that path (the local source);
otherwise it is split at an ``@`` whose left part is an existing folder, trying
the last ``@`` first, so a folder whose name holds ``@`` works and REV may hold
``@`` too (``repo@main@{1}``). See docs/sources.md.

Reading: the tree is walked through gitpython; a blob's size comes from the
object store (``git cat-file --batch-check``), small blobs (``MEMORY_LIMIT``) are
read whole, larger ones streamed from a ``git cat-file blob`` process of their
own, so a multi-GB blob is never held in memory and header reads stop early.
Git LFS pointers are recognised like everywhere else (``examine``); when the
object is in ``.git/lfs/objects``, its content is audited instead, with the
pointer's sha256. Symlinks are followed inside the tree like the local source
follows them inside the folder; submodules are listed as skipped.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.classify import kind_from_name
from auditor.errors import SourceError, UsageError
from auditor.gitrepo import SAFE_ENV, SAFE_OPTIONS, TIMEOUT_S, common_dir, git_dir, problem
from auditor.model import FileEntry, Inventory, Skipped
from auditor.safeio import open_regular, within
from auditor.sources import SOURCES, Source, entries_sorted, examine, os_reason, remote_url
from auditor.weights import ReadAt

if TYPE_CHECKING:
    import git

#: Blobs up to this size are read whole into memory; larger ones are streamed.
MEMORY_LIMIT = 4 << 20
#: The first bytes of a streamed blob kept in memory, so that header reads going
#: back to the start do not restart the stream.
HEAD_KEEP = 1 << 20
#: Read size when skipping forward in a streamed blob.
CHUNK = 1 << 20
#: The longest symlink target read (Linux's PATH_MAX); git can store any blob as one.
MAX_LINK = 4096
#: Symlinks followed in a row before giving up (the kernel's limit is 40 too).
MAX_HOPS = 40
SKIP_NAMES = frozenset({".git"})

OUTSIDE = "symlink points outside the repository, not followed"
TO_DIRECTORY = "symlink to a directory, not followed (its files are audited where they are)"
NOT_REGULAR = "symlink to something that is not a regular file"


def _is_repo(path: str) -> bool:
    """A git work tree (``.git`` folder or file) or a bare repository."""
    if os.path.lexists(os.path.join(path, ".git")):
        return True
    return (
        os.path.isfile(os.path.join(path, "HEAD"))
        and os.path.isdir(os.path.join(path, "objects"))
        and os.path.isdir(os.path.join(path, "refs"))
    )


def split_target(target: str) -> tuple[str, str] | None:
    """(PATH, REV) of a ``PATH@REV`` target; None when ``target`` is not one.

    Not one: a URL, no ``@``, or an existing path. Of the ``@`` that leave an
    existing folder on the left and a revision on the right, the last one whose
    folder is a git repository wins, else the last one (the source then says the
    folder is no repository).
    """
    if "://" in target or "@" not in target or os.path.lexists(target):
        return None
    candidates: list[tuple[str, str]] = []
    end = len(target)
    while (at := target.rfind("@", 0, end)) > 0:
        path, rev = target[:at], target[at + 1 :]
        if rev and os.path.isdir(path):
            candidates.append((path, rev))
        end = at
    repos = [c for c in candidates if _is_repo(c[0])]
    found = repos or candidates
    return found[0] if found else None


def rev_target(path: str, rev: str) -> str:
    """The ``PATH@REV`` target of ``auditor scan PATH --rev REV``; UsageError when it is none."""
    if "://" in path:
        raise UsageError(f"--rev {rev}: {path} is not a local git repository")
    if not os.path.isdir(path):
        raise UsageError(f"no such directory: {path} (--rev)")
    if not _is_repo(path):
        raise UsageError(f"not a git repository: {path} (--rev)")
    target = f"{path}@{rev}"
    if split_target(target) != (path, rev):
        raise UsageError(f"--rev {rev}: {target} is an existing path itself, or names another repo")
    return target


def _object_errors() -> tuple[type[Exception], ...]:
    """What gitpython raises for a missing or corrupt object (imported when first needed)."""
    import git
    from gitdb.exc import ODBError  # type: ignore[import-untyped]

    return (ODBError, ValueError, git.GitCommandError)


def _name(item: Any) -> str:
    """A tree entry's name (a submodule's ``name`` is its .gitmodules name, not this)."""
    return str(item.path).rsplit("/", 1)[-1]


@dataclass(frozen=True)
class _File:
    """What a path of the tree reads from: a blob, or the Git LFS object it points to."""

    hexsha: str
    size: int
    lfs_object: Path | None = None


def _git_message(exc: BaseException) -> str:
    """The first line git printed, for a one-line error."""
    text = str(getattr(exc, "stderr", "") or "").strip()
    # gitpython shows it as "stderr: '<git's output>'"
    text = text.removeprefix("stderr:").strip().removeprefix("'").removesuffix("'")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        shown = str(exc).strip()
        return shown.splitlines()[0] if shown else type(exc).__name__
    first = lines[0]
    for prefix in ("fatal:", "error:"):
        first = first.removeprefix(prefix).strip()
    if any("safe.directory" in line for line in lines[1:]):
        first += " (see git config safe.directory)"
    return first


@SOURCES.register("git")
class GitRevisionSource(Source):
    def __init__(self, target: str) -> None:
        self.target = target
        split = split_target(target)
        if split is None:
            raise UsageError(f"not a git revision: {target} (expected PATH@REV)")
        path, rev = split
        if not _is_repo(path):
            raise UsageError(
                f"no such file or directory: {target}, and {path} is not a git repository "
                "(PATH@REV names a revision of the git repository at PATH)"
            )
        gitdir = git_dir(Path(path)) if os.path.lexists(os.path.join(path, ".git")) else Path(path)
        if gitdir is None:
            raise UsageError(
                f"not a git repository: {path} (its .git is a symlink, or names a git "
                "folder elsewhere that does not name it back)"
            )
        why = problem(gitdir)
        if why is not None:
            raise SourceError(f"git must not read {path}: {why}")
        import git

        try:
            repo = git.Repo(path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise UsageError(f"not a git repository: {path}") from exc
        # Never fetch: a partial clone's missing blobs stay missing (git >= 2.44).
        repo.git.update_environment(**SAFE_ENV)
        # Nothing the repository's config names runs (auditor.gitrepo).
        repo.git.set_persistent_git_options(c=list(SAFE_OPTIONS[1::2]))
        try:
            # Git runs here: installed, and willing to read this repo (safe.directory).
            repo.git.rev_parse("--git-dir", kill_after_timeout=TIMEOUT_S)
        except git.GitCommandNotFound as exc:
            raise SourceError(f"cannot read {path}: git is not installed") from exc
        except git.GitCommandError as exc:
            raise SourceError(f"git cannot read {path}: {_git_message(exc)}") from exc
        self._repo: git.Repo = repo
        self._lock = threading.RLock()  # one `git cat-file --batch` per repo: not thread-safe
        try:
            with self._lock:
                commit = repo.commit(rev)
                self._tree = commit.tree  # reads the commit: a missing sha fails here
        except git.GitCommandError as exc:
            raise SourceError(f"git cannot read {path}: {_git_message(exc)}") from exc
        except (*_object_errors(), IndexError, KeyError) as exc:  # type: ignore[misc]
            repo.git.clear_cache()
            raise UsageError(f"no such revision {rev} in {path}") from exc
        self.path = path
        self.rev = rev
        self.revision: str = commit.hexsha
        self.root = Path(path).resolve()
        self._common_dir = common_dir(gitdir)
        self._lfs_dir = self._common_dir / "lfs" / "objects"
        self._files: dict[str, _File] = {}

    @property
    def name(self) -> str:
        return self.root.name or "repository"

    @property
    def download_location(self) -> str | None:
        return remote_url(self.root, self.revision)

    @classmethod
    def accepts(cls, target: str) -> bool:
        return split_target(target) is not None

    # -- the object store ------------------------------------------------------

    def _children(self, tree: Any, rel: str) -> list[Any]:
        try:
            with self._lock:
                return list(tree)
        except _object_errors() as exc:
            self._repo.git.clear_cache()  # a dead `cat-file --batch` is restarted on next use
            raise SourceError(
                f"cannot read folder {rel or '/'} of {self.rev} in {self.path}: "
                f"corrupt or missing git object {tree.hexsha}"
            ) from exc

    def _read_small(self, hexsha: str) -> bytes:
        try:
            with self._lock:
                return bytes(self._repo.odb.stream(bytes.fromhex(hexsha)).read())
        except _object_errors() as exc:
            self._repo.git.clear_cache()
            raise OSError(errno.EIO, f"corrupt or missing git object {hexsha}") from exc

    def _size(self, hexsha: str) -> int:
        try:
            with self._lock:
                return int(self._repo.odb.info(bytes.fromhex(hexsha)).size)
        except _object_errors() as exc:
            self._repo.git.clear_cache()
            raise OSError(errno.EIO, f"corrupt or missing git object {hexsha}") from exc

    # -- the tree --------------------------------------------------------------

    def _walk(self, skipped: list[Skipped]) -> Iterator[tuple[str, str]]:
        """Yield (path, blob hexsha) of every file, symlinks inside the tree followed."""
        stack: list[tuple[str, Any]] = [("", self._tree)]
        while stack:
            rel, tree = stack.pop()
            for item in sorted(self._children(tree, rel), key=_name, reverse=True):
                path = f"{rel}/{_name(item)}" if rel else _name(item)
                if _name(item) in SKIP_NAMES:
                    continue
                try:
                    path.encode("utf-8")
                except UnicodeEncodeError:
                    shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                    skipped.append(Skipped(shown, "file name is not valid UTF-8"))
                    continue
                if item.type == "tree":
                    stack.append((path, item))
                elif item.type != "blob":
                    skipped.append(Skipped(path, "git submodule, not audited"))
                elif stat.S_ISLNK(item.mode):
                    found = self._follow(path)
                    if isinstance(found, str):
                        skipped.append(Skipped(path, found))
                    else:
                        yield path, found.hexsha
                else:
                    yield path, item.hexsha

    def _follow(self, path: str) -> Any:
        """The blob ``path`` leads to, symlinks followed inside the tree; a reason (str) if none."""
        todo = list(reversed(path.split("/")))
        trees = [self._tree]  # the folders walked down, root first
        hops = 0
        first_link: str | None = None
        while todo:
            name = todo.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if len(trees) == 1:
                    return OUTSIDE
                trees.pop()
                continue
            item = next((i for i in self._children(trees[-1], "") if _name(i) == name), None)
            if item is None:
                return f"broken symlink -> {first_link}" if first_link is not None else "not found"
            if item.type == "blob" and stat.S_ISLNK(item.mode):
                hops += 1
                if hops > MAX_HOPS:
                    return "symlink loop"
                try:
                    if self._size(item.hexsha) > MAX_LINK:  # no system holds such a link
                        return f"symlink target over {MAX_LINK} bytes: not followed"
                    link = self._read_small(item.hexsha).decode("utf-8", "surrogateescape")
                except OSError as exc:
                    return f"cannot read: {os_reason(exc)}"
                first_link = link if first_link is None else first_link
                if link.startswith("/"):
                    return OUTSIDE
                todo.extend(reversed(link.split("/")))
                continue
            if item.type == "tree":
                trees.append(item)
                continue
            if any(n not in ("", ".") for n in todo):
                return "not a directory"
            return item if item.type == "blob" else NOT_REGULAR
        return TO_DIRECTORY

    # -- Source ----------------------------------------------------------------

    def inventory(self) -> Inventory:
        files: list[FileEntry] = []
        skipped: list[Skipped] = []
        self.progress.start("listing files")
        for path, hexsha in self._walk(skipped):
            self.progress.advance()
            size = 0
            try:
                size = self._size(hexsha)
                self._files[path] = _File(hexsha, size)
                with self._blob_reader(hexsha, size) as read_at:
                    entry, problem = examine(path, size, read_at)
            except OSError as exc:
                entry = FileEntry(path, size, kind_from_name(path))
                problem = Skipped(path, f"cannot read: {os_reason(exc)}")
            if entry.lfs and entry.sha256:
                entry, problem = self._lfs(path, entry, problem)
            files.append(entry)
            if problem:
                skipped.append(problem)
        f, s = entries_sorted(files, skipped)
        return Inventory(root=str(self.root), revision=self.revision, files=f, skipped=s)

    def _lfs(
        self, path: str, pointer: FileEntry, problem: Skipped | None
    ) -> tuple[FileEntry, Skipped | None]:
        """A pointer whose object was fetched into .git/lfs/objects: the object's entry."""
        oid = pointer.sha256 or ""
        obj = self._lfs_dir / oid[0:2] / oid[2:4] / oid
        try:
            st = os.lstat(obj)
        except OSError:
            return pointer, problem  # not fetched: the pointer stands for it
        if not stat.S_ISREG(st.st_mode) or not within(self._common_dir, obj):
            note = "its Git LFS object is not a regular file in the repository's .git"
            return pointer, Skipped(path, f"{note}: not read (the pointer stands for it)")
        if st.st_size != pointer.size:
            note = f"Git LFS object has {st.st_size} bytes, the pointer says {pointer.size}"
            return pointer, Skipped(path, f"{note}: not used")
        self._files[path] = replace(self._files[path], size=st.st_size, lfs_object=obj)
        try:
            with self._file_reader(obj) as read_at:
                entry, problem = examine(path, st.st_size, read_at)
        except OSError as exc:
            return pointer, Skipped(path, f"cannot read its Git LFS object: {os_reason(exc)}")
        return replace(entry, sha256=oid), problem

    def _file(self, path: str) -> _File:
        known = self._files.get(path)
        if known is not None:
            return known
        found = self._follow(path)
        if isinstance(found, str):
            raise FileNotFoundError(errno.ENOENT, found)
        return _File(found.hexsha, self._size(found.hexsha))

    def location(self, path: str) -> str | None:
        """A fetched Git LFS object's file; blobs have none (they are hashed through ``reader``)."""
        known = self._files.get(path)
        return str(known.lfs_object) if known and known.lfs_object else None

    def stat_key(self, path: str) -> tuple[int, ...] | None:
        location = self.location(path)
        if location is None:
            return None
        try:
            st = os.stat(location)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    @contextmanager
    def reader(self, path: str) -> Iterator[ReadAt]:
        file = self._file(path)
        if file.lfs_object is not None:
            with self._file_reader(file.lfs_object) as read_at:
                yield read_at
        else:
            with self._blob_reader(file.hexsha, file.size) as read_at:
                yield read_at

    @contextmanager
    def _file_reader(self, location: Path) -> Iterator[ReadAt]:
        with open(open_regular(location, follow=False), "rb") as fh:

            def read_at(offset: int, length: int) -> bytes:
                fh.seek(offset)
                return fh.read(length)

            yield read_at

    @contextmanager
    def _blob_reader(self, hexsha: str, size: int) -> Iterator[ReadAt]:
        if size <= MEMORY_LIMIT:
            data = self._read_small(hexsha)
            yield lambda offset, length: data[offset : offset + max(length, 0)]
            return
        stream = _BlobStream(self._repo, hexsha, size)
        try:
            yield stream.read_at
        finally:
            stream.close()


class _BlobStream:
    """Random reads of a large blob over a forward-only ``git cat-file blob`` stream.

    Reading forward (hashing, a GGUF key/value table) streams; the first
    ``HEAD_KEEP`` bytes stay in memory for header reads that go back to the
    start; any other read behind the stream's position restarts it.
    """

    def __init__(self, repo: git.Repo, hexsha: str, size: int) -> None:
        self._repo = repo
        self.hexsha = hexsha
        self.size = size
        self._proc: Any = None
        self._pos = 0
        self._head = bytearray()

    def _start(self) -> None:
        self.close()
        self._proc = self._repo.git.cat_file("blob", self.hexsha, as_process=True)
        self._pos = 0

    def _read(self, n: int) -> bytes:
        data: bytes = self._proc.proc.stdout.read(n)
        if len(data) < n:
            raise OSError(errno.EIO, f"corrupt or missing git object {self.hexsha}")
        start = self._pos
        self._pos += len(data)
        if start <= len(self._head) < HEAD_KEEP:
            self._head += data[len(self._head) - start : HEAD_KEEP - start]
        return data

    def read_at(self, offset: int, length: int) -> bytes:
        length = min(length, self.size - offset)
        if offset < 0 or length <= 0:
            return b""
        out = b""
        if offset < len(self._head):
            out = bytes(self._head[offset : offset + length])
            offset += len(out)
            length -= len(out)
            if not length:
                return out
        if self._proc is None or offset < self._pos:
            self._start()
        while self._pos < offset:
            self._read(min(CHUNK, offset - self._pos))
        return out + self._read(length)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.proc is None:
            return
        popen = proc.proc
        if popen.poll() is None:
            popen.kill()
        popen.wait()
        for pipe in (popen.stdout, popen.stderr, popen.stdin):
            if pipe is not None:
                pipe.close()
