"""Hostile input (issue 14): every shape of hostile_shapes.py, audited in a child process.

Each must end within 10 s and 500 MiB, exit 0/1 or with one ``auditor: error:`` line
(2/3), read and write nothing outside its repository, and run nothing from it.

``make test`` runs the execution shapes (a repo's git config must never run a
command) and the unit tests below; the other shapes, 60 child processes and a minute
of CPU, carry the ``heavy`` marker: ``make test-heavy``, which CI runs after ``make
test``. ``bench/hostile.py`` runs them all and prints their times.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hostile_shapes import SHAPES, Shape, problems, run

#: Shape groups ``make test`` runs too: a miss there would run the repo's code.
ALWAYS = frozenset({"execution"})


def _param(shape: Shape) -> object:
    marks = [] if shape.group in ALWAYS else [pytest.mark.heavy]
    return pytest.param(shape, id=shape.name, marks=marks)


def test_always_groups_are_shape_groups() -> None:
    assert {s.group for s in SHAPES} >= ALWAYS


@pytest.mark.parametrize("shape", [_param(s) for s in SHAPES])
def test_shape(shape: Shape, tmp_path: Path) -> None:
    result = run(shape, tmp_path)
    assert not problems(result), (shape.name, result.code, result.stderr[-600:])


# -- the parts, one by one -------------------------------------------------------------


def test_read_regular_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    from auditor.safeio import read_regular

    (tmp_path / "f").write_bytes(b"x" * 10)
    assert read_regular(tmp_path / "f", 10) == b"x" * 10
    (tmp_path / "big").write_bytes(b"x" * 11)
    with pytest.raises(OSError, match="larger than 10 bytes"):
        read_regular(tmp_path / "big", 10)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "f")
    for bad in (tmp_path / "fifo", tmp_path / "link", Path("/dev/zero"), tmp_path):
        with pytest.raises(OSError):
            read_regular(bad, 10)  # returns at once: never blocks on the FIFO
    assert read_regular(tmp_path / "link", 10, follow=True) == b"x" * 10
    with pytest.raises(IsADirectoryError):  # a policy names a folder: said as such
        read_regular(tmp_path, 10, follow=True)


def test_git_dir_refuses_a_gitdir_file_leading_out(tmp_path: Path) -> None:
    from auditor.gitrepo import git_dir

    outside = tmp_path / "outside"
    subprocess.run(["git", "init", "-q", str(outside)], check=True)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").write_text(f"gitdir: {outside / '.git'}\n")
    assert git_dir(repo) is None
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / ".git").symlink_to(outside / ".git")
    assert git_dir(linked) is None
    assert git_dir(outside) == outside / ".git"


def test_git_dir_accepts_a_real_worktree(tmp_path: Path) -> None:
    from auditor.gitrepo import git_dir

    main = tmp_path / "main"
    subprocess.run(["git", "init", "-q", str(main)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(main),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
        check=True,
    )
    subprocess.run(
        ["git", "-C", str(main), "worktree", "add", "-q", str(tmp_path / "wt")], check=True
    )
    found = git_dir(tmp_path / "wt")
    assert found is not None and found.parent.parent == main / ".git"


def test_safetensors_metadata_is_capped_and_keeps_the_license() -> None:
    import json
    import struct

    from auditor.weights import MAX_METADATA_ITEMS, read_safetensors

    meta = {f"k{i:06d}": "v" for i in range(5000)}
    meta["license"] = "llama3"
    header = json.dumps(
        {"__metadata__": meta, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    ).encode()
    data = struct.pack("<Q", len(header)) + header + b"\0" * 4

    def read_at(offset: int, length: int) -> bytes:
        return data[offset : offset + length]

    found = read_safetensors(read_at, len(data))
    assert len(found.metadata) == MAX_METADATA_ITEMS
    assert ("license", "llama3") in found.metadata


def test_safetensors_integer_of_5000_digits_is_a_header_error() -> None:
    import struct

    from auditor.weights import HeaderError, read_safetensors

    header = '{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, ' + "9" * 5000 + "]}}"
    data = struct.pack("<Q", len(header)) + header.encode()
    with pytest.raises(HeaderError):
        read_safetensors(lambda o, n: data[o : o + n], len(data))


def test_front_matter_alias_bomb_is_refused_before_loading() -> None:
    from auditor.detectors.card_metadata import FrontMatterError, parse_front_matter

    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    with pytest.raises(FrontMatterError, match="aliases"):
        parse_front_matter("---\n" + "\n".join(lines) + "\n---\n")
    # a few aliases, as real cards use them, load
    fm = parse_front_matter("---\nbase: &b org/model\nbase_model: *b\n---\n")
    assert fm is not None and fm.data["base_model"] == "org/model"


def test_visible_escapes_what_a_terminal_obeys() -> None:
    from auditor.terminal import visible

    assert (
        visible("a\x1b]0;title\x07b\nc\rd\u202ee\tf") == "a\\x1b]0;title\\x07b\\nc\\rd\\u202ee\tf"
    )
    assert visible("名前 é") == "名前 é"


def test_policy_glob_is_linear(tmp_path: Path) -> None:
    from auditor.policy import _glob

    deep = "/".join(["a"] * 60) + "/" + "a" * 60
    assert not _glob("**/" * 25 + "b").matches(deep)
    assert not _glob("*a" * 12 + "b").matches(deep)
    assert _glob("**/" * 25 + "a").matches(deep)


def test_output_through_a_symlink_leading_out_is_refused(tmp_path: Path, monkeypatch) -> None:
    from auditor.atomic import escape

    (tmp_path / "out").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "bom.json").symlink_to(tmp_path / "out" / "bom.json")
    monkeypatch.chdir(work)
    reason = escape(Path("bom.json"))
    assert reason is not None and "symbolic link" in reason
    assert escape(Path("new.json")) is None  # an ordinary name is fine


def test_pdf_child_budget_ends_a_hostile_pdf() -> None:
    import time

    from hostile_shapes import pdf

    from auditor.pdftext import PdfError, extract

    started = time.monotonic()
    with pytest.raises(PdfError):  # a catalogue that is a reference to itself: out of budget
        extract(pdf([b"1 0 R"]), 1.0)
    assert time.monotonic() - started < 4


def test_internal_error_is_one_line_and_exit_3(monkeypatch, capsys, tmp_path: Path) -> None:
    import auditor.pipeline
    from auditor.cli import main

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(auditor.pipeline, "run_audit", broken)
    monkeypatch.delenv("AUDITOR_DEBUG", raising=False)
    (tmp_path / "LICENSE").write_text("x\n")
    monkeypatch.setattr(sys, "argv", ["auditor", "scan", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("auditor: error: internal error: RuntimeError")
    assert "Traceback" not in err
