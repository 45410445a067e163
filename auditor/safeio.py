"""Reading the files of an audited repository that are not its content, without trusting them.

A repository may be hostile: ``.git/config`` a FIFO that blocks any reader, a ref that
is a symlink to ``/dev/zero``, ``.git`` itself a symlink into another repository whose
origin URL would land in a BOM, an LFS object that is a symlink to a private file. So
the small files the sources read about a repository (git's config, index, refs, the
Hub cache's refs) are read with ``read_regular``: never through a symlink, never from
anything but a regular file (opened non-blocking, checked with ``fstat``), at most a
bounded number of bytes; and paths that lead out of the repository are found with
``within``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def open_regular(path: str | os.PathLike[str], *, follow: bool = True) -> int:
    """A read-only descriptor of the regular file ``path``; OSError for anything else.

    Opened non-blocking, so a FIFO (or a file swapped for one since it was listed)
    fails at once instead of hanging the audit; a device, socket or folder fails too.
    Without ``follow`` a symlink as the last component fails (ELOOP)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return fd


def read_regular(path: Path, limit: int, *, follow: bool = False) -> bytes:
    """At most ``limit`` bytes of the regular file ``path``; OSError for anything else.

    ``follow`` allows a symlink as the last component (the caller checks where it
    leads); a FIFO, device or socket fails without blocking (``open_regular``), a file
    longer than ``limit`` fails with EFBIG."""
    fd = open_regular(path, follow=follow)
    try:
        if os.fstat(fd).st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        return data
    finally:
        os.close(fd)


def is_regular(path: Path) -> bool:
    """A regular file, not through a symlink (``lstat``)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def within(root: Path, path: Path) -> bool:
    """Whether ``path``, every symlink resolved, lies in ``root`` (itself resolved)."""
    try:
        real = Path(os.path.realpath(path))
    except (OSError, ValueError):
        return False
    base = Path(os.path.realpath(root))
    return real == base or base in real.parents
