"""README statements and badges: which license, and what it covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.detectors.readme_statement import ReadmeStatementDetector, _badge_parts, scope_of_text
from auditor.model import FileEntry, FileKind, Scope
from auditor.names import key_for_name, key_for_url
from auditor.pipeline import run_audit

README = FileEntry("README.md", 100, FileKind.README)


def statements(text: str) -> tuple[list[tuple[str, str, bool]], list[tuple[str, str]]]:
    found = ReadmeStatementDetector().detect(README, text)
    return (
        [(d.key, d.scope.value, d.is_clue) for d in found.detections],
        [(r.target, r.scope.value) for r in found.references],
    )


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("The code of this repository", Scope.CODE),
        ("The use of the model weights", Scope.MODEL),
        ("Code and model weights", Scope.ALL),
        ("The dataset", Scope.DATA),
        ("Qwen2.5-7B-Instruct", Scope.MODEL),
        ("本仓库的代码", Scope.CODE),
        ("模型权重的使用", Scope.MODEL),
        ("This repository", Scope.UNSPECIFIED),
    ],
)
def test_scope_words(text: str, scope: Scope) -> None:
    assert scope_of_text(text) is scope


def test_split_statement_gives_two_scopes() -> None:
    dets, refs = statements(
        "The code of this repository is licensed under Apache-2.0. "
        "The use of the model weights is subject to the [Model License](LICENSE-MODEL).\n"
    )
    assert dets == [("apache-2.0", "code", False)]
    assert refs == [("LICENSE-MODEL", "model")]


def test_front_matter_is_not_prose() -> None:
    dets, _ = statements("---\nlicense: mit\ndescription: licensed under GPL-3.0\n---\n# x\n")
    assert dets == []


def test_code_blocks_are_not_prose() -> None:
    dets, _ = statements("```\nThe code is licensed under GPL-3.0\n```\n")
    assert dets == []


def test_badge_parsing() -> None:
    assert _badge_parts("Code%20License-MIT-green.svg") == ("Code License", "MIT")
    assert _badge_parts("Model_License-Model_Agreement-f5de53") == (
        "Model License",
        "Model Agreement",
    )
    assert _badge_parts("license-Apache--2.0-blue") == ("license", "Apache-2.0")


def test_badge_without_link_or_known_name_is_unknown() -> None:
    dets, refs = statements(
        "![Model License](https://img.shields.io/badge/Model_License-Custom-blue)\n"
    )
    assert dets == [("unknown-license-reference", "model", True)]
    assert refs == []


def test_mention_is_a_clue_not_a_statement() -> None:
    dets, _ = statements("We compare our MIT-licensed tokenizer to others.\n")
    assert all(is_clue for _, _, is_clue in dets)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Apache License, Version 2.0", "apache-2.0"),
        ("the MIT License", "mit"),
        ("GPL", None),
        ("Model License", None),
        ("Apache", None),
        ("BSD", None),
        ("Llama 3.2 Community License Agreement", "llama-3.2-license-2024"),
        ("Baichuan 2 模型社区许可协议", "baichuan2-community"),
    ],
)
def test_names(name: str, key: str | None) -> None:
    assert key_for_name(name) == key


def test_known_license_pages() -> None:
    assert key_for_url("https://www.apache.org/licenses/LICENSE-2.0") == "apache-2.0"
    assert key_for_url("http://opensource.org/licenses/MIT/") == "mit"
    assert key_for_url("https://example.com/our-terms") is None


def test_links_resolve_to_files_and_broken_links_are_kept(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "docs" / "README.md").write_text(
        "Weights are released under the [license](../MODEL_LICENSE). "
        "Code: see [code license](../LICENSE-CODE).\n"
    )
    (tmp_path / "MODEL_LICENSE").write_text("Weights are ours. You shall not redistribute them.\n")
    result = run_audit(str(tmp_path))
    refs = {(r.reference.target, r.resolved) for r in result.references}
    assert refs == {("../MODEL_LICENSE", True), ("../LICENSE-CODE", False)}


def test_file_named_in_prose_is_a_reference_when_it_exists(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "README.md").write_text(
        "The use of the models is subject to the Model License (see LICENSE-MODEL). "
        "Details are in OTHER_LICENSE.txt.\n"
    )
    (tmp_path / "LICENSE-MODEL").write_text("Our weights terms. You shall not redistribute.\n")
    result = run_audit(str(tmp_path))
    refs = {(r.reference.target, r.reference.scope.value, r.resolved) for r in result.references}
    # the existing file resolves; a file named in prose that is not there is no broken link
    assert refs == {("LICENSE-MODEL", "model", True)}
    # and "the Model License" is not reported unknown twice: the file speaks for it
    unknown = [d for d in result.detections if d.key == "unknown-license-reference"]
    assert [d.evidence[0].path for d in unknown] == ["LICENSE-MODEL"]


def test_notice_naming_licenses_is_no_unknown_license(tmp_path: Path) -> None:
    (tmp_path / "NOTICE").write_text("This product includes software under the MIT License.\n")
    (tmp_path / "a.py").write_text("# SPDX-License-Identifier: MIT\n")
    result = run_audit(str(tmp_path))
    assert [d.key for d in result.detections] == ["mit"]
    assert result.components[0].concluded == "mit"
