"""Inventory of a local directory: kinds, LFS pointers, shards, headers, and what is passed over."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from conftest import audit_unprivileged, scan_json
from generate import lfs_pointer, safetensors_bytes

from auditor.classify import kind_from_name, parse_lfs_pointer
from auditor.model import FileKind
from auditor.sources.local import LocalSource

EXPECTED_KINDS = {
    "weights": [
        "model.safetensors",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "pytorch_model.bin",
        "weights.pt",
        "weights.pth",
        "sd.ckpt",
        "tiny-q4_0.gguf",
        "old.ggml",
        "model.onnx",
        "model.h5",
        "model.keras",
        "model.tflite",
        "flax_model.msgpack",
        "arrays.npz",
        "saved_model.pb",
        "Model.mlmodel",
        "asr.nemo",
        "blob",
        "lfs/model-00001-of-00003.safetensors",
        "lfs/model-00002-of-00003.safetensors",
        "lfs/model-00003-of-00003.safetensors",
    ],
    "config": [
        "config.json",
        "generation_config.json",
        "adapter_config.json",
        "preprocessor_config.json",
        "model.safetensors.index.json",
    ],
    "tokenizer": [
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "vocab.txt",
        "merges.txt",
        "tokenizer.model",
        "qwen.tiktoken",
    ],
    "readme": ["README.md", "docs/README.md"],
    "license": [
        "LICENSE",
        "LICENSE.md",
        "LICENCE.txt",
        "COPYING",
        "COPYING.LESSER",
        "MODEL_LICENSE",
        "LICENSE-MODEL",
        "LICENSE-CODE",
        "Tiny_LICENSE_AGREEMENT.txt",
        "MODEL_LICENSE.pdf",
        "模型许可协议.pdf",
        "LICENSES/MIT.txt",
    ],
    "notice": [
        "NOTICE",
        "NOTICE.md",
        "THIRD_PARTY_NOTICES.txt",
        "USE_POLICY.md",
        "Acceptable_Use_Policy.md",
    ],
    "code": [
        "train.py",
        "scripts/check_license.py",
        "kernels/attn.cu",
        "web/app.ts",
        "Makefile",
        "requirements.txt",
        "pyproject.toml",
    ],
    "data": ["data/train.jsonl", "data/eval.parquet", "data/labels.csv"],
    "other": [".gitattributes", "assets/figure.png", "trainer_state.json"],
}


@pytest.fixture(scope="module")
def kinds_report() -> dict:  # type: ignore[type-arg]
    from conftest import FIXTURES

    return scan_json(FIXTURES / "kinds")


def test_every_file_kind(kinds_report: dict) -> None:  # type: ignore[type-arg]
    got = {f["path"]: f["kind"] for f in kinds_report["files"]}
    expected = {p: k for k, paths in EXPECTED_KINDS.items() for p in paths}
    assert got == expected


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("LICENSE_AGREEMENT.pdf", FileKind.LICENSE),
        ("docs/Baichuan2 模型社区许可协议.pdf", FileKind.LICENSE),
        ("LICENSE.txt", FileKind.LICENSE),
        ("llama3/USE_POLICY.md", FileKind.NOTICE),
        ("gemma-prohibited-use-policy.md", FileKind.NOTICE),
        ("license_checker.py", FileKind.CODE),
        ("MODEL_CARD.md", FileKind.README),
        ("pytorch_model-00001-of-00002.bin", FileKind.WEIGHTS),
        ("model.onnx_data", FileKind.WEIGHTS),
        ("spiece.model", FileKind.TOKENIZER),
        ("pytorch_model.bin.index.json", FileKind.CONFIG),
        ("data/part-0000.arrow", FileKind.DATA),
        ("image.jpg", FileKind.OTHER),
    ],
)
def test_kind_from_name(name: str, kind: FileKind) -> None:
    assert kind_from_name(name) is kind


def test_lfs_pointers_stand_for_their_weights(kinds_report: dict) -> None:  # type: ignore[type-arg]
    files = {f["path"]: f for f in kinds_report["files"]}
    for path, content in [
        ("lfs/model-00001-of-00003.safetensors", b"A" * 5000),
        ("lfs/model-00002-of-00003.safetensors", b"B" * 7000),
        ("lfs/model-00003-of-00003.safetensors", b"C" * 3000),
    ]:
        entry = files[path]
        assert entry["lfs"] is True
        assert entry["size"] == len(content)
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["kind"] == "weights"


def test_lfs_pointer_parsing_rejects_near_misses() -> None:
    good = lfs_pointer(b"x")
    assert parse_lfs_pointer(good) is not None
    assert parse_lfs_pointer(good.replace(b"sha256:", b"sha1:")) is None
    assert parse_lfs_pointer(good.replace(b"size 1", b"size x")) is None
    assert parse_lfs_pointer(b"version 2\n") is None
    assert parse_lfs_pointer(good + b"\n" * 2000) is None  # pointers are small


def test_weight_headers_are_read_and_reported(kinds_report: dict) -> None:  # type: ignore[type-arg]
    files = {f["path"]: f for f in kinds_report["files"]}
    assert files["tiny-q4_0.gguf"]["format"] == "gguf"
    assert files["tiny-q4_0.gguf"]["header"] == {
        "general.architecture": "llama",
        "general.license": "apache-2.0",
        "general.name": "tiny",
    }
    assert files["model.safetensors"]["format"] == "safetensors"
    assert files["model.safetensors"]["header"] == {"format": "pt"}
    assert files["blob"]["format"] == "gguf"  # found by its header, not its name
    assert files["pytorch_model.bin"]["format"] == "pickle"
    assert kinds_report["skipped"][0]["path"].endswith(".pdf")  # placeholder PDFs have no text


def test_git_dir_skipped_and_sorted(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "b.py").write_text("x = 1\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    inv = LocalSource(str(tmp_path)).inventory()
    assert [f.path for f in inv.files] == ["a.py", "b.py"]
    assert inv.skipped == ()


def test_symlinks(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    outside = tmp_path / "secret.txt"
    outside.write_text("outside the repo\n")
    (repo / "real.py").write_text("x = 1\n")
    os.symlink("real.py", repo / "alias.py")
    os.symlink(outside, repo / "escape.txt")
    os.symlink("../..", repo / "sub" / "up")  # directory symlink out of the root
    os.symlink("..", repo / "sub" / "loopdir")  # directory symlink cycle
    os.symlink("loop-b", repo / "loop-a")
    os.symlink("loop-a", repo / "loop-b")
    os.symlink("missing.txt", repo / "dangling")
    inv = LocalSource(str(repo)).inventory()
    assert [f.path for f in inv.files] == ["alias.py", "real.py"]
    reasons = {s.path: s.reason for s in inv.skipped}
    assert reasons["escape.txt"] == "symlink points outside the repository, not followed"
    assert reasons["sub/up"] == "symlink points outside the repository, not followed"
    assert reasons["sub/loopdir"].startswith("symlink to a directory, not followed")
    assert reasons["loop-a"] == "symlink loop"
    assert reasons["loop-b"] == "symlink loop"
    assert reasons["dangling"] == "broken symlink -> missing.txt"


def test_fifo_is_listed_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    inv = LocalSource(str(tmp_path)).inventory()
    assert inv.files == ()
    assert [(s.path, s.reason) for s in inv.skipped] == [
        ("pipe", "not a regular file (device, socket or fifo)")
    ]


def test_unreadable_files_and_dirs_are_listed(tmp_path: Path) -> None:
    import tempfile

    repo = Path(tempfile.mkdtemp(prefix="auditor-perm-"))
    try:
        repo.chmod(0o755)
        (repo / "README.md").write_text("---\nlicense: mit\n---\n")
        (repo / "model.safetensors").write_bytes(safetensors_bytes({"format": "pt"}))
        (repo / "LICENSE").write_text("our words\n")
        (repo / "private").mkdir()
        (repo / "private" / "x.py").write_text("x = 1\n")
        for p in (repo / "README.md", repo / "model.safetensors", repo / "LICENSE"):
            p.chmod(0o644)
        (repo / "model.safetensors").chmod(0o000)
        (repo / "LICENSE").chmod(0o000)
        (repo / "private").chmod(0o000)
        report = audit_unprivileged(repo)
    finally:
        for p in (repo / "model.safetensors", repo / "LICENSE", repo / "private"):
            p.chmod(0o755)
        import shutil

        shutil.rmtree(repo)
    files = {f["path"]: f for f in report["files"]}
    assert files["model.safetensors"]["kind"] == "weights"  # still inventoried, by name
    assert files["LICENSE"]["kind"] == "license"
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert skipped == {
        "LICENSE": "cannot read: permission denied",
        "model.safetensors": "cannot read: permission denied",
        "private": "cannot list directory: permission denied",
    }
