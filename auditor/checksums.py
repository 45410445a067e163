"""The checksum stage: sha1 / sha256 of every file, for the formats that need them.

Only BOM formats ask for checksums (``Options.checksums``); a plain audit reads
no weight bytes. When they are asked for, this stage avoids reading what it can:

- **Reuse.** A Git LFS pointer's entry already carries the real content's
  sha256 (from the pointer) and its bytes are not in the tree, so it is never
  read; its sha1 cannot be known and stays None. An entry that already has
  every wanted digest is left alone, and only the missing algorithms are
  computed for the others.
- **One pass.** A file is read once, streamed through a reusable buffer (never
  loaded whole), every wanted algorithm updated from the same bytes. Files are
  hashed in parallel by a small thread pool: hashlib and file reads release the
  GIL, and a 2-core machine gains little from more than a few threads.
- **Cache.** Digests of files of ``MIN_CACHED`` bytes or more are kept in a
  SQLite database in the user cache dir (``AUDITOR_CACHE_DIR`` overrides it),
  keyed by the file's location and its stat key (device, inode, size, mtime,
  ctime; ``Source.stat_key``). The inode catches a file replaced by rename (git
  checkout, ``cp`` + ``mv``) with the same size and times; ctime catches a
  rewrite whose mtime was put back (``cp -p``, ``rsync -t``, ``tar -x``,
  ``os.utime``), because user space cannot set ctime. A false miss (ctime also
  moves on chmod or rename) costs one re-hash; a false hit would put a wrong
  digest in a BOM, so every doubt is a miss. Small files are not cached: they
  are cheaper to hash than to look up and would only grow the database. A file
  changed within ``RACY_NS`` of its hashing is not cached either (the "racy git"
  problem: a second same-size write within one timestamp tick leaves the stat key
  unchanged), and a file whose stat key moved while it was read is read again.
- **Never fail an audit.** A corrupt, locked, newer-schema or unwritable cache
  logs a warning and the files are hashed without it. A file that cannot be read
  keeps its entry (digests None) and is listed in ``Inventory.skipped`` as
  ``cannot hash: <reason>``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from auditor.atomic import sqlite_transaction
from auditor.model import FileEntry, Inventory, Skipped
from auditor.progress import SILENT, Progress
from auditor.safeio import open_regular
from auditor.sources import Source, entries_sorted, os_reason
from auditor.weights import ReadAt

log = logging.getLogger(__name__)

#: The algorithms a format may ask for, in report order.
ALGORITHMS: Mapping[str, Callable[..., Any]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
#: Read size. Measured (bench/checksums.py --buffer-kib): 128 KiB to 4 MiB hash
#: within 2% of each other (sha256 ~1.8 GB/s from the page cache on a 2-vCPU EPYC),
#: 8 MiB 2-5% slower, as the chunk no longer stays in the CPU cache between digests.
BUFFER = 1 << 20
#: Files smaller than this are hashed every time rather than cached.
MIN_CACHED = 64 << 10
#: Threads hashing files at once.
WORKERS = min(4, os.cpu_count() or 1)
#: A file whose mtime or ctime is this close to the time it was hashed is not
#: cached (timestamp granularity: ~4 ms on ext4, 1-2 s on FAT, HFS+ and some NFS).
RACY_NS = 2_000_000_000
#: Rows not (re)written for this long are dropped when the cache is written, so
#: files that were moved or deleted do not stay forever. A hit does not write (a
#: warm audit only reads the database): a file still there is re-hashed once.
PRUNE_NS = 30 * 24 * 3600 * 1_000_000_000
CACHE_FILE = "checksums.sqlite3"
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS digests (
    location TEXT PRIMARY KEY,  -- absolute path (Source.location)
    stat TEXT NOT NULL,         -- Source.stat_key, as "dev:ino:size:mtime_ns:ctime_ns"
    sha1 TEXT,
    sha256 TEXT,
    stored INTEGER NOT NULL     -- time.time_ns() when written, for pruning
)
"""


