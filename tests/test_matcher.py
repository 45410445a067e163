"""The fingerprint matcher: normalization, near relatives, spans, modifications, data integrity."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from auditor import matcher as M
from auditor.errors import SignatureError

sys.path.insert(0, str(FIXTURES / "corpus"))
import runner

needs_shared = pytest.mark.skipif(
    not runner.SHARED.is_dir(), reason="../shared/licenses is missing"
)


def text(source: str) -> str:
    return runner.reference(source)[0]


def keys(t: str) -> list[str]:
    return [m.key for m in M.match_text(t).matches]


def test_normalization_ignores_formatting() -> None:
    a = M.tokenize(
        "Copyright (c) 2024 ACME\n1. The  Licensee SHALL\n(b) “not” <b>use</b> &amp; licence"
    )
    assert a.words == ["the", "licensee", "shall", "not", "use", "license"]
    assert a.lines == [2, 2, 2, 3, 3, 3]
    # A line that starts with the word is no copyright statement.
    assert M.tokenize("copyright notice, this list").words[:2] == ["copyright", "notice"]
    assert M.tokenize("本协议 第一条 许可").words == [
        "本",
        "协",
        "议",
        "第",
        "一",
        "条",
        "许",
        "可",
    ]
    assert M.tokenize("第一条 许可").words == ["许", "可"]  # an article number is a list marker


NEAR_RELATIVES = {
    "llama": [
        "shared:llama2.txt",
        "shared:llama3.txt",
        "shared:llama3.1.txt",
        "shared:llama3.2.txt",
        "shared:llama3.3.txt",
        "shared:llama4.txt",
    ],
    "qwen": ["shared:tongyi-qianwen.txt", "shared:tongyi-qianwen-research.txt", "shared:qwen.txt"],
    "openrail": [
        "shared:creativeml-openrail-m.txt",
        "shared:bigscience-openrail-m.txt",
        "shared:bigcode-openrail-m.txt",
        "shared:openrail++.txt",
        "shared:bigscience-bloom-rail-1.0.txt",
    ],
    "gpl": ["scancode:gpl-2.0", "scancode:gpl-3.0", "scancode:agpl-3.0"],
    "lgpl": ["scancode:lgpl-2.1", "scancode:lgpl-3.0"],
    "bsd": ["scancode:bsd-new", "scancode:bsd-simplified", "scancode:bsd-original"],
    "gemma": ["shared:gemma.txt", "shared:gemma-2024-04-01.txt"],
    "yi": ["shared:yi-model-1.0.zh.txt", "shared:yi-model-2.0.zh.txt"],
    "chatglm": [
        "shared:chatglm-6b-model.zh.txt",
        "shared:chatglm2-6b-model.zh.txt",
        "shared:chatglm3-6b-model.zh.txt",
    ],
}


@needs_shared
@pytest.mark.parametrize("family", sorted(NEAR_RELATIVES))
def test_near_relatives_are_told_apart(family: str) -> None:
    found = {src: keys(text(src)) for src in NEAR_RELATIVES[family]}
    # each text is exactly one license, and no two texts of the family share it
    assert all(len(k) == 1 for k in found.values()), found
    assert len({k[0] for k in found.values()}) == len(found), found


@needs_shared
def test_version_change_alone_separates_llama_31_and_32() -> None:
    t31 = text("shared:llama3.1.txt")
    assert keys(t31) == ["llama-3.1-license-2024"]
    # The 3.2 text is a different text; but a 3.1 text whose version names were all
    # edited to 3.2 is no clean 3.1 either: it must not come back as an exact 3.1.
    edited = t31.replace("3.1", "3.2")
    result = M.match_text(edited)
    assert not any(
        m.key == "llama-3.1-license-2024" and m.exact and not m.differing_lines
        for m in result.matches
    )


@needs_shared
def test_two_licenses_in_one_file_each_with_its_span() -> None:
    mit, apache = text("scancode:mit"), text("scancode:apache-2.0")
    combined = mit + "\n\n---\n\n" + apache
    result = M.match_text(combined)
    spans = {m.key: (m.start_line, m.end_line) for m in result.matches}
    assert set(spans) == {"mit", "apache-2.0"}
    mit_lines = mit.count("\n") + 1
    assert spans["mit"][1] <= mit_lines < spans["apache-2.0"][0]


@needs_shared
def test_modified_text_quotes_the_changed_lines() -> None:
    original = text("shared:deepseek.txt")
    lines = original.split("\n")
    target = next(i for i, ln in enumerate(lines) if "You agree not to use the Model" in ln)
    lines[target] = "You agree not to use the Model, except with our written approval:"
    lines.append("Additional Terms. The licensee shall send a postcard every year.")
    result = M.match_text("\n".join(lines))
    (m,) = result.matches
    assert (m.key == "deepseek-la-1.0" and not m.exact) or m.differing_lines
    extra = [u for u in result.unmatched if u.significant]
    reported = set(m.differing_lines) | {ln for u in extra for ln in range(u.first, u.last + 1)}
    assert target + 1 in reported
    assert len(lines) in reported
    assert len(reported) <= 3  # the changed lines, not their neighbours


def test_unknown_text_matches_nothing() -> None:
    result = M.match_text(
        "You may use these weights only on Tuesdays. Commercial use is prohibited.\n"
    )
    assert result.matches == [] and result.ambiguous == []
    assert result.unmatched and result.unmatched[0].termlike


def test_truncated_fingerprints_are_a_signature_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "fingerprints.bin"
    data = M.FINGERPRINTS.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(M, "FINGERPRINTS", broken)
    M.fingerprints.cache_clear()
    try:
        with pytest.raises(SignatureError, match="truncated"):
            M.fingerprints()
    finally:
        M.fingerprints.cache_clear()


def test_fingerprints_are_replaced_atomically(tmp_path: Path) -> None:
    out = tmp_path / "fp.bin"
    M.write_fingerprints(out, [("mit", "test", [4, 8, 12])], [])
    before = out.stat().st_ino
    M.write_fingerprints(out, [("mit", "test", [4, 8, 16])], [])
    assert out.stat().st_ino != before  # a new file renamed over, never rewritten in place
    assert not list(tmp_path.glob("*.tmp"))


def test_no_reference_text_is_stored() -> None:
    data = M.FINGERPRINTS.read_bytes()
    assert b"Permission is hereby granted" not in data
    assert b"permission is hereby granted" not in data


def test_one_changed_word_in_a_short_license_is_caught() -> None:
    mit = text("scancode:mit")
    changed = "MIT License\n\nCopyright (c) 2024 X\n\n" + mit.replace(
        "IN NO EVENT SHALL", "IN EVERY EVENT SHALL"
    )
    (m,) = M.match_text(changed).matches
    assert m.key == "mit" and not m.exact
    lines = changed.split("\n")
    assert [lines[ln - 1] for ln in m.differing_lines] == [
        next(ln for ln in lines if "IN EVERY EVENT SHALL" in ln)
    ]
    (clean,) = M.match_text("MIT License\n\nCopyright (c) 2024 X\n\n" + mit).matches
    assert clean.exact and clean.differing_lines == ()
