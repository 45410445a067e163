"""``auditor registry scan`` against a local Hub (tests/hub_server.py), through the real client.

Nothing leaves 127.0.0.1. A registry of a few dozen small repos (own cards, config,
a tiny safetensors file, ScanCode's MIT text as some repos' LICENSE) is scanned,
changed on the server, and scanned again; a scan is killed with SIGKILL and resumed;
the same scan runs on a Dask LocalCluster.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import FIXTURES
from generate import safetensors_bytes
from hub_server import HubRepo, HubServer, isolate_client

from auditor.cli import cli
from auditor.registry.db import RegistryDB
from auditor.registry.scan import AuditSpec, Outcome, audit_repo, read_ids
from auditor.registry.scan import scan as run_scan
from auditor.sources.hub import HubSource

sys.path.insert(0, str(FIXTURES / "corpus"))
from runner import reference

LICENSES = ("apache-2.0", "mit", "cc-by-4.0", "bigscience-openrail-m", "llama3")
N = 30


@pytest.fixture(autouse=True)
def hub_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No token, telemetry or offline mode from the developer's machine; fast retries."""
    isolate_client(monkeypatch, tmp_path)


def card(license_id: str, extra: str = "") -> bytes:
    return (
        f"---\nlicense: {license_id}\ntags:\n- text-generation\n---\n# A model\n\n"
        f"Weights for registry tests.{extra}\n"
    ).encode()


@pytest.fixture(scope="module")
def mit_text() -> bytes:
    return ("Copyright (c) 2026 Registry Tests\n\n" + reference("scancode:mit")[0]).encode()


def make_repo(i: int, mit_text: bytes, **kwargs: object) -> HubRepo:
    org = ("org-a", "org-b", "org-c")[i % 3]
    files = {
        "README.md": card(LICENSES[i % len(LICENSES)]),
        "config.json": json.dumps({"model_type": "llama", "hidden_size": 64 + i}).encode(),
        "model.safetensors": safetensors_bytes({"format": "pt"}),
    }
    if i % 4 == 0:
        files["LICENSE"] = mit_text
        files["train.py"] = b"# SPDX-License-Identifier: MIT\nprint('training')\n"
    return HubRepo(f"{org}/Model-{i:02d}", files, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, mit_text: bytes) -> Iterator[HubServer]:
    server = HubServer((make_repo(i, mit_text) for i in range(N)), list_page_size=4).start()
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    yield server
    server.stop()


ALL = sorted(f"{('org-a', 'org-b', 'org-c')[i % 3]}/Model-{i:02d}" for i in range(N))


def invoke(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["registry", "scan", "--db", str(db), *args])


def statuses(db_path: Path, scan_id: int | None = None) -> dict[str, str]:
    with RegistryDB(db_path, create=False) as db:
        last = scan_id or db.scans()[-1].id
        return {o.repo_id: o.status for o in db.observations() if o.scan_id == last}


def concluded(db_path: Path) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {}
    with RegistryDB(db_path, create=False) as db:
        for r in db.repos():
            audit = db.audit(r.repo_id, r.last_good_revision) if r.last_good_revision else None
            if audit is not None:
                out[r.repo_id] = {c.name: c.concluded for c in audit.components}
    return out


# -- first scan, re-scan, changes ----------------------------------------------------------


