"""Card front matter and SPDX tags: mapped to catalog keys, unknown where they cannot be."""

from __future__ import annotations

import re

import pytest

from auditor.detectors.card_metadata import (
    CardMetadataDetector,
    FrontMatterError,
    parse_front_matter,
)
from auditor.detectors.spdx_tag import SpdxTagDetector
from auditor.model import UNKNOWN_KEY, FileEntry, FileKind, Scope

CARD = FileEntry("README.md", 100, FileKind.README)
CODE = FileEntry("src/x.py", 100, FileKind.CODE)


def card(front: str) -> list[tuple[str, bool]]:
    found = CardMetadataDetector().detect(CARD, f"---\n{front}\n---\n# body\n")
    assert not found.problems
    return [(d.key, d.is_clue) for d in found.detections]


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("license: apache-2.0", [("apache-2.0", False)]),
        ("license: MIT", [("mit", False)]),
        ("license: llama2", [("llama-2-license-2023", False)]),
        ("license: llama3", [("llama3", False)]),
        ("license: llama3.1", [("llama-3.1-license-2024", False)]),
        ("license: llama3.2", [("llama-3.2-license-2024", False)]),
        ("license: llama3.3", [("llama-3.3-license-2024", False)]),
        ("license: llama4", [("llama-4-cla-2025", False)]),
        ("license: creativeml-openrail-m", [("stable-diffusion-2022-08-22", False)]),
        ("license: bigscience-openrail-m", [("bigscience-open-rail-m", False)]),
        ("license: bigscience-bloom-rail-1.0", [("bigscience-rail-1.0", False)]),
        ("license: cc-by-nc-4.0", [("cc-by-nc-4.0", False)]),
        ("license: agpl-3.0", [("agpl-3.0", False)]),
        ("license: bsl-1.0", [("boost-1.0", False)]),
        ("license: other\nlicense_name: deepseek", [("deepseek-la-1.0", False)]),
        ("license: other\nlicense_name: tongyi-qianwen", [("tongyi-qianwen-2023", False)]),
        ("license: [mit, apache-2.0]", [("mit", False), ("apache-2.0", False)]),
        # ambiguous or unknown: reported as unknown, never guessed
        ("license: gpl", [(UNKNOWN_KEY, True)]),
        ("license: bsd", [(UNKNOWN_KEY, True)]),
        ("license: gemma", [(UNKNOWN_KEY, True)]),  # two Gemma terms of use exist
        ("license: openrail++", [(UNKNOWN_KEY, True)]),
        ("license: other", [(UNKNOWN_KEY, True)]),
        ("license: other\nlicense_name: acme-secret-license", [(UNKNOWN_KEY, True)]),
        ("license: not-a-license-id", [(UNKNOWN_KEY, True)]),
        ("pipeline_tag: text-generation", []),
    ],
)
def test_card_license_ids(front: str, expected: list[tuple[str, bool]]) -> None:
    assert card(front) == expected


def test_card_evidence_and_scope() -> None:
    found = CardMetadataDetector().detect(
        CARD,
        "---\nlanguage: en\nlicense: mit\nbase_model: org/base\nbase_model_relation: finetune\n---\n",
    )
    (det,) = found.detections
    assert det.scope is Scope.MODEL
    ev = det.evidence[0]
    assert (ev.path, ev.start_line, ev.end_line, ev.excerpt) == ("README.md", 3, 3, "license: mit")
    facts = {f.name: (f.value, f.evidence.start_line) for f in found.facts}
    assert facts == {"base_model": ("org/base", 4), "base_model_relation": ("finetune", 5)}


def test_unknown_carries_what_was_stated() -> None:
    found = CardMetadataDetector().detect(CARD, "---\nlicense: gpl\n---\n")
    assert found.detections[0].evidence[0].excerpt == "license: gpl"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\nlicense: mit\n", "no closing '---'"),
        ("---\nlicense: [mit\n---\n", "YAML front matter is not valid (line 3"),
        ("---\n- a\n- b\n---\n", "not a mapping"),
        ("---\nlicense: mit\n\tbad: tab\n---\n", "YAML front matter is not valid"),
    ],
)
def test_broken_front_matter(text: str, message: str) -> None:
    with pytest.raises(FrontMatterError, match=re.escape(message)):
        parse_front_matter(text)
    found = CardMetadataDetector().detect(CARD, text)
    assert found.detections == ()
    assert message.split(" (")[0] in found.problems[0].reason


def test_no_front_matter() -> None:
    assert parse_front_matter("# Title\n---\nlicense: mit\n---\n") is None
    assert parse_front_matter("---\n---\n") is not None  # empty but present


def test_yaml_never_constructs_objects() -> None:
    with pytest.raises(FrontMatterError):
        parse_front_matter("---\nlicense: !!python/object/apply:os.system ['echo pwned']\n---\n")


def spdx(text: str) -> list[tuple[str, int, bool]]:
    found = SpdxTagDetector().detect(CODE, text)
    return [(d.key, d.evidence[0].start_line, d.is_clue) for d in found.detections]


def test_spdx_tags() -> None:
    assert spdx("# SPDX-License-Identifier: MIT\n") == [("mit", 1, False)]
    assert spdx("#!/usr/bin/env python\n# SPDX-License-Identifier: Apache-2.0 OR MIT\n") == [
        ("apache-2.0", 2, False),
        ("mit", 2, False),
    ]
    assert spdx("/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */") == [
        ("gpl-2.0", 1, False),
        ("linux-syscall-exception-gpl", 1, False),
    ]
    assert spdx("// SPDX-License-Identifier: LicenseRef-acme-internal\n") == [
        (UNKNOWN_KEY, 1, True)
    ]
    assert spdx("<!-- SPDX-License-Identifier: CC-BY-4.0 -->\n") == [("cc-by-4.0", 1, False)]


def test_spdx_mentions_are_not_tags() -> None:
    assert spdx('TAG = "SPDX-License-Identifier: MIT"\n') == []
    assert spdx("Use SPDX-License-Identifier: tags in headers, e.g. MIT.\n") == []


def test_unknown_part_blocks_a_conclusion(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from auditor.pipeline import run_audit

    (tmp_path / "a.py").write_text("# SPDX-License-Identifier: MIT AND FooBar-1.0\n")
    (comp,) = run_audit(str(tmp_path)).components
    assert {d.key for d in comp.declared} == {"mit", UNKNOWN_KEY}
    assert comp.concluded is None
    (tmp_path / "a.py").write_text("# SPDX-License-Identifier: MIT\n")
    (tmp_path / "b.py").write_text("# SPDX-License-Identifier: Apache-2.0\n")
    (comp,) = run_audit(str(tmp_path)).components
    assert comp.concluded == "apache-2.0 AND mit"  # each tag covers its own file
    (tmp_path / "b.py").write_text("# SPDX-License-Identifier: MIT OR Apache-2.0\n")
    (comp,) = run_audit(str(tmp_path)).components
    assert comp.concluded is None  # a choice in one tag: a person decides
    (tmp_path / "b.py").write_text("# SPDX-License-Identifier: MIT\n")
    (comp,) = run_audit(str(tmp_path)).components
    assert comp.concluded == "mit"
