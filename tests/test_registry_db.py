"""The registry database (auditor/registry/db.py) and `auditor registry changes|report`.

Audit results come from the real pipeline run on small repos written here; license
texts come from the installed ScanCode data. Nothing leaves 127.0.0.1: the BOM test
points HF_ENDPOINT at tests/hub_server.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result
from conftest import FIXTURES, ROOT
from hub_server import HubRepo, HubServer, isolate_client, read_tree

from auditor.cli import cli
from auditor.model import AuditResult
from auditor.pipeline import run_audit
from auditor.registry.changes import changes, parse_since
from auditor.registry.db import (
    MIGRATIONS,
    SCHEMA_VERSION,
    RegistryDB,
    RegistryError,
    _statements,
)

sys.path.insert(0, str(FIXTURES / "corpus"))
from runner import reference

DOC = ROOT / "docs" / "registry.md"
R1, R2, R3 = "1" * 40, "2" * 40, "3" * 40


def _card(license_id: str) -> str:
    return f"---\nlicense: {license_id}\n---\n# A model\n\nWeights for tests.\n"


def _repo(root: Path, license_id: str, *, text: bool, code: bool = False) -> Path:
    root.mkdir(parents=True)
    (root / "README.md").write_text(_card(license_id), encoding="utf-8")
    (root / "config.json").write_text('{"model_type": "llama"}\n', encoding="utf-8")
    if text:
        (root / "LICENSE").write_text(reference(f"scancode:{license_id}")[0], encoding="utf-8")
    if code:
        (root / "train.py").write_text("# SPDX-License-Identifier: MIT\nprint(1)\n")
    return root


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("registry-repos")
    return {
        "apache": _repo(root / "apache", "apache-2.0", text=True),
        "mit": _repo(root / "mit", "mit", text=False),  # no MIT text: license-text-missing
        "apache+code": _repo(root / "apache-code", "apache-2.0", text=True, code=True),
    }


@pytest.fixture(scope="module")
def results(repos: dict[str, Path]) -> dict[str, AuditResult]:
    return {name: run_audit(str(path)) for name, path in repos.items()}


class Clock:
    """A settable clock for RegistryDB(now=...): scans on different days."""

    def __init__(self) -> None:
        self.t = datetime(2024, 5, 1, 2, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.t

    def day(self, n: int) -> None:
        self.t = datetime(2024, 5, n, 2, 0, tzinfo=timezone.utc)


def _schema(title: str) -> dict[str, Any]:
    text = DOC.read_text(encoding="utf-8").split(f"#### JSON Schema: {title}", 1)[1]
    block = re.search(r"```json\n(.*?)\n```", text, re.S)
    assert block is not None
    schema: dict[str, Any] = json.loads(block.group(1))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["registry", *args])


# -- schema and migrations -----------------------------------------------------------------


def test_a_fresh_database_is_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "registry.sqlite3"
    with RegistryDB(path) as db:
        assert db.version == SCHEMA_VERSION == len(MIGRATIONS)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"scans", "repos", "observations", "audits", "components", "findings"} <= tables
    con.close()


def test_the_default_path_honours_auditor_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDITOR_DATA_DIR", str(tmp_path / "data"))
    assert RegistryDB.default_path() == tmp_path / "data" / "registry.sqlite3"
    with RegistryDB() as db:
        assert db.path == tmp_path / "data" / "registry.sqlite3"
    assert db.path.is_file()
    monkeypatch.delenv("AUDITOR_DATA_DIR")
    assert RegistryDB.default_path().name == "registry.sqlite3"


def test_an_older_database_built_by_hand_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    con = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        con.execute(statement)
    con.execute("INSERT INTO scans VALUES (1, '2024-01-01T00:00:00Z', NULL, 'complete', '{}')")
    con.execute(
        "INSERT INTO repos VALUES ('acme/old', '2024-01-01T00:00:00Z', 1, 'audited', NULL, ?, ?)",
        (R1, R1),
    )
    con.execute(
        "INSERT INTO observations (scan_id, repo_id, status, revision, at)"
        " VALUES (1, 'acme/old', 'audited', ?, '2024-01-01T00:00:00Z')",
        (R1,),
    )
    con.execute(
        "INSERT INTO audits (id, repo_id, revision, scan_id, audited_at)"
        " VALUES (7, 'acme/old', ?, 1, '2024-01-01T00:00:00Z')",
        (R1,),
    )
    con.execute("INSERT INTO components VALUES (7, 'model', 'model', 'mit', 'mit')")
    con.execute(
        "INSERT INTO findings VALUES (7, 'license-missing', 'error', NULL, 'code', 'm', 'ab12')"
    )
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()

    with RegistryDB(path) as db:
        assert db.version == SCHEMA_VERSION
        audit = db.audit("acme/old", R1)
        assert audit is not None
        assert [c.concluded for c in audit.components] == ["mit"]
        assert [(f.rule, f.accepted) for f in audit.findings] == [("license-missing", False)]
        assert db.last_good("acme/old") == R1
        assert db.integrity() == []


def test_a_newer_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE scans (id INTEGER PRIMARY KEY, hologram BLOB)")
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(RegistryError, match="newer than this auditor"):
        RegistryDB(path)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()
    out = run("report", "--db", str(path))
    assert out.exit_code == 3
    assert out.stderr.count("\n") == 1 and "newer than this auditor" in out.stderr
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite, just some bytes " * 100)
    with pytest.raises(RegistryError, match="not a database"):
        RegistryDB(path)
    out = run("changes", "--db", str(path))
    assert out.exit_code == 3 and out.stderr.startswith("auditor: error: ")
    out = run("changes", "--db", str(tmp_path / "absent.sqlite3"))
    assert out.exit_code == 2 and "no registry database" in out.stderr
    assert not (tmp_path / "absent.sqlite3").exists()


def test_a_locked_database_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.registry.db as registry_db

    path = tmp_path / "r.sqlite3"
    RegistryDB(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(registry_db, "BUSY_TIMEOUT_MS", 100)
    try:
        with pytest.raises(RegistryError, match="locked"), RegistryDB(path) as db:
            db.begin_scan({})
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# -- writing -------------------------------------------------------------------------------


def test_begin_scan_resumes_a_running_scan_with_the_same_params(tmp_path: Path) -> None:
    with RegistryDB(tmp_path / "r.sqlite3") as db:
        first = db.begin_scan({"repos": ["a/b", "c/d"], "author": None})
        assert db.begin_scan({"author": None, "repos": ["a/b", "c/d"]}) == first  # key order
        other = db.begin_scan({"repos": ["a/b"]})
        assert other != first
        assert db.begin_scan({"repos": ["a/b", "c/d"], "author": None}) == first
        db.finish_scan(first)
        again = db.begin_scan({"repos": ["a/b", "c/d"], "author": None})
        assert again not in (first, other)
        db.finish_scan(again, "interrupted")  # not running: a new scan next time
        assert db.begin_scan({"repos": ["a/b", "c/d"], "author": None}) > again
        with pytest.raises(ValueError):
            db.finish_scan(first, "done")
        statuses = {s.id: s.status for s in db.scans()}
        assert statuses[first] == "complete" and statuses[other] == "running"


def test_record_is_idempotent_and_last_good_follows(
    tmp_path: Path, results: dict[str, AuditResult]
) -> None:
    with RegistryDB(tmp_path / "r.sqlite3") as db:
        scan = db.begin_scan({"n": 1})
        for _ in range(3):  # a resumed scan redoing a repo
            db.record(scan, "acme/m", status="audited", revision=R1, result=results["mit"])
        assert db.done_in_scan(scan) == {"acme/m"}
        assert len(db.observations("acme/m")) == 1
        audit = db.audit("acme/m", R1)
        assert audit is not None
        assert len(audit.components) == len(results["mit"].components)
        assert len(audit.findings) == len(results["mit"].findings) == 1
        assert db.last_good("acme/m") == R1
        # The same repo recorded failed in the same scan replaces the audited record.
        db.record(scan, "acme/m", status="failed", error="HTTP 500")
        assert [(o.status, o.error) for o in db.observations("acme/m")] == [("failed", "HTTP 500")]
        assert db.last_good("acme/m") is None
        db.record(scan, "acme/m", status="audited", revision=R1, result=results["mit"])
        db.finish_scan(scan)

        scan2 = db.begin_scan({"n": 1})
        db.record(scan2, "acme/m", status="unchanged")  # the revision of the last good audit
        assert db.observations("acme/m")[-1].revision == R1
        assert db.last_good("acme/m") == R1
        db.finish_scan(scan2)
        scan3 = db.begin_scan({"n": 1})
        db.record(scan3, "acme/m", status="gated", error="GatedRepo")
        assert db.last_good("acme/m") == R1
        assert db.last_good("acme/never") is None
        (state,) = db.repos()
        assert (state.last_status, state.last_error, state.last_good_revision) == (
            "gated",
            "GatedRepo",
            R1,
        )
        # A revision audited again replaces its audit: one audit per (repo, revision).
        db.record(scan3, "acme/m", status="audited", revision=R1, result=results["apache"])
        con = sqlite3.connect(db.path)
        assert con.execute("SELECT count(*) FROM audits").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM findings").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM components").fetchone()[0] == 1
        con.close()
        assert db.integrity() == []


def test_record_refuses_what_it_cannot_store(
    tmp_path: Path, results: dict[str, AuditResult]
) -> None:
    with RegistryDB(tmp_path / "r.sqlite3") as db:
        scan = db.begin_scan({})
        with pytest.raises(ValueError, match="status"):
            db.record(scan, "a/b", status="great")
        with pytest.raises(ValueError, match="needs the audit result"):
            db.record(scan, "a/b", status="audited", revision=R1)
        with pytest.raises(ValueError, match="no revision"):
            db.record(scan, "a/b", status="audited", result=results["mit"])  # a folder: None
        with pytest.raises(ValueError, match="only with status 'audited'"):
            db.record(scan, "a/b", status="failed", result=results["mit"])
        with pytest.raises(ValueError, match="no scan"):
            db.record(scan + 1, "a/b", status="missing")
        assert db.done_in_scan(scan) == set()
        assert db.repos() == []  # nothing half-written


# -- SIGKILL at random points ----------------------------------------------------------------

CHILD = """
import pickle, sys
from auditor.registry.db import RegistryDB

