"""The repo shapes issue 3 names, end to end through `auditor scan --format json`.

License texts come at test time from the installed ScanCode data and ../shared/licenses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, run_cli
from generate import add_files as build
from generate import make_pdf, safetensors_bytes

sys.path.insert(0, str(FIXTURES / "corpus"))
import runner

pytestmark = pytest.mark.skipif(not runner.SHARED.is_dir(), reason="../shared/licenses is missing")


def scan(root: Path) -> dict:  # type: ignore[type-arg]
    proc = run_cli("scan", str(root), "--format", "json", "--fail-on", "never")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def concluded(report: dict) -> dict[str, str | None]:  # type: ignore[type-arg]
    return {c["kind"]: c["concluded"] for c in report["components"]}


def licenses(report: dict, method: str | None = None) -> set[tuple[str, str, str]]:  # type: ignore[type-arg]
    return {
        (lic["key"], lic["scope"], lic["evidence"][0]["path"])
        for lic in report["licenses"]
        if method is None or lic["evidence"][0]["method"] == method
    }


MODEL = {"model.safetensors": safetensors_bytes({"format": "pt"}), "config.json": "{}\n"}


def test_mit_code_and_deepseek_model(tmp_path: Path) -> None:
    mit = "MIT License\n\nCopyright (c) 2023 Example\n\n" + runner.reference("scancode:mit")[0]
    report = scan(
        build(
            tmp_path,
            {
                **MODEL,
                "inference.py": "print('hi')\n",
                "LICENSE-CODE": mit,
                "LICENSE-MODEL": runner.reference("shared:deepseek.txt")[0],
            },
        )
    )
    assert concluded(report) == {"code": "mit", "model": "deepseek-la-1.0"}
    found = licenses(report, "license-text")
    assert ("mit", "code", "LICENSE-CODE") in found
    assert ("deepseek-la-1.0", "model", "LICENSE-MODEL") in found
    lic = next(x for x in report["licenses"] if x["key"] == "deepseek-la-1.0")
    assert lic["modified"] is False and lic["evidence"][0]["start_line"] >= 1
    assert report["findings"] == []


def test_apache_in_readme_and_chinese_model_license(tmp_path: Path) -> None:
    report = scan(
        build(
            tmp_path,
            {
                **MODEL,
                "modeling.py": "x = 1\n",
                "README.md": "# ChatGLM2-6B\n\n## 协议\n\n本仓库的代码依照 Apache-2.0 协议开源，"
                "ChatGLM2-6B 模型的权重的使用则需要遵循 [Model License](MODEL_LICENSE)。\n",
                "MODEL_LICENSE": runner.reference("shared:chatglm2-6b-model.zh.txt")[0].encode(
                    "gb18030"
                ),
            },
        )
    )
    assert concluded(report) == {"code": "apache-2.0", "model": "chatglm2-6b-model"}
    assert ("apache-2.0", "code", "README.md") in licenses(report, "readme-statement")
    assert ("chatglm2-6b-model", "model", "MODEL_LICENSE") in licenses(report, "license-text")
    assert ("chatglm2-6b-model", "model", "README.md") in licenses(report, "link")


def test_llama3_license_and_use_policy(tmp_path: Path) -> None:
    report = scan(
        build(
            tmp_path,
            {
                **MODEL,
                "README.md": "---\nlicense: llama3\n---\n# Meta-Llama-3-8B\n",
                "LICENSE": runner.reference("shared:llama3.txt")[0],
                "USE_POLICY.md": runner.reference("shared:llama3-use-policy.txt")[0],
            },
        )
    )
    assert concluded(report)["model"] == "llama3"
    policy = [x for x in report["licenses"] if x["evidence"][0]["path"] == "USE_POLICY.md"]
    assert [(p["key"], p["scope"]) for p in policy] == [("llama3-use-policy", "model")]
    model = next(c for c in report["components"] if c["kind"] == "model")
    assert "llama3-use-policy" in {x["key"] for x in model["licenses"]}  # carried, not concluded


def test_creativeml_openrail_m(tmp_path: Path) -> None:
    report = scan(
        build(
            tmp_path,
            {
                **MODEL,
                "README.md": "---\nlicense: creativeml-openrail-m\n---\n# sd\n",
                "LICENSE": runner.reference("shared:creativeml-openrail-m.txt")[0],
            },
        )
    )
    assert concluded(report)["model"] == "stable-diffusion-2022-08-22"
    lic = next(x for x in report["licenses"] if x["evidence"][0]["path"] == "LICENSE")
    assert lic["spdx_id"] == "LicenseRef-scancode-stable-diffusion-2022-08-22"


@pytest.mark.parametrize("source", ["pdf-made", "shared:bluelm-model.pdf"])
def test_license_pdf(tmp_path: Path, source: str) -> None:
    if source == "pdf-made":
        data, key = make_pdf(runner.reference("shared:llama2.txt")[0]), "llama-2-license-2023"
    else:
        data, key = (runner.SHARED / "bluelm-model.pdf").read_bytes(), "bluelm-model"
    report = scan(build(tmp_path, {**MODEL, "MODEL_LICENSE.pdf": data}))
    assert ("model" in concluded(report)) and concluded(report)["model"] == key
    assert (key, "model", "MODEL_LICENSE.pdf") in licenses(report, "license-text")


def test_altered_license_is_flagged_with_its_lines(tmp_path: Path) -> None:
    text = (
        runner.reference("shared:llama3.1.txt")[0] + "\nYou shall not use the model on Mondays.\n"
    )
    report = scan(build(tmp_path, {**MODEL, "LICENSE": text}))
    (finding,) = [f for f in report["findings"] if f["rule"] == "license-text-modified"]
    assert finding["severity"] == "warning"
    assert "You shall not use the model on Mondays." in finding["message"]
    assert concluded(report)["model"] is None  # a changed license is not Llama 3.1: review it
    model = next(c for c in report["components"] if c["kind"] == "model")
    assert [x["key"] for x in model["licenses"]] == ["llama-3.1-license-2024"]


def test_unknown_text_is_reported_not_guessed(tmp_path: Path) -> None:
    report = scan(
        build(
            tmp_path,
            {
                **MODEL,
                "LICENSE": "ACME terms: use only on Tuesdays; commercial use is prohibited.\n",
            },
        )
    )
    assert concluded(report)["model"] is None
    assert [f["rule"] for f in report["findings"]] == ["unknown-license"]