def test_first_scan_audits_all_and_a_rescan_fetches_no_file(hub: HubServer, tmp_path: Path) -> None:
    db = tmp_path / "registry.sqlite3"
    first = invoke(db, *ALL, "--jobs", "4")
    assert first.exit_code == 0, first.output
    assert statuses(db) == dict.fromkeys(ALL, "audited")
    assert "auditor: scan 1: 30 repos: 30 audited in" in first.stderr
    line = next(ln for ln in first.stderr.splitlines() if "org-c/Model-02:" in ln)
    assert line.endswith("org-c/Model-02: audited (cc-by-4.0)")  # the log line names licenses
    models = concluded(db)
    assert models["org-a/Model-00"] == {"code": "mit", "model": "apache-2.0"}
    assert models["org-b/Model-01"]["model"] == "mit"

    hub.clear_log()
    again = invoke(db, *ALL, "--jobs", "4")
    assert again.exit_code == 0, again.output
    assert statuses(db) == dict.fromkeys(ALL, "unchanged")
    assert "30 unchanged" in again.stderr
    # Ten named repos per organization: one listing of each gives every commit, so
    # nothing is asked about any one repo, and no file is fetched.
    assert {r.route for r in hub.log} == {"list"}
    assert sorted({r.query.split("&")[0] for r in hub.log}) == [
        "author=org-a",
        "author=org-b",
        "author=org-c",
    ]

    # Named repos of organizations too small to list: one repo-info request each.
    few = ALL[:2] + ALL[10:12] + ALL[20:22]
    assert len({r.split("/")[0] for r in few}) == 3
    hub.clear_log()
    assert invoke(db, *few).exit_code == 0
    assert {r.route for r in hub.log} == {"info"}
    assert sorted(r.repo_id for r in hub.log) == sorted(few)
    hub.clear_log()
    with RegistryDB(db, create=False) as rdb:
        assert [s.status for s in rdb.scans()] == ["complete", "complete", "complete"]
        assert rdb.last_good("org-a/Model-00") == hub.sha("org-a/Model-00")


def test_license_change_is_audited_and_reported_by_changes(
    hub: HubServer, tmp_path: Path, mit_text: bytes
) -> None:
    db = tmp_path / "r.db"
    assert invoke(db, *ALL).exit_code == 0
    old_sha = hub.sha("org-b/Model-01")
    changed = make_repo(1, mit_text)
    hub.put(HubRepo(changed.repo_id, {**changed.files, "README.md": card("apache-2.0")}))
    new_sha = hub.sha("org-b/Model-01")
    assert new_sha != old_sha
    hub.clear_log()
    result = invoke(db, *ALL)
    assert result.exit_code == 0, result.output
    found = statuses(db)
    assert found.pop("org-b/Model-01") == "audited"
    assert set(found.values()) == {"unchanged"}
    fetched = {r.repo_id for r in hub.log if r.route == "resolve"}
    assert fetched == {"org-b/Model-01"}  # only the changed repo's files were read
    assert concluded(db)["org-b/Model-01"]["model"] == "apache-2.0"

    report = CliRunner().invoke(cli, ["registry", "changes", "--db", str(db), "--format", "json"])
    assert report.exit_code == 0, report.output
    doc = json.loads(report.stdout)
    (repo,) = [r for r in doc["repos"] if r["repo_id"] == "org-b/Model-01"]
    (change,) = [c for c in repo["changes"] if c["kind"] == "license"]
    assert (change["component"], change["old"], change["new"]) == ("model", "mit", "apache-2.0")
    assert (change["old_revision"], change["new_revision"]) == (old_sha, new_sha)
    assert [r["repo_id"] for r in doc["repos"]] == ["org-b/Model-01"]


def test_gated_private_and_vanished_repos_are_recorded(
    hub: HubServer, tmp_path: Path, mit_text: bytes
) -> None:
    db = tmp_path / "r.db"
    assert invoke(db, *ALL).exit_code == 0
    gated, private, gone = "org-a/Model-03", "org-b/Model-04", "org-c/Model-05"
    hub.put(make_repo(3, mit_text, gated="manual"))
    hub.put(make_repo(4, mit_text, private=True, tokens=("hf_other",)))
    hub.remove(gone)
    result = invoke(db, *ALL)
    assert result.exit_code == 0, result.output
    found = statuses(db)
    assert (found[gated], found[private], found[gone]) == ("gated", "private", "missing")
    assert sum(s == "unchanged" for s in found.values()) == N - 3
    with RegistryDB(db, create=False) as rdb:
        errors = {o.repo_id: o.error for o in rdb.observations() if o.scan_id == 2}
        # The repo's last good audit still stands; the error says why this scan had none.
        assert rdb.last_good(gated) is not None
    assert "gated repo" in (errors[gated] or "")
    assert "not found, or private" in (errors[private] or "")
    assert "not found" in (errors[gone] or "")
    assert f"[{N}/{N}]" in result.stderr

    report = CliRunner().invoke(cli, ["registry", "changes", "--db", str(db), "--format", "json"])
    kinds = {
        r["repo_id"]: {c["kind"] for c in r["changes"]} for r in json.loads(report.stdout)["repos"]
    }
    assert kinds == {gated: {"gated"}, private: {"private"}, gone: {"missing"}}

    # Back on the Hub as before: audited again (gated) or unchanged at the old sha.
    hub.put(make_repo(3, mit_text))
    hub.put(make_repo(4, mit_text))
    hub.put(make_repo(5, mit_text))
    assert invoke(db, *ALL).exit_code == 0
    assert set(statuses(db).values()) == {"unchanged"}


