"""Hostile repositories: the shapes an attacker (or a broken download) gives the auditor.

Each ``Shape`` builds one repository in a scratch folder and says how to audit it;
``run`` audits it in a child process and measures what the issue asks of every shape:

- it ends within ``DEADLINE`` seconds and under ``MAX_RSS`` bytes of resident memory;
- it exits 0 or 1 (the audit's answer), or 2 / 3 with exactly one line on stderr
  (``auditor: error: ...``), never with a traceback;
- nothing outside the repo is read into a report (every file planted outside holds
  ``SECRET``, which must appear in no output) or written (the outside folder's
  listing and hashes are the same after the run);
- nothing runs (a planted hook would create ``ran-marker`` beside the repo).

Used by tests/test_hostile.py (one test per shape) and bench/hostile.py (the table of
times and memory). The shapes are built from this file alone: no fixture, no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path[:0] = [str(_FIXTURES), str(_FIXTURES / "corpus")]  # also run from bench/hostile.py

from generate import add_files as write  # noqa: E402
from generate import pdf_bytes as pdf  # noqa: E402
from runner import reference  # noqa: E402

DEADLINE = 10.0
MAX_RSS = 500 << 20
SECRET = "OUTSIDE-SECRET-7f3a9c"
MARKER = "ran-marker"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}

#: A real license text, from the installed ScanCode data (none is copied into the project).
MIT = "MIT License\n\nCopyright (c) 2024 Example\n\n" + reference("scancode:mit")[0]
SECRET_TEXT = f"Copyright (c) 2024 {SECRET}\n\nAll rights reserved by {SECRET}.\n"


@dataclass
class Run:
    """How to audit a built shape."""

    args: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    #: Exit codes this shape may end with (all four unless it says otherwise).
    codes: frozenset[int] = frozenset({0, 1, 2, 3})
    #: Files the run may write (everything else outside the repo must stay as it was).
    writes: tuple[Path, ...] = ()
    #: A further check of the result; raises AssertionError.
    check: Callable[[Result], None] | None = None


@dataclass
class Result:
    code: int | None
    seconds: float
    rss: int
    stdout: bytes
    stderr: bytes
    outputs: dict[str, bytes]


@dataclass(frozen=True)
class Shape:
    name: str
    group: str
    build: Callable[[Path, Path], Run]
    """(repo folder to create, outside folder with secrets) -> the run."""


# -- helpers ---------------------------------------------------------------------------


def git(repo: Path, *args: str, stdin: bytes | None = None) -> str:
    env = {**os.environ, **GIT_ENV, "GIT_CONFIG_GLOBAL": os.devnull}
    proc = subprocess.run(
        ["git", *args], cwd=repo, env=env, input=stdin, capture_output=True, check=True
    )
    return proc.stdout.decode().strip()


def git_repo(repo: Path, files: dict[str, bytes | str]) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    write(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def safetensors(header: dict[str, object] | bytes, data: bytes = b"") -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def small_weights() -> bytes:
    return safetensors({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4)


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


def text_page_pdf(
    content: bytes, extra: list[bytes] | None = None, page_extra: bytes = b""
) -> bytes:
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> " + page_extra + b">>",
        content,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf(objs + (extra or []))


def flate_bomb(size: int) -> bytes:
    """``size`` zero bytes, deflated (about 1,000 to 1): built in chunks, never held whole."""
    comp = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    parts = [comp.compress(chunk) for _ in range(size >> 20)]
    parts.append(comp.flush())
    return b"".join(parts)


_BOMB_CACHE: dict[int, bytes] = {}


def cached_flate_bomb(size: int) -> bytes:
    if size not in _BOMB_CACHE:
        _BOMB_CACHE[size] = flate_bomb(size)
    return _BOMB_CACHE[size]


def no_output_line(prefix: bytes) -> Callable[[Result], None]:
    def check(result: Result) -> None:
        for data in (result.stdout, *result.outputs.values()):
            for line in data.splitlines():
                assert not line.startswith(prefix), f"forged line: {line[:120]!r}"

    return check


def no_control_chars(result: Result) -> None:
    for data in (result.stdout, result.stderr):
        text = data.decode("utf-8", "replace")
        bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0]
        assert not bad, f"control characters reach the terminal: {sorted(set(bad))!r}"


def exits(*codes: int) -> frozenset[int]:
    return frozenset(codes)


# -- execution -------------------------------------------------------------------------


def _hook(outside: Path) -> str:
    """A command that, if git ever runs it, leaves the marker beside the repo."""
    script = outside.parent / "hook.sh"
    script.write_text(f"#!/bin/sh\ntouch '{outside.parent / MARKER}'\nexit 0\n")
    script.chmod(0o755)
    return str(script)


def _exec_repo(repo: Path, outside: Path) -> None:
    git_repo(
        repo,
        {
            "LICENSE": MIT,
            "README.md": "# m\n",
            "a.txt": "x\n",
            ".gitattributes": "* filter=evil diff=evil\n",
        },
    )
    hook = _hook(outside)
    for key, value in (
        ("core.fsmonitor", hook),
        ("core.hooksPath", str(outside)),
        ("filter.evil.clean", hook),
        ("filter.evil.smudge", hook),
        ("filter.evil.process", hook),
        ("diff.evil.textconv", hook),
        ("diff.external", hook),
        ("core.pager", hook),
        ("core.sshCommand", hook),
        ("core.alternateRefsCommand", hook),
    ):
        git(repo, "config", key, value)
    (repo / "a.txt").write_text("changed\n")  # a dirty work tree: what wakes fsmonitor and filters


def exec_check(repo: Path, outside: Path) -> Run:
    _exec_repo(repo, outside)
    return Run(["check", "LICENSE", "a.txt"], cwd=repo)


def exec_scan_dir(repo: Path, outside: Path) -> Run:
    _exec_repo(repo, outside)
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def exec_scan_rev(repo: Path, outside: Path) -> Run:
    _exec_repo(repo, outside)
    return Run(["scan", f"{repo}@HEAD", "-f", "spdx-json"], cwd=repo.parent)


def exec_diff(repo: Path, outside: Path) -> Run:
    _exec_repo(repo, outside)
    return Run(["diff", f"{repo}@HEAD", str(repo)], cwd=repo.parent)


# -- escapes ---------------------------------------------------------------------------


def lfs_symlink_out(repo: Path, outside: Path) -> Run:
    weights = safetensors(
        {
            "__metadata__": {"license": SECRET},
            "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
        },
        b"\0" * 4,
    )
    oid = hashlib.sha256(weights).hexdigest()
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(weights)}\n"
    git_repo(repo, {"LICENSE": MIT, "model.safetensors": pointer})
    (outside / "weights.safetensors").write_bytes(weights)
    obj = repo / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
    obj.parent.mkdir(parents=True)
    obj.symlink_to(outside / "weights.safetensors")
    return Run(["scan", f"{repo}@HEAD", "-f", "json"], cwd=repo.parent)


def lfs_dir_symlink_out(repo: Path, outside: Path) -> Run:
    weights = safetensors(
        {
            "__metadata__": {"license": SECRET},
            "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
        },
        b"\0" * 4,
    )
    oid = hashlib.sha256(weights).hexdigest()
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(weights)}\n"
    git_repo(repo, {"LICENSE": MIT, "model.safetensors": pointer})
    store = outside / "lfs" / oid[:2] / oid[2:4]
    store.mkdir(parents=True)
    (store / oid).write_bytes(weights)
    (repo / ".git" / "lfs").mkdir()
    (repo / ".git" / "lfs" / "objects").symlink_to(outside / "lfs")
    return Run(["scan", f"{repo}@HEAD", "-f", "json"], cwd=repo.parent)


def check_folder_symlinked(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT, "models/LICENSE": MIT, "models/README.md": "# m\n"})
    shutil.rmtree(repo / "models")
    (outside / "models").mkdir()
    (outside / "models" / "LICENSE").write_text(SECRET_TEXT)
    (outside / "models" / "README.md").write_text(f"License: {SECRET}\n")
    (repo / "models").symlink_to(outside / "models")
    return Run(["check", "models/LICENSE", "models/README.md", "--fail-on", "never"], cwd=repo)


def check_file_symlinked(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT, "README.md": "# m\n"})
    (outside / "README.md").write_text(f"License: {SECRET}\n")
    (repo / "README.md").unlink()
    (repo / "README.md").symlink_to(outside / "README.md")
    return Run(["check", "README.md", "--fail-on", "never"], cwd=repo)


def dotgit_symlink_out(repo: Path, outside: Path) -> Run:
    other = outside / "other"
    git_repo(other, {"x": "x\n"})
    git(other, "remote", "add", "origin", f"https://{SECRET}.example.com/secret.git")
    write(repo, {"LICENSE": MIT, "README.md": "# m\n"})
    (repo / ".git").symlink_to(other / ".git")
    return Run(["scan", ".", "-f", "spdx-json"], cwd=repo)


def dotgit_file_out(repo: Path, outside: Path) -> Run:
    other = outside / "other"
    git_repo(other, {"x": "x\n"})
    git(other, "remote", "add", "origin", f"https://{SECRET}.example.com/secret.git")
    write(repo, {"LICENSE": MIT, "README.md": "# m\n", ".git": f"gitdir: {other / '.git'}\n"})
    return Run(["scan", ".", "-f", "cyclonedx-json"], cwd=repo)


def output_symlink(repo: Path, outside: Path) -> Run:
    write(repo, {"LICENSE": MIT, "README.md": "# m\n"})
    victim = outside / "victim"
    victim.write_text(SECRET_TEXT)
    (repo / "bom.json").symlink_to(victim)
    return Run(["scan", ".", "-f", "json", "-o", "bom.json"], cwd=repo)


def output_dir_symlink(repo: Path, outside: Path) -> Run:
    write(repo, {"LICENSE": MIT, "README.md": "# m\n"})
    (repo / "out").symlink_to(outside)
    return Run(["scan", ".", "-f", "json", "-o", "out/bom.json"], cwd=repo)


def _hf_cache(root: Path, files: dict[str, bytes]) -> tuple[Path, str]:
    """A Hub cache folder (``models--acme--m``) with one snapshot; -> (repo folder, commit)."""
    commit = "a" * 40
    folder = root / "models--acme--m"
    snap = folder / "snapshots" / commit
    snap.mkdir(parents=True)
    (folder / "blobs").mkdir()
    (folder / "refs").mkdir()
    for name, data in files.items():
        blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snap / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    return folder, commit


def hf_cache_ref_symlink(repo: Path, outside: Path) -> Run:
    folder, _ = _hf_cache(repo, {"LICENSE": MIT.encode()})
    other = "b" * 40
    (outside / "ref").write_text(other)
    (folder / "refs" / "main").symlink_to(outside / "ref")
    snap = outside / "snapshots" / other
    snap.mkdir(parents=True)
    (snap / "LICENSE").write_text(SECRET_TEXT)
    (folder / "snapshots" / other).symlink_to(snap)
    return Run(
        ["scan", "hf-cache://acme/m", "-f", "json"], cwd=repo, env={"HF_HUB_CACHE": str(repo)}
    )


def hf_cache_ref_fifo(repo: Path, outside: Path) -> Run:
    folder, _ = _hf_cache(repo, {"LICENSE": MIT.encode()})
    os.mkfifo(folder / "refs" / "main")
    return Run(
        ["scan", "hf-cache://acme/m", "-f", "json"], cwd=repo, env={"HF_HUB_CACHE": str(repo)}
    )


def hf_cache_ref_dev_zero(repo: Path, outside: Path) -> Run:
    folder, _ = _hf_cache(repo, {"LICENSE": MIT.encode()})
    (folder / "refs" / "main").symlink_to("/dev/zero")
    return Run(
        ["scan", "hf-cache://acme/m", "-f", "json"], cwd=repo, env={"HF_HUB_CACHE": str(repo)}
    )


def hf_cache_blob_out(repo: Path, outside: Path) -> Run:
    folder, commit = _hf_cache(repo, {"LICENSE": MIT.encode()})
    (outside / "README.md").write_text(f"License: {SECRET}\n")
    (folder / "snapshots" / commit / "README.md").symlink_to(outside / "README.md")
    (folder / "refs" / "main").write_text(commit)
    return Run(
        ["scan", "hf-cache://acme/m", "-f", "json"], cwd=repo, env={"HF_HUB_CACHE": str(repo)}
    )


def hf_cache_snapshot_out(repo: Path, outside: Path) -> Run:
    folder, commit = _hf_cache(repo, {"LICENSE": MIT.encode()})
    snap = outside / "snap"
    snap.mkdir()
    (snap / "LICENSE").write_text(SECRET_TEXT)
    shutil.rmtree(folder / "snapshots" / commit)
    (folder / "snapshots" / commit).symlink_to(snap)
    (folder / "refs" / "main").write_text(commit)
    return Run(
        ["scan", "hf-cache://acme/m", "-f", "json"], cwd=repo, env={"HF_HUB_CACHE": str(repo)}
    )


# -- crashes ---------------------------------------------------------------------------


def safetensors_huge_int(repo: Path, outside: Path) -> Run:
    digits = "9" * 5000
    header = ('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, ' + digits + "]}}").encode()
    write(repo, {"LICENSE": MIT, "model.safetensors": safetensors(header, b"\0" * 4)})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def safetensors_deep(repo: Path, outside: Path) -> Run:
    header = ('{"__metadata__": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}").encode()
    write(repo, {"LICENSE": MIT, "model.safetensors": safetensors(header)})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def pdf_lzw_junk(repo: Path, outside: Path) -> Run:
    junk = bytes((i * 7919) % 251 for i in range(4000))
    data = text_page_pdf(stream(b"/Filter /LZWDecode", junk))
    write(repo, {"LICENSE.pdf": data, "README.md": "# m\n"})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def deep_toml_policy(repo: Path, outside: Path) -> Run:
    write(repo, {"LICENSE": MIT, ".auditor.toml": "a = " + "[" * 50_000 + "]" * 50_000 + "\n"})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def deep_toml_inline_table(repo: Path, outside: Path) -> Run:
    write(
        repo, {"LICENSE": MIT, ".auditor.toml": "a = " + "{b=" * 50_000 + "1" + "}" * 50_000 + "\n"}
    )
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def deep_toml_pyproject(repo: Path, outside: Path) -> Run:
    write(
        repo,
        {
            "LICENSE": MIT,
            "pyproject.toml": "[project]\nname='x'\nlicense = "
            + "[" * 50_000
            + "]" * 50_000
            + "\n",
        },
    )
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def deep_json_index(repo: Path, outside: Path) -> Run:
    write(
        repo,
        {
            "LICENSE": MIT,
            "model.safetensors.index.json": '{"weight_map": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "config.json": '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "package.json": '{"license": ' + "[" * 100_000 + "]" * 100_000 + "}",
        },
    )
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def deep_yaml_front_matter(repo: Path, outside: Path) -> Run:
    write(
        repo,
        {
            "LICENSE": MIT,
            "README.md": "---\nlicense: " + "[" * 50_000 + "]" * 50_000 + "\n---\n# m\n",
        },
    )
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def deep_toml_policy_explicit(repo: Path, outside: Path) -> Run:
    write(repo, {"LICENSE": MIT})
    (outside / "policy.toml").write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n")
    return Run(["scan", ".", "--policy", str(outside / "policy.toml")], cwd=repo, codes=exits(2))


# -- hangs -----------------------------------------------------------------------------


def spdx_tag_spaces(repo: Path, outside: Path) -> Run:
    lines = [
        "# SPDX-License-Identifier:" + " " * 2000 + "!",
        "# SPDX-License-Identifier: MIT" + " " * 2000 + "!",
        "# SPDX-License-Identifier: " + "MIT AND " * 500 + "(",
        "# SPDX-License-Identifier: " + "(" * 2000 + "MIT",
        "# SPDX-FileCopyrightText:" + " " * 2000 + "!",
        "// SPDX-License-Identifier:" + "\t " * 2000,
    ]
    write(repo, {f"src/f{i}.py": line + "\n" for i, line in enumerate(lines)})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def _long_lines() -> list[str]:
    n = 400_000
    return [
        " " * n + "!",
        "<" * n,
        "<a " * (n // 3),
        "a" * n + "!",
        "a " * (n // 2) + "!",
        "[" * n,
        "](" * (n // 2),
        "`" * n,
        "*" * n,
        "_" * n,
        "http://" + "a/" * (n // 2),
        "License: " + "MIT " * (n // 4),
        "licensed under the " + "the " * (n // 4),
        "Copyright " + "(c) " * (n // 4),
        "-" * n,
        "|" * n,
        "#" * n,
        "<!--" * (n // 4),
        "<a href='" * (n // 9),
        "\t" * n + "x",
    ]


def readme_long_lines(repo: Path, outside: Path) -> Run:
    write(repo, {"LICENSE": MIT, "README.md": "\n".join(_long_lines()) + "\n"})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def _each_long_line(repo: Path, name: str, before: str, after: str, license: bool) -> Run:
    """One file per long line (``name`` formatted with its number): one slow pattern
    cannot hide behind another."""
    files: dict[str, bytes | str] = {"LICENSE": MIT} if license else {}
    for i, line in enumerate(_long_lines()):
        files[name.format(i)] = before + line + after
    write(repo, files)
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def readme_long_lines_each(repo: Path, outside: Path) -> Run:
    card = "---\nlicense: mit\n---\n# m\n\n"
    return _each_long_line(repo, "m{}/README.md", card, "\n", license=True)


def license_long_lines(repo: Path, outside: Path) -> Run:
    return _each_long_line(repo, "m{}/LICENSE", MIT, "\n", license=False)


def code_header_long_lines(repo: Path, outside: Path) -> Run:
    tail = "\n# Licensed under the MIT license.\n"
    return _each_long_line(repo, "src/m{}.py", "# ", tail, license=True)


def many_short_lines(repo: Path, outside: Path) -> Run:
    write(
        repo, {"LICENSE": MIT, "README.md": "a\n" * 2_000_000, "NOTICE": "Copyright x\n" * 300_000}
    )
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def _deep_path(repo: Path, depth: int = 60) -> None:
    deep = repo.joinpath(*(["a"] * depth))
    deep.mkdir(parents=True)
    (deep / ("a" * 60)).write_text("x\n")


def policy_glob_bomb(repo: Path, outside: Path) -> Run:
    patterns = ["**/" * 25 + "b", "*a" * 12 + "b", "a*" * 30 + "b", "**" * 40 + "b"]
    policy = "ignore = [" + ", ".join(json.dumps(p) for p in patterns) + "]\n"
    write(repo, {"LICENSE": MIT, ".auditor.toml": policy})
    _deep_path(repo)
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def gitignore_glob_bomb(repo: Path, outside: Path) -> Run:
    patterns = ["**/" * 25 + "b", "*a" * 12 + "b", "a*" * 30 + "b", "**" * 40 + "b"]
    write(repo, {"LICENSE": MIT, ".gitignore": "\n".join(patterns) + "\n"})
    _deep_path(repo)
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def yaml_alias_bomb(repo: Path, outside: Path) -> Run:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    lines.append("license: *a9")
    lines.append("base_model: *a9")
    lines.append("tags: *a9")
    card = "---\n" + "\n".join(lines) + "\n---\n# m\n"
    write(repo, {"LICENSE": MIT, "README.md": card})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def pdf_self_reference(repo: Path, outside: Path) -> Run:
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /Contents 3 0 R /Resources 3 0 R >>",
    ]
    write(
        repo, {"LICENSE.pdf": pdf(objs), "MODEL_LICENSE.pdf": pdf([b"1 0 R"]), "README.md": "# m\n"}
    )
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def pdf_layout_bomb(repo: Path, outside: Path) -> Run:
    ops = (
        b"BT /F1 1 Tf "
        + b"".join(b"%d %d Td (x) Tj " % (i % 7, i % 5) for i in range(300_000))
        + b"ET"
    )
    data = text_page_pdf(stream(b"/Filter /FlateDecode", zlib.compress(ops, 9)))
    write(repo, {"LICENSE.pdf": data, "README.md": "# m\n"})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def pdf_many_pages(repo: Path, outside: Path) -> Run:
    count = 20_000
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(count))
    objs.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count))
    objs.append(stream(b"", b"BT /F1 12 Tf 72 700 Td (Permission is hereby granted) Tj ET"))
    for _ in range(count):
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>")
    write(repo, {"LICENSE.pdf": pdf(objs), "README.md": "# m\n"})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def pdf_many_bad(repo: Path, outside: Path) -> Run:
    """Ten self-referencing PDFs: each costs its budget, and all of them the audit's."""
    files: dict[str, bytes | str] = {f"m{i}/LICENSE.pdf": pdf([b"1 0 R"]) for i in range(10)}
    write(repo, {**files, "README.md": "# m\n"})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def pdf_flate_bomb(repo: Path, outside: Path) -> Run:
    data = text_page_pdf(stream(b"/Filter /FlateDecode", cached_flate_bomb(2 << 30)))
    write(repo, {"LICENSE.pdf": data, "README.md": "# m\n"})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def fifo_git_config(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT, "README.md": "# m\n"})
    (repo / ".git" / "config").unlink()
    os.mkfifo(repo / ".git" / "config")
    return Run(["scan", ".", "-f", "spdx-json"], cwd=repo)