results = pickle.loads(open(sys.argv[2], "rb").read())
db = RegistryDB(sys.argv[1])
scan = db.begin_scan({"kill": "test"})
done = db.done_in_scan(scan)
print(scan, flush=True)
first = True
while True:
    for i in range(1500):
        repo = f"org/m{i:05d}"
        if first and repo in done:
            continue
        status = "audited" if first or i % 3 else "failed"
        if status == "audited":
            db.record(scan, repo, status=status, revision=f"{i:040x}", result=results[i % 2])
        else:
            db.record(scan, repo, status=status, error="boom")
    first = False
"""


def test_a_scan_killed_at_random_points_stays_consistent_and_resumes(
    tmp_path: Path, results: dict[str, AuditResult]
) -> None:
    path = tmp_path / "r.sqlite3"
    pickled = tmp_path / "results.pickle"
    pickled.write_bytes(pickle.dumps([results["apache"], results["mit"]]))
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    rng = random.Random(7)
    expected = {
        0: (len(results["apache"].components), len(results["apache"].findings)),
        1: (len(results["mit"].components), len(results["mit"].findings)),
    }
    scans: set[int] = set()
    recorded: list[int] = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(6):
        child = subprocess.Popen(
            [sys.executable, str(script), str(path), str(pickled)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdout is not None
        scans.add(int(child.stdout.readline()))
        time.sleep(rng.uniform(0.02, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL

        con = sqlite3.connect(path)
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        assert (
            con.execute(
                "SELECT count(*) FROM (SELECT scan_id, repo_id FROM observations"
                " GROUP BY scan_id, repo_id HAVING count(*) > 1)"
            ).fetchone()[0]
            == 0
        )
        rows = con.execute(
            "SELECT a.repo_id,"
            " (SELECT count(*) FROM components c WHERE c.audit_id = a.id),"
            " (SELECT count(*) FROM findings f WHERE f.audit_id = a.id) FROM audits a"
        ).fetchall()
        for repo_id, n_components, n_findings in rows:  # every audit whole
            assert (n_components, n_findings) == expected[int(repo_id[-5:]) % 2], repo_id
        assert len(rows) == len({r[0] for r in rows})
        # Every observation has its repos row, derived from it.
        assert (
            con.execute(
                "SELECT count(*) FROM observations o JOIN repos r USING (repo_id)"
                " WHERE r.last_status != o.status"
            ).fetchone()[0]
            == 0
        )
        recorded.append(con.execute("SELECT count(*) FROM observations").fetchone()[0])
        con.close()
    assert len(scans) == 1, "every restart resumed the killed scan"
    assert recorded == sorted(recorded) and recorded[-1] > 0
    with RegistryDB(path) as db:
        assert db.begin_scan({"kill": "test"}) == scans.pop()
        assert db.integrity() == []


# -- changes ---------------------------------------------------------------------------------


@pytest.fixture
def history(tmp_path: Path, results: dict[str, AuditResult]) -> Path:
    """Three nightly scans of seven repos, one change of each kind."""
    clock = Clock()
    path = tmp_path / "history.sqlite3"
    params = {"author": "acme"}
    with RegistryDB(path, now=clock) as db:
        clock.day(1)
        s = db.begin_scan(params)
        db.record(s, "acme/relicensed", status="audited", revision=R1, result=results["apache"])
        db.record(s, "acme/fixed", status="audited", revision=R1, result=results["mit"])
        db.record(s, "acme/grown", status="audited", revision=R1, result=results["apache"])
        db.record(s, "acme/vault", status="audited", revision=R1, result=results["apache"])
        db.record(s, "acme/hidden", status="audited", revision=R1, result=results["apache"])
        db.record(s, "acme/gone", status="audited", revision=R1, result=results["apache"])
        db.record(s, "acme/returns", status="gated")
        db.record(s, "acme/steady", status="audited", revision=R1, result=results["apache"])
        db.finish_scan(s)

        clock.day(2)
        s = db.begin_scan(params)
        db.record(s, "acme/relicensed", status="unchanged")
        db.record(s, "acme/steady", status="unchanged")
        db.finish_scan(s)

        clock.day(3)
        s = db.begin_scan(params)
        db.record(s, "acme/relicensed", status="audited", revision=R2, result=results["mit"])
        db.record(s, "acme/fixed", status="audited", revision=R2, result=results["apache"])
        db.record(s, "acme/grown", status="audited", revision=R2, result=results["apache+code"])
        db.record(s, "acme/vault", status="gated")
        db.record(s, "acme/hidden", status="private")
        db.record(s, "acme/gone", status="missing")
        db.record(s, "acme/returns", status="audited", revision=R3, result=results["apache"])
        db.record(s, "acme/broken", status="failed", error="HTTP 500 from the Hub (3 retries)")
        db.record(s, "acme/steady", status="unchanged")
        db.finish_scan(s)
    return path


def _by_repo(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {r["repo_id"]: r["changes"] for r in doc["repos"]}


def test_changes_json_lists_each_kind_of_change(history: Path) -> None:
    out = run("changes", "--db", str(history), "--format", "json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    jsonschema.Draft202012Validator(_schema("changes")).validate(doc)
    assert doc["since"]["scan_id"] == 2 and doc["latest"]["scan_id"] == 3
    changed = _by_repo(doc)
    assert "acme/steady" not in changed
    (license,) = [c for c in changed["acme/relicensed"] if c["kind"] == "license"]
    assert license == {
        "kind": "license",
        "component": "model",
        "old": "apache-2.0",
        "new": "mit",
        "old_revision": R1,  # the audit that stood at scan 2 (unchanged since scan 1)
        "new_revision": R2,
        "severity": "warning",
        "detail": "now under the permissive mit; declared: apache-2.0 → mit",
    }
    (new,) = [c for c in changed["acme/relicensed"] if c["kind"] == "finding-new"]
    assert new["severity"] == "error" and "license-text-missing" in new["detail"]
    assert (new["old_revision"], new["new_revision"]) == (R1, R2)
    kinds = {repo: [c["kind"] for c in found] for repo, found in changed.items()}
    assert kinds["acme/fixed"] == ["license", "finding-resolved"]
    # train.py's SPDX tag: a code component under the LICENSE (the tagged file keeps its own
    # license as file-level evidence), without MIT's text.
    assert kinds["acme/grown"] == ["component-added", "finding-new"]
    assert changed["acme/grown"][0]["component"] == "code"
    assert changed["acme/grown"][0]["new"] == "apache-2.0"
    assert changed["acme/grown"][0]["severity"] == "warning"
    assert kinds["acme/vault"] == ["gated"]
    assert changed["acme/vault"][0]["old"] == "audited"
    assert kinds["acme/hidden"] == ["private"]
    assert kinds["acme/gone"] == ["missing"]
    assert kinds["acme/returns"] == ["back"]
    assert changed["acme/returns"][0]["old"] == "gated"
    assert kinds["acme/broken"] == ["new-repo", "failed"]
    assert changed["acme/broken"][1]["detail"] == "HTTP 500 from the Hub (3 retries)"
    assert doc["summary"]["worst"] == "error"
    # Byte-stable: the same database gives the same bytes.
    assert run("changes", "--db", str(history), "--format", "json").stdout == out.stdout


def test_changes_since_a_scan_or_a_date(history: Path) -> None:
    with RegistryDB(history, create=False) as db:
        by_scan = changes(db, 1)
        by_date = changes(db, parse_since("2024-05-02"))  # after the scans started before it
        everything = changes(db, parse_since("2024-04-01"))
        only_last = changes(db, 2)
    assert by_scan == by_date
    assert by_scan.since is not None and by_scan.since.id == 1
    assert {r.repo_id for r in by_scan.repos} == {r.repo_id for r in only_last.repos}
    assert everything.since is None
    assert all(r.changes[0].kind == "new-repo" for r in everything.repos)
    relicensed = {r.repo_id: r for r in everything.repos}["acme/relicensed"]
    assert [c.kind for c in relicensed.changes] == ["new-repo"]  # compared with nothing
    assert parse_since("2024-05-02T03:04Z") == "2024-05-02T03:04:00Z"
    assert parse_since("2024-05-02T05:04:00+02:00") == "2024-05-02T03:04:00Z"
    with pytest.raises(ValueError):
        parse_since("yesterday")
    out = run("changes", "--db", str(history), "--since", "yesterday")
    assert out.exit_code == 2 and "--since" in out.stderr
    out = run("changes", "--db", str(history), "--since", "99")
    assert out.exit_code == 2 and "no scan 99" in out.stderr


def test_changes_text_is_grouped_by_repo(history: Path) -> None:
    out = run("changes", "--db", str(history))
    assert out.exit_code == 0, out.output
    text = out.stdout
    assert "since scan 2 (2024-05-02T02:00:00Z, complete), up to scan 3" in text
    assert (
        "acme/relicensed  (unchanged 111111111111 → audited 222222222222)\n"
        "  W license   model: Apache License 2.0 (apache-2.0) → MIT License (mit)"
        "  (111111111111 → 222222222222)\n"
    ) in text
    assert "  E + finding [model] error license-text-missing README.md: " in text
    assert "acme/fixed" in text and "  - finding [model] error license-text-missing" in text
    assert "acme/vault  (audited 111111111111 → gated)\n    gated: now gated\n" in text
    assert "acme/gone  (audited 111111111111 → missing)\n    missing: vanished" in text
    assert "    back: gated → audited" in text
    assert "    failed: HTTP 500 from the Hub (3 retries)" in text
    assert "acme/steady" not in text
    assert text.endswith("\n8 repos changed\n")


def test_changes_csv_has_one_row_per_change(history: Path, tmp_path: Path) -> None:
    target = tmp_path / "changes.csv"
    out = run("changes", "--db", str(history), "--format", "csv", "-o", str(target))
    assert out.exit_code == 0 and out.stdout == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert list(rows[0]) == [
        "repo_id",
        "kind",
        "component",
        "old",
        "new",
        "old_revision",
        "new_revision",
        "detail",
    ]
    license = [r for r in rows if r["repo_id"] == "acme/relicensed" and r["kind"] == "license"]
    assert [
        (r["component"], r["old"], r["new"], r["old_revision"], r["new_revision"]) for r in license
    ] == [("model", "apache-2.0", "mit", R1, R2)]
    resolved = [r for r in rows if r["kind"] == "finding-resolved"]
    assert [r["repo_id"] for r in resolved] == ["acme/fixed"]
    assert re.fullmatch(r"[0-9a-f]{16}", resolved[0]["old"]) and resolved[0]["new"] == ""
    assert {
        r["kind"] for r in rows if r["repo_id"] in ("acme/vault", "acme/hidden", "acme/gone")
    } == {
        "gated",
        "private",
        "missing",
    }
    with RegistryDB(history, create=False) as db:
        assert len(rows) == sum(len(r.changes) for r in changes(db).repos)


def test_changes_fail_on(history: Path, tmp_path: Path) -> None:
    assert run("changes", "--db", str(history), "--fail-on", "error").exit_code == 1
    assert run("changes", "--db", str(history), "--fail-on", "never").exit_code == 0
    # Only gated/missing changes: nothing ranked, exit 0 even with --fail-on warning.
    clock = Clock()
    path = tmp_path / "quiet.sqlite3"
    with RegistryDB(path, now=clock) as db:
        for day, status in ((1, "missing"), (2, "gated")):
            clock.day(day)
            s = db.begin_scan({})
            db.record(s, "acme/x", status=status)
            db.finish_scan(s)
    out = run("changes", "--db", str(path), "--fail-on", "warning", "--format", "json")
    assert out.exit_code == 0
    assert [c["kind"] for c in _by_repo(json.loads(out.stdout))["acme/x"]] == ["gated"]


def test_no_changes(tmp_path: Path, results: dict[str, AuditResult]) -> None:
    path = tmp_path / "r.sqlite3"
    with RegistryDB(path) as db:
        for _ in range(2):
            s = db.begin_scan({})
            db.record(s, "acme/x", status="audited", revision=R1, result=results["apache"])
            db.finish_scan(s)
    out = run("changes", "--db", str(path))
    assert out.exit_code == 0 and out.stdout.endswith("\n\nno changes\n")


# -- report ----------------------------------------------------------------------------------


def test_report_json_and_csv(history: Path) -> None:
    out = run("report", "--db", str(history), "--format", "json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    jsonschema.Draft202012Validator(_schema("report")).validate(doc)
    repos = {r["repo_id"]: r for r in doc["repos"]}
    assert list(repos) == sorted(repos)
    relicensed = repos["acme/relicensed"]
    assert (relicensed["status"], relicensed["revision"], relicensed["audited_revision"]) == (
        "audited",
        R2,
        R2,
    )
    assert relicensed["scanned_at"] == "2024-05-03T02:00:00Z" and relicensed["scan_id"] == 3
    assert relicensed["components"] == [
        {"name": "model", "kind": "model", "concluded": "mit", "declared": ["mit"]}
    ]
    assert relicensed["findings"] == {"error": 1, "warning": 0, "note": 0}
    vault = repos["acme/vault"]
    assert (vault["status"], vault["revision"], vault["audited_revision"]) == ("gated", None, R1)
    broken = repos["acme/broken"]
    assert broken["error"].startswith("HTTP 500") and broken["components"] == []
    assert broken["findings"] is None
    assert run("report", "--db", str(history), "--format", "json").stdout == out.stdout

    out = run("report", "--db", str(history))
    assert out.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    grown = [r for r in rows if r["repo_id"] == "acme/grown"]
    assert [(r["component"], r["concluded"]) for r in grown] == [
        ("code", "apache-2.0"),
        ("model", "apache-2.0"),
    ]
    assert {r["errors"] for r in grown} == {"1"}
    (broken_row,) = [r for r in rows if r["repo_id"] == "acme/broken"]
    assert broken_row["status"] == "failed" and broken_row["component"] == ""
    assert broken_row["error"].startswith("HTTP 500")


@pytest.fixture
def hub_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """As tests/test_hub_source.py: no token, telemetry or offline mode; fast retries."""
    isolate_client(monkeypatch, tmp_path, max_wait=2.0)
    yield


def test_report_bom_reaudits_each_repo_at_its_revision(
    hub_env: None, repos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_files = read_tree(repos["apache"])
    with HubServer([HubRepo("acme/tiny", old_files)]) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        old_sha = hub.sha("acme/tiny")
        path = tmp_path / "r.sqlite3"
        with RegistryDB(path) as db:
            s = db.begin_scan({})
            result = run_audit(f"hf://acme/tiny@{old_sha}")
            assert result.inventory.revision == old_sha
            db.record(s, "acme/tiny", status="audited", result=result)
            db.record(s, "acme/never", status="private")
            db.finish_scan(s)
        # The Hub moved on (MIT now): the BOM is of the recorded revision.
        hub.put(HubRepo("acme/tiny", {**old_files, "README.md": _card("mit").encode()},
                        revisions={"old": old_files}))  # fmt: skip
        assert hub.sha("acme/tiny") != old_sha and hub.sha("acme/tiny", "old") == old_sha
        out_dir = tmp_path / "boms"
        out = run(
            "report", "--db", str(path), "--bom", "spdx-json,cyclonedx-json",
            "--bom", "spdx3-jsonld", "--output-dir", str(out_dir),
        )  # fmt: skip
        assert out.exit_code == 0, out.output
        assert out.stdout == ""  # with --bom, the report only with --output
        assert "acme/never: never audited, no BOM" in out.stderr
        assert sorted(p.name for p in out_dir.iterdir()) == [
            "acme_tiny.cdx.json",
            "acme_tiny.spdx.json",
            "acme_tiny.spdx3.json",
        ]
        spdx = json.loads((out_dir / "acme_tiny.spdx.json").read_text())
        licenses = {p.get("licenseConcluded") for p in spdx["packages"]}
        assert "Apache-2.0" in licenses and "MIT" not in licenses
        cdx = (out_dir / "acme_tiny.cdx.json").read_text()
        assert "Apache-2.0" in cdx and old_sha in cdx + json.dumps(spdx)

        # A revision the Hub no longer has: named on stderr, exit 3, the others written.
        with RegistryDB(path) as db:
            s = db.begin_scan({"again": 1})
            db.record(s, "acme/lost", status="audited", revision="f" * 40, result=result)
            db.finish_scan(s)
        out = run(
            "report", "--db", str(path), "--bom", "cyclonedx-json",
            "--output-dir", str(tmp_path / "b2"), "-o", str(tmp_path / "report.csv"),
        )  # fmt: skip
        assert out.exit_code == 3
        assert "acme/lost" in out.stderr
        assert (tmp_path / "b2" / "acme_tiny.cdx.json").is_file()
        assert "acme/lost" in (tmp_path / "report.csv").read_text()


def test_report_usage_errors(history: Path) -> None:
    out = run("report", "--db", str(history), "--bom", "spdx-tv", "--output-dir", "x")
    assert out.exit_code == 2 and "unknown BOM format" in out.stderr
    out = run("report", "--db", str(history), "--bom", "spdx-json")
    assert out.exit_code == 2 and "--output-dir" in out.stderr
