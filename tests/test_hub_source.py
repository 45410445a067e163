"""The Hub source (``hf://``) against a local Hub (tests/hub_server.py), through the real client.

Nothing here leaves 127.0.0.1: ``HF_ENDPOINT`` points the source at the test
server, read when the audit starts (huggingface_hub reads it only at import).
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, materialize
from generate import gguf_bytes, safetensors_bytes
from hub_server import HubRepo, HubServer, isolate_client

from auditor import __version__
from auditor.cli import cli
from auditor.errors import SourceError, UsageError
from auditor.formats import FORMATS
from auditor.model import AuditResult, FileKind
from auditor.pipeline import Options, run_audit
from auditor.sources import open_source
from auditor.sources.hub import MIB, HubSource

TOKEN = "hf_TestTokenThatMustNeverBeShown1234"
BIG = 24 * MIB  # weights larger than the header budget


@pytest.fixture(autouse=True)
def hub_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No token, telemetry or offline mode from the developer's machine; fast retries."""
    isolate_client(monkeypatch, tmp_path)


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., HubServer]]:
    """Start a Hub serving some repos, with HF_ENDPOINT pointing at it."""
    servers: list[HubServer] = []

    def start(*repos: HubRepo) -> HubServer:
        hub = HubServer(repos).start()
        servers.append(hub)
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        return hub

    yield start
    for hub in servers:
        hub.stop()


@pytest.fixture(scope="module")
def local_repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hub-fixtures")
    return {name: materialize(name, root / name) for name in ("example-model", "deepseek-model")}


def _card(license_id: str) -> bytes:
    return f"---\nlicense: {license_id}\n---\n# A model\n\nWeights for tests.\n".encode()


def _summary(result: AuditResult) -> dict[str, object]:
    """What must not depend on where the files came from."""
    return {
        "components": [
            (c.name, c.kind.value, sorted(c.files), c.concluded, c.reason)
            for c in result.components
        ],
        "findings": sorted((f.rule, f.path or "", f.message) for f in result.findings),
        "files": [
            (f.path, f.size, f.kind.value, f.format, f.header, f.lfs)
            for f in result.inventory.files
        ],
        "skipped": [(s.path, s.reason) for s in result.skipped],
        "detections": sorted(
            (d.key, d.evidence[0].path, d.evidence[0].start_line, d.evidence[0].method.value)
            for d in result.detections
        ),
        "base_models": [(b.name, b.relation, b.license) for b in result.base_models],
        "openness": result.openness,
    }


def _resolves(hub: HubServer, repo_id: str, kind: str = "model") -> list[str]:
    return [r.path or "" for r in hub.requests(repo_id, route="resolve", kind=kind)]


# -- Done when: the same audit as the local folder --------------------------------------


@pytest.mark.parametrize("name", ["example-model", "deepseek-model"])
def test_hub_audit_matches_the_local_audit(
    name: str, local_repos: dict[str, Path], serve: Callable[..., HubServer]
) -> None:
    local = local_repos[name]
    hub = serve(HubRepo.from_dir(f"acme/{name}", local))
    source = open_source(f"hf://acme/{name}")
    assert isinstance(source, HubSource)
    result = run_audit(source)
    expected = run_audit(str(local))
    assert _summary(result) == _summary(expected)
    assert result.components and result.detections
    assert result.inventory.root == f"hf://acme/{name}"
    assert result.inventory.revision == hub.sha(f"acme/{name}")
    # weights carry the Hub's LFS sha256, without a byte read for it
    for entry in result.inventory.files:
        if entry.kind is FileKind.WEIGHTS:
            assert entry.sha256 == hashlib.sha256((local / entry.path).read_bytes()).hexdigest()
    # one info request, then each file read at most once, all pinned to the commit
    fetched = _resolves(hub, f"acme/{name}")
    assert len(fetched) == len(set(fetched))
    assert {r.revision for r in hub.requests(route="resolve")} == {result.inventory.revision}
    assert len(hub.requests(route="info")) == 1
    assert source.stats.requests == len(hub.log) == 1 + len(fetched)
    assert all(r.user_agent.startswith(f"auditor/{__version__}") for r in hub.log)


