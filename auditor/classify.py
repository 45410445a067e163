"""What kind of file is this? Names first, then a bounded look at the bytes.

Shared by every source, so a local folder, a git revision and a Hub repo
classify the same file the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from auditor.model import FileKind
from auditor.weights import ReadAt, sniff

WEIGHT_EXTENSIONS = frozenset(
    """safetensors bin pt pth ckpt gguf ggml onnx onnx_data h5 hdf5 keras tflite msgpack
    npz npy pb mlmodel nemo pkl joblib caffemodel llamafile ot""".split()
)
CODE_EXTENSIONS = frozenset(
    """py pyi pyx pxd ipynb js mjs cjs jsx ts tsx c h cc cpp cxx hpp hh cu cuh rs go java kt
    kts scala swift m mm rb php sh bash zsh fish ps1 bat cmd lua r jl cs fs vb pl pm dart
    zig nim ex exs erl hs ml mli clj sql cmake gradle""".split()
)
DATA_EXTENSIONS = frozenset(
    "csv tsv jsonl ndjson parquet arrow feather tfrecord tfrecords avro orc".split()
)
CODE_NAMES = frozenset(
    """makefile cmakelists.txt dockerfile pyproject.toml setup.py setup.cfg package.json
    cargo.toml go.mod build.gradle pom.xml meson.build justfile""".split()
)
TOKENIZER_NAMES = frozenset(
    """tokenizer.json tokenizer_config.json vocab.json vocab.txt merges.txt
    special_tokens_map.json added_tokens.json tokenizer.model spiece.model
    sentencepiece.bpe.model spm.model""".split()
)
CONFIG_NAMES = frozenset(
    """params.json model_index.json modules.json hyperparams.yaml
    config_sentence_transformers.json""".split()
)
TEXTUAL_EXTENSIONS = frozenset("txt md markdown rst html htm pdf".split())

_LICENSE_NAME = re.compile(
    r"(^|[-_. ])(licen[cs]e|copying|unlicense|licen[cs]e[-_ ]?agreement)([-_. ]|$)|许可|协议|授权",
    re.IGNORECASE,
)
_LICENSE_START = re.compile(r"^(licen[cs]e|licen[cs]e[-_]?(model|code)|copying)", re.IGNORECASE)
_NOTICE_NAME = re.compile(
    r"notice|use[-_ ]?policy|acceptable[-_ ]?use|prohibited[-_ ]?use|responsible[-_ ]?use",
    re.IGNORECASE,
)
_README_NAME = re.compile(r"^(readme|model[-_]?card)([-_.].*)?$", re.IGNORECASE)

# Vocabularies and merge tables by their usual names: gpt2-vocab.json, gpt2-merges.txt,
# bpe_simple_vocab_16e6.txt.gz (CLIP), rwkv_vocab_v20230424.txt.
_TOKENIZER_NAME = re.compile(
    r"(?:^|[-_.])(?:vocab|merges|bpe)(?:[-_.][\w.-]*)?\.(?:json|txt|txt\.gz|model|bpe)$|"
    r"\.(?:bpe|vocab)$"
)

LFS_PREFIX = b"version https://git-lfs.github.com/spec/v1"
LFS_MAX_POINTER = 1024
HEAD_BYTES = 16


def kind_from_name(path: str) -> FileKind:
    """Classify by name alone; weights still get their header checked afterwards."""
    # Plain string work: pathlib objects per file cost more than the rest of this function.
    parts = path.split("/")
    name = parts[-1]
    parent = parts[-2].lower() if len(parts) > 1 else ""
    lower = name.lower()
    stem = lower.lstrip(".")  # ".bashrc" has no suffix (pathlib's rule)
    ext = stem.rsplit(".", 1)[-1] if "." in stem and not lower.endswith(".") else ""
    if (
        lower in TOKENIZER_NAMES
        or lower.endswith(".tiktoken")
        or (ext == "model" and "token" in lower)
        or _TOKENIZER_NAME.search(lower)
    ):
        return FileKind.TOKENIZER
    if ext in CODE_EXTENSIONS or lower in CODE_NAMES or lower.startswith("requirements"):
        return FileKind.CODE
    in_licenses_dir = parent in ("licenses", "licences")
    licensey = _LICENSE_START.match(name) or _LICENSE_NAME.search(name) or in_licenses_dir
    if licensey and (
        ext in TEXTUAL_EXTENSIONS or not ext or ext not in WEIGHT_EXTENSIONS | DATA_EXTENSIONS
    ):
        if _NOTICE_NAME.search(name) and not _LICENSE_START.match(name):
            return FileKind.NOTICE
        return FileKind.LICENSE
    if _NOTICE_NAME.search(name) and (not ext or ext in TEXTUAL_EXTENSIONS):
        return FileKind.NOTICE
    if _README_NAME.match(name):
        return FileKind.README
    # Dotfiles and files under dot-folders configure tools (.pre-commit-config.yaml,
    # .github/...), never a model.
    hidden = any(part.startswith(".") for part in parts)
    # A config/ or configs/ folder holds run and experiment settings (Hydra, mmcv), not a
    # shipped model's configuration, which sits beside its weights.
    in_configs = parent in ("config", "configs", "conf", "cfg")
    if not hidden and (
        lower.endswith(".index.json")
        or lower in CONFIG_NAMES
        or (re.search(r"(^|[-_])config\.(json|ya?ml)$", lower) and not in_configs)
    ):
        return FileKind.CONFIG
    if ext in WEIGHT_EXTENSIONS:  # shards (model-00001-of-00004.safetensors) included
        return FileKind.WEIGHTS
    if ext in DATA_EXTENSIONS:
        return FileKind.DATA
    return FileKind.OTHER


def expected_format(path: str) -> str | None:
    """The container format a weight file's extension promises, where it promises one."""
    ext = PurePosixPath(path).suffix.lower()
    return {".safetensors": "safetensors", ".gguf": "gguf"}.get(ext)


@dataclass(frozen=True)
class LfsPointer:
    sha256: str
    size: int


def parse_lfs_pointer(data: bytes) -> LfsPointer | None:
    """Read a Git LFS pointer file; None when ``data`` is not one."""
    if not data.startswith(LFS_PREFIX) or len(data) > LFS_MAX_POINTER:
        return None
    fields: dict[str, str] = {}
    for line in data.decode("ascii", "replace").splitlines():
        key, _, value = line.partition(" ")
        fields[key] = value.strip()
    oid = fields.get("oid", "")
    size = fields.get("size", "")
    if not (
        oid.startswith("sha256:") and re.fullmatch(r"[0-9a-f]{64}", oid[7:]) and size.isdigit()
    ):
        return None
    return LfsPointer(oid[7:], int(size))


def sniff_kind(
    path: str, kind: FileKind, read_at: ReadAt, size: int
) -> tuple[FileKind, str | None]:
    """Refine a name-based kind with the first bytes: finds GGUF/safetensors without extensions."""
    if size < 4:
        return kind, None
    fmt = sniff(read_at(0, HEAD_BYTES), size)
    if kind is FileKind.OTHER and fmt in ("gguf", "safetensors", "ggml"):
        return FileKind.WEIGHTS, fmt
    return kind, fmt