def fifo_git_config_check(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT, "README.md": "# m\n"})
    (repo / ".git" / "config").unlink()
    os.mkfifo(repo / ".git" / "config")
    return Run(["check", "LICENSE"], cwd=repo)


def fifo_git_config_rev(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT, "README.md": "# m\n"})
    (repo / ".git" / "config").unlink()
    os.mkfifo(repo / ".git" / "config")
    return Run(["scan", f"{repo}@HEAD", "-f", "json"], cwd=repo.parent)


def fifo_git_files(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT, "README.md": "# m\n"})
    for name in ("index", "info/exclude", "HEAD"):
        path = repo / ".git" / name
        path.unlink(missing_ok=True)
        path.parent.mkdir(exist_ok=True)
        os.mkfifo(path)
    os.mkfifo(repo / ".gitignore")
    return Run(["scan", ".", "-f", "spdx-json"], cwd=repo)


def dev_zero_git_files(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT, "README.md": "# m\n"})
    for name in ("index", "config", "HEAD", "info/exclude"):
        path = repo / ".git" / name
        path.unlink(missing_ok=True)
        path.parent.mkdir(exist_ok=True)
        path.symlink_to("/dev/zero")
    (repo / ".gitignore").symlink_to("/dev/zero")
    return Run(["scan", ".", "-f", "spdx-json"], cwd=repo)


