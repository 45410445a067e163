"""The local Hugging Face Hub cache: snapshots audited offline, LFS blob names reused as sha256.

Caches are laid out here by hand the way huggingface_hub writes them:
``models--ORG--NAME/{blobs,refs,snapshots/<commit>}``, snapshot files being relative
symlinks to blobs named by their sha256 (LFS files) or their git blob id (others).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, materialize, run_cli

import auditor.checksums as checksums_mod
from auditor.errors import UsageError
from auditor.formats import FORMATS
from auditor.formats.json_report import report_dict
from auditor.model import AuditResult
from auditor.pipeline import Options, run_audit
from auditor.sources import expand, open_source
from auditor.sources.hf_cache import HfCacheSource, default_cache, parse_target

COMMIT_A = "a" * 40
COMMIT_B = "b" * 40


def comparable(result: AuditResult) -> dict:  # type: ignore[type-arg]
    report = report_dict(result)
    del report["target"], report["revision"]
    return report


def git_blob_id(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def is_lfs(path: str) -> bool:
    return path.endswith((".safetensors", ".gguf", ".bin"))


def cache_repo(
    hub: Path,
    repo_id: str,
    tree: Path,
    commit: str = COMMIT_A,
    ref: str | None = "main",
    kind: str = "models",
) -> Path:
    """Lay ``tree`` out as snapshot ``commit`` of ``repo_id`` in the cache ``hub``."""
    folder = hub / f"{kind}--{repo_id.replace('/', '--')}"
    blobs = folder / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for file in sorted(tree.rglob("*")):
        if not file.is_file():
            continue
        rel = file.relative_to(tree).as_posix()
        content = file.read_bytes()
        name = hashlib.sha256(content).hexdigest() if is_lfs(rel) else git_blob_id(content)
        (blobs / name).write_bytes(content)
        link = snapshot / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink("../" * (rel.count("/") + 2) + f"blobs/{name}", link)
    if ref is not None:
        (folder / "refs" / ref).parent.mkdir(parents=True, exist_ok=True)
        (folder / "refs" / ref).write_text(commit)
    return folder


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The bundled example with its license texts, in a folder named like the repo."""
    return materialize("example-model", tmp_path / "src" / "example-model")