def check_algorithms(algorithms: Iterable[str]) -> tuple[str, ...]:
    """The algorithms in report order, without repeats; ValueError for an unknown name."""
    wanted = set(algorithms)
    unknown = sorted(wanted - ALGORITHMS.keys())
    if unknown:
        raise ValueError(
            f"unknown checksum algorithm(s) {', '.join(unknown)}: expected {', '.join(ALGORITHMS)}"
        )
    return tuple(a for a in ALGORITHMS if a in wanted)


def stream_digests(
    data: str | os.PathLike[str] | ReadAt,
    algorithms: Iterable[str],
    *,
    buffer_size: int = BUFFER,
) -> dict[str, str]:
    """Hex digests of a file's bytes for each algorithm, computed in one streamed pass.

    ``data`` is the path of a regular file (read with ``readinto`` into one
    reusable buffer) or a ``read_at(offset, length)`` callback (read until it returns
    nothing). Never holds more than ``buffer_size`` bytes of the file. Raises
    OSError when the file cannot be read, ValueError for an unknown algorithm.
    """
    names = check_algorithms(algorithms)
    hashers = [ALGORITHMS[name](usedforsecurity=False) for name in names]
    if isinstance(data, (str, os.PathLike)):
        buf = bytearray(buffer_size)
        view = memoryview(buf)
        # A path swapped for a FIFO since it was listed must not hang the audit.
        with open(open_regular(data), "rb", buffering=0) as fh:
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            while n := fh.readinto(view):
                chunk = view[:n]
                for h in hashers:
                    h.update(chunk)
    else:
        offset = 0
        while chunk_bytes := data(offset, buffer_size):
            for h in hashers:
                h.update(chunk_bytes)
            offset += len(chunk_bytes)
            if len(chunk_bytes) < buffer_size:
                break  # a short read is the end: no extra read to learn it
    return {name: h.hexdigest() for name, h in zip(names, hashers, strict=True)}