def dev_zero_ref_rev(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT, "README.md": "# m\n"})
    ref = repo / ".git" / "refs" / "heads" / "zero"
    ref.symlink_to("/dev/zero")
    return Run(["scan", f"{repo}@zero", "-f", "json"], cwd=repo.parent)


def corrupt_loose_blob(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT, "README.md": "# m\n" + "text " * 1000})
    sha = git(repo, "rev-parse", "HEAD:README.md")
    obj = repo / ".git" / "objects" / sha[:2] / sha[2:]
    obj.chmod(0o644)
    obj.write_bytes(zlib.compress(b"blob 5000\0" + b"x" * 10)[:-6] + b"\xff" * 50)
    return Run(["scan", f"{repo}@HEAD", "-f", "json"], cwd=repo.parent)


def zlib_bomb_loose_blob(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT, "README.md": "# m\n"})
    sha = git(repo, "rev-parse", "HEAD:README.md")
    obj = repo / ".git" / "objects" / sha[:2] / sha[2:]
    obj.chmod(0o644)
    comp = zlib.compressobj(9)
    size = 1 << 30
    parts = [comp.compress(b"blob %d\0" % size)]
    chunk = b"a" * (1 << 20)
    parts += [comp.compress(chunk) for _ in range(size >> 20)]
    parts.append(comp.flush())
    obj.write_bytes(b"".join(parts))
    return Run(["scan", f"{repo}@HEAD", "-f", "json"], cwd=repo.parent)


