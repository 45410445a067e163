"""Writing so that readers see the old content or the new, never half of it.

Reports (``--output``) and baseline files are written with ``write_atomic``;
the SQLite databases (checksum cache, registry history) change inside
``sqlite_transaction``.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from auditor.errors import UsageError
from auditor.safeio import within


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    Only a regular file is replaced by rename: ``-o /dev/null``, ``-o /dev/stdout`` or a
    FIFO are written to directly (renaming over them would replace the device with a
    file), and a symlink keeps pointing where it did (its target is replaced) — unless
    it lies in the current folder and leads out of its own folder (``escape``).
    """
    escaping = escape(path)
    if escaping is not None:
        raise UsageError(f"not writing {path}: {escaping}")
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file() and not path.is_dir():
        try:
            with open(path, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"cannot write {path}: no such directory {directory}")
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        # mkstemp makes the file 0600; a report gets the mode a plain write would give it.
        os.fchmod(fd, _mode(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def escape(path: Path) -> str | None:
    """Why writing ``path`` would go somewhere else than it says; None when it would not.

    Run inside a checkout (a CI job, a pre-commit hook), ``-o bom.json`` must not
    write through a ``bom.json`` symlink the checkout planted to ``~/.bashrc``, nor
    ``-o out/bom.json`` through an ``out`` symlink to another folder. So every part of
    the path below the current folder that is a symlink must lead to a place inside
    the folder holding it (``latest.json -> reports/r.json`` is fine); paths outside the
    current folder are the caller's own business."""
    cwd = Path(os.getcwd())
    absolute = Path(os.path.abspath(path))
    try:
        parts = absolute.relative_to(cwd).parts
    except ValueError:
        return None
    folder = cwd
    for part in parts:
        current = folder / part
        if os.path.islink(current) and not within(folder, current):
            return f"{current} is a symbolic link leading out of {folder}"
        folder = current
    return None


def _mode(path: Path) -> int:
    """The replaced file's permissions, or 0666 less the umask for a new file."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


@contextmanager
def sqlite_transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction on an autocommit connection (``isolation_level=None``),
    taking the write lock at once (``BEGIN IMMEDIATE``) so that two writers wait on the
    busy timeout instead of failing half-way; rolled back on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
