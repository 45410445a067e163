"""Conclusions by the weight of evidence (auditor.evidence, auditor.components): one test per
failure class seen on real repositories, on small repos built in tmp_path.

The strongest evidence concludes when it is unambiguous; weaker evidence that names
another license disagrees (license-mismatch) and never voids it; mentions (history,
comparisons, other models, quotes, sub-folders, bundled third-party texts) never decide.
Real license texts come from the installed ScanCode data and ../shared/licenses at
test time; nothing is copied into the project.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import FIXTURES

from auditor.model import UNKNOWN_KEY, AuditResult, Component, Place
from auditor.pipeline import run_audit

sys.path.insert(0, str(FIXTURES / "corpus"))
from generate import safetensors_bytes
from runner import reference

COPYRIGHT = "Copyright (c) 2025 Example Org\n\n"


def text(source: str, before: str = "") -> str:
    return before + reference(source)[0]


def audit(root: Path, files: dict[str, str | bytes]) -> AuditResult:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return run_audit(str(root))


def part(result: AuditResult, name: str) -> Component:
    (found,) = [c for c in result.components if c.name == name]
    return found


def rules(result: AuditResult) -> set[str]:
    return {f.rule for f in result.findings}


def weights() -> bytes:
    return safetensors_bytes()


# -- 1. a weak or off-topic statement never voids a strong answer ---------------------


@pytest.mark.parametrize(
    "prose",
    [
        # a previous model generation, a comparison, a news line, a base model
        "Our first-generation models were released under the Apache 2.0 license.",
        "Compared with models under the MIT license, ours restricts harmful uses.",
        "- [2024.05.01] We released v1 under the Apache 2.0 license.",
        "It is fine-tuned from Qwen2.5-7B, which is originally licensed under Apache 2.0.",
        "> Quoted from the base card: licensed under the Apache License 2.0.",
    ],
)
def test_mentions_do_not_void_a_scoped_text(tmp_path: Path, prose: str) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE-MODEL": text("shared:deepseek.txt"),
            "README.md": f"# Our model\n\n{prose}\n",
            "model.safetensors": weights(),
        },
    )
    model = part(result, "model")
    assert model.concluded == "deepseek-la-1.0", model.reason
    assert not model.disagreeing
    assert "license-mismatch" not in rules(result)


def test_sub_folder_readme_does_not_decide_for_the_repo(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE": text("scancode:apache-2.0"),
            "train.py": "print(1)\n",
            "examples/demo/README.md": "# demo\n\nThis demo is licensed under the MIT License.\n",
            "examples/demo/package.json": '{"name": "demo", "license": "MIT"}\n',
        },
    )
    code = part(result, "code")
    assert code.concluded == "apache-2.0"
    # the sub-folder speaks for its own folder: no disagreement with the repo's license
    assert not code.disagreeing and "license-mismatch" not in rules(result)
    assert {d.key for d in code.declared} >= {"apache-2.0", "mit"}


def test_a_link_to_the_model_license_speaks_for_the_model(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE": text("scancode:apache-2.0"),
            "MODEL_LICENSE": text("shared:chatglm3-6b-model.txt"),
            "README.md": "# x\n\nPlease comply with the [open-source protocol](MODEL_LICENSE).\n",
            "run.py": "print(1)\n",
        },
    )
    assert part(result, "code").concluded == "apache-2.0"
    assert part(result, "model").concluded == "chatglm3-6b-model"
    assert not part(result, "code").disagreeing


def test_a_model_named_like_its_license_is_no_statement(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE": text("scancode:apache-2.0"),
            "README.md": "# x\n\n[ChatGLM3-6B](https://huggingface.co/THUDM/chatglm3-6b) is our "
            "open-source model.\n",
            "run.py": "print(1)\n",
        },
    )
    assert not [d for d in result.detections if d.key == "chatglm3-6b-model"]


# -- 2. badges and vague names resolve to the repo's own license file -----------------


def test_vague_badge_and_phrase_resolve_to_the_model_license_file(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE-CODE": text("scancode:mit", COPYRIGHT),
            "LICENSE-MODEL": text("shared:deepseek.txt"),
            "README.md": "# x\n\n"
            "![Model License](https://img.shields.io/badge/Model_License-Model_Agreement-f5de53)\n\n"
            "## License\n\nThis code repository is licensed under the MIT License. "
            "The use of the models is subject to the Model License.\n",
            "run.py": "print(1)\n",
        },
    )
    assert part(result, "code").concluded == "mit"
    model = part(result, "model")
    assert model.concluded == "deepseek-la-1.0"
    # "the Model License" means LICENSE-MODEL: no unknown statement, no finding
    stated = [d for d in model.declared if d.key == UNKNOWN_KEY and d.place is not Place.MENTION]
    assert stated == []
    assert "unknown-license" not in rules(result)


def test_a_vague_name_with_no_file_stays_unknown(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "README.md": "# x\n\n## License\n\nThe weights are subject to the Model License.\n",
            "model.safetensors": weights(),
        },
    )
    model = part(result, "model")
    assert model.concluded is None and model.reason.startswith("unknown")


# -- 3. package metadata corroborates or disagrees, for its own folder ----------------


def test_versionless_classifier_agrees_and_root_metadata_disagrees(tmp_path: Path) -> None:
    pyproject = (
        '[project]\nname = "x"\nclassifiers = ["License :: OSI Approved :: Apache Software '
        'License"]\n'
    )
    result = audit(
        tmp_path,
        {"LICENSE": text("scancode:apache-2.0"), "pyproject.toml": pyproject, "a.py": "1\n"},
    )
    code = part(result, "code")
    assert code.concluded == "apache-2.0" and not code.disagreeing
    assert "unknown-license" not in rules(result)
    # the same classifier beside an MIT text: the text decides, the classifier disagrees
    (tmp_path / "LICENSE").write_text(text("scancode:mit", COPYRIGHT))
    result = run_audit(str(tmp_path))
    code = part(result, "code")
    assert code.concluded == "mit"
    assert [d.evidence[0].path for d in code.disagreeing] == ["pyproject.toml"]
    assert "license-mismatch" in rules(result)


# -- 4. third-party texts do not tie with the repo's license ---------------------------


def test_notice_and_appended_texts_are_third_party(tmp_path: Path) -> None:
    mit = text("scancode:mit", "Copyright (c) 2020 Other Project\n\n")
    result = audit(
        tmp_path,
        {
            "LICENSE": text("scancode:apache-2.0")
            + "\n\n------------- LICENSE FOR vendored/fastops --------------\n\n"
            + mit,
            "NOTICE": "This product includes software from Other Project:\n\n" + mit,
            "README.md": "# x\n\nThe code is licensed under Apache 2.0; the bundled fonts are "
            "available under the SIL Open Font License 1.1.\n",
            "a.py": "print(1)\n",
        },
    )
    code = part(result, "code")
    assert code.concluded == "apache-2.0", code.reason
    assert not code.disagreeing
    third = [d for d in result.detections if d.place is Place.THIRD_PARTY]
    assert {d.evidence[0].path for d in third} == {"LICENSE", "NOTICE"}
    assert "license-text-modified" not in rules(result)  # the appended text is no change


def test_a_third_party_heading_cannot_hide_an_added_clause(tmp_path: Path) -> None:
    added = (
        "\n2. Any portion of the Software that implements its safety filters must not be "
        "removed or disabled.\n"
    )
    result = audit(tmp_path, {"LICENSE": text("scancode:mit", COPYRIGHT) + added, "a.py": "1\n"})
    assert part(result, "code").concluded is None
    assert "license-text-modified" in rules(result)


# -- 5. statements about weights without weight files --------------------------------


def test_code_and_weights_statement_makes_a_model_part(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE": text("scancode:mit", COPYRIGHT),
            "README.md": "# x\n\n## License\n\nBoth the code and the model weights are "
            "released under the [MIT License](LICENSE).\n",
        },
    )
    assert part(result, "model").concluded == "mit"


def test_a_lone_model_license_covers_code_and_weights(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {"LICENSE.txt": text("shared:tencent-hunyuan-community.txt"), "infer.py": "print(1)\n"},
    )
    assert part(result, "code").concluded == "tencent-hunyuan-community"
    assert part(result, "model").concluded == "tencent-hunyuan-community"


# -- 6. several model licenses -------------------------------------------------------


def test_per_folder_licenses_make_a_part_each(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "README.md": "# models\n\n| Model | License |\n|---|---|\n"
            "| Llama 2 | [License](models/llama2/LICENSE) |\n"
            "| Llama 3.1 | [License](models/llama3_1/LICENSE) |\n",
            "models/llama2/LICENSE": text("shared:llama2.txt"),
            "models/llama2/MODEL_CARD.md": "# Llama 2\n",
            "models/llama3_1/LICENSE": text("shared:llama3.1.txt"),
            "models/llama3_1/MODEL_CARD.md": "# Llama 3.1\n",
            "models/llama3_1/tokenizer.model": b"\x00tok",
        },
    )
    found = {c.name: c.concluded for c in result.components if c.kind.value == "model"}
    assert found == {
        "model:models/llama2": "llama-2-license-2023",
        "model:models/llama3_1": "llama-3.1-license-2024",
    }


def test_one_license_file_per_model_concludes_all_of_them(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE": text("scancode:apache-2.0"),
            "model_licenses/LICENSE-FAST": text("scancode:apache-2.0"),
            "model_licenses/LICENSE-DEV": text("shared:flux-1-dev-non-commercial.txt"),
            "README.md": "# x\n\nThe weights of each model are under the license in "
            "model_licenses/.\n",
            "a.py": "print(1)\n",
        },
    )
    assert part(result, "model").concluded == "apache-2.0 AND flux-1-nc"
    assert part(result, "code").concluded == "apache-2.0"  # a model license folder is not code's


def test_two_copies_of_one_license_agree(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "MODEL_LICENSE": text("shared:chatglm2-6b-model.txt"),
            "MODEL_LICENSE.zh": text("shared:chatglm2-6b-model.zh.txt"),
            "model.safetensors": weights(),
        },
    )
    assert part(result, "model").concluded == "chatglm2-6b-model"


def test_an_old_license_file_is_history(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE": text("scancode:apache-2.0"),
            "LICENSE-old": text("shared:qwen.txt"),
            "model.safetensors": weights(),
        },
    )
    assert part(result, "model").concluded == "apache-2.0"
    assert not part(result, "model").disagreeing


def test_dual_licensing_is_a_choice(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE-MIT": text("scancode:mit", COPYRIGHT),
            "LICENSE-APACHE": text("scancode:apache-2.0"),
            "README.md": "# x\n\n## License\n\nDual-licensed under MIT or Apache-2.0, at your "
            "option.\n",
            "a.py": "print(1)\n",
        },
    )
    assert part(result, "code").concluded == "apache-2.0 OR mit"
    # without the statement, two texts at the top disagree: unknown, with the reason
    (tmp_path / "README.md").write_text("# x\n")
    code = part(run_audit(str(tmp_path)), "code")
    assert code.concluded is None and "disagrees" in code.reason


# -- 7. card fields ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("front", "key"),
    [
        ("license: other\nlicense_name: deepseek-license", "deepseek-la-1.0"),
        ("license: other\nlicense_name: tongyi-qianwen-research", "tongyi-qianwen-research"),
        ("license: Apache License 2.0", "apache-2.0"),
        ("license: openrail", "openrail-ams-template"),
    ],
)
def test_card_field_variants(tmp_path: Path, front: str, key: str) -> None:
    result = audit(
        tmp_path, {"README.md": f"---\n{front}\n---\n# m\n", "model.safetensors": weights()}
    )
    assert part(result, "model").concluded == key


def test_an_ambiguous_card_id_agrees_with_the_shipped_text(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "README.md": "---\nlicense: openrail++\n---\n# m\n",
            "LICENSE": text("shared:openrail++.txt"),
            "model.safetensors": weights(),
        },
    )
    model = part(result, "model")
    assert model.concluded == "bigscience-open-rail-m2"
    assert not model.disagreeing and "unknown-license" not in rules(result)


# -- 8. a license text pasted into a README is text, not statements -------------------


def test_lines_of_a_pasted_text_are_not_statements(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE": text("scancode:mit", COPYRIGHT),
            "README.md": "# x\n\n## License\n\n" + text("scancode:mit", COPYRIGHT),
            "a.py": "print(1)\n",
        },
    )
    stated = [d for d in result.detections if d.evidence[0].method.value == "readme-statement"]
    assert stated == []
    assert part(result, "code").concluded == "mit"


# -- 9. findings ---------------------------------------------------------------------


def test_headers_and_package_metadata_naming_a_missing_file_are_broken(tmp_path: Path) -> None:
    header = (
        "# This source code is licensed under the license found in the\n"
        "# LICENSE file in the root directory of this source tree.\n"
    )
    result = audit(
        tmp_path,
        {
            "a.py": header + "print(1)\n",
            "b/c.py": header + "print(2)\n",
            "pyproject.toml": '[project]\nname = "x"\nlicense = {file = "LICENSE.md"}\n',
        },
    )
    broken = [f for f in result.findings if f.rule == "license-reference-broken"]
    assert sorted(f.message for f in broken) == [
        "2 places point at LICENSE, which is not in the repo: a.py:2, b/c.py:2",
        "links to LICENSE.md, which is not in the repo",
    ]
    assert "license-missing" in rules(result)


def test_a_header_naming_a_license_is_the_files_own(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE": text("scancode:mit", COPYRIGHT),
            "vendored.py": '# Licensed under the Apache License, Version 2.0 (the "License");\n'
            "print(1)\n",
            "a.py": "print(2)\n",
        },
    )
    code = part(result, "code")
    assert code.concluded == "mit"  # the repo's; the vendored file keeps its own license
    assert [(d.key, d.evidence[0].path) for d in code.declared if d.place is Place.HEADER] == [
        ("apache-2.0", "vendored.py")
    ]


def test_a_declared_license_without_a_key_still_misses_its_text(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "README.md": "# x\n\n## License\n\nThe weights follow the "
            "[Example Model Community License](https://example.com/license.pdf).\n",
            "model.safetensors": weights(),
        },
    )
    missing = [f for f in result.findings if f.rule == "license-text-missing"]
    assert ["Example Model Community License" in f.message for f in missing] == [True]
    assert part(result, "model").concluded is None


def test_mit_with_an_added_clause_is_modified_mit(tmp_path: Path) -> None:
    rider = "\nThe Software shall not be used to train models that compete with Example Org.\n"
    result = audit(
        tmp_path,
        {"LICENSE": "MIT License\n\n" + text("scancode:mit", COPYRIGHT) + rider, "a.py": "1\n"},
    )
    (lic,) = [d for d in result.detections if d.evidence[0].path == "LICENSE"]
    assert (lic.key, lic.modified) == ("mit", True)
    assert "license-text-modified" in rules(result) and "unknown-license" not in rules(result)
    assert part(result, "code").concluded is None


def test_names_and_dates_filled_in_are_no_modification(tmp_path: Path) -> None:
    original = text("shared:tongyi-qianwen.txt")
    filled = original.replace("Qwen-Chat model", "Qwen-VL-Chat model", 1)
    assert filled != original
    result = audit(tmp_path, {"LICENSE": filled, "model.safetensors": weights()})
    (lic,) = [d for d in result.detections if d.evidence[0].path == "LICENSE"]
    assert not lic.modified and lic.differences
    # a number in the terms is no name: 100 million users becoming 500 million is a change
    changed = original.replace("100 million", "500 million")
    assert changed != original
    (tmp_path / "LICENSE").write_text(changed)
    (lic,) = [d for d in run_audit(str(tmp_path)).detections if d.evidence[0].path == "LICENSE"]
    assert lic.modified


# -- the repository as a whole ---------------------------------------------------------


def test_a_repo_with_only_license_and_readme_has_that_license(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {"LICENSE": text("scancode:mit", COPYRIGHT), "README.md": "# notes\n\nSome notes.\n"},
    )
    assert result.components == ()
    assert result.repository is not None and result.repository.concluded == "mit"


def test_parts_licensed_apart_are_not_merged_for_the_repo(tmp_path: Path) -> None:
    result = audit(
        tmp_path,
        {
            "LICENSE-CODE": text("scancode:mit", COPYRIGHT),
            "LICENSE-MODEL": text("shared:deepseek.txt"),
            "a.py": "print(1)\n",
            "model.safetensors": weights(),
        },
    )
    assert result.repository is not None and result.repository.concluded is None
    assert "no license file or statement covers the whole" in result.repository.reason


def test_reuse_texts_are_the_tags_texts(tmp_path: Path) -> None:
    """REUSE layout: texts in LICENSES/ named for their license, tags in every file."""
    result = audit(
        tmp_path,
        {
            "LICENSES/MIT.txt": text("scancode:mit", COPYRIGHT),
            "LICENSES/Apache-2.0.txt": text("scancode:apache-2.0"),
            "a.py": "# SPDX-License-Identifier: MIT\nprint(1)\n",
            "b.py": "# SPDX-License-Identifier: Apache-2.0\nprint(2)\n",
        },
    )
    assert part(result, "code").concluded == "apache-2.0 AND mit"
    assert result.repository is not None and result.repository.concluded is None