def huge_symlink_blob(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT})
    target = ("a/" * (25 << 19)).encode()  # 25 MiB
    sha = git(repo, "hash-object", "-w", "--stdin", stdin=target)
    git(repo, "update-index", "--add", "--cacheinfo", f"120000,{sha},link")
    git(repo, "commit", "-q", "-m", "link")
    return Run(["scan", f"{repo}@HEAD", "-f", "json"], cwd=repo.parent)


def symlink_chain(repo: Path, outside: Path) -> Run:
    write(repo, {"LICENSE": MIT})
    prev = "LICENSE"
    for i in range(200):
        (repo / f"l{i}").symlink_to(prev)
        prev = f"l{i}"
    (repo / "loop1").symlink_to("loop2")
    (repo / "loop2").symlink_to("loop1")
    (repo / "dirloop").mkdir()
    (repo / "dirloop" / "up").symlink_to("..")
    return Run(["scan", ".", "-f", "json"], cwd=repo)


# -- size ------------------------------------------------------------------------------


def card_license_list(repo: Path, outside: Path) -> Run:
    items = "\n".join(f"- license-{i}" for i in range(4000))
    card = f"---\nlicense:\n{items}\nlicense_name:\n{items}\nbase_model:\n{items}\n---\n# m\n"
    write(repo, {"LICENSE": MIT, "README.md": card, "model.safetensors": small_weights()})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def card_license_list_formats(repo: Path, outside: Path) -> Run:
    items = "\n".join(f"- apache-2.0\n- mit\n- license-{i}" for i in range(1500))
    card = f"---\nlicense:\n{items}\n---\n# m\n"
    write(repo, {"LICENSE": MIT, "README.md": card})
    return Run(["scan", ".", "-f", "spdx-tv"], cwd=repo)