def test_revision_pinning(serve: Callable[..., HubServer]) -> None:
    weights = safetensors_bytes()
    repo = HubRepo(
        "acme/switch",
        {"README.md": _card("apache-2.0"), "model.safetensors": weights},
        revisions={
            "v1": {"README.md": _card("mit"), "model.safetensors": weights},
            "refs/pr/1": {"README.md": _card("bsd-3-clause"), "model.safetensors": weights},
        },
    )
    hub = serve(repo)
    v1 = hub.sha("acme/switch", "v1")
    main = run_audit("hf://acme/switch")
    old = run_audit("hf://acme/switch@v1")
    by_sha = run_audit(f"hf://acme/switch@{v1}")
    concluded = {
        r.inventory.revision: {c.name: c.concluded for c in r.components} for r in (main, old)
    }
    assert concluded == {hub.sha("acme/switch"): {"model": "apache-2.0"}, v1: {"model": "mit"}}
    assert by_sha.inventory.revision == v1
    assert {c.concluded for c in by_sha.components} == {"mit"}
    pr = run_audit("hf://acme/switch@refs/pr/1")
    assert {c.concluded for c in pr.components} == {"bsd-new"}
    # a revision name is resolved once, by repo info; files are fetched by commit sha
    shas = {hub.sha("acme/switch", name) for name in ("main", "v1", "refs/pr/1")}
    assert {r.revision for r in hub.requests(route="resolve")} == shas


# -- weights: bounded header reads, never downloaded ---------------------------------


def _big_weights() -> dict[str, bytes]:
    st = safetensors_bytes({"license": "apache-2.0", "format": "pt"}, tensors=4)
    gguf = gguf_bytes({"general.name": "Tiny", "general.license": "mit", "llama.block_count": 2})
    return {
        "README.md": _card("apache-2.0"),
        "model.safetensors": st + bytes(BIG - len(st)),
        "model-q4.gguf": gguf + bytes(BIG - len(gguf)),
        "config.json": b'{"model_type": "llama"}',
    }


def test_weights_are_read_only_up_to_their_header(serve: Callable[..., HubServer]) -> None:
    files = _big_weights()
    hub = serve(HubRepo("acme/big", files))
    source = HubSource("hf://acme/big")
    result = run_audit(source)
    entries = result.inventory.by_path()
    assert ("license", "apache-2.0") in entries["model.safetensors"].header
    assert entries["model.safetensors"].format == "safetensors"
    assert ("general.license", "mit") in entries["model-q4.gguf"].header
    assert entries["model-q4.gguf"].format == "gguf"
    for path in ("model.safetensors", "model-q4.gguf"):
        assert entries[path].sha256 == hashlib.sha256(files[path]).hexdigest()
        assert entries[path].size == BIG
        assert 0 < hub.bytes_served("acme/big", path) <= HubSource.header_budget
        assert _resolves(hub, "acme/big").count(path) == 1  # one range request each
    assert hub.bytes_served("acme/big", "model.safetensors") <= 64 * 1024
    assert hub.bytes_served("acme/big", "model-q4.gguf") <= MIB
    assert all(r.status == 206 for r in hub.requests("acme/big", "model.safetensors"))
    # GGUF metadata became a license detection, as from a local file
    methods = {(d.key, d.evidence[0].path, d.evidence[0].method.value) for d in result.detections}
    assert ("mit", "model-q4.gguf", "weights-metadata") in methods
    assert not result.skipped
    assert source.stats.bytes == sum(r.bytes for r in hub.log)


def test_a_header_larger_than_the_budget_is_skipped_with_a_note(
    serve: Callable[..., HubServer],
) -> None:
    budget = 256 * 1024
    gguf = gguf_bytes({"general.name": "x" * (2 * budget), "general.license": "mit"})
    st = safetensors_bytes({"notes": "y" * (2 * budget)})
    hub = serve(
        HubRepo(
            "acme/fat-headers",
            {"a.gguf": gguf + bytes(MIB), "b.safetensors": st + bytes(MIB), "README.md": b"hi"},
        )
    )
    result = run_audit(HubSource("hf://acme/fat-headers", header_budget=budget))
    skipped = {s.path: s.reason for s in result.skipped}
    assert skipped == {
        "a.gguf": "weights header not fetched: header larger than 256 KiB",
        "b.safetensors": "weights header not fetched: header larger than 256 KiB",
    }
    entries = result.inventory.by_path()
    assert entries["a.gguf"].format == "gguf" and entries["a.gguf"].kind is FileKind.WEIGHTS
    assert entries["b.safetensors"].format == "safetensors"
    for path in ("a.gguf", "b.safetensors"):
        assert hub.bytes_served("acme/fat-headers", path) <= budget


