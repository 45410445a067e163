"""What a folder walk leaves out: what git would not commit, virtualenvs and tool caches.

A working tree holds much that is no part of the repository: a built ``.venv`` (tens
of thousands of files), downloaded checkpoints the ``.gitignore`` names, caches of
tools. The walk skips, like git does:

- ``.git`` and other version-control folders, always;
- folders of tool caches (``__pycache__``, ``.mypy_cache``, ``node_modules``...) and
  virtualenvs (a folder with ``pyvenv.cfg`` or ``conda-meta``);
- what the repository's ignore files say: every ``.gitignore`` (each for its folder and
  below, deeper files overriding, ``!`` re-including) and ``.git/info/exclude``, read
  with pathspec's implementation of git's own rules. The user's global excludes are
  not read: an audit must not depend on who runs it;
- unless git tracks it: a file in the git index is part of the repository even when
  an ignore pattern matches it (the index is read from ``.git/index``, never by
  running git).

``--no-ignore`` walks everything but version-control folders. Nothing here reads a
file beyond ignore files and the index, and nothing runs.
"""

from __future__ import annotations

import io
import logging
import os
import posixpath
import struct
from pathlib import Path

from pathspec import GitIgnoreSpec

from auditor.gitrepo import git_dir, problem
from auditor.safeio import read_regular

log = logging.getLogger(__name__)

#: Never part of a repository's content.
VCS_DIRS = frozenset({".git", ".hg", ".svn"})
#: Tool caches and build artefacts that are never committed.
CACHE_DIRS = frozenset(
    {
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".ipynb_checkpoints",
        "node_modules",
        ".eggs",
    }
)
#: An ignore file bigger than this is not read (no repository needs one).
IGNORE_FILE_LIMIT = 1 << 20
#: A git index bigger than this is not read (some half a million paths).
INDEX_LIMIT = 64 << 20


def is_virtualenv(location: Path) -> bool:
    """A Python virtualenv (``pyvenv.cfg``) or a conda environment (``conda-meta``); a folder
    that cannot be looked into is none (the walk reports it)."""
    try:
        return (location / "pyvenv.cfg").is_file() or (location / "conda-meta").is_dir()
    except OSError:
        return False


class Ignores:
    """The ignore decisions of one walk, and how many were made."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled
        #: Folders and files left out (a folder counts once, however many files it holds).
        self.count = 0
        self._specs: dict[str, GitIgnoreSpec] = {}
        self._tracked: frozenset[str] = frozenset()
        self._tracked_dirs: frozenset[str] = frozenset()
        if enabled:
            self._tracked = _git_index(root)
            self._tracked_dirs = frozenset(d for p in self._tracked for d in _parents(p))
            gitdir = git_dir(root)
            spec = _read_spec(gitdir / "info" / "exclude") if gitdir else None
            if spec is not None:
                self._specs["\0exclude"] = spec

    def enter(self, folder: str, location: Path) -> None:
        """Read ``folder``'s ``.gitignore`` before its entries are decided."""
        if not self.enabled:
            return
        spec = _read_spec(location / ".gitignore")
        if spec is not None:
            self._specs[folder] = spec

    def skips(self, path: str, location: Path, is_dir: bool) -> bool:
        """Whether the walk leaves ``path`` out (and counts it)."""
        name = posixpath.basename(path)
        if is_dir and name in VCS_DIRS:
            return True  # not counted: never content, with or without --no-ignore
        if not self.enabled:
            return False
        if path in self._tracked or (is_dir and path in self._tracked_dirs):
            return False
        if is_dir and (name in CACHE_DIRS or is_virtualenv(location)):
            self.count += 1
            return True
        if self._ignored(path, is_dir):
            self.count += 1
            return True
        return False

    def _ignored(self, path: str, is_dir: bool) -> bool:
        """git's rule: the deepest ignore file with a matching pattern decides, and within
        a file the last matching pattern (``!pattern`` re-includes)."""
        decided: bool | None = None
        exclude = self._specs.get("\0exclude")
        if exclude is not None:
            decided = _check(exclude, path, is_dir)
        folder = posixpath.dirname(path)
        chain = [""] if not folder else ["", *_parents(path)]
        for base in chain:
            spec = self._specs.get(base)
            if spec is None:
                continue
            rel = path[len(base) + 1 :] if base else path
            found = _check(spec, rel, is_dir)
            if found is not None:
                decided = found
        return bool(decided)


def _check(spec: GitIgnoreSpec, rel: str, is_dir: bool) -> bool | None:
    result = spec.check_file(rel + "/" if is_dir else rel)
    return result.include


def _parents(path: str) -> list[str]:
    """``a/b/c`` -> ``a``, ``a/b`` (the folders holding ``path``, outermost first)."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _read_spec(path: Path) -> GitIgnoreSpec | None:
    try:
        data = read_regular(path, IGNORE_FILE_LIMIT)
    except OSError:  # none, a symlink, a FIFO, a device, too big: no ignore file
        return None
    lines = data.decode("utf-8", "replace").splitlines()
    lines = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return None
    try:
        # RE2 matches in linear time: a planted "**/**/**/...b" or "*a*a*a...b" pattern
        # would make Python's backtracking engine run for hours on a deep path.
        return GitIgnoreSpec.from_lines(lines, backend="re2")
    except (ValueError, TypeError) as exc:  # a pattern pathspec cannot read: ignore none
        log.warning("ignoring %s: %s", path, exc)
        return None


def _git_index(root: Path) -> frozenset[str]:
    """Paths git tracks under ``root``, from ``.git/index`` (read, never by running git);
    none when there is no index or it is in a format GitPython cannot read."""
    gitdir = git_dir(root)
    if gitdir is None or problem(gitdir) is not None:
        return frozenset()
    index = gitdir / "index"
    try:
        data = read_regular(index, INDEX_LIMIT)
        from git.index.fun import read_cache

        _, entries, _, _ = read_cache(io.BytesIO(data))
    except (OSError, AssertionError, ValueError, IndexError, struct.error) as exc:
        # an index GitPython cannot read (version 4, truncated): nothing counts as tracked
        log.debug("cannot read %s: %s", index, exc)
        return frozenset()
    out = set()
    for path, _stage in entries:
        name = os.fsdecode(path) if isinstance(path, bytes) else str(path)
        out.add(name.replace(os.sep, "/"))
    return frozenset(out)