def metadata_keys(repo: Path, outside: Path) -> Run:
    meta = {f"k{i}": "v" for i in range(1_300_000)}
    header = json.dumps(
        {"__metadata__": meta, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    )
    write(repo, {"LICENSE": MIT, "model.safetensors": safetensors(header.encode(), b"\0" * 4)})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def gguf_many_keys(repo: Path, outside: Path) -> Run:
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 0, 1_000_000))
    for i in range(1_000_000):
        key = b"k%d" % i
        out += (
            struct.pack("<Q", len(key)) + key + struct.pack("<I", 8) + struct.pack("<Q", 1) + b"v"
        )
    write(repo, {"LICENSE": MIT, "model.gguf": bytes(out)})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def gguf_huge_counts(repo: Path, outside: Path) -> Run:
    out = b"GGUF" + struct.pack("<IQQ", 3, 1 << 62, 1 << 62)
    out += struct.pack("<Q", 1 << 60) + b"k"
    write(repo, {"LICENSE": MIT, "model.gguf": out})
    return Run(["scan", ".", "-f", "json"], cwd=repo)


def many_files(repo: Path, outside: Path) -> Run:
    for i in range(200):
        folder = repo / f"d{i}"
        folder.mkdir(parents=True)
        for j in range(100):
            (folder / f"f{j}.py").write_text("# SPDX-License-Identifier: MIT\n")
    (repo / "LICENSE").write_text(MIT)
    return Run(["scan", ".", "-f", "spdx-json"], cwd=repo)