@pytest.fixture
def hub(tmp_path: Path, example: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache holding acme/example-model (clean) and other/tiny (license texts missing),
    the default cache for these tests (HF_HUB_CACHE)."""
    hub = tmp_path / "hub"
    cache_repo(hub, "acme/example-model", example)
    cache_repo(hub, "other/tiny", FIXTURES / "example-model", commit=COMMIT_B)
    cache_repo(hub, "acme/corpus", example, kind="datasets")  # not a model: not expanded
    (hub / "models--acme--downloading" / "blobs").mkdir(parents=True)  # no snapshot yet
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    return hub


# -- same audit as the folder -------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "hf-cache://acme/example-model",
        "hf-cache://acme/example-model@main",
        f"hf-cache://acme/example-model@{COMMIT_A}",
        f"hf-cache://acme/example-model@{COMMIT_A[:7]}",
        "hf-cache://{hub}/models--acme--example-model",
        f"hf-cache://{{hub}}/models--acme--example-model@{COMMIT_A}",
    ],
)
def test_a_cached_repo_audits_like_the_folder(hub: Path, example: Path, target: str) -> None:
    target = target.replace("{hub}", str(hub))
    options = Options(checksums=("sha1", "sha256"), checksum_cache=False)
    result = run_audit(target, options)
    assert result.target == target
    assert result.inventory.revision == COMMIT_A
    assert result.inventory.root == "hf-cache://acme/example-model"
    assert not result.skipped
    assert comparable(result) == comparable(run_audit(str(example), options))


def test_lfs_blob_names_are_the_sha256_of_the_weights(hub: Path, example: Path) -> None:
    inv = open_source("hf-cache://acme/example-model").inventory()
    weights = (example / "model.safetensors").read_bytes()
    entry = inv.by_path()["model.safetensors"]
    assert entry.sha256 == hashlib.sha256(weights).hexdigest()
    assert (entry.lfs, entry.format, entry.size) == (False, "safetensors", len(weights))
    # A git blob id is no digest of the content: small files get none from their name.
    assert inv.by_path()["README.md"].sha256 is None


def test_no_weight_is_rehashed_for_a_bom(hub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[str] = []
    real = checksums_mod.stream_digests

    def spy(data: object, algorithms: object, **kw: object) -> dict[str, str]:
        hashed.append(str(data) if isinstance(data, (str, os.PathLike)) else "<reader>")
        return real(data, algorithms, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(checksums_mod, "stream_digests", spy)
    for name in ("cyclonedx-json", "spdx3-jsonld"):
        hashed.clear()
        wanted = FORMATS.get(name).needs_checksums
        result = run_audit("hf-cache://acme/example-model", Options(checksums=wanted))
        assert all(f.sha256 for f in result.inventory.files)
        blobs = {Path(p).name for p in hashed}
        assert len(hashed) == len(result.inventory.files) - 1  # all but the weights
        assert not any(len(b) == 64 for b in blobs), hashed
        assert "<reader>" not in hashed  # hashed where they lie (and cached by stat key)


def test_the_whole_cache_expands_to_each_model_repo(hub: Path) -> None:
    assert expand("hf-cache://") == ["hf-cache://acme/example-model", "hf-cache://other/tiny"]
    assert expand(f"hf-cache://{hub}") == [
        f"hf-cache://{hub}/models--acme--example-model",
        f"hf-cache://{hub}/models--other--tiny",
    ]
    assert expand("hf-cache://other/tiny") == ["hf-cache://other/tiny"]
    assert expand(str(hub)) == [str(hub)]
    with pytest.raises(UsageError, match="names every repository of the cache"):
        open_source("hf-cache://")


def test_other_repo_types_are_named_explicitly(hub: Path, example: Path) -> None:
    result = run_audit("hf-cache://datasets/acme/corpus")
    assert result.inventory.root == "hf-cache://datasets/acme/corpus"
    assert len(result.inventory.files) == len(list(example.iterdir()))


# -- partial snapshots and links ------------------------------------------------------


def test_what_is_not_downloaded_is_listed(tmp_path: Path, example: Path) -> None:
    hub = tmp_path / "hub"
    tree = tmp_path / "tree"
    shutil.copytree(example, tree)
    (tree / "model.safetensors").rename(tree / "model-00001-of-00002.safetensors")
    index = {
        "metadata": {"total_size": 64},
        "weight_map": {
            "a": "model-00001-of-00002.safetensors",
            "b": "model-00002-of-00002.safetensors",
        },
    }
    (tree / "model.safetensors.index.json").write_text(json.dumps(index))
    folder = cache_repo(hub, "acme/partial", tree)
    tokenizer = (example / "tokenizer.json").read_bytes()
    (folder / "blobs" / git_blob_id(tokenizer)).unlink()  # its blob is gone
    result = run_audit(f"hf-cache://{hub}/models--acme--partial")
    assert "tokenizer.json" not in result.inventory.by_path()
    assert {(s.path, s.reason) for s in result.inventory.skipped} == {
        (
            "tokenizer.json",
            f"not downloaded: broken symlink -> ../../blobs/{git_blob_id(tokenizer)}",
        ),
        (
            "model-00002-of-00002.safetensors",
            "not downloaded: named by model.safetensors.index.json, not in the cache",
        ),
    }


def test_links_leaving_the_repo_folder_are_refused(tmp_path: Path, example: Path) -> None:
    hub = tmp_path / "hub"
    folder = cache_repo(hub, "acme/example-model", example)
    other = cache_repo(hub, "acme/other", example)
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the report\n")
    snapshot = folder / "snapshots" / COMMIT_A
    os.symlink(os.path.relpath(secret, snapshot), snapshot / "LICENSE-EXTRA")
    os.symlink(str(secret), snapshot / "NOTICE")
    os.symlink(f"../../../{other.name}/blobs/{git_blob_id(b'x')}", snapshot / "other.txt")
    source = HfCacheSource(f"hf-cache://{hub}/models--acme--example-model")
    inv = source.inventory()
    refused = "symlink points outside the repository's cache folder, not followed"
    assert {(s.path, s.reason) for s in inv.skipped} == {
        ("LICENSE-EXTRA", refused),
        ("NOTICE", refused),
        ("other.txt", refused),
    }
    assert not {"LICENSE-EXTRA", "NOTICE", "other.txt"} & set(inv.by_path())
    with pytest.raises(OSError), source.reader("NOTICE") as read_at:
        read_at(0, 10)
    assert source.location("NOTICE") is None


def test_copied_files_without_links_are_audited(tmp_path: Path, example: Path) -> None:
    """huggingface_hub copies instead of linking where symlinks are not available."""
    hub = tmp_path / "hub"
    snapshot = hub / "models--acme--example-model" / "snapshots" / COMMIT_A
    shutil.copytree(example, snapshot)
    result = run_audit(f"hf-cache://{hub}/models--acme--example-model")
    assert result.inventory.revision == COMMIT_A  # the only snapshot, no refs/main
    assert comparable(result) == comparable(run_audit(str(example)))


# -- revisions and errors -------------------------------------------------------------


def test_revisions(tmp_path: Path, example: Path, caplog: pytest.LogCaptureFixture) -> None:
    hub = tmp_path / "hub"
    folder = cache_repo(hub, "acme/m", example, commit=COMMIT_A, ref=None)
    cache_repo(hub, "acme/m", FIXTURES / "example-model", commit=COMMIT_B, ref="refs/pr/1")
    os.utime(folder / "snapshots" / COMMIT_A, ns=(2_000_000_000_000_000_000,) * 2)
    target = f"hf-cache://{hub}/models--acme--m"
    with caplog.at_level(logging.WARNING, logger="auditor"):
        assert HfCacheSource(target).revision == COMMIT_A  # no main: the newest snapshot
    assert "no main ref; auditing snapshot " + COMMIT_A in caplog.text
    assert HfCacheSource(f"{target}@refs/pr/1").revision == COMMIT_B
    (folder / "refs" / "main").write_text(COMMIT_B + "\n")
    assert HfCacheSource(target).revision == COMMIT_B
    assert HfCacheSource(f"{target}@{COMMIT_A}").revision == COMMIT_A
    with pytest.raises(UsageError) as err:
        HfCacheSource(f"{target}@v2")
    assert (
        str(err.value)
        == "acme/m: no revision v2 in the cache (snapshots: aaaaaaaaaaaa, bbbbbbbbbbbb)"
    )
    (folder / "refs" / "stale").write_text("c" * 40)
    with pytest.raises(
        UsageError, match=r"ref stale names snapshot c{40}, which is not in the cache"
    ):
        HfCacheSource(f"{target}@stale")
    with pytest.raises(UsageError, match="not a revision"):
        HfCacheSource(f"{target}@../../../etc/passwd")


def test_usage_errors(hub: Path, tmp_path: Path) -> None:
    cases: dict[str, str] = {
        "hf-cache://acme/nothere": f"acme/nothere is not in the Hugging Face cache at {hub}",
        f"hf-cache://{tmp_path}/nocache/models--a--b": f"no Hugging Face cache at {tmp_path}/nocache",
        "hf-cache://a--b/c": "not a Hugging Face repo id: 'a--b/c' in hf-cache://a--b/c",
        "hf-cache://a/b/c": "not a Hugging Face repo id: 'a/b/c' in hf-cache://a/b/c",
        "hf-cache://acme/example-model@": "hf-cache://acme/example-model@: not a revision: ''",
        f"hf-cache://{hub}@main": f"hf-cache://{hub}@main: @REV needs a repository",
    }
    for target, message in cases.items():
        with pytest.raises(UsageError) as err:
            open_source(target)
        assert str(err.value).startswith(message), (target, str(err.value))
    with pytest.raises(UsageError, match="no Hugging Face cache at"):
        expand(f"hf-cache://{tmp_path}/nocache")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="no model repository in the Hugging Face cache"):
        expand(f"hf-cache://{empty}")


def test_default_cache_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", "/home/u")
    assert default_cache() == Path("/home/u/.cache/huggingface/hub")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg")
    assert default_cache() == Path("/xdg/huggingface/hub")
    monkeypatch.setenv("HF_HOME", "/hf")
    assert default_cache() == Path("/hf/hub")
    monkeypatch.setenv("HF_HUB_CACHE", "/cache")
    assert default_cache() == Path("/cache")
    assert parse_target("hf-cache://").cache == Path("/cache")


# -- the command line -----------------------------------------------------------------


def test_cli_scans_each_repo_of_the_cache(hub: Path, tmp_path: Path) -> None:
    proc = run_cli("scan", "hf-cache://")
    assert proc.returncode == 1, proc.stderr  # the worst: other/tiny lacks its license texts
    heads = [line for line in proc.stdout.splitlines() if line.startswith("auditor ")]
    assert [h.split(": ", 1)[1] for h in heads] == [
        "hf-cache://acme/example-model",
        "hf-cache://other/tiny",
    ]
    assert proc.stdout.count(f"revision {COMMIT_A}") == 1
    assert proc.stdout.count(f"revision {COMMIT_B}") == 1

    out = tmp_path / "reports"
    proc = run_cli(
        "scan",
        f"hf-cache://{hub}",
        "--format",
        "json,cyclonedx-json",
        "--output-dir",
        str(out),
        "--fail-on",
        "never",
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "acme_example-model.cdx.json",
        "acme_example-model.json",
        "other_tiny.cdx.json",
        "other_tiny.json",
    ]
    report = json.loads((out / "other_tiny.json").read_text())
    assert (report["target"], report["revision"]) == (
        f"hf-cache://{hub}/models--other--tiny",
        COMMIT_B,
    )

    for args in (("-o", str(tmp_path / "r.json")), ("--format", "json")):
        proc = run_cli("scan", "hf-cache://", *args)
        assert proc.returncode == 2
        assert proc.stderr == (
            "auditor: WARNING: models--acme--downloading: no snapshot (a download in progress?), "
            "not audited\n"
            "auditor: error: hf-cache:// names 2 repositories: write their reports with "
            "--output-dir (one file per repository and format)\n"
        )


def test_cli_one_cached_repo(hub: Path) -> None:
    proc = run_cli("scan", "hf-cache://acme/example-model@main", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["revision"] == COMMIT_A
    proc = run_cli("scan", "hf-cache://acme/example-model@v9")
    assert proc.returncode == 2
    assert "no revision v9 in the cache" in proc.stderr


def test_upstream_in_the_cache(hub: Path, example: Path) -> None:
    result = run_audit(str(example), Options(upstream="hf-cache://acme/example-model"))
    assert result.upstream is not None
    assert result.upstream.revision == COMMIT_A
    assert result.upstream.changes == ()
