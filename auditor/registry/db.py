"""The registry database: the history of scheduled scans of many Hub repos (docs/registry.md).

One SQLite file (``--db``, else ``AUDITOR_DATA_DIR/registry.sqlite3``, else the user
data dir) holds every scan, what each scan saw of each repo (an *observation*:
audited, unchanged, failed, gated, private or missing) and, per repo and
revision, what the audit found: components with their concluded and declared
licenses, findings with their fingerprints (``model.fingerprint``).

- **Versioned schema.** ``PRAGMA user_version`` is the number of migration steps
  applied; ``MIGRATIONS`` are applied in order, all in one transaction, so a
  database is at one version or the one before, never in between. A database
  newer than this code is refused and left untouched.
- **Crash-safe.** Every ``record`` is one transaction: a process killed at any
  point (SIGKILL included) leaves the repo recorded whole or not at all. WAL
  lets ``changes`` and ``report`` read while a scan writes; a busy timeout lets
  two writers wait for each other.
- **Idempotent.** An observation is unique per (scan, repo) and an audit per
  (repo, revision): a resumed scan that records a repo again replaces what it
  recorded before, never adds to it. The ``repos`` table is derived from the
  observations after each record (latest status, latest good revision).
- **Resumable.** ``begin_scan`` returns the id of the latest scan with the same
  parameters when that scan is still ``running`` (its process died), and
  ``done_in_scan`` lists the repos it already recorded.

Readers (``registry changes``, ``registry report``) open with ``create=False``: a
missing file is an error rather than a new empty database; an older schema is
migrated (one transaction), a newer one refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

from auditor.atomic import sqlite_transaction
from auditor.errors import AuditorError
from auditor.model import AuditResult, Severity

DB_FILE = "registry.sqlite3"
#: Statuses of one repo in one scan.
STATUSES = ("audited", "unchanged", "failed", "gated", "private", "missing")
#: Statuses that mean "the audit of this revision stands".
GOOD = ("audited", "unchanged")
#: Statuses a scan ends with (``running`` while it runs).
SCAN_STATUSES = ("complete", "failed", "interrupted")
BUSY_TIMEOUT_MS = 10_000

#: The schema, one step per version: ``user_version`` N means steps 1..N were applied.
MIGRATIONS: tuple[str, ...] = (
    # 1: scans, repos, observations, audits with their components and findings.
    """
    CREATE TABLE scans (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,           -- UTC, ISO 8601 (2024-05-01T02:00:00Z)
        finished_at TEXT,
        status TEXT NOT NULL,               -- running, complete, failed, interrupted
        params TEXT NOT NULL                -- canonical JSON of what was scanned
    );
    CREATE INDEX scans_params ON scans (params, id);
    CREATE TABLE repos (
        repo_id TEXT PRIMARY KEY,
        first_seen TEXT NOT NULL,
        last_scan_id INTEGER REFERENCES scans (id),
        last_status TEXT,
        last_error TEXT,
        last_revision TEXT,
        last_good_revision TEXT
    );
    CREATE TABLE observations (
        id INTEGER PRIMARY KEY,
        scan_id INTEGER NOT NULL REFERENCES scans (id),
        repo_id TEXT NOT NULL REFERENCES repos (repo_id),
        status TEXT NOT NULL,
        revision TEXT,
        error TEXT,
        at TEXT NOT NULL,
        UNIQUE (scan_id, repo_id)
    );
    CREATE TABLE audits (
        id INTEGER PRIMARY KEY,
        repo_id TEXT NOT NULL REFERENCES repos (repo_id),
        revision TEXT NOT NULL,
        scan_id INTEGER NOT NULL REFERENCES scans (id),
        audited_at TEXT NOT NULL,
        UNIQUE (repo_id, revision)
    );
    CREATE TABLE components (
        audit_id INTEGER NOT NULL REFERENCES audits (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        concluded TEXT,                     -- NULL: unknown, review needed
        declared TEXT NOT NULL,             -- declared keys, sorted, joined by a space
        UNIQUE (audit_id, name)
    );
    CREATE TABLE findings (
        audit_id INTEGER NOT NULL REFERENCES audits (id) ON DELETE CASCADE,
        rule TEXT NOT NULL,
        severity TEXT NOT NULL,
        path TEXT,
        component TEXT,
        message TEXT NOT NULL,
        fingerprint TEXT NOT NULL
    );
    CREATE INDEX findings_audit ON findings (audit_id);
    """,
    # 2: which findings a baseline accepted; the tool version of each audit; and the
    # index a repo's history is read through.
    """
    ALTER TABLE findings ADD COLUMN accepted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE audits ADD COLUMN tool_version TEXT NOT NULL DEFAULT '';
    CREATE INDEX observations_repo ON observations (repo_id, scan_id);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class RegistryError(AuditorError):
    """The registry database cannot be used: unreadable, locked, newer, or absent (exit 3)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(t: datetime) -> str:
    """A UTC time as stored: ``2024-05-01T02:00:00Z`` (sorts as text)."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(params: Mapping[str, Any]) -> str:
    """Scan parameters as canonical JSON: sorted keys, no spaces; equal params, equal text."""
    return json.dumps(
        params, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def declared_keys(keys: str) -> tuple[str, ...]:
    return tuple(keys.split()) if keys else ()


class RegistryDB:
    """The registry database; one connection, safe to share between threads (one lock)."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        create: bool = True,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.path = Path(path) if path is not None else self.default_path()
        self._now = now
        self._lock = threading.RLock()
        if not create and not self.path.exists():
            raise RegistryError(
                f"no registry database at {self.path} (run `auditor registry scan` first, "
                "or name one with --db)"
            )
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                    check_same_thread=False,
                )  # fmt: skip
            else:
                uri = f"{self.path.resolve().as_uri()}?mode=rw"
                self._db = sqlite3.connect(
                    uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                    check_same_thread=False,
                )  # fmt: skip
        except (sqlite3.Error, OSError) as exc:
            raise RegistryError(f"cannot open registry database {self.path}: {exc}") from exc
        try:
            self._setup(create)
        except BaseException:
            self._db.close()
            raise

    @staticmethod
    def default_path() -> Path:
        """``$AUDITOR_DATA_DIR/registry.sqlite3``, else the user data dir's."""
        override = os.environ.get("AUDITOR_DATA_DIR")
        if override:
            return Path(override) / DB_FILE
        import platformdirs

        return Path(platformdirs.user_data_dir("auditor")) / DB_FILE

    # -- schema ------------------------------------------------------------------------

    def _setup(self, create: bool) -> None:
        with self._errors("cannot open"):
            db = self._db
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA foreign_keys = ON")
            version = self._version()
            if version > SCHEMA_VERSION:
                raise RegistryError(
                    f"registry database {self.path} has schema version {version}, newer than "
                    f"this auditor's ({SCHEMA_VERSION}): upgrade auditor; the file was not touched"
                )
            if version == 0 and not create:
                raise RegistryError(f"{self.path} is not a registry database (no schema)")
            if version < SCHEMA_VERSION:
                self.migrate()
            if create and db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable enough, never torn

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @property
    def version(self) -> int:
        with self._lock:
            return self._version()

    def migrate(self) -> None:
        """Apply the missing migration steps, in order, in one transaction."""
        with self._transaction():
            version = self._version()  # again under the write lock: another process may have
            if version > SCHEMA_VERSION:
                raise RegistryError(
                    f"registry database {self.path} has schema version {version}, newer than "
                    f"this auditor's ({SCHEMA_VERSION})"
                )
            for step in MIGRATIONS[version:]:
                for statement in _statements(step):
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- plumbing ----------------------------------------------------------------------

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            detail = str(exc)
            if "locked" in detail or "busy" in detail:
                detail += f" (another process holds it for over {BUSY_TIMEOUT_MS // 1000} s)"
            raise RegistryError(f"{what} registry database {self.path}: {detail}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock, self._errors("cannot write"), sqlite_transaction(self._db):
            yield

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock, self._errors("cannot read"):
            cur = self._db.execute(sql, args)
            cur.row_factory = sqlite3.Row
            return list(cur.fetchall())

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> RegistryDB:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------

    def begin_scan(self, params: Mapping[str, Any]) -> int:
        """A new scan (``running``), or the latest scan with the same params if it is
        still ``running`` (its process was killed): the caller resumes it."""
        text = canonical(params)
        with self._transaction():
            row = self._db.execute(
                "SELECT id, status FROM scans WHERE params = ? ORDER BY id DESC LIMIT 1", (text,)
            ).fetchone()
            if row is not None and row[1] == "running":
                return int(row[0])
            cur = self._db.execute(
                "INSERT INTO scans (started_at, status, params) VALUES (?, 'running', ?)",
                (iso(self._now()), text),
            )
            return int(cur.lastrowid or 0)

    def finish_scan(self, scan_id: int, status: str = "complete") -> None:
        if status not in SCAN_STATUSES:
            raise ValueError(f"scan status {status!r} is not one of {', '.join(SCAN_STATUSES)}")
        with self._transaction():
            cur = self._db.execute(
                "UPDATE scans SET status = ?, finished_at = ? WHERE id = ?",
                (status, iso(self._now()), scan_id),
            )
            if cur.rowcount != 1:
                raise ValueError(f"no scan {scan_id}")

    def done_in_scan(self, scan_id: int) -> set[str]:
        """The repos already recorded in this scan (whatever their status)."""
        rows = self._query("SELECT repo_id FROM observations WHERE scan_id = ?", (scan_id,))
        return {r[0] for r in rows}

    def last_good(self, repo_id: str) -> str | None:
        """The revision of the repo's latest successful audit (audited or unchanged)."""
        rows = self._query("SELECT last_good_revision FROM repos WHERE repo_id = ?", (repo_id,))
        return rows[0][0] if rows else None

    def record(
        self,
        scan_id: int,
        repo_id: str,
        *,
        status: str,
        revision: str | None = None,
        error: str | None = None,
        result: AuditResult | None = None,
    ) -> None:
        """What the scan ``scan_id`` saw of ``repo_id``, in one transaction.

        Recording a repo again in the same scan replaces the earlier record. With
        ``result`` (status ``audited`` only) the audit is stored for its revision
        (``revision``, else the result's), replacing an earlier audit of that
        revision; ``unchanged`` stores no audit (the last one stands) and takes
        the last good revision when none is given.
        """
        if status not in STATUSES:
            raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        if status == "audited":
            if result is None:
                raise ValueError("status 'audited' needs the audit result")
            revision = revision or result.inventory.revision
            if not revision:
                raise ValueError(f"no revision for the audit of {repo_id}")
        elif result is not None:
            raise ValueError(f"an audit result comes only with status 'audited', not {status!r}")
        now = iso(self._now())
        with self._transaction():
            db = self._db
            if db.execute("SELECT 1 FROM scans WHERE id = ?", (scan_id,)).fetchone() is None:
                raise ValueError(f"no scan {scan_id}")
            db.execute(
                "INSERT OR IGNORE INTO repos (repo_id, first_seen) VALUES (?, ?)", (repo_id, now)
            )
            if status == "unchanged" and revision is None:
                row = db.execute(
                    "SELECT last_good_revision FROM repos WHERE repo_id = ?", (repo_id,)
                ).fetchone()
                revision = row[0]
            if result is not None:
                assert revision is not None
                self._store_audit(scan_id, repo_id, revision, result, now)
            db.execute(
                "INSERT INTO observations (scan_id, repo_id, status, revision, error, at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scan_id, repo_id) DO UPDATE SET"
                " status = excluded.status, revision = excluded.revision,"
                " error = excluded.error, at = excluded.at",
                (scan_id, repo_id, status, revision, error, now),
            )
            self._derive_repo(repo_id)

    def _store_audit(
        self, scan_id: int, repo_id: str, revision: str, result: AuditResult, now: str
    ) -> None:
        from auditor.model import fingerprint

        db = self._db
        db.execute("DELETE FROM audits WHERE repo_id = ? AND revision = ?", (repo_id, revision))
        cur = db.execute(
            "INSERT INTO audits (repo_id, revision, scan_id, audited_at, tool_version)"
            " VALUES (?, ?, ?, ?, ?)",
            (repo_id, revision, scan_id, now, result.tool.version),
        )
        audit_id = cur.lastrowid
        db.executemany(
            "INSERT INTO components (audit_id, name, kind, concluded, declared)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (
                    audit_id,
                    c.name,
                    c.kind.value,
                    c.concluded,
                    " ".join(sorted({d.key for d in c.declared if not d.is_clue})),
                )
                for c in result.components
            ],
        )
        db.executemany(
            "INSERT INTO findings (audit_id, rule, severity, path, component, message,"
            " fingerprint, accepted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    audit_id,
                    f.rule,
                    f.severity.value,
                    f.path,
                    f.component,
                    f.message,
                    fingerprint(f),
                    int(accepted),
                )
                for accepted, group in ((False, result.findings), (True, result.accepted))
                for f in group
            ],
        )

    def _derive_repo(self, repo_id: str) -> None:
        """The repos row from the repo's observations: its latest, and its latest good one."""
        db = self._db
        last = db.execute(
            "SELECT scan_id, status, error, revision FROM observations WHERE repo_id = ?"
            " ORDER BY scan_id DESC LIMIT 1",
            (repo_id,),
        ).fetchone()
        good = db.execute(
            "SELECT revision FROM observations WHERE repo_id = ? AND status IN ('audited',"
            " 'unchanged') ORDER BY scan_id DESC LIMIT 1",
            (repo_id,),
        ).fetchone()
        db.execute(
            "UPDATE repos SET last_scan_id = ?, last_status = ?, last_error = ?,"
            " last_revision = ?, last_good_revision = ? WHERE repo_id = ?",
            (*last, good[0] if good else None, repo_id),
        )

    # -- reading -----------------------------------------------------------------------

    def scans(self) -> list[Scan]:
        return [
            Scan(r["id"], r["started_at"], r["finished_at"], r["status"], r["params"])
            for r in self._query(
                "SELECT id, started_at, finished_at, status, params FROM scans ORDER BY id"
            )
        ]

    def audit(self, repo_id: str, revision: str) -> StoredAudit | None:
        """The stored audit of a repo at a revision, or None when there is none."""
        rows = self._query(
            "SELECT id, scan_id, audited_at FROM audits WHERE repo_id = ? AND revision = ?",
            (repo_id, revision),
        )
        if not rows:
            return None
        audit_id = rows[0]["id"]
        components = tuple(
            StoredComponent(r["name"], r["kind"], r["concluded"], declared_keys(r["declared"]))
            for r in self._query(
                "SELECT name, kind, concluded, declared FROM components WHERE audit_id = ?"
                " ORDER BY name",
                (audit_id,),
            )
        )
        findings = tuple(
            StoredFinding(
                r["rule"],
                r["severity"],
                r["path"],
                r["component"],
                r["message"],
                r["fingerprint"],
                bool(r["accepted"]),
            )
            for r in self._query(
                "SELECT rule, severity, path, component, message, fingerprint, accepted"
                " FROM findings WHERE audit_id = ?"
                " ORDER BY rule, component, path, message, fingerprint",
                (audit_id,),
            )
        )
        return StoredAudit(
            repo_id, revision, rows[0]["scan_id"], rows[0]["audited_at"], components, findings
        )

    def observations(self, repo_id: str | None = None) -> list[Observation]:
        """Every observation (of one repo), by repo, then scan."""
        where, args = ("WHERE repo_id = ?", (repo_id,)) if repo_id else ("", ())
        return [
            Observation(r["scan_id"], r["repo_id"], r["status"], r["revision"], r["error"], r["at"])
            for r in self._query(
                "SELECT scan_id, repo_id, status, revision, error, at FROM observations"
                f" {where} ORDER BY repo_id, scan_id",
                args,
            )
        ]

    def repos(self) -> list[RepoState]:
        return [
            RepoState(
                r["repo_id"],
                r["first_seen"],
                r["last_scan_id"],
                r["last_status"],
                r["last_error"],
                r["last_revision"],
                r["last_good_revision"],
                r["scanned_at"],
            )
            for r in self._query(
                "SELECT r.*, o.at AS scanned_at FROM repos r LEFT JOIN observations o"
                " ON o.scan_id = r.last_scan_id AND o.repo_id = r.repo_id ORDER BY r.repo_id"
            )
        ]

    def current(self) -> list[tuple[RepoState, StoredAudit | None]]:
        """Every repo with the audit its licenses come from (its last good revision)."""
        return [
            (
                repo,
                self.audit(repo.repo_id, repo.last_good_revision)
                if repo.last_good_revision
                else None,
            )
            for repo in self.repos()
        ]

    def integrity(self) -> list[str]:
        """Problems SQLite finds (``integrity_check``, ``foreign_key_check``); [] when sound."""
        problems = [r[0] for r in self._query("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [
            f"{r[0]} row {r[1]} points at a missing {r[2]}"
            for r in self._query("PRAGMA foreign_key_check")
        ]
        return problems


def _statements(script: str) -> list[str]:
    """A migration step split into statements (``executescript`` would commit)."""
    return [s.strip() for s in script.split(";") if s.strip() and not s.strip().startswith("--")]


# -- stored values -----------------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    id: int
    started_at: str
    finished_at: str | None
    status: str
    params: str


@dataclass(frozen=True)
class Observation:
    scan_id: int
    repo_id: str
    status: str
    revision: str | None
    error: str | None
    at: str


@dataclass(frozen=True)
class RepoState:
    repo_id: str
    first_seen: str
    last_scan_id: int | None
    last_status: str | None
    last_error: str | None
    last_revision: str | None
    last_good_revision: str | None
    scanned_at: str | None


@dataclass(frozen=True)
class StoredComponent:
    name: str
    kind: str
    concluded: str | None
    declared: tuple[str, ...]


@dataclass(frozen=True)
class StoredFinding:
    rule: str
    severity: str
    path: str | None
    component: str | None
    message: str
    fingerprint: str
    accepted: bool = False


@dataclass(frozen=True)
class StoredAudit:
    repo_id: str
    revision: str
    scan_id: int
    audited_at: str
    components: tuple[StoredComponent, ...]
    findings: tuple[StoredFinding, ...]

    def counts(self) -> dict[str, int]:
        """Findings by severity (accepted ones left out)."""
        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            if not f.accepted:
                counts[f.severity] = counts.get(f.severity, 0) + 1
        return counts