def test_a_failing_repo_is_recorded_failed_and_retried(
    hub: HubServer, tmp_path: Path, mit_text: bytes
) -> None:
    db = tmp_path / "r.db"
    broken = "org-c/Model-02"
    hub.put(make_repo(2, mit_text, broken=500))
    result = invoke(db, *ALL, "--no-retry-failed")
    assert result.exit_code == 0, result.output  # one failure does not fail the scan
    attempts = HubSource.max_attempts
    assert len(hub.requests(broken)) == attempts  # HubSource's own retries, no more
    found = statuses(db)
    assert found.pop(broken) == "failed"
    assert set(found.values()) == {"audited"}
    with RegistryDB(db, create=False) as rdb:
        (obs,) = [o for o in rdb.observations(broken)]
        assert obs.error == f"hf://{broken}: the Hub answered HTTP 500 (Internal Error (500))"
        assert rdb.last_good(broken) is None
    assert f"{broken}: failed: hf://{broken}: the Hub answered HTTP 500" in result.stderr
    assert "29 audited, 1 failed" in result.stderr

    # --retry-failed (the default): tried once more at the end of the scan.
    hub.clear_log()
    assert invoke(db, broken).exit_code == 3  # the only repo, and it failed: nothing audited
    assert len(hub.requests(broken)) == 2 * attempts

    # Fixed on the Hub: the next scan audits it (no good audit of its sha exists).
    hub.put(make_repo(2, mit_text))
    result = invoke(db, *ALL)
    assert result.exit_code == 0
    found = statuses(db)
    assert found.pop(broken) == "audited"
    assert set(found.values()) == {"unchanged"}


def test_the_hub_unreachable_exits_3_and_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(HubSource, "max_wait", 0.2)
    from functools import partial

    from huggingface_hub.utils import _pagination

    # The client's own retries, before the first listing (named repos of an organization
    # are listed for their commit shas): waiting out its real backoff took ~24 s.
    quick = partial(_pagination.http_backoff, base_wait_time=0.01, max_wait_time=0.02)
    monkeypatch.setattr(_pagination, "http_backoff", quick)
    db = tmp_path / "r.db"
    result = invoke(db, *ALL[:10], "--jobs", "2")
    assert result.exit_code == 3
    assert f"cannot reach the Hub at http://127.0.0.1:{port}" in result.stderr
    assert "run it again to resume" in result.stderr
    with RegistryDB(db, create=False) as rdb:
        assert [s.status for s in rdb.scans()] == ["running"]  # resumed by the next run
        assert rdb.observations() == []
    listing = invoke(db, "--author", "org-a")
    assert listing.exit_code == 3
    assert "cannot list models on the Hub at" in listing.stderr


# -- which repos ---------------------------------------------------------------------------