# -- output ----------------------------------------------------------------------------


def control_chars_names(repo: Path, outside: Path) -> Run:
    write(
        repo,
        {
            "LICENSE": MIT,
            "evil\x1b[2J\x1b[31mname.py": "# SPDX-License-Identifier: GPL-3.0-only\n",
            "bell\x07\rcarriage.md": "x\n",
            "README.md": "---\nlicense: other\nlicense_name: \x1b]0;pwned\x07evil\n---\n# m\nLicense: \x1b[2Jfoo\x9b1m\n",
        },
    )
    return Run(["scan", "."], cwd=repo, check=no_control_chars)


def control_chars_verbose(repo: Path, outside: Path) -> Run:
    write(
        repo,
        {
            "LICENSE": MIT.replace("Example", "Ex\x1b[2Jample\x1b]0;t\x07"),
            "evil\x1b[2J\x1b[31mname.py": "# SPDX-License-Identifier: GPL-3.0-only\n",
            "weird\u202ename\u2066.py": "# SPDX-License-Identifier: GPL-3.0-only\n",
        },
    )
    return Run(["scan", ".", "-v"], cwd=repo, check=no_control_chars)


def control_chars_check(repo: Path, outside: Path) -> Run:
    git_repo(
        repo, {"LICENSE": MIT, "evil\x1b[2Jname.py": "# SPDX-License-Identifier: GPL-3.0-only\n"}
    )
    return Run(
        ["check", "evil\x1b[2Jname.py", "--fail-on", "note"], cwd=repo, check=no_control_chars
    )