def test_bom_reuses_the_lfs_sha256_and_downloads_no_weights(
    serve: Callable[..., HubServer], tmp_path: Path
) -> None:
    files = _big_weights()
    hub = serve(HubRepo("acme/big", files))
    args = ["scan", "hf://acme/big", "--format", "spdx-json,cyclonedx-json"]
    out = CliRunner().invoke(
        cli, [*args, "--output-dir", str(tmp_path), "--fail-on", "never"], catch_exceptions=False
    )
    assert out.exit_code == 0, out.output
    spdx = json.loads((tmp_path / "acme_big.spdx.json").read_text())
    cdx = json.loads((tmp_path / "acme_big.cdx.json").read_text())
    weights = ("model-q4.gguf", "model.safetensors")
    # SPDX 2.3 wants a SHA1 per file, which only a download gives: the model package
    # says which files it could not analyze; the small files are hashed
    (model,) = [p for p in spdx["packages"] if p["name"] == "big (model)"]
    assert model["filesAnalyzed"] is False
    assert "no SHA1 for model-q4.gguf, model.safetensors" in model["comment"]
    (readme,) = spdx["files"]
    assert {c["algorithm"]: c["checksumValue"] for c in readme["checksums"]} == {
        "SHA1": hashlib.sha1(files["README.md"]).hexdigest(),
        "SHA256": hashlib.sha256(files["README.md"]).hexdigest(),
    }
    # the LFS sha256 from the Hub's metadata, in the CycloneDX ML-BOM
    hashes: dict[str, str] = {}

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "hashes" in node:
                hashes[node["name"]] = node["hashes"][0]["content"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(cdx)
    for path in weights:
        assert hashes[path] == hashlib.sha256(files[path]).hexdigest()
        assert hub.bytes_served("acme/big", path) <= MIB
    fetched = _resolves(hub, "acme/big")
    assert sorted(fetched) == ["README.md", "config.json", *weights]


def test_checksums_of_weights_beyond_the_budget_are_refused_without_fetching(
    serve: Callable[..., HubServer],
) -> None:
    hub = serve(HubRepo("acme/big", _big_weights()))
    source = HubSource("hf://acme/big")
    result = run_audit(source, Options(checksums=("sha1", "sha256"), checksum_cache=False))
    before = hub.bytes_served("acme/big", "model.safetensors")
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["model.safetensors"].startswith("cannot hash: weights of 25165824 bytes")
    with source.reader("model.safetensors") as read_at, pytest.raises(OSError) as info:
        read_at(10 * MIB, 10)
    assert info.value.errno == errno.EFBIG
    assert hub.bytes_served("acme/big", "model.safetensors") == before


# -- the token -------------------------------------------------------------------------


def test_token_is_sent_but_never_shown(
    serve: Callable[..., HubServer],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    local_repos: dict[str, Path],
) -> None:
    hub = serve(
        HubRepo.from_dir(
            "acme/private", local_repos["example-model"], private=True, tokens={TOKEN}
        ),
        HubRepo("acme/gated", {"README.md": _card("mit")}, gated="manual"),
    )
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hf_logger = logging.getLogger("huggingface_hub")
    monkeypatch.setattr(hf_logger, "level", logging.DEBUG)
    hf_logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.DEBUG):
            result = run_audit("hf://acme/private", Options(checksums=("sha256",)))
            with pytest.raises(SourceError) as gated:
                run_audit("hf://acme/gated")
    finally:
        hf_logger.removeHandler(caplog.handler)
    assert {r.authorization for r in hub.log} == {f"Bearer {TOKEN}"}
    rendered = b"".join(FORMATS.get(name)().render(result) for name in ("json", "text", "sarif"))
    assert result.components and TOKEN.encode() not in rendered
    assert caplog.records and TOKEN not in caplog.text
    assert "gated" in str(gated.value) and TOKEN not in str(gated.value)
    assert TOKEN not in repr(vars(result.inventory))


