"""Components, precedence, obligations and the openness verdict, on repos built in tmp_path.

Real license texts come from the installed ScanCode data and ../shared/licenses
at test time (fixtures/corpus/runner.reference); nothing is copied into the project.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES

from auditor.model import ComponentKind, ObligationKind
from auditor.obligations import OWN_FACTS, obligations_for
from auditor.pipeline import run_audit
from auditor.signatures import catalog, license_keys

sys.path.insert(0, str(FIXTURES / "corpus"))
from generate import gguf_bytes, safetensors_bytes
from runner import reference

MIT = "Copyright (c) 2025 Example Org\n\n"


def text(source: str, before: str = "") -> str:
    return before + reference(source)[0]


def repo(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def comps(root: Path) -> dict[str, object]:
    return {c.name: c for c in run_audit(str(root)).components}


def test_deepseek_shape_keeps_code_and_model_apart(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "LICENSE-CODE": text("scancode:mit", MIT),
            "LICENSE-MODEL": text("shared:deepseek.txt"),
            "README.md": "# DS\n\nThe code is under the MIT License; the model weights are "
            "subject to the [Model License](LICENSE-MODEL).\n",
            "inference.py": "print('hi')\n",
            "model.safetensors": safetensors_bytes(),
        },
    )
    result = run_audit(str(root))
    by = {c.name: c for c in result.components}
    assert by["code"].concluded == "mit"
    assert by["model"].concluded == "deepseek-la-1.0"
    assert by["model"].reason == "a license file for this part"
    assert not by["model"].disagreeing and not by["code"].disagreeing
    kinds = {o.kind for o in by["model"].obligations}
    assert ObligationKind.USE_RESTRICTIONS in kinds
    assert ObligationKind.USE_RESTRICTIONS not in {o.kind for o in by["code"].obligations}
    assert result.openness is not None
    assert result.openness.verdict == "open-weights-restricted"
    assert not [f for f in result.findings if f.severity.value == "error"], result.findings


def test_lone_license_covers_code_and_model_unless_something_speaks(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "LICENSE": text("scancode:mit", MIT),
            "run.py": "print(1)\n",
            "model.safetensors": safetensors_bytes(),
        },
    )
    by = comps(root)
    assert by["code"].concluded == "mit"  # type: ignore[attr-defined]
    assert by["model"].concluded == "mit"  # type: ignore[attr-defined]
    assert by["model"].reason == "the repository's license file"  # type: ignore[attr-defined]
    (root / "README.md").write_text("---\nlicense: apache-2.0\n---\n# m\n")
    by = comps(root)
    assert by["code"].concluded == "mit"  # type: ignore[attr-defined]
    assert by["model"].concluded == "apache-2.0"  # type: ignore[attr-defined]
    # a permissive lone LICENSE is the code's: no disagreement with the card
    assert by["model"].disagreeing == ()  # type: ignore[attr-defined]
    assert {d.key for d in by["model"].declared} == {"apache-2.0"}  # type: ignore[attr-defined]


def test_card_against_shipped_model_license_disagrees(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "LICENSE": text("shared:llama3.1.txt"),
            "README.md": "---\nlicense: apache-2.0\n---\n# m\n",
            "model.safetensors": safetensors_bytes(),
        },
    )
    result = run_audit(str(root))
    (model,) = [c for c in result.components if c.kind is ComponentKind.MODEL]
    # a model license shipped as the lone LICENSE outranks the card's field, which disagrees
    assert model.concluded == "llama-3.1-license-2024"
    assert [d.key for d in model.disagreeing] == ["apache-2.0"]
    assert "license-mismatch" in {f.rule for f in result.findings}


def test_tie_at_the_same_precedence_concludes_nothing(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "README.md": "---\nlicense: apache-2.0\n---\n# m\n",
            "model.gguf": gguf_bytes({"general.name": "m", "general.license": "mit"}),
        },
    )
    (model,) = [c for c in run_audit(str(root)).components if c.kind is ComponentKind.MODEL]
    assert model.concluded is None  # card and GGUF header rank alike and disagree
    assert {d.key for d in model.disagreeing} == {"apache-2.0", "mit"}


def test_multi_model_folders_get_a_component_each(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "README.md": "---\nlicense: apache-2.0\n---\n# collection\n",
            "LICENSE": text("scancode:apache-2.0"),
            "small/README.md": "---\nlicense: mit\n---\n# small\n",
            "small/LICENSE": text("scancode:mit", MIT),
            "small/model.safetensors": safetensors_bytes(),
            "large/README.md": "# large: no license of its own\n",
            "large/model.safetensors": safetensors_bytes(),
            # a diffusers-style part folder with weights but no card: part of the repo's model
            "vae/diffusion_pytorch_model.safetensors": safetensors_bytes(),
        },
    )
    by = comps(root)
    assert set(by) == {"model", "model:small", "model:large"}
    assert by["model:small"].concluded == "mit"  # type: ignore[attr-defined]
    assert by["model:small"].files == ("small/model.safetensors",)  # type: ignore[attr-defined]
    assert by["model:large"].concluded == "apache-2.0"  # type: ignore[attr-defined]  # inherits
    assert by["model"].files == ("vae/diffusion_pytorch_model.safetensors",)  # type: ignore[attr-defined]


def test_stated_model_license_without_weights_makes_a_model_component(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "LICENSE-CODE": text("scancode:mit", MIT),
            "LICENSE-MODEL": text("shared:deepseek.txt"),
            "train.py": "print(1)\n",
        },
    )
    by = comps(root)
    assert by["model"].concluded == "deepseek-la-1.0"  # type: ignore[attr-defined]
    assert by["model"].files == ()  # type: ignore[attr-defined]
    (root / "LICENSE-MODEL").unlink()
    assert set(comps(root)) == {"code"}


def test_openness_verdicts(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {
            "LICENSE": text("scancode:apache-2.0"),
            "README.md": "---\nlicense: apache-2.0\ndatasets:\n- acme/corpus\n---\n# m\n",
            "model.safetensors": safetensors_bytes(),
        },
    )
    o = run_audit(str(root)).openness
    assert o is not None and o.verdict == "open-weights"
    assert "training code: not stated" in o.reasons
    assert "training data named in the card: acme/corpus" in o.reasons
    (root / "scripts").mkdir()
    (root / "scripts" / "train_lora.py").write_text("print(1)\n")
    o = run_audit(str(root)).openness
    assert o is not None and o.verdict == "open-source-ai"
    assert any(r.startswith("training code present (scripts/train_lora.py)") for r in o.reasons)
    (root / "README.md").write_text("---\nlicense: cc-by-nc-4.0\n---\n# m\n")
    (root / "LICENSE").write_text(text("scancode:cc-by-nc-4.0"))
    o = run_audit(str(root)).openness
    assert o is not None and o.verdict == "open-weights-restricted"
    (root / "README.md").write_text("---\nlicense: gpl\n---\n# m\n")
    (root / "LICENSE").unlink()
    o = run_audit(str(root)).openness
    assert o is not None and o.verdict == "unknown"


def test_own_obligation_facts_name_real_keys_and_fields() -> None:
    data = yaml.safe_load(OWN_FACTS.read_text(encoding="utf-8"))
    cat = catalog()
    fields = {
        "requires_license_copy",
        "requires_copyright_notice",
        "requires_notice_file",
        "requires_modification_notice",
        "share_alike",
        "no_derivatives",
        "commercial_use",
    }
    for key, facts in data.items():
        assert key in cat, key
        assert not cat.get(key).facts, f"{key}: the shared index already has facts"
        assert set(facts) <= fields, (key, set(facts) - fields)


@pytest.mark.parametrize(
    ("key", "kind", "value"),
    [
        ("llama-3.1-license-2024", ObligationKind.ATTRIBUTION, "Built with Llama"),
        ("llama-3.1-license-2024", ObligationKind.COMMERCIAL, "700 million monthly active"),
        ("tongyi-qianwen-2023", ObligationKind.COMMERCIAL, "100 million monthly active users"),
        ("baichuan2-community", ObligationKind.COMMERCIAL, "below 1 million"),
        ("deepseek-la-1.0", ObligationKind.USE_RESTRICTIONS, ""),
        ("stable-diffusion-2022-08-22", ObligationKind.USE_RESTRICTIONS, ""),
        ("apache-2.0", ObligationKind.NOTICE_FILE, ""),
        ("apache-2.0", ObligationKind.MODIFICATION_NOTICE, ""),
        ("cc-by-nc-4.0", ObligationKind.COMMERCIAL, ""),
        ("bsd-original", ObligationKind.REVIEW, ""),
    ],
)
def test_obligations(key: str, kind: ObligationKind, value: str) -> None:
    found = [o for o in obligations_for(key) if o.kind is kind]
    assert found, (key, kind, obligations_for(key))
    assert value in found[0].value or value in found[0].summary


def test_no_obligations_invented() -> None:
    assert obligations_for("cc0-1.0") == ()
    assert ObligationKind.COMMERCIAL not in {o.kind for o in obligations_for("mit")}
    assert license_keys("(apache-2.0 AND mit) OR bsd-new") == ["apache-2.0", "mit", "bsd-new"]