def cache_dir() -> Path:
    """Where the checksum cache lives: ``AUDITOR_CACHE_DIR``, else the user cache dir."""
    override = os.environ.get("AUDITOR_CACHE_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("auditor"))


class DigestCache:
    """Digests by (location, stat key) in ``cache_dir()/checksums.sqlite3``.

    WAL mode and a busy timeout let concurrent audits share it; each write is
    one short transaction. Every method raises sqlite3.Error or OSError on a
    broken database, and ``fill`` stops using the cache when one does.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        try:
            self._setup()
        except BaseException:
            self._db.close()
            raise

    def _setup(self) -> None:
        db = self._db
        db.execute("PRAGMA busy_timeout = 10000")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            if version > SCHEMA_VERSION:
                raise sqlite3.DatabaseError(
                    f"schema version {version} is newer than this auditor's ({SCHEMA_VERSION})"
                )
            with sqlite_transaction(self._db):
                # Re-read under the write lock: another audit may have just created it.
                if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                    db.execute("DROP TABLE IF EXISTS digests")  # an older layout: start over
                    db.execute(_SCHEMA)
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: may lose a write, never corrupts

    def get(self, location: str, key: tuple[int, ...]) -> dict[str, str]:
        """The digests stored for this version of the file ({} when none)."""
        row = self._db.execute(
            "SELECT stat, sha1, sha256 FROM digests WHERE location = ?", (location,)
        ).fetchone()
        if row is None or row[0] != _stat_text(key):
            return {}
        return {
            name: value for name, value in zip(("sha1", "sha256"), row[1:], strict=True) if value
        }

    def put(self, rows: list[tuple[str, tuple[int, ...], dict[str, str]]]) -> None:
        """Store (location, stat key, digests) rows, replacing older versions; prune old rows."""
        now = time.time_ns()
        with sqlite_transaction(self._db):
            self._db.executemany(
                "INSERT OR REPLACE INTO digests (location, stat, sha1, sha256, stored)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (loc, _stat_text(key), d.get("sha1"), d.get("sha256"), now)
                    for loc, key, d in rows
                ],
            )
            self._db.execute("DELETE FROM digests WHERE stored < ?", (now - PRUNE_NS,))

    def close(self) -> None:
        self._db.close()


def _stat_text(key: tuple[int, ...]) -> str:
    return ":".join(str(k) for k in key)


class _LazyCache:
    """The cache for one ``fill``: opened on first use, dropped (with a warning) on any error."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._db: DigestCache | None = None

    def _open(self) -> DigestCache | None:
        if self._db is None and self._enabled:
            path = cache_dir() / CACHE_FILE
            try:
                self._db = DigestCache(path)
            except (sqlite3.Error, OSError) as exc:
                log.warning("checksum cache %s not used (%s); hashing without it", path, exc)
                self._enabled = False
        return self._db

    def _fail(self, db: DigestCache, what: str, exc: Exception) -> None:
        log.warning("checksum cache %s %s (%s); not used", db.path, what, exc)
        self.close()
        self._enabled = False

    def get(self, location: str, key: tuple[int, ...]) -> dict[str, str]:
        db = self._open()
        if db is None:
            return {}
        try:
            return db.get(location, key)
        except (sqlite3.Error, OSError) as exc:
            self._fail(db, "unreadable", exc)
            return {}

    def put(self, rows: list[tuple[str, tuple[int, ...], dict[str, str]]]) -> None:
        if not rows:
            return
        db = self._open()
        if db is None:
            return
        try:
            db.put(rows)
        except (sqlite3.Error, OSError) as exc:
            self._fail(db, "not written", exc)

    @property
    def enabled(self) -> bool:
        return self._enabled

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


@dataclass
class _Job:
    entry: FileEntry
    missing: tuple[str, ...]  # algorithms to compute
    known: dict[str, str]  # digests the entry already carries (not tied to a stat key)
    cached: dict[str, str]  # digests the cache holds for ``key``
    location: str | None
    key: tuple[int, ...] | None  # stat key before reading; None when there is none


@dataclass
class _Outcome:
    digests: dict[str, str]
    key: tuple[int, ...] | None  # stat key the digests belong to
    error: str | None = None


def _hash(source: Source, job: _Job) -> _Outcome:
    """Hash one file; read it again if its stat key moved while it was read.

    A second read also recomputes what the cache gave, which was for the old key.
    """
    key = job.key
    algorithms = job.missing
    for _ in range(2):
        try:
            if job.location is not None:
                digests = stream_digests(job.location, algorithms)
            else:
                with source.reader(job.entry.path) as read_at:
                    digests = stream_digests(read_at, algorithms)
        except OSError as exc:
            return _Outcome({}, None, os_reason(exc))
        if key is None:
            return _Outcome(digests, None)
        after = source.stat_key(job.entry.path)
        if after == key:
            return _Outcome(digests, key)
        if after is None:
            return _Outcome({}, None, "vanished while reading")
        key = after
        algorithms = (*job.missing, *job.cached)
    return _Outcome({}, None, "changed while being read")


def _racy(key: tuple[int, ...]) -> bool:
    """Whether a stat key is too recent to trust, or not the documented layout."""
    if len(key) != 5:
        return True
    return time.time_ns() - max(key[3], key[4]) < RACY_NS


def _with_digests(entry: FileEntry, digests: dict[str, str]) -> FileEntry:
    return replace(
        entry,
        sha1=digests.get("sha1", entry.sha1),
        sha256=digests.get("sha256", entry.sha256),
    )


#: Files at least this big are hashed on the thread pool; smaller ones in line.
POOL_MIN = 1 << 20


def fill(
    source: Source,
    inventory: Inventory,
    algorithms: Iterable[str],
    *,
    cache: bool = True,
    workers: int | None = None,
    progress: Progress = SILENT,
) -> Inventory:
    """The inventory with ``sha1`` / ``sha256`` set on every entry that can have them.

    Git LFS pointers keep their pointer's sha256 and are never read; entries that
    already have every wanted digest are left alone; the rest come from the cache
    (``cache=True``) or are hashed, once per file, in parallel. A file that cannot
    be read keeps its entry and gets a ``cannot hash: <reason>`` Skipped.
    ValueError for an unknown algorithm.
    """
    wanted = check_algorithms(algorithms)
    if not wanted:
        return inventory
    db = _LazyCache(cache)
    try:
        return _fill(source, inventory, wanted, db, workers or WORKERS, progress)
    finally:
        db.close()


def _fill(
    source: Source,
    inventory: Inventory,
    wanted: tuple[str, ...],
    db: _LazyCache,
    workers: int,
    progress: Progress,
) -> Inventory:
    jobs: list[_Job] = []
    done: dict[str, dict[str, str]] = {}  # path -> digests, for every entry that gets some
    for entry in inventory.files:
        if entry.lfs:
            continue  # the pointer's sha256 is the content's; the bytes are not here
        known = {a: d for a in wanted if (d := getattr(entry, a)) is not None}
        if len(known) == len(wanted):
            continue
        location = source.location(entry.path)
        key = source.stat_key(entry.path)
        cached: dict[str, str] = {}
        if location and key and entry.size >= MIN_CACHED:
            hit = db.get(location, key)
            cached = {a: d for a, d in hit.items() if a in wanted and a not in known}
            if len(known) + len(cached) == len(wanted):
                done[entry.path] = {**known, **cached}
                continue
        missing = tuple(a for a in wanted if a not in known and a not in cached)
        jobs.append(_Job(entry, missing, known, cached, location, key))

    if not jobs and not done:
        return inventory
    # Largest first, so that one big file does not start last on an idle pool. Small
    # files are hashed here: handing one to a thread costs more than hashing it (20,000
    # source files spent 2 s waiting on futures).
    jobs.sort(key=lambda j: -j.entry.size)
    big = [j for j in jobs if j.entry.size >= POOL_MIN]
    small = jobs[len(big) :]
    progress.start("hashing", sum(j.entry.size for j in jobs), unit="bytes")

    def hashed(job: _Job, outcome: _Outcome) -> _Outcome:
        progress.advance(job.entry.size)
        return outcome

    if len(big) > 1 and workers > 1:
        with ThreadPoolExecutor(max_workers=min(workers, len(big))) as pool:
            # results come back here in order: progress is only ever advanced on this thread
            outcomes = [
                hashed(j, o)
                for j, o in zip(big, pool.map(lambda j: _hash(source, j), big), strict=True)
            ]
    else:
        outcomes = [hashed(j, _hash(source, j)) for j in big]
    outcomes += [hashed(j, _hash(source, j)) for j in small]

    problems: list[Skipped] = []
    to_store: list[tuple[str, tuple[int, ...], dict[str, str]]] = []
    for job, outcome in zip(jobs, outcomes, strict=True):
        if outcome.error is not None:
            problems.append(Skipped(job.entry.path, f"cannot hash: {outcome.error}"))
            if job.known:
                done[job.entry.path] = job.known
            continue
        digests = {**job.known, **job.cached, **outcome.digests}
        done[job.entry.path] = digests
        if (
            db.enabled
            and job.location is not None
            and outcome.key is not None
            and job.entry.size >= MIN_CACHED
            and not _racy(outcome.key)
        ):
            to_store.append((job.location, outcome.key, {**job.cached, **outcome.digests}))
    db.put(to_store)

    files = [_with_digests(e, done[e.path]) if e.path in done else e for e in inventory.files]
    f, s = entries_sorted(files, [*inventory.skipped, *problems])
    return replace(inventory, files=f, skipped=s)