def test_cli_never_prints_the_token_even_verbose(
    serve: Callable[..., HubServer], local_repos: dict[str, Path]
) -> None:
    hub = serve(
        HubRepo.from_dir(
            "acme/private", local_repos["example-model"], private=True, tokens={TOKEN}
        ),
        HubRepo("acme/gated", {"README.md": _card("mit")}, gated=True),
    )
    env = {**os.environ, "HF_TOKEN": TOKEN, "HF_ENDPOINT": hub.endpoint, "HF_DEBUG": "1"}
    ok = _auditor(env, "-vv", "scan", "hf://acme/private", "--format", "json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["target"] == "hf://acme/private"
    gated = _auditor(env, "-vv", "scan", "hf://acme/gated")
    assert gated.returncode == 3
    for proc in (ok, gated):
        assert TOKEN not in proc.stdout + proc.stderr


def _auditor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


# -- errors: one clear line, exit 3 --------------------------------------------------


def test_gated_repo_without_access_exits_3_with_a_clear_message(
    serve: Callable[..., HubServer],
) -> None:
    hub = serve(
        HubRepo(
            "acme/gated",
            {"README.md": _card("llama3"), "model.safetensors": safetensors_bytes()},
            gated="manual",
            tokens={TOKEN},
        )
    )
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint}
    proc = _auditor(env, "scan", "hf://acme/gated")
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert proc.stderr.startswith("auditor: error: hf://acme/gated: gated repo")
    assert "access" in proc.stderr and "HF_TOKEN" in proc.stderr
    statuses = [r.status for r in hub.requests(route="resolve")]
    assert statuses == [401]  # one probe, not a request per file
    # with a token that was granted access, the same repo is audited
    granted = _auditor({**env, "HF_TOKEN": TOKEN}, "scan", "hf://acme/gated", "--fail-on", "never")
    assert granted.returncode == 0, granted.stderr


def test_gated_with_a_token_lacking_access_is_403(
    serve: Callable[..., HubServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = serve(HubRepo("acme/gated", {"README.md": b"x"}, gated="auto", tokens={"other"}))
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with pytest.raises(SourceError) as info:
        run_audit("hf://acme/gated")
    assert str(info.value) == (
        "hf://acme/gated: gated repo, and the token in use (HF_TOKEN) has not been granted "
        "access: request it on the repo's Hub page"
    )
    assert [r.status for r in hub.requests(route="resolve")] == [403]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "hf://acme/nothing-here",
            "hf://acme/nothing-here: repository not found, or private and set HF_TOKEN "
            "to a token that has access",
        ),
        ("hf://acme/tiny@no-such-branch", "hf://acme/tiny: revision 'no-such-branch' not found"),
        (
            "hf://acme/private",
            "hf://acme/private: repository not found, or private and set HF_TOKEN "
            "to a token that has access",
        ),
        (
            "hf://datasets/acme/tiny",
            "hf://datasets/acme/tiny: repository not found, or private and set HF_TOKEN "
            "to a token that has access",
        ),
    ],
)
def test_missing_repo_or_revision_exits_3(
    target: str, message: str, serve: Callable[..., HubServer]
) -> None:
    serve(
        HubRepo("acme/tiny", {"README.md": b"hi"}),
        HubRepo("acme/private", {"README.md": b"hi"}, private=True, tokens={TOKEN}),
    )
    out = CliRunner().invoke(cli, ["scan", target])
    assert out.exit_code == 3
    assert out.output == f"auditor: error: {message}\n"


@pytest.mark.parametrize(
    "target",
    ["hf://", "hf://acme/a/b", "hf://spaces/acme/demo", "hf://acme/../x", "hf://acme/x@"],
)
def test_malformed_targets_are_usage_errors(target: str) -> None:
    with pytest.raises(UsageError):
        open_source(target)
    out = CliRunner().invoke(cli, ["scan", target])
    assert out.exit_code == 2