def newline_name_tv(repo: Path, outside: Path) -> Run:
    write(
        repo,
        {
            "LICENSE": MIT,
            "a\nPackageName: forged\nFileName: ./x.py": "# SPDX-License-Identifier: MIT\n",
            "b\rFileName: ./y": "x\n",
            "c\n</text>\nPackageName: forged2": "x\n",
        },
    )

    def check(result: Result) -> None:
        no_output_line(b"PackageName: forged")(result)
        lines = result.stdout.decode().splitlines()
        assert "FileName: ./x.py" not in lines and "FileName: ./y" not in lines
        _validate_tv(result.stdout)

    return Run(["scan", ".", "-f", "spdx-tv"], cwd=repo, check=check)


def _validate_tv(data: bytes) -> None:
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"hostile-{os.getpid()}.spdx"
    tmp.write_bytes(data)
    try:
        doc = parse_file(str(tmp))
    finally:
        tmp.unlink()
    errors = validate_full_spdx_document(doc)
    assert not errors, errors[:3]
    names = [f.name for f in doc.files]
    assert not any(n == "./x.py" for n in names)


def newline_name_text(repo: Path, outside: Path) -> Run:
    write(
        repo, {"LICENSE": MIT, "a\nerror  forged.py": "# SPDX-License-Identifier: GPL-3.0-only\n"}
    )
    return Run(["scan", ".", "-v"], cwd=repo, check=no_output_line(b"error  forged"))


def empty_target(repo: Path, outside: Path) -> Run:
    write(repo, {"LICENSE": MIT})

    def check(result: Result) -> None:
        assert b"empty" in result.stderr.lower(), result.stderr

    return Run(["scan", ""], cwd=repo, codes=exits(2), check=check)


def empty_target_check(repo: Path, outside: Path) -> Run:
    git_repo(repo, {"LICENSE": MIT})
    return Run(["check", ""], cwd=repo, codes=exits(0, 2))


def binary_license(repo: Path, outside: Path) -> Run:
    write(
        repo,
        {
            "LICENSE": os.urandom(1 << 20),
            "NOTICE": b"\xff\xfe" + "x".encode("utf-16-le") * 1000 + b"\x00\xd8",
        },
    )
    return Run(["scan", "."], cwd=repo)


SHAPES: list[Shape] = [
    Shape(f.__name__.replace("_", "-"), group, f)
    for group, fs in (
        ("execution", [exec_check, exec_scan_dir, exec_scan_rev, exec_diff]),
        (
            "escape",
            [
                lfs_symlink_out,
                lfs_dir_symlink_out,
                check_folder_symlinked,
                check_file_symlinked,
                dotgit_symlink_out,
                dotgit_file_out,
                output_symlink,
                output_dir_symlink,
                hf_cache_ref_symlink,
                hf_cache_ref_fifo,
                hf_cache_ref_dev_zero,
                hf_cache_blob_out,
                hf_cache_snapshot_out,
            ],
        ),
        (
            "crash",
            [
                safetensors_huge_int,
                safetensors_deep,
                pdf_lzw_junk,
                deep_toml_policy,
                deep_toml_inline_table,
                deep_toml_pyproject,
                deep_json_index,
                deep_yaml_front_matter,
                deep_toml_policy_explicit,
                binary_license,
            ],
        ),
        (
            "hang",
            [
                spdx_tag_spaces,
                readme_long_lines,
                readme_long_lines_each,
                license_long_lines,
                code_header_long_lines,
                many_short_lines,
                policy_glob_bomb,
                gitignore_glob_bomb,
                yaml_alias_bomb,
                pdf_self_reference,
                pdf_layout_bomb,
                pdf_many_pages,
                pdf_many_bad,
                fifo_git_config,
                fifo_git_config_check,
                fifo_git_config_rev,
                fifo_git_files,
                dev_zero_git_files,
                dev_zero_ref_rev,
                corrupt_loose_blob,
                huge_symlink_blob,
                symlink_chain,
            ],
        ),
        (
            "size",
            [
                card_license_list,
                card_license_list_formats,
                metadata_keys,
                gguf_many_keys,
                gguf_huge_counts,
                pdf_flate_bomb,
                zlib_bomb_loose_blob,
                many_files,
            ],
        ),
        (
            "output",
            [
                control_chars_names,
                control_chars_verbose,
                control_chars_check,
                newline_name_tv,
                newline_name_text,
                empty_target,
                empty_target_check,
            ],
        ),
    )
    for f in fs
]
BY_NAME = {s.name: s for s in SHAPES}


