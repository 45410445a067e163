"""A repository's git folder, found and used without trusting it.

The ``.git`` of an audited folder may come with the folder (a tarball, a copied
checkout) and so be written by whoever wrote the folder:

- **Nothing of it runs.** Git runs commands that its config names: ``core.fsmonitor``
  on ``git ls-files`` or ``git status``, clean and smudge filters, textconv drivers,
  external diffs, a pager. Every git process gets ``SAFE_OPTIONS`` (command-line
  config outranks every config file, included ones too), and the commands the
  auditor runs are ones that take no filter or diff driver anyway.
- **Nothing outside is read.** ``.git`` must be a folder in the repository, or a
  ``gitdir:`` file naming a folder that names this one back (a linked worktree's
  ``gitdir`` file, a submodule's ``core.worktree``); a ``.git`` symlink, or a gitdir
  elsewhere that does not point back, is no git folder of this repository (its
  origin URL must not land in this repository's BOM).
- **Nothing blocks.** git reads ``config``, ``HEAD``, the index and the refs with
  plain blocking reads: a FIFO there hangs it, ``/dev/zero`` there fills memory.
  ``problem`` finds such files before git or the auditor reads them, and every git
  process has a timeout.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from pathlib import Path

from auditor.safeio import read_regular, within

log = logging.getLogger(__name__)

#: Config given on every git command line: nothing the repository's config names runs.
SAFE_OPTIONS: tuple[str, ...] = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.untrackedCache=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.pager=cat",
    "-c",
    "protocol.allow=never",
    "-c",
    "credential.helper=",
    "-c",
    "core.askPass=",
    "-c",
    "core.sshCommand=false",
)
#: Environment of every git process: no prompt, no lazy fetch of a partial clone's
#: missing objects, no optional lock files written into the repository.
SAFE_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_PAGER": "cat",
}
#: A git command that takes longer is stopped (a legitimate one takes a fraction of this).
TIMEOUT_S = 8.0
#: The small files of a git folder that git reads whole; each must be a regular file.
_READ_WHOLE = (
    "HEAD",
    "config",
    "config.worktree",
    "commondir",
    "index",
    "packed-refs",
    "shallow",
    "info/exclude",
    "info/grafts",
    "objects/info/alternates",
)
#: Folders of a git folder that must not lead out of it (a symlink to another disk's
#: objects would make this repository's history someone else's).
_STORAGE = ("objects", "refs", "info", "modules", "worktrees")
MAX_GITDIR_FILE = 4096


def git_dir(root: Path) -> Path | None:
    """The git folder of the work tree ``root``, or None (no ``.git``, or one that is not
    this repository's own: a symlink, or a ``gitdir:`` elsewhere that does not point back)."""
    dot = root / ".git"
    try:
        st = os.lstat(dot)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return dot
    if stat.S_ISLNK(st.st_mode):
        log.warning("%s is a symlink: not used as this repository's git folder", dot)
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    try:
        text = read_regular(dot, MAX_GITDIR_FILE).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    target = root / text.removeprefix("gitdir:").strip()  # an absolute path stays as it is
    if not target.is_dir():
        return None
    if within(root, target) or _points_back(target, root):
        return target
    log.warning("%s names %s, which does not name it back: not used", dot, target)
    return None


def _points_back(gitdir: Path, root: Path) -> bool:
    """A linked worktree's git folder names the worktree's ``.git`` file (``gitdir``); a
    submodule's names the work tree in its config (``core.worktree``)."""
    try:
        back = read_regular(gitdir / "gitdir", MAX_GITDIR_FILE).decode("utf-8", "replace").strip()
        if _same(gitdir / back, root / ".git"):
            return True
    except OSError:
        pass
    try:
        config = read_regular(gitdir / "config", 1 << 20).decode("utf-8", "replace")
    except OSError:
        return False
    for line in config.splitlines():
        key, sep, value = line.strip().partition("=")
        worktree = gitdir / value.strip().strip('"')
        if sep and key.strip().lower() == "worktree" and _same(worktree, root):
            return True
    return False


def _same(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def common_dir(gitdir: Path) -> Path:
    """Where a git folder keeps objects and refs (a linked worktree shares its main one's)."""
    try:
        text = read_regular(gitdir / "commondir", MAX_GITDIR_FILE).decode("utf-8", "replace")
    except OSError:
        return gitdir
    return gitdir / text.strip()  # relative to the git folder, or absolute


def problem(gitdir: Path) -> str | None:
    """Why git must not be run on (or read from) ``gitdir``: one of the files git reads
    whole is no regular file (a FIFO blocks it, ``/dev/zero`` never ends), or its storage
    leads out of it; None when nothing is wrong."""
    folders = [gitdir]
    common = common_dir(gitdir)
    if common != gitdir:
        folders.append(common)
    for folder in folders:
        for name in _READ_WHOLE:
            path = folder / name
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                return f"{path} is not a regular file"
        for name in _STORAGE:
            path = folder / name
            if os.path.lexists(path) and not any(within(f, path) for f in folders):
                return f"{path} leads out of the repository"
    return None


def run_git(cwd: Path, *args: str, timeout: float = TIMEOUT_S) -> bytes | None:
    """Standard output of ``git ARGS`` in ``cwd`` with ``SAFE_OPTIONS``; None when git is
    missing, fails, or takes longer than ``timeout``, or when ``cwd``'s git folder is
    one git must not read (``problem``)."""
    gitdir = cwd / ".git"
    if os.path.lexists(gitdir):
        found = git_dir(cwd)
        if found is None:
            return None
        why = problem(found)
        if why is not None:
            log.warning("not running git: %s", why)
            return None
    try:
        proc = subprocess.run(
            ["git", *SAFE_OPTIONS, *args],
            cwd=cwd,
            env={**os.environ, **SAFE_ENV},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("git %s in %s: %s", " ".join(args), cwd, exc)
        return None
    return proc.stdout if proc.returncode == 0 else None