def test_an_unreachable_hub_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://user:secret@127.0.0.1:{port}")
    with pytest.raises(SourceError) as info:
        run_audit(HubSource("hf://acme/tiny", max_attempts=2))
    assert str(info.value) == (
        f"hf://acme/tiny: cannot reach the Hub at http://127.0.0.1:{port} (connection failed)"
    )


# -- rate limits, server errors, timeouts --------------------------------------------


def test_429_is_retried_after_retry_after(serve: Callable[..., HubServer]) -> None:
    hub = serve(
        HubRepo(
            "acme/busy",
            {"README.md": _card("mit"), "LICENSE": b"MIT"},
            rate_limit=3,
            retry_after=0,
        )
    )
    source = HubSource("hf://acme/busy")
    result = run_audit(source)
    assert [c.concluded for c in result.components] == ["mit"]
    assert [r.status for r in hub.log[:4]] == [429, 429, 429, 200]
    assert source.stats.retries == 3
    assert not result.skipped


def test_retry_after_is_waited_for(serve: Callable[..., HubServer]) -> None:
    serve(HubRepo("acme/busy", {"README.md": b"hi"}, rate_limit=1, retry_after=1))
    source = HubSource("hf://acme/busy")
    run_audit(source)
    assert source.stats.waited == 1.0 and source.stats.retries == 1


def test_a_retry_after_beyond_the_wait_budget_fails_at_once(
    serve: Callable[..., HubServer],
) -> None:
    hub = serve(HubRepo("acme/busy", {"README.md": b"hi"}, rate_limit=100, retry_after=3600))
    with pytest.raises(SourceError) as info:
        run_audit(HubSource("hf://acme/busy", max_wait=10))
    assert str(info.value) == (
        "hf://acme/busy: rate limited by the Hub (HTTP 429, retry after 3600 s), "
        "gave up after waiting 0 s"
    )
    assert len(hub.log) == 1


def test_one_file_that_cannot_be_fetched_is_skipped(serve: Callable[..., HubServer]) -> None:
    hub = serve(
        HubRepo(
            "acme/partly",
            {
                "README.md": _card("apache-2.0"),
                "LICENSE": b"Apache",
                "NOTICE": b"Copyright 2024 Acme",
                "config.json": b"{}",
                "model.safetensors": safetensors_bytes(),
            },
            fail={"LICENSE": 404, "model.safetensors": 503},
            flaky={"README.md": 2},
            slow={"NOTICE": 2.0},
        )
    )
    source = HubSource("hf://acme/partly", timeout=0.3, max_attempts=3)
    result = run_audit(source)
    assert {s.path: s.reason for s in result.skipped} == {
        "LICENSE": "cannot read: not found on the hub (http 404)",
        "NOTICE": "cannot read: timed out reading from the hub",
        "model.safetensors": "cannot read: the hub answered http 503 (error 503)",
    }
    assert "model.safetensors" in result.inventory.by_path()
    # README.md was retried past its two 500s and read
    assert [r.status for r in hub.requests("acme/partly", "README.md")] == [500, 500, 200]
    assert [c.concluded for c in result.components] == ["apache-2.0"]
    assert len(hub.requests("acme/partly", "LICENSE")) == 1  # a 404 is not retried


# -- datasets, tree listing ------------------------------------------------------------


def test_dataset_repo(serve: Callable[..., HubServer]) -> None:
    card = b"---\nlicense: cc-by-4.0\ntask_categories:\n- text-generation\n---\n# Data\n"
    hub = serve(
        HubRepo(
            "acme/corpus",
            {"README.md": card, "data/train-00000.parquet": b"PAR1" + bytes(2 * MIB)},
            kind="dataset",
        )
    )
    result = run_audit("hf://datasets/acme/corpus")
    assert result.inventory.root == "hf://datasets/acme/corpus"
    assert result.inventory.revision == hub.sha("acme/corpus", kind="dataset")
    entry = result.inventory.by_path()["data/train-00000.parquet"]
    assert entry.kind is FileKind.DATA and entry.sha256 is not None
    assert {r.kind for r in hub.log} == {"dataset"}
    assert _resolves(hub, "acme/corpus", "dataset") == ["README.md"]
    assert any(d.key == "cc-by-4.0" for d in result.detections)