# -- running ---------------------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, str]:
    """What is under ``folder`` (links and FIFOs by what they are, files by hash)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            rel = str(path.relative_to(folder))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = "link:" + os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[rel] = oct(st.st_mode)
    return out


def build(shape: Shape, scratch: Path) -> tuple[Run, Path, Path]:
    """-> (run, repo, outside) for ``shape`` in ``scratch`` (an empty folder)."""
    repo = scratch / "repo"
    outside = scratch / "outside"
    repo.mkdir()
    outside.mkdir()
    return shape.build(repo, outside), repo, outside


_LAUNCHER = """
import json, os, signal, subprocess, sys, time
command, deadline, measured = json.loads(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
start = time.perf_counter()
proc = subprocess.Popen(command, start_new_session=True)
code = None
while True:
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if pid:
        code = os.waitstatus_to_exitcode(status)
        break
    if time.perf_counter() - start > deadline:
        os.killpg(proc.pid, signal.SIGKILL)
        _, status, usage = os.wait4(proc.pid, 0)
        break
    time.sleep(0.005)
seconds = time.perf_counter() - start
try:
    os.killpg(proc.pid, signal.SIGKILL)  # what it left running (a git it started)
except OSError:
    pass
with open(measured, "w") as fh:
    json.dump({"code": code, "seconds": seconds, "rss": usage.ru_maxrss * 1024}, fh)
"""


def run(shape: Shape, scratch: Path, *, deadline: float = DEADLINE) -> Result:
    """Build and audit ``shape``; -> its Result. Asserts nothing (``verify`` does)."""
    spec, repo, outside = build(shape, scratch)
    before = _snapshot(outside)
    env = {
        **os.environ,
        "HOME": str(scratch / "home"),
        "XDG_CACHE_HOME": str(scratch / "cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "PYTHONDONTWRITEBYTECODE": "1",
        "COLUMNS": "100",
        **spec.env,
    }
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        env.pop(name, None)
    out_path, err_path = scratch / "stdout", scratch / "stderr"
    measured = scratch / "measured.json"
    command = [sys.executable, "-m", "auditor", *spec.args]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        # The launcher is a small process of its own: a child's peak RSS counts the
        # memory of the process it was forked from, and this one holds big shapes.
        subprocess.run(
            [sys.executable, "-c", _LAUNCHER, json.dumps(command), str(deadline), str(measured)],
            cwd=spec.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            timeout=deadline + 30,
            check=True,
        )
    facts = json.loads(measured.read_text())
    code, seconds, rss = facts["code"], facts["seconds"], facts["rss"]
    outputs = {}
    for written in spec.writes:
        if written.is_file():
            outputs[str(written)] = written.read_bytes()
    for path in repo.rglob("*"):
        if path.name.startswith("bom") and path.is_file() and not path.is_symlink():
            outputs[str(path)] = path.read_bytes()
    result = Result(code, seconds, rss, out_path.read_bytes(), err_path.read_bytes(), outputs)
    result.outside_changed = _snapshot(outside) != before  # type: ignore[attr-defined]
    result.ran = (scratch / MARKER).exists()  # type: ignore[attr-defined]
    result.spec = spec  # type: ignore[attr-defined]
    return result


def problems(result: Result) -> list[str]:
    """Everything this result does wrong against the rules at the top of this module."""
    spec: Run = result.spec  # type: ignore[attr-defined]
    out: list[str] = []
    if result.code is None:
        out.append(f"did not end within {DEADLINE:.0f} s")
    if result.rss > MAX_RSS:
        out.append(f"peak RSS {result.rss >> 20} MiB over {MAX_RSS >> 20} MiB")
    if result.code is not None and result.code not in spec.codes:
        out.append(f"exit {result.code}, expected one of {sorted(spec.codes)}")
    err = result.stderr.decode("utf-8", "replace")
    if result.code in (2, 3):
        lines = [ln for ln in err.splitlines() if ln.strip()]
        if len(lines) != 1 or not lines[0].startswith("auditor: error: "):
            out.append(f"exit {result.code} without one error line: {err[-400:]!r}")
    if "Traceback" in err:
        out.append(f"traceback: {err[-400:]!r}")
    if result.code is not None and result.code < 0:
        out.append(f"killed by signal {-result.code}")
    for data in (result.stdout, result.stderr, *result.outputs.values()):
        if SECRET.encode() in data:
            out.append("a file outside the repository reached the output")
            break
    if result.outside_changed:  # type: ignore[attr-defined]
        out.append("a file outside the repository was changed")
    if result.ran:  # type: ignore[attr-defined]
        out.append("a command from the repository ran")
    if spec.check is not None and result.code is not None and not out:
        try:
            spec.check(result)
        except Exception as exc:  # a parser's error is as much a failure as an assert
            out.append(f"check failed: {type(exc).__name__}: {str(exc)[:300]}")
    return out
