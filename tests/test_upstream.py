"""--upstream: changes by sha256, modification statements, dropped notices."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from generate import lfs_pointer, safetensors_bytes

import auditor.upstream as upstream_mod
from auditor.errors import UsageError
from auditor.model import (
    DroppedNotice,
    Evidence,
    FileEntry,
    FileKind,
    Inventory,
    Method,
    Skipped,
    Upstream,
)
from auditor.pipeline import Options, run_audit
from auditor.signatures.build import scancode_license_dir
from auditor.sources import Source, open_source
from auditor.sources.local import LocalSource
from auditor.upstream import open_upstream
from auditor.weights import ReadAt

# The real text, from ScanCode's data at test time (its YAML front matter dropped).
APACHE = (scancode_license_dir() / "apache-2.0.LICENSE").read_text(encoding="utf-8").split(
    "---", 2
)[2].strip() + "\n"

NOTICE = "Example Model\nCopyright 2024 Example Org\n\nThis product includes software developed by Example Org.\n"
MODELING = (
    "# Copyright 2024 Example Org. All rights reserved.\n"
    "# Licensed under the Apache License, Version 2.0.\n"
    "\n"
    "import math\n"
    "\n"
    "def forward(x):\n"
    "    return math.tanh(x)\n"
)
UTILS = "# Copyright (c) 2024 Example Org\n\ndef helper():\n    return 1\n"
TOOLS = "def retry(n):\n    return n\n"
CONFIG = '{"hidden_size": 64, "num_layers": 2}\n'
README_UP = "# Example Model\n\nQuantized versions are available elsewhere.\n"


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return root


def upstream_files() -> dict[str, str | bytes]:
    return {
        "LICENSE": APACHE,
        "NOTICE": NOTICE,
        "modeling.py": MODELING,
        "utils.py": UTILS,
        "tools.py": TOOLS,
        "config.json": CONFIG,
        "model.safetensors": safetensors_bytes({"format": "pt"}),
        "README.md": README_UP,
        "same.txt": "unchanged\n",
        "old.txt": "only upstream\n",
    }


def derivative_files() -> dict[str, str | bytes]:
    return {
        "LICENSE.txt": APACHE,  # renamed: carried
        # NOTICE dropped
        "modeling.py": MODELING.replace(
            "# Copyright 2024 Example Org. All rights reserved.\n", ""
        ).replace("tanh", "sigmoid"),  # no statement, copyright line stripped
        "utils.py": "# Copyright (c) 2024 Example Org\n# Modified by Derivative Team, 2025: faster helper\n\ndef helper():\n    return 2\n",
        "tools.py": TOOLS.replace("n\n", "n + 1\n"),
        "CHANGELOG.md": "# Changelog\n\n- `tools.py`: retry one more time\n",
        "config.json": CONFIG.replace("64", "96"),  # same size, other bytes
        "model.safetensors": safetensors_bytes({"format": "pt"}, tensors=2),
        "README.md": README_UP + "\nThis model was fine-tuned from example-org/example-model.\n",
        "same.txt": "unchanged\n",
        "new.py": "print('added')\n",
    }


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write(tmp_path / "derivative", derivative_files()),
        write(tmp_path / "upstream", upstream_files()),
    )


def compare(source: Source, inventory: Inventory, target: str) -> Upstream:
    """What run_audit does for --upstream: open it, audit it without checks, compare."""
    theirs = open_upstream(target)
    return upstream_mod.compare(
        source, inventory, target, theirs, run_audit(theirs, Options(checks=()))
    )


def run(derivative: Path, upstream: Path, source: Source | None = None) -> Upstream:
    source = source or LocalSource(str(derivative))
    return compare(source, source.inventory(), str(upstream))


class RecordingSource(LocalSource):
    """A local source that records every path opened after the inventory, and can refuse some."""

    def __init__(self, target: str, refuse: frozenset[str] = frozenset()) -> None:
        super().__init__(target)
        self.opened: list[str] = []
        self.lengths: list[int] = []
        self.refuse = refuse
        self.recording = False

    @contextmanager
    def reader(self, path: str) -> Iterator[ReadAt]:
        if _base_name(path) in self.refuse:
            raise PermissionError(13, "Permission denied", path)
        if self.recording:
            self.opened.append(path)
        with super().reader(path) as read_at:

            def read(offset: int, length: int) -> bytes:
                if self.recording:
                    self.lengths.append(length)
                return read_at(offset, length)

            yield read

    def inventory(self) -> Inventory:
        inv = super().inventory()
        self.recording = True
        return inv


def _base_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


# -- changes -----------------------------------------------------------------


def test_every_change_kind(trees: tuple[Path, Path]) -> None:
    result = run(*trees)
    assert [(c.path, c.change, c.kind) for c in result.changes] == [
        ("CHANGELOG.md", "added", FileKind.OTHER),
        ("LICENSE", "removed", FileKind.LICENSE),
        ("LICENSE.txt", "added", FileKind.LICENSE),
        ("NOTICE", "removed", FileKind.NOTICE),
        ("README.md", "modified", FileKind.README),
        ("config.json", "modified", FileKind.CONFIG),
        ("model.safetensors", "modified", FileKind.WEIGHTS),
        ("modeling.py", "modified", FileKind.CODE),
        ("new.py", "added", FileKind.CODE),
        ("old.txt", "removed", FileKind.OTHER),
        ("tools.py", "modified", FileKind.CODE),
        ("utils.py", "modified", FileKind.CODE),
    ]
    assert result.target == str(trees[1])
    assert result.revision is None


def test_upstream_licenses_come_from_its_audit(trees: tuple[Path, Path]) -> None:
    result = run(*trees)
    assert result.licenses, result
    assert list(result.licenses) == sorted(result.licenses)
    assert {concluded for _, concluded in result.licenses} == {"apache-2.0"}


def test_statements_found_or_none(trees: tuple[Path, Path]) -> None:
    result = run(*trees)
    found = {
        c.path: None
        if c.statement is None
        else (c.statement.path, c.statement.start_line, c.statement.method, c.statement.excerpt)
        for c in result.changes
        if c.change == "modified"
    }
    card = (
        "README.md",
        5,
        Method.README_STATEMENT,
        "This model was fine-tuned from example-org/example-model.",
    )
    assert found == {
        # A card speaks for the model's files, not for itself.
        "README.md": None,
        # The upstream's own "Quantized versions..." line is no statement of the derivative's:
        # the card's statement is the line the derivative added.
        "config.json": card,
        "model.safetensors": card,
        "modeling.py": None,
        "tools.py": ("CHANGELOG.md", 3, Method.LICENSE_TEXT, "- `tools.py`: retry one more time"),
        "utils.py": (
            "utils.py",
            2,
            Method.LICENSE_TEXT,
            "# Modified by Derivative Team, 2025: faster helper",
        ),
    }
    others = [c for c in result.changes if c.change != "modified"]
    assert others and all(c.statement is None for c in others)


def test_dropped_notices(trees: tuple[Path, Path]) -> None:
    result = run(*trees)
    assert result.dropped == (
        DroppedNotice(
            "notice-file",
            "NOTICE",
            "NOTICE",
            Evidence("NOTICE", 1, 4, Method.LICENSE_TEXT, "Example Model"),
        ),
        DroppedNotice(
            "copyright",
            "modeling.py",
            "# Copyright 2024 Example Org. All rights reserved.",
            Evidence(
                "modeling.py",
                1,
                1,
                Method.LICENSE_TEXT,
                "# Copyright 2024 Example Org. All rights reserved.",
            ),
        ),
    )


def test_nothing_changed_nothing_dropped(tmp_path: Path) -> None:
    files = upstream_files()
    result = run(write(tmp_path / "d", files), write(tmp_path / "u", files))
    assert result.changes == ()
    assert result.dropped == ()


# -- statements --------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "# Modifications copyright (C) 2025 Derivative Team",
        "# Changes made by Derivative Team",
        "# This file has been modified to add caching.",
        "# Changed the activation from the original tanh",
        "# Modified from example-org/example-model",
        "# 本文件由 Derivative 团队修改",
    ],
)
def test_in_file_statement_forms(tmp_path: Path, header: str) -> None:
    up = write(tmp_path / "u", {"a.py": "x = 1\n"})
    d = write(tmp_path / "d", {"a.py": f"{header}\nx = 2\n"})
    (change,) = run(d, up).changes
    assert change.statement == Evidence("a.py", 1, 1, Method.LICENSE_TEXT, header)


def test_ordinary_code_edit_is_no_statement(tmp_path: Path) -> None:
    up = write(tmp_path / "u", {"a.py": "x = 1\n"})
    d = write(tmp_path / "d", {"a.py": "# the list is sorted in place\nprint(c)\nx = 2\n"})
    (change,) = run(d, up).changes
    assert change.statement is None


def test_upstream_statement_carried_over_is_not_the_derivatives(tmp_path: Path) -> None:
    header = "# Modified by Upstream Team from the reference implementation\n"
    up = write(
        tmp_path / "u",
        {"a.py": header + "x = 1\n", "NOTICE": "a.py was modified by Upstream Team\n"},
    )
    d = write(
        tmp_path / "d",
        {"a.py": header + "x = 2\n", "NOTICE": "a.py was modified by Upstream Team\n"},
    )
    (change,) = run(d, up).changes
    assert change.statement is None


def test_notice_line_naming_the_file_next_to_a_change_word(tmp_path: Path) -> None:
    up = write(tmp_path / "u", {"src/a.py": "x = 1\n", "src/model.py": "y = 1\n"})
    d = write(
        tmp_path / "d",
        {
            "src/a.py": "x = 2\n",
            "src/model.py": "y = 2\n",
            # "mymodel.py" is another file; "model" alone is a word, not a file name.
            "NOTICE.md": "The model was updated. mymodel.py was changed.\nsrc/a.py: updated by Derivative\n",
        },
    )
    changes = {c.path: c.statement for c in run(d, up).changes if c.change == "modified"}
    assert changes == {
        "src/a.py": Evidence(
            "NOTICE.md", 2, 2, Method.LICENSE_TEXT, "src/a.py: updated by Derivative"
        ),
        "src/model.py": None,
    }


def test_readme_heading_with_a_change_word_covers_its_list(tmp_path: Path) -> None:
    up = write(tmp_path / "u", {"a.py": "x = 1\n", "README.md": "# A\n"})
    d = write(tmp_path / "d", {"a.py": "x = 2\n", "README.md": "# A\n\n## Changes\n\n- a.py\n"})
    statements = {c.path: c.statement for c in run(d, up).changes}
    assert statements["a.py"] == Evidence("README.md", 5, 5, Method.README_STATEMENT, "- a.py")


@pytest.mark.parametrize(
    "line",
    [
        "Quantised to 4 bits with GPTQ.",
        "A LoRA adapter merged into the base weights.",
        "Distilled and pruned from the base model.",
        "Converted to GGUF.",
        "本模型基于 Example 微调。",
        "本模型为量化版本。",
    ],
)
def test_card_statement_for_weights(tmp_path: Path, line: str) -> None:
    up = write(tmp_path / "u", {"w/model.safetensors": safetensors_bytes()})
    d = write(
        tmp_path / "d",
        {"w/model.safetensors": safetensors_bytes(tensors=2), "README.md": f"# Card\n\n{line}\n"},
    )
    (readme, change) = sorted(run(d, up).changes, key=lambda c: c.change)
    assert readme.path == "README.md" and readme.change == "added"
    assert change.statement == Evidence("README.md", 3, 3, Method.README_STATEMENT, line)


def test_card_says_nothing_and_code_gets_no_card_statement(tmp_path: Path) -> None:
    up = write(tmp_path / "u", {"model.safetensors": safetensors_bytes(), "a.py": "x = 1\n"})
    d = write(
        tmp_path / "d",
        {
            "model.safetensors": safetensors_bytes(tensors=2),
            "a.py": "x = 2\n",
            "README.md": "# Card\n\nThis model was fine-tuned on chat data.\n",
            "other/README.md": "Everything here was quantized.\n",
        },
    )
    statements = {c.path: c.statement for c in run(d, up).changes if c.change == "modified"}
    assert statements["a.py"] is None  # a card speaks for weights, not for code
    assert statements["model.safetensors"] is not None
    assert statements["model.safetensors"].path == "README.md"  # not a sibling folder's card


def test_statement_excerpt_is_trimmed(tmp_path: Path) -> None:
    line = "# Modified by " + "x" * 400
    up = write(tmp_path / "u", {"a.py": "x = 1\n"})
    d = write(tmp_path / "d", {"a.py": f"{line}\n"})
    (change,) = run(d, up).changes
    assert change.statement is not None
    assert change.statement.excerpt == line[:200]


# -- dropped notices ---------------------------------------------------------


def test_license_dropped_when_nowhere(tmp_path: Path) -> None:
    up = write(tmp_path / "u", {"LICENSE": APACHE, "a.py": "x = 1\n"})
    d = write(tmp_path / "d", {"a.py": "x = 1\n"})
    (dropped,) = run(d, up).dropped
    assert (dropped.what, dropped.path, dropped.text) == ("license-file", "LICENSE", "LICENSE")
    assert dropped.evidence.path == "LICENSE" and dropped.evidence.start_line == 1
    assert dropped.evidence.end_line == APACHE.count("\n")  # the last line, not past it
    assert dropped.evidence.excerpt == APACHE.strip().split("\n")[0].strip()


@pytest.mark.parametrize(
    "copy",
    [
        {"docs/apache.txt": APACHE.replace("\n", "\r\n")},  # CRLF: other bytes, same text
        {"LICENSE.md": "  ".join(APACHE.split(" "))},  # whitespace edits
        {"COPYING": "Our own terms come first.\n\n" + APACHE + "\nMIT parts follow.\n"},
        {"LICENSE": "MIT License\n"},  # same path: the license_text checks judge the content
    ],
)
def test_license_carried(tmp_path: Path, copy: dict[str, str | bytes]) -> None:
    up = write(tmp_path / "u", {"LICENSE": APACHE})
    d = write(tmp_path / "d", copy)
    assert [x for x in run(d, up).dropped if x.what == "license-file"] == []


def test_license_copy_in_code_file_does_not_count(tmp_path: Path) -> None:
    up = write(tmp_path / "u", {"LICENSE": APACHE})
    d = write(tmp_path / "d", {"license_text.py": f'TEXT = """{APACHE}"""\n'})
    assert [x.what for x in run(d, up).dropped] == ["license-file"]


def test_notice_partial_copy_reports_missing_lines(tmp_path: Path) -> None:
    notice = "".join(f"Notice line {i}\n" for i in range(1, 7))
    up = write(tmp_path / "u", {"NOTICE": notice})
    kept = "Notice line 1\n\nNotice line 3\n"
    d = write(tmp_path / "d", {"NOTICE": kept})
    (dropped,) = run(d, up).dropped
    assert dropped.what == "notice-file" and dropped.path == "NOTICE"
    assert dropped.text == (
        "NOTICE: 4 line(s) missing from the derivative's copy: "
        "'Notice line 2'; 'Notice line 4'; 'Notice line 5' and 1 more"
    )
    assert dropped.evidence == Evidence("NOTICE", 2, 2, Method.LICENSE_TEXT, "Notice line 2")


@pytest.mark.parametrize(
    "carried",
    [
        {"NOTICE": NOTICE + "\nDerivative additions by Derivative Team.\n"},
        {"NOTICE": NOTICE.replace("\n", "\r\n").replace(" ", "  ")},
        {"NOTICE.md": "# Notices\n\n" + NOTICE},  # moved, wrapped in our own notices
        {"legal/NOTICE-upstream": NOTICE},  # same bytes elsewhere
        {
            "NOTICE.txt": "This product includes software developed by Example Org.\nExample Model\nCopyright 2024 Example Org\n"
        },
    ],
)
def test_notice_carried(tmp_path: Path, carried: dict[str, str | bytes]) -> None:
    up = write(tmp_path / "u", {"NOTICE": NOTICE})
    d = write(tmp_path / "d", carried)
    assert run(d, up).dropped == ()


@pytest.mark.parametrize(
    ("upstream_line", "derivative_line", "dropped"),
    [
        ("# Copyright 2024 Example Org", "# Copyright 2025 Someone Else", True),
        ("// (c) 2024 Example Org", "// nothing here", True),
        ("© Example Org", "", True),
        ("# 版权所有 示例公司", "", True),
        (
            "# Copyright 2024 Example Org",
            "// Copyright 2024   Example Org",
            False,
        ),  # markers, spaces
        (
            "# Copyright 2024 Example Org",
            "# Copyright 2024 Example Org. Modifications copyright 2025 D.",
            False,
        ),
        (
            "# Copyright 2024 Example Org",
            "# Copyright 2024 Example Organization",
            True,
        ),  # whole words
        ("print(c)", "", False),  # code, not a copyright mark
        ("# Keep the copyright notice below.", "", False),  # prose about copyright
    ],
)
def test_copyright_line(
    tmp_path: Path, upstream_line: str, derivative_line: str, dropped: bool
) -> None:
    up = write(tmp_path / "u", {"a.py": f"{upstream_line}\nx = 1\n"})
    d = write(tmp_path / "d", {"a.py": f"{derivative_line}\nx = 2\n"})
    result = run(d, up).dropped
    expected = (
        [
            DroppedNotice(
                "copyright",
                "a.py",
                upstream_line,
                Evidence("a.py", 1, 1, Method.LICENSE_TEXT, upstream_line),
            )
        ]
        if dropped
        else []
    )
    assert list(result) == expected


def test_copyright_only_in_text_kinds_and_bounded(tmp_path: Path) -> None:
    big = "# Copyright 2024 Example Org\n" + "x = 1\n" * 200_000  # > 1 MiB
    up = write(
        tmp_path / "u",
        {
            "data.csv": "Copyright 2024 Example Org\n1,2\n",
            "big.py": big,
            "README.md": "© 2024 Example Org\n",
        },
    )
    d = write(
        tmp_path / "d",
        {
            "data.csv": "1,3\n",
            "big.py": big.replace("# Copyright 2024 Example Org\n", "#\n"),
            "README.md": "Hi\n",
        },
    )
    assert [(x.what, x.path, x.evidence.method) for x in run(d, up).dropped] == [
        ("copyright", "README.md", Method.README_STATEMENT)
    ]


# -- reading no more than needed ------------------------------------------------


def test_size_differing_file_is_never_read(
    trees: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    real = upstream_mod.file_sha256

    def counting(source: Source, path: str) -> str:
        hashed.append(path)
        return real(source, path)

    monkeypatch.setattr(upstream_mod, "file_sha256", counting)
    source = RecordingSource(str(trees[0]))
    result = run(trees[0], trees[1], source)
    assert "model.safetensors" in {c.path for c in result.changes}
    assert "model.safetensors" not in source.opened  # neither hashed nor read as text
    # Only same-size files present on both sides, and same-size license/notice copies, are hashed.
    assert sorted(set(hashed)) == ["LICENSE", "LICENSE.txt", "config.json", "same.txt"]
    assert sorted(hashed).count("same.txt") == 2  # once per side, cached after
    assert sorted(hashed).count("LICENSE") == 1


def test_lfs_pointer_digest_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = safetensors_bytes()
    up = write(tmp_path / "u", {"model.safetensors": weights, "other.safetensors": weights})
    d = write(
        tmp_path / "d",
        {
            "model.safetensors": lfs_pointer(weights),  # same content: unchanged
            "other.safetensors": lfs_pointer(weights[:-1] + b"\x01"),  # same size, other bytes
        },
    )
    hashed: list[str] = []
    real = upstream_mod.file_sha256

    def counting(source: Source, path: str) -> str:
        hashed.append(f"{source.target}:{path}")
        return real(source, path)

    monkeypatch.setattr(upstream_mod, "file_sha256", counting)
    result = run(d, up)
    assert [(c.path, c.change) for c in result.changes] == [("other.safetensors", "modified")]
    assert sorted(hashed) == [f"{up}:model.safetensors", f"{up}:other.safetensors"]


def test_hashing_streams_in_chunks(tmp_path: Path) -> None:
    size = (5 << 20) // 2  # 2.5 MiB
    up = write(tmp_path / "u", {"big.bin": b"\0" * size, "same.bin": b"\1" * size})
    d = write(tmp_path / "d", {"big.bin": b"\0" * (size - 1) + b"\2", "same.bin": b"\1" * size})
    source = RecordingSource(str(d))
    result = run(d, up, source)
    assert [(c.path, c.change) for c in result.changes] == [("big.bin", "modified")]
    assert source.lengths and max(source.lengths) <= 1 << 20
    assert sum(source.lengths) < 2 * (size + (1 << 20))  # each file once, in 1 MiB reads


# -- unreadable files ------------------------------------------------------------


def test_unreadable_same_size_file_is_reported_not_dropped(tmp_path: Path) -> None:
    up = write(tmp_path / "u", {"secret.bin": b"a" * 100, "grown.bin": b"a", "a.py": "x = 1\n"})
    d = write(tmp_path / "d", {"secret.bin": b"b" * 100, "grown.bin": b"ab", "a.py": "x = 2\n"})
    source = RecordingSource(str(d), refuse=frozenset({"secret.bin", "grown.bin", "a.py"}))
    inventory = source.inventory()
    assert {s.path for s in inventory.skipped} == {"secret.bin", "grown.bin", "a.py"}
    result = compare(source, inventory, str(up))
    assert [(c.path, c.change, c.statement) for c in result.changes] == [
        ("a.py", "unreadable", None),  # same size: only the bytes could tell
        ("grown.bin", "modified", None),  # the size says so: never read
        ("secret.bin", "unreadable", None),
    ]


def test_unreadable_upstream_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    up = write(tmp_path / "u", {"secret.bin": b"a" * 10, "NOTICE": NOTICE})
    d = write(tmp_path / "d", {"secret.bin": b"a" * 10, "NOTICE.md": NOTICE})

    def refusing_open(target: str) -> Source:
        assert target == str(up)
        open_source(target)  # the real checks on the target still run
        return RecordingSource(target, refuse=frozenset({"secret.bin", "NOTICE"}))

    monkeypatch.setattr(upstream_mod, "open_source", refusing_open)
    result = run(d, up)
    assert [(c.path, c.change) for c in result.changes] == [
        ("NOTICE", "removed"),
        ("NOTICE.md", "added"),
        ("secret.bin", "unreadable"),
    ]
    # A NOTICE that cannot be read is still a NOTICE the derivative does not carry.
    assert [(x.what, x.text) for x in result.dropped] == [("notice-file", "NOTICE (unreadable)")]


def test_paths_under_an_unlisted_folder_are_unreadable_not_added(tmp_path: Path) -> None:
    up = write(tmp_path / "u", {"a.txt": "a\n", "data/x.txt": "x\n", ".git/HEAD": "ref\n"})
    d = write(tmp_path / "d", {"a.txt": "a\n"})
    inventory = Inventory(
        root=str(d),
        revision=None,
        files=(
            FileEntry("a.txt", 2, FileKind.OTHER),
            FileEntry(".git/config", 5, FileKind.OTHER),  # never compared
        ),
        skipped=(Skipped("data", "cannot list directory: permission denied"),),
    )
    result = compare(LocalSource(str(d)), inventory, str(up))
    assert [(c.path, c.change) for c in result.changes] == [("data/x.txt", "unreadable")]


# -- usage --------------------------------------------------------------------------


def test_missing_upstream_is_a_usage_error(tmp_path: Path) -> None:
    d = write(tmp_path / "d", {"a.txt": "a\n"})
    for target in (tmp_path / "nowhere", d / "a.txt"):
        with pytest.raises(UsageError) as err:
            run(d, target)
        assert str(err.value) == f"--upstream {target}: no such directory"
        assert "\n" not in str(err.value)


def test_does_not_import_the_pipeline() -> None:
    """run_audit feeds the comparison: the upstream module never calls back into it."""
    source = Path(upstream_mod.__file__).read_text(encoding="utf-8")
    assert "auditor.pipeline" not in source and "run_audit(" not in source