def test_tree_listing_when_repo_info_has_no_sizes(
    serve: Callable[..., HubServer], local_repos: dict[str, Path]
) -> None:
    local = local_repos["deepseek-model"]
    hub = serve(HubRepo.from_dir("acme/deepseek-model", local, files_metadata=False))
    result = run_audit("hf://acme/deepseek-model")
    assert _summary(result) == _summary(run_audit(str(local)))
    assert [r.route for r in hub.log[:2]] == ["info", "tree"]


def test_a_big_tree_is_listed_in_pages(serve: Callable[..., HubServer]) -> None:
    from huggingface_hub import HfApi

    files = {f"shard/{i:04d}.txt": b"x" for i in range(120)}
    hub = serve(HubRepo("acme/many", files))
    api = HfApi(endpoint=hub.endpoint, token=False)
    listed = list(api.list_repo_tree("acme/many", recursive=True, expand=True))
    assert len(listed) == 121  # the folder too
    assert len(hub.requests(route="tree")) == 3  # 50 per page with expand


def test_many_files_cost_no_request_each(serve: Callable[..., HubServer]) -> None:
    files = {f"tokens/{i:05d}.json": b"{}" for i in range(2000)}
    files.update({"README.md": _card("mit"), "model.safetensors": safetensors_bytes()})
    hub = serve(HubRepo("acme/wide", files))
    result = run_audit("hf://acme/wide")
    assert len(result.inventory.files) == 2002
    assert sorted(_resolves(hub, "acme/wide")) == ["README.md", "model.safetensors"]


def test_a_local_scan_does_not_import_the_hub_client() -> None:
    code = (
        "import sys; from auditor.pipeline import run_audit; "
        f"run_audit({str(ROOT / 'fixtures' / 'example-model')!r}); "
        "print('huggingface_hub' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


# -- --upstream hf://: compared by the Hub's sha256, no weight downloaded ----------------


def test_upstream_on_the_hub_is_compared_by_metadata_without_downloading_weights(
    serve: Callable[..., HubServer], tmp_path: Path
) -> None:
    st = safetensors_bytes({"format": "pt"})
    weights = st + bytes(BIG - len(st))
    base_files = {
        "README.md": _card("apache-2.0"),
        "config.json": b'{"model_type": "llama"}\n',
        "model.safetensors": weights,
        "tokenizer.json": b'{"version": "1.0"}\n',
    }
    hub = serve(HubRepo("acme/base", base_files))
    derivative = tmp_path / "tuned"
    derivative.mkdir()
    changed = {**base_files, "model.safetensors": st + b"\1" + bytes(BIG - len(st) - 1)}
    for name, data in changed.items():
        (derivative / name).write_bytes(data)
    result = run_audit(str(derivative), Options(upstream="hf://acme/base"))
    assert result.upstream is not None
    assert result.upstream.revision == hub.sha("acme/base", "main")
    changes = {c.path: c.change for c in result.upstream.changes}
    assert changes == {"model.safetensors": "modified"}  # same-size files told apart by sha256
    assert hub.bytes_served("acme/base", "model.safetensors") <= HubSource.header_budget
    assert "modification-unmarked" in {f.rule for f in result.findings}


def test_listed_names_leading_out_are_not_fetched(serve: Callable[..., HubServer]) -> None:
    """A listing is the server's word: ``../other/LICENSE`` or ``/etc/passwd`` would
    name another repo's file (or a path on the server) once fetched."""
    files = {
        "LICENSE": b"MIT License\n",
        "../victim/LICENSE": b"secret\n",
        "/abs/README.md": b"secret\n",
        "a//b.py": b"secret\n",
        "a/./c.py": b"secret\n",
    }
    hub = serve(HubRepo("acme/odd", files))
    result = run_audit(HubSource("hf://acme/odd"))
    assert [f.path for f in result.inventory.files] == ["LICENSE"]
    assert sorted(s.path for s in result.skipped) == sorted(set(files) - {"LICENSE"})
    assert all("leads out of the repository" in s.reason for s in result.skipped)
    fetched = {r.path for r in hub.requests("acme/odd")}
    assert not fetched & (set(files) - {"LICENSE"})