def test_author_and_search_use_the_hub_listing(hub: HubServer, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    result = invoke(db, "--author", "org-b")
    assert result.exit_code == 0, result.output
    assert sorted(statuses(db)) == [r for r in ALL if r.startswith("org-b/")]
    pages = [r for r in hub.log if r.route == "list"]
    assert len(pages) == 3  # 10 repos, pages of 4, chained by Link headers
    assert all("author=org-b" in p.query for p in pages)

    db2 = tmp_path / "r2.db"
    result = invoke(db2, "--search", "model-1", "org-a/Model-00")
    assert result.exit_code == 0, result.output
    expected = sorted({r for r in ALL if "Model-1" in r} | {"org-a/Model-00"})
    assert sorted(statuses(db2)) == expected
    both = invoke(tmp_path / "r3.db", "--author", "org-c", "--search", "2")
    expected = [r for r in ALL if r.startswith("org-c/") and "2" in r.split("/")[1]]
    assert sorted(statuses(tmp_path / "r3.db")) == expected
    assert len(expected) == 5
    assert both.exit_code == 0
    nothing = invoke(tmp_path / "r4.db", "--author", "nobody")
    assert nothing.exit_code == 0
    assert "the Hub lists no repos for author 'nobody'" in nothing.stderr


def test_repo_ids_from_a_file(hub: HubServer, tmp_path: Path) -> None:
    ids = tmp_path / "watch.txt"
    ids.write_text(
        "# our vendors\norg-a/Model-00\n\n  org-b/Model-01   # the chat one\n"
        "hf://org-c/Model-02\norg-a/Model-00\n",
        encoding="utf-8",
    )
    db = tmp_path / "r.db"
    result = invoke(db, "--from-file", str(ids), "org-a/Model-03")
    assert result.exit_code == 0, result.output
    assert sorted(statuses(db)) == [
        "org-a/Model-00",
        "org-a/Model-03",
        "org-b/Model-01",
        "org-c/Model-02",
    ]
    assert read_ids(["a/b # c", "# d", "", " e/f "]) == ["a/b", "e/f"]
    # --progress (the default on a terminal): one line rewritten in place.
    bar = invoke(tmp_path / "bar.db", "--progress", "org-a/Model-00", "org-b/Model-01")
    assert bar.exit_code == 0
    assert "\rauditor: [2/2] " in bar.stderr and "[1/2] org" not in bar.stderr.replace("\r", "\n")
    assert bar.stderr.splitlines()[-1].startswith("auditor: scan 1: 2 repos: 2 audited in")


def test_usage_errors(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    for args, message in [
        ((), "name repos to scan"),
        (("not a repo",), "not a Hub target"),
        (("org/name@v1",), "not a revision"),
        (("--scheduler", "tcp://127.0.0.1:1", "a/b"), "--scheduler needs --executor dask"),
        (("--from-file", str(tmp_path / "missing.txt")), "cannot read"),
        (("--datasets", "a/b"), "--datasets goes with --author or --search"),
    ]:
        result = invoke(db, *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr
    assert not db.exists()


# -- rate limits -------------------------------------------------------------------------


def test_a_429_holds_back_every_thread(hub: HubServer, tmp_path: Path, mit_text: bytes) -> None:
    """A Retry-After seen by one audit makes the others wait too, instead of each
    spending requests against the same limit."""
    hub.put(make_repo(0, mit_text, rate_limit=1, retry_after=1))
    hub.clear_log()
    started = time.monotonic()
    result = invoke(tmp_path / "r.db", *ALL, "--jobs", "4")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 1.0
    (limited,) = [r for r in hub.log if r.status == 429]
    during = [r for r in hub.log if limited.at + 0.25 < r.at < limited.at + 0.9]
    assert during == []  # nobody asked while the gate was closed
    assert set(statuses(tmp_path / "r.db").values()) == {"audited"}


# -- killed and resumed ---------------------------------------------------------------------


def test_a_killed_scan_resumes_with_nothing_lost_or_repeated(
    hub: HubServer, tmp_path: Path, mit_text: bytes
) -> None:
    for i in range(N):  # slow enough to be killed mid-way
        hub.put(make_repo(i, mit_text, slow={"README.md": 0.15}))
    db = tmp_path / "r.db"
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint}
    cmd = [sys.executable, "-m", "auditor", "registry", "scan", "--db", str(db), "--jobs", "2"]
    proc = subprocess.Popen(
        [*cmd, *ALL], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    done: set[str] = set()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(done) < 6:
            time.sleep(0.05)
            if db.exists():
                try:
                    with RegistryDB(db, create=False) as rdb:
                        done = rdb.done_in_scan(1) if rdb.scans() else set()
                except Exception:
                    continue  # created but not yet migrated
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    with RegistryDB(db, create=False) as rdb:
        done = rdb.done_in_scan(1)
        assert 6 <= len(done) < N
        assert [s.status for s in rdb.scans()] == ["running"]

    hub.clear_log()
    again = subprocess.run([*cmd, *ALL], env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert f"auditor: scan 1: {N} repos, resuming: {len(done)} already recorded" in again.stderr
    # The resumed run asked only about the repos the killed one had not recorded.
    assert sorted(r.repo_id for r in hub.log if r.route == "info") == sorted(set(ALL) - done)
    with RegistryDB(db, create=False) as rdb:
        assert [(s.id, s.status) for s in rdb.scans()] == [(1, "complete")]
        observed = [o.repo_id for o in rdb.observations() if o.scan_id == 1]
        assert sorted(observed) == ALL  # every repo once: none lost, none twice
        assert {o.status for o in rdb.observations()} == {"audited"}
        assert all(rdb.audit(r, hub.sha(r)) is not None for r in ALL)
        assert rdb.integrity() == []


# -- Dask ----------------------------------------------------------------------------------


def test_an_outcome_crosses_process_boundaries(hub: HubServer) -> None:
    outcome = audit_repo("org-a/Model-00", None, AuditSpec(endpoint=hub.endpoint))
    assert outcome.status == "audited" and outcome.result is not None
    copy = pickle.loads(pickle.dumps(outcome))
    assert copy == outcome
    assert isinstance(copy, Outcome)
    again = audit_repo("org-a/Model-00", outcome.revision, AuditSpec(endpoint=hub.endpoint))
    assert (again.status, again.result) == ("unchanged", None)


def test_dask_local_cluster_scan(hub: HubServer, tmp_path: Path, mit_text: bytes) -> None:
    distributed = pytest.importorskip("distributed")
    threads_db = tmp_path / "threads.db"
    assert invoke(threads_db, *ALL).exit_code == 0
    hub.put(make_repo(7, mit_text, gated="auto"))
    hub.remove("org-c/Model-08")

    db = tmp_path / "dask.db"
    spec = AuditSpec(endpoint=hub.endpoint)  # passed to the workers with every task
    seen: list[str] = []
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster,
        RegistryDB(db) as rdb,
    ):
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        summary = run_scan(
            rdb,
            ALL,
            {"test": "dask"},
            spec=spec,
            executor="dask",
            scheduler=address,
            progress=lambda p: seen.append(p.outcome.repo_id),
        )
        assert summary.counts == {"audited": N - 2, "gated": 1, "missing": 1}
        assert sorted(seen) == ALL
        hub.clear_log()
        again = run_scan(
            rdb, ALL, {"test": "dask-2"}, spec=spec, executor="dask", scheduler=address
        )
        assert again.counts == {"unchanged": N - 2, "gated": 1, "missing": 1}
        assert {r.repo_id for r in hub.log if r.route == "resolve"} == {"org-b/Model-07"}
    # The workers' audits are the same as this process's.
    expected = concluded(threads_db)
    del expected["org-c/Model-08"], expected["org-b/Model-07"]  # vanished; gated, no access
    assert concluded(db) == expected


def test_dask_cli_with_a_local_cluster(hub: HubServer, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    db = tmp_path / "r.db"
    result = invoke(db, *ALL[:6], "--executor", "dask", "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert statuses(db) == dict.fromkeys(ALL[:6], "audited")


def test_a_listed_rescan_asks_nothing_per_repo(
    hub: HubServer, tmp_path: Path, mit_text: bytes
) -> None:
    """With --author, the listing carries each repo's commit: unchanged repos cost no
    request of their own, a changed one is audited, a gated one is asked about."""
    db = tmp_path / "r.db"
    org_a = [r for r in ALL if r.startswith("org-a/")]
    assert invoke(db, "--author", "org-a").exit_code == 0
    assert statuses(db) == dict.fromkeys(org_a, "audited")

    hub.clear_log()
    again = invoke(db, "--author", "org-a")
    assert again.exit_code == 0, again.output
    assert statuses(db, 2) == dict.fromkeys(org_a, "unchanged")
    assert {r.route for r in hub.log} == {"list"}, [(r.route, r.repo_id, r.query) for r in hub.log]

    changed, gated = org_a[0], org_a[1]
    before = make_repo(int(changed[-2:]), mit_text)
    hub.put(HubRepo(changed, {**before.files, "NOTICE": b"Changed by Example Org.\n"}))
    hub.put(make_repo(int(gated[-2:]), mit_text, gated="manual"))
    hub.clear_log()
    third = invoke(db, "--author", "org-a")
    assert third.exit_code == 0, third.output
    found = statuses(db, 3)
    assert found.pop(changed) == "audited"
    assert found.pop(gated) == "gated"
    assert set(found.values()) == {"unchanged"}
    asked = {r.repo_id for r in hub.log if r.route != "list"}
    assert asked == {changed, gated}
