"""The git revision source: a commit's tree read from the object store, never checked out.

Every repository is built here with gitpython; each revision is audited and compared
with the audit of a plain folder holding the same tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import git
import pytest
from conftest import materialize, run_cli
from generate import lfs_pointer, safetensors_bytes

from auditor.errors import SourceError, UsageError
from auditor.formats.json_report import report_dict
from auditor.model import AuditResult
from auditor.pipeline import Options, run_audit
from auditor.sources import git_rev as git_rev_mod
from auditor.sources import open_source
from auditor.sources.git_rev import GitRevisionSource, rev_target, split_target
from auditor.sources.local import LocalSource

MODEL_CARD_V2 = "license: mit"


def comparable(result: AuditResult) -> dict:  # type: ignore[type-arg]
    """The report without what names the target (its path, its revision)."""
    report = report_dict(result)
    del report["target"], report["revision"]
    return report


def new_repo(path: Path) -> git.Repo:
    repo = git.Repo.init(path)
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Test")
        cw.set_value("user", "email", "test@example.org")
        cw.set_value("commit", "gpgsign", "false")
        cw.set_value("tag", "gpgsign", "false")
    return repo


def commit_all(repo: git.Repo, message: str) -> str:
    repo.git.add(A=True)
    repo.git.commit("-q", "-m", message)
    return repo.head.commit.hexsha


def snapshot(src: Path, dest: Path) -> Path:
    """A plain copy of the work tree (no .git): what the revision's tree holds."""
    shutil.copytree(src, dest, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    return dest


@pytest.fixture
def history(tmp_path: Path) -> dict[str, object]:
    """The example repo at v1 (apache-2.0 weights), then v2 (weights relicensed MIT).

    Each revision's tree is also copied to a plain folder named ``repo`` like the
    repository, so that the local audit sees the same name. The work tree is left
    dirty afterwards: revisions must not see it.
    """
    path = materialize("example-model", tmp_path / "repo")
    repo = new_repo(path)
    v1 = commit_all(repo, "v1")
    repo.create_tag("v1")
    repo.create_tag("v1-annotated", message="release 1")
    snapshot(path, tmp_path / "trees-v1" / "repo")
    readme = path / "README.md"
    readme.write_text(readme.read_text().replace("license: apache-2.0", MODEL_CARD_V2))
    (path / "LICENSE-MODEL").write_bytes((path / "LICENSE").read_bytes())
    v2 = commit_all(repo, "weights under MIT")
    snapshot(path, tmp_path / "trees-v2" / "repo")
    # Dirty work tree: an edit, a new file, a deleted file.
    (path / "train.py").write_text("# SPDX-License-Identifier: GPL-3.0-only\n")
    (path / "NOTES.txt").write_text("scratch\n")
    (path / "config.json").unlink()
    return {
        "path": path,
        "repo": repo,
        "v1": v1,
        "v2": v2,
        "tree-v1": tmp_path / "trees-v1" / "repo",
        "tree-v2": tmp_path / "trees-v2" / "repo",
    }


# -- same audit as the local folder -------------------------------------------------


@pytest.mark.parametrize(
    ("rev", "tree"),
    [("v1", "tree-v1"), ("v1-annotated", "tree-v1"), ("HEAD", "tree-v2"), ("HEAD~1", "tree-v1")],
)
def test_a_revision_audits_like_the_folder_holding_its_tree(
    history: dict[str, object], rev: str, tree: str
) -> None:
    path = history["path"]
    result = run_audit(f"{path}@{rev}")
    local = run_audit(str(history[tree]))
    assert comparable(result) == comparable(local)
    expected = history["v1"] if tree == "tree-v1" else history["v2"]
    assert result.inventory.revision == expected
    assert result.target == f"{path}@{rev}"


def test_the_two_revisions_differ_in_the_weights_license(history: dict[str, object]) -> None:
    path = history["path"]
    model = {
        rev: next(c.concluded for c in run_audit(f"{path}@{rev}").components if c.name == "model")
        for rev in ("v1", "HEAD")
    }
    assert model == {"v1": "apache-2.0", "HEAD": "mit"}


def test_a_sha_and_a_short_sha_name_the_commit(history: dict[str, object]) -> None:
    path, v1 = history["path"], str(history["v1"])
    for rev in (v1, v1[:8]):
        assert run_audit(f"{path}@{rev}").inventory.revision == v1


def test_a_bare_repository(history: dict[str, object], tmp_path: Path) -> None:
    bare = tmp_path / "bare" / "repo"
    git.Repo.clone_from(str(history["path"]), str(bare), bare=True)
    result = run_audit(f"{bare}@v1")
    assert result.inventory.revision == history["v1"]
    assert comparable(result) == comparable(run_audit(str(history["tree-v1"])))


def test_symlinks_are_followed_inside_the_tree_only(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    path.mkdir()
    (path / "LICENSE").write_text("MIT text stand-in\n")
    (path / "docs").mkdir()
    (path / "docs" / "guide.md").write_text("# Guide\n")
    os.symlink("LICENSE", path / "LICENSE.txt")  # followed
    os.symlink("docs", path / "manual")  # a folder: not followed
    os.symlink("../../outside.txt", path / "docs" / "outside.txt")  # leaves the tree
    os.symlink("/etc/passwd", path / "passwd")  # absolute: leaves the tree
    os.symlink("missing.txt", path / "dangling")
    os.symlink("loop-b", path / "loop-a")
    os.symlink("loop-a", path / "loop-b")
    os.symlink("manual/guide.md", path / "via-link.md")  # through a folder link, inside
    repo = new_repo(path)
    commit_all(repo, "links")
    inv = GitRevisionSource(f"{path}@HEAD").inventory()
    files = {f.path: f.size for f in inv.files}
    assert files == {
        "LICENSE": 18,
        "LICENSE.txt": 18,
        "docs/guide.md": 8,
        "via-link.md": 8,
    }
    assert {(s.path, s.reason) for s in inv.skipped} == {
        ("manual", "symlink to a directory, not followed (its files are audited where they are)"),
        ("docs/outside.txt", "symlink points outside the repository, not followed"),
        ("passwd", "symlink points outside the repository, not followed"),
        ("dangling", "broken symlink -> missing.txt"),
        ("loop-a", "symlink loop"),
        ("loop-b", "symlink loop"),
    }
    # The local source agrees wherever the link stays inside.
    local = LocalSource(str(path)).inventory()
    assert {f.path: f.size for f in local.files} == files
    assert {s.path for s in local.skipped} == {s.path for s in inv.skipped}
    with GitRevisionSource(f"{path}@HEAD").reader("LICENSE.txt") as read_at:
        assert read_at(0, 3) == b"MIT"


def test_a_submodule_is_listed_as_skipped(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    path.mkdir()
    (path / "README.md").write_text("# x\n")
    repo = new_repo(path)
    commit_all(repo, "one")
    repo.git.update_index("--add", "--cacheinfo", f"160000,{'1' * 40},vendor/lib")
    repo.git.commit("-q", "-m", "submodule")
    inv = GitRevisionSource(f"{path}@HEAD").inventory()
    assert [f.path for f in inv.files] == ["README.md"]
    assert [(s.path, s.reason) for s in inv.skipped] == [
        ("vendor/lib", "git submodule, not audited")
    ]


# -- Git LFS ------------------------------------------------------------------------


def lfs_object(repo: git.Repo, content: bytes) -> Path:
    oid = hashlib.sha256(content).hexdigest()
    obj = Path(repo.common_dir) / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(content)
    return obj


def test_lfs_pointer_without_and_with_its_object(tmp_path: Path) -> None:
    weights = safetensors_bytes({"format": "pt"})
    oid = hashlib.sha256(weights).hexdigest()
    path = materialize("example-model", tmp_path / "repo")
    (path / "model.safetensors").write_bytes(lfs_pointer(weights))
    repo = new_repo(path)
    commit_all(repo, "pointer")
    target = f"{path}@HEAD"

    # Not fetched: the pointer stands for the weights, as in a work tree without `git lfs pull`.
    entry = GitRevisionSource(target).inventory().by_path()["model.safetensors"]
    assert (entry.lfs, entry.sha256, entry.size, entry.format) == (True, oid, len(weights), None)
    assert comparable(run_audit(target)) == comparable(run_audit(str(path)))

    # Fetched: the object is audited like the file itself, with the pointer's sha256.
    lfs_object(repo, weights)
    source = GitRevisionSource(target)
    entry = source.inventory().by_path()["model.safetensors"]
    assert (entry.lfs, entry.sha256, entry.size, entry.format) == (
        False,
        oid,
        len(weights),
        "safetensors",
    )
    assert entry.header == (("format", "pt"),)
    with source.reader("model.safetensors") as read_at:
        assert read_at(0, len(weights) + 10) == weights
    pulled = snapshot(path, tmp_path / "pulled" / "repo")
    (pulled / "model.safetensors").write_bytes(weights)
    options = Options(checksums=("sha1", "sha256"), checksum_cache=False)
    mine, theirs = run_audit(target, options), run_audit(str(pulled), options)
    assert comparable(mine) == comparable(theirs)
    assert mine.inventory.by_path()["model.safetensors"].sha1 == hashlib.sha1(weights).hexdigest()


def test_an_lfs_object_of_the_wrong_size_is_not_used(tmp_path: Path) -> None:
    weights = safetensors_bytes({"format": "pt"})
    path = tmp_path / "repo"
    path.mkdir()
    (path / "model.safetensors").write_bytes(lfs_pointer(weights))
    repo = new_repo(path)
    commit_all(repo, "pointer")
    obj = lfs_object(repo, weights)
    obj.write_bytes(weights[:-4])  # a truncated download
    inv = GitRevisionSource(f"{path}@HEAD").inventory()
    assert inv.files[0].lfs
    assert [s.reason for s in inv.skipped] == [
        f"Git LFS object has {len(weights) - 4} bytes, the pointer says {len(weights)}: not used"
    ]


# -- reading ------------------------------------------------------------------------


def test_large_blobs_are_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above MEMORY_LIMIT a blob comes from its own `git cat-file` stream; the audit is the same."""
    path = materialize("example-model", tmp_path / "repo")
    big = bytes(range(256)) * 40  # 10 KiB
    (path / "data.bin").write_bytes(big)
    repo = new_repo(path)
    commit_all(repo, "v1")
    monkeypatch.setattr(git_rev_mod, "MEMORY_LIMIT", 64)
    monkeypatch.setattr(git_rev_mod, "HEAD_KEEP", 100)
    monkeypatch.setattr(git_rev_mod, "CHUNK", 7)
    options = Options(checksums=("sha1", "sha256"), checksum_cache=False)
    result = run_audit(f"{path}@HEAD", options)
    assert comparable(result) == comparable(run_audit(str(path), options))

    source = GitRevisionSource(f"{path}@HEAD")
    source.inventory()
    with source.reader("data.bin") as read_at:
        # forward, back into the kept head, behind the stream (a restart), past the end
        for offset, length in [(0, 16), (8, 200), (50, 10), (300, 1000), (120, 5), (10230, 100)]:
            assert read_at(offset, length) == big[offset : offset + length]
        assert read_at(len(big), 10) == b""
        stream = read_at.__self__  # type: ignore[attr-defined]
        assert stream._proc is not None
    assert stream._proc is None  # the `git cat-file` process is gone


def test_a_corrupt_tree_fails_the_audit_and_a_corrupt_blob_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    (path / "sub").mkdir(parents=True)
    (path / "README.md").write_text("# x\n")
    (path / "sub" / "a.txt").write_text("a\n")
    repo = new_repo(path)
    commit_all(repo, "one")
    tree = repo.head.commit.tree
    blob_sha, sub_sha = tree["README.md"].hexsha, tree["sub"].hexsha

    def corrupt(sha: str) -> None:
        loose = Path(repo.git_dir) / "objects" / sha[:2] / sha[2:]
        loose.chmod(0o644)
        loose.write_bytes(b"not zlib at all")

    corrupt(blob_sha)
    result = run_audit(f"{path}@HEAD")
    assert [(s.path, s.reason) for s in result.skipped] == [
        ("README.md", f"cannot read: corrupt or missing git object {blob_sha}")
    ]
    assert [f.path for f in result.inventory.files] == ["README.md", "sub/a.txt"]

    corrupt(sub_sha)
    with pytest.raises(SourceError) as err:
        run_audit(f"{path}@HEAD")
    assert str(err.value).startswith("cannot read folder sub of HEAD in ")
    assert "corrupt or missing git object" in str(err.value)
    assert "\n" not in str(err.value)


# -- the target grammar -------------------------------------------------------------


def test_target_grammar(history: dict[str, object], tmp_path: Path) -> None:
    path = str(history["path"])
    assert split_target(f"{path}@v1") == (path, "v1")
    assert split_target(f"{path}@HEAD@{{0}}") == (path, "HEAD@{0}")
    assert split_target(path) is None  # an existing path is a folder
    assert split_target(f"{path}@") is None
    assert split_target("hf://acme/x@main") is None
    assert open_source(f"{path}@v1").__class__ is GitRevisionSource
    assert open_source(path).__class__ is LocalSource
    # A folder whose name holds "@": the whole name is tried first.
    odd = tmp_path / "team@corp" / "model@2"
    shutil.copytree(path, odd, symlinks=True)
    assert split_target(f"{odd}@v1") == (str(odd), "v1")
    assert run_audit(f"{odd}@v1").inventory.revision == history["v1"]
    # An existing path that looks like PATH@REV is that path.
    (tmp_path / "plain@v1").mkdir()
    assert split_target(str(tmp_path / "plain@v1")) is None
    assert rev_target(path, "v1") == f"{path}@v1"


def test_usage_errors(history: dict[str, object], tmp_path: Path) -> None:
    path = history["path"]
    with pytest.raises(UsageError) as err:
        GitRevisionSource(f"{path}@v9")
    assert str(err.value) == f"no such revision v9 in {path}"
    with pytest.raises(UsageError) as err:
        GitRevisionSource(f"{path}@HEAD~5")
    assert str(err.value) == f"no such revision HEAD~5 in {path}"
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(UsageError) as err:
        open_source(f"{plain}@v1")
    assert f"{plain} is not a git repository" in str(err.value)
    with pytest.raises(UsageError) as err:
        rev_target(str(plain), "v1")
    assert str(err.value) == f"not a git repository: {plain} (--rev)"


# -- the command line ---------------------------------------------------------------


def test_cli_rev(history: dict[str, object]) -> None:
    path = history["path"]
    proc = run_cli("scan", str(path), "--rev", "v1", "--format", "json", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["target"] == f"{path}@v1"
    assert report["revision"] == history["v1"]
    expected = comparable(run_audit(str(history["tree-v1"])))
    del report["target"], report["revision"]
    assert report == expected


def test_cli_unknown_revision_is_a_usage_error(history: dict[str, object], tmp_path: Path) -> None:
    path = history["path"]
    for args in (("scan", str(path), "--rev", "v9"), ("scan", f"{path}@v9")):
        proc = run_cli(*args)
        assert proc.returncode == 2
        assert proc.stdout == ""
        assert proc.stderr == f"auditor: error: no such revision v9 in {path}\n"
    proc = run_cli("scan", str(tmp_path), "--rev", "v1")
    assert proc.returncode == 2
    assert proc.stderr == f"auditor: error: not a git repository: {tmp_path} (--rev)\n"


def test_upstream_is_an_older_revision(history: dict[str, object]) -> None:
    path = history["path"]
    repo = history["repo"]
    assert isinstance(repo, git.Repo)
    repo.git.checkout("--", ".")  # a clean work tree at v2 (NOTES.txt stays, untracked)
    (path / "NOTES.txt").unlink()
    result = run_audit(str(path), Options(upstream=f"{path}@v1"))
    up = result.upstream
    assert up is not None
    assert (up.target, up.revision) == (f"{path}@v1", history["v1"])
    assert [(c.path, c.change) for c in up.changes] == [
        ("LICENSE-MODEL", "modified"),
        ("README.md", "modified"),
    ]
    assert dict(up.licenses)["model"] == "apache-2.0"
    # The same through the command line, and a revision against a revision.
    proc = run_cli(
        "scan", f"{path}@HEAD", "--upstream", f"{path}@v1", "--format", "json", "--fail-on", "never"
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["upstream"]["revision"] == history["v1"]
    assert [c["path"] for c in report["upstream"]["changes"]] == ["LICENSE-MODEL", "README.md"]
    proc = run_cli("scan", str(path), "--upstream", f"{path}@v9")
    assert proc.returncode == 2
    assert proc.stderr == f"auditor: error: --upstream {path}@v9: no such revision v9 in {path}\n"


def test_bom_of_a_revision_carries_the_blobs_checksums(
    history: dict[str, object], tmp_path: Path
) -> None:
    path = history["path"]
    out = tmp_path / "bom.spdx.json"
    proc = run_cli(
        "scan", f"{path}@v1", "--format", "spdx-json", "-o", str(out), "--fail-on", "never"
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    tree = Path(str(history["tree-v1"]))
    seen = set()
    for f in doc["files"]:
        name = f["fileName"].removeprefix("./")
        content = (tree / name).read_bytes()
        sums = {c["algorithm"]: c["checksumValue"] for c in f["checksums"]}
        assert sums == {
            "SHA1": hashlib.sha1(content).hexdigest(),
            "SHA256": hashlib.sha256(content).hexdigest(),
        }, name
        seen.add(name)
    assert seen == {p.name for p in tree.iterdir()}
