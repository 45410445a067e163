"""model-info: the facts an AI-BOM needs, from config.json, the card's fields and its prose."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_cli

from auditor.detectors import DETECTORS
from auditor.detectors.model_info import (
    HYPERPARAMETERS,
    METRIC_LIMIT,
    PROSE_FACTS_LIMIT,
    README_LIMIT,
    VALUE_LIMIT,
    ModelInfoDetector,
    model_folders,
    read_card,
    read_config,
    read_prose,
)
from auditor.model import Fact, FileEntry, FileKind, Inventory, Method
from auditor.pipeline import Options, run_audit

ROOT = Path(__file__).resolve().parents[1]
README = FileEntry("README.md", 100, FileKind.README)
CONFIG = FileEntry("config.json", 100, FileKind.CONFIG)


def pairs(facts: list[Fact] | tuple[Fact, ...], name: str | None = None) -> list[tuple[str, str]]:
    return [(f.name, f.value) for f in facts if name is None or f.name == name]


def values(facts: list[Fact] | tuple[Fact, ...], name: str) -> list[str]:
    return [f.value for f in facts if f.name == name]


# --- config.json --------------------------------------------------------------------

CONFIG_TEXT = """{
  "architectures": [
    "PlantForCausalLM",
    "PlantForSequenceClassification"
  ],
  "vision_config": {
    "hidden_size": 64,
    "model_type": "plant_vision"
  },
  "model_type": "plant",
  "hidden_size": 512,
  "num_hidden_layers": 4,
  "rope_theta": 10000.0,
  "rms_norm_eps": 1e-06,
  "torch_dtype": "bfloat16",
  "sliding_window": null,
  "vocab_size": [1, 2],
  "num_layers": {"a": 1},
  "n_head": true,
  "d_model": ""
}
"""


def test_config_facts_in_contract_order() -> None:
    facts = read_config("config.json", CONFIG_TEXT)
    assert pairs(facts) == [
        ("model_type", "plant"),
        ("architecture", "PlantForCausalLM"),
        ("architecture", "PlantForSequenceClassification"),
        ("hyperparameter", "hidden_size=512"),
        ("hyperparameter", "num_hidden_layers=4"),
        ("hyperparameter", "rope_theta=10000.0"),
        ("hyperparameter", "torch_dtype=bfloat16"),
        ("hyperparameter", "n_head=true"),
    ]
    assert all(f.evidence.method is Method.PACKAGE_METADATA for f in facts)


def test_config_evidence_is_the_top_level_key_line() -> None:
    facts = {f.value: f.evidence for f in read_config("sub/config.json", CONFIG_TEXT)}
    # "hidden_size" and "model_type" also occur, nested, earlier in the file
    assert (facts["hidden_size=512"].start_line, facts["hidden_size=512"].excerpt) == (
        11,
        '"hidden_size": 512,',
    )
    assert facts["plant"].start_line == facts["plant"].end_line == 10
    assert facts["plant"].excerpt == '"model_type": "plant",'
    assert facts["PlantForCausalLM"].start_line == 2
    assert facts["torch_dtype=bfloat16"].path == "sub/config.json"


def test_every_listed_hyperparameter_is_read() -> None:
    config = {key: i + 1 for i, key in enumerate(HYPERPARAMETERS)}
    facts = read_config("config.json", json.dumps(config, indent=1))
    assert values(facts, "hyperparameter") == [
        f"{k}={i + 1}" for i, k in enumerate(HYPERPARAMETERS)
    ]
    assert [f.evidence.start_line for f in facts] == list(range(2, 2 + len(HYPERPARAMETERS)))


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "",
        "[1, 2]",
        '"plant"',
        "[" * 100_000,  # nested past the recursion limit
        '{"model_type": ["a"], "architectures": "x" }'[:-3],
    ],
)
def test_a_config_that_is_not_a_json_object_gives_nothing(text: str) -> None:
    found = ModelInfoDetector().detect(CONFIG, text)
    assert found.facts == () and found.problems == () and found.detections == ()


def test_a_lone_architecture_string_and_odd_values() -> None:
    text = '{"architectures": "PlantModel", "model_type": 3, "vocab_size": 1.5e3}'
    assert pairs(read_config("config.json", text)) == [
        ("architecture", "PlantModel"),
        ("hyperparameter", "vocab_size=1500.0"),
    ]


# --- which files --------------------------------------------------------------------


def test_registered_and_applies_to_root_files_only_by_default() -> None:
    assert DETECTORS.get("model-info") is ModelInfoDetector
    det = ModelInfoDetector()
    assert det.applies_to(CONFIG)
    assert det.applies_to(README)
    assert det.applies_to(FileEntry("README", 10, FileKind.README))
    assert not det.applies_to(FileEntry("generation_config.json", 10, FileKind.CONFIG))
    assert not det.applies_to(FileEntry("adapter_config.json", 10, FileKind.CONFIG))
    assert not det.applies_to(FileEntry("README_zh.md", 10, FileKind.README))
    assert not det.applies_to(FileEntry("sub/config.json", 10, FileKind.CONFIG))
    assert not det.applies_to(FileEntry("docs/README.md", 10, FileKind.README))


def test_with_the_inventory_folders_holding_weights_count() -> None:
    files = (
        FileEntry("config.json", 10, FileKind.CONFIG),
        FileEntry("plain/config.json", 10, FileKind.CONFIG),
        FileEntry("plain/README.md", 10, FileKind.README),
        FileEntry("variant/config.json", 10, FileKind.CONFIG),
        FileEntry("variant/README.md", 10, FileKind.README),
        FileEntry("variant/model.safetensors", 10, FileKind.WEIGHTS),
        FileEntry("deep/er/model.gguf", 10, FileKind.WEIGHTS),
        FileEntry("deep/config.json", 10, FileKind.CONFIG),
    )
    inventory = Inventory("/repo", None, files)
    assert model_folders(inventory) == {"", "variant", "deep/er"}
    det = ModelInfoDetector()
    det.prepare(inventory)
    applied = [f.path for f in files if det.applies_to(f)]
    assert applied == ["config.json", "variant/config.json", "variant/README.md"]


# --- the card's YAML front matter ---------------------------------------------------

CARD = """---
license: mit
language:
- en
- no
tags: [botany, "2024"]
model_creator: Fern Works
quantized_by: moss
version: 1.10
release_date: 2024-03-01
co2_eq_emissions:
  emissions: 149.2
  source: own estimate
  training_type: fine-tuning
  hardware_used: 2 x small GPU
model-index:
- name: fern-small
  results:
  - dataset:
      name: Leaf Quiz
      type: fern/leaf-quiz
    metrics:
    - type: accuracy
      value: 71.5
    - name: F1
      value: 0.66
    - type: accuracy
      value: 71.5
  - dataset:
      type: fern/bark
    metrics:
    - {type: bleu, value: 12}
  - metrics:
    - type: perplexity
      value: 9.1
    - type: no-value
---

# Fern small
"""


def test_card_fields() -> None:
    facts = read_card("README.md", CARD)
    assert pairs(facts) == [
        ("language", "en"),
        ("language", "no"),  # not YAML 1.1's False
        ("tag", "botany"),
        ("tag", "2024"),
        ("metric", "accuracy=71.5 on Leaf Quiz"),
        ("metric", "F1=0.66 on Leaf Quiz"),
        ("metric", "bleu=12 on fern/bark"),
        ("metric", "perplexity=9.1"),
        ("co2_eq_emissions", "149.2 g"),
        ("training_hardware", "2 x small GPU"),
        ("training_type", "fine-tuning"),
        ("model_creator", "Fern Works"),
        ("quantized_by", "moss"),
        ("model_version", "1.10"),  # as written, not the float 1.1
        ("release_date", "2024-03-01"),
    ]
    assert all(f.evidence.method is Method.CARD_METADATA for f in facts)
    by_value = {f.value: f.evidence for f in facts}
    assert (by_value["no"].start_line, by_value["no"].excerpt) == (5, "- no")
    assert (
        by_value["accuracy=71.5 on Leaf Quiz"].start_line,
        by_value["accuracy=71.5 on Leaf Quiz"].end_line,
    ) == (23, 24)
    assert by_value["accuracy=71.5 on Leaf Quiz"].excerpt == "- type: accuracy value: 71.5"
    assert (by_value["149.2 g"].start_line, by_value["149.2 g"].end_line) == (11, 15)
    assert by_value["Fern Works"].excerpt == "model_creator: Fern Works"
    assert by_value["1.10"].start_line == 9


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("co2_eq_emissions: 30", [("co2_eq_emissions", "30 g")]),
        ("co2_eq_emissions: '2.5'", [("co2_eq_emissions", "2.5 g")]),
        ("co2_eq_emissions: a lot", []),
        ("co2_eq_emissions: {source: guess}", []),
        (
            "co2_eq_emissions:\n  emissions: -3\n  training_type: pre-training",
            [("training_type", "pre-training")],
        ),
        ("language: fr", [("language", "fr")]),
        ("language: ~\ntags: []", []),
        ("model_version: v2\nversion: v1", [("model_version", "v2")]),
        ("model_version:\nversion: v1", [("model_version", "v1")]),
        ("releaseDate: '2023-12-24'", [("release_date", "2023-12-24")]),
        ("release_date: 2024-3-1", []),
        ("release_date: March 2024", []),
        ("release_date: 2024-03-01T10:00:00", []),
        ("release_date: '2024-02-30'", []),
        ("model_creator: {name: Fern}", []),
        ("quantized_by: ''", []),
    ],
)
def test_card_field_forms(fields: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(read_card("README.md", f"---\n{fields}\n---\n")) == expected


@pytest.mark.parametrize(
    "card",
    [
        "---\nlanguage: [en\n---\n",  # broken YAML: card-metadata reports it
        "---\nlanguage: en\n",  # never closed
        "---\n- en\n---\n",  # not a mapping
        "---\nrelease_date: 2024-02-30\n---\n",  # a date YAML cannot build
        "no front matter\n",
    ],
)
def test_a_card_without_readable_front_matter_gives_no_card_facts(card: str) -> None:
    assert read_card("README.md", card) == []


def test_metrics_are_capped() -> None:
    metrics = "\n".join(f"    - type: m{i}\n      value: {i}" for i in range(METRIC_LIMIT + 20))
    card = f"---\nmodel-index:\n- name: x\n  results:\n  - metrics:\n{metrics}\n---\n"
    found = values(read_card("README.md", card), "metric")
    assert len(found) == METRIC_LIMIT
    assert found[0] == "m0=0"


# --- the card's prose ---------------------------------------------------------------

PROSE = """---
license: mit
---

# Fern small

A small model that names ferns.

## Intended uses & limitations

It names **ferns** from short [leaf descriptions](https://example.org/leaves) given
as `text`.

## Out-of-scope use

- Identifying edible plants
- Medical advice

Limitations
-----------

It confuses mosses with ferns &amp; knows no tropical species.

```text
## Limitations
this is code, not a heading
```

<!-- ## Limitations
a comment -->

## Training

### Training data

About two thousand leaf notes written by volunteers.

| setting | value |
|---|---|
| epochs | 3 |

### Training results

| epoch | loss |
|---|---|
| 1 | 0.5 |

## Environmental impact

Training drew 1,200.5 kWh, then 0.25 MWh for tuning; the cluster logged 90 MJ.
"""


def test_prose_sections() -> None:
    facts = read_prose("README.md", PROSE)
    assert pairs(facts) == [
        ("intended_use", "It names ferns from short leaf descriptions given as text."),
        ("limitation", "Identifying edible plants; Medical advice"),
        ("limitation", "It confuses mosses with ferns & knows no tropical species."),
        (
            "training_info",
            "About two thousand leaf notes written by volunteers. setting: value; epochs: 3",
        ),
        ("energy_consumption", "1200.5 kWh"),
        ("energy_consumption", "250 kWh"),
        ("energy_consumption", "90 MJ"),
    ]
    assert all(f.evidence.method is Method.README_STATEMENT for f in facts)
    ev = {f.value[:10]: f.evidence for f in facts}
    assert (ev["It names f"].start_line, ev["It names f"].end_line) == (9, 12)
    assert ev["It names f"].excerpt == "## Intended uses & limitations"
    assert (ev["It confuse"].start_line, ev["It confuse"].excerpt) == (19, "Limitations")
    assert ev["1200.5 kWh"].start_line == ev["1200.5 kWh"].end_line == 50


def test_sub_sections_about_the_same_thing_join_their_parent() -> None:
    card = """# Uses

## Direct use

Naming ferns in a garden.

## Downstream use

Part of a plant app.

## Out-of-Scope Use

Not for trees.

# Bias, risks, and limitations

Trained on temperate ferns only.

## Recommendations

Check the names with a botanist.
"""
    assert pairs(read_prose("README.md", card)) == [
        ("intended_use", "Naming ferns in a garden. Part of a plant app."),
        ("limitation", "Not for trees."),
        ("limitation", "Trained on temperate ferns only. Check the names with a botanist."),
    ]


def test_an_unfilled_hub_template_says_nothing() -> None:
    """The Hub's default card and the Trainer's card, left as generated."""
    template = """---
{}
---

# Model Card for Model ID

<!-- Provide a quick summary of what the model is/does. -->

## Uses

### Direct Use

[More Information Needed]

### Downstream Use [optional]

[More Information Needed]

### Out-of-Scope Use

[More Information Needed]

## Bias, Risks, and Limitations

[More Information Needed]

### Recommendations

Users (both direct and downstream) should be made aware of the risks, biases and
limitations of the model. More information needed for further recommendations.

## Training Details

### Training Data

[More Information Needed]

## Environmental Impact

Carbon emissions can be estimated using the [Machine Learning Impact
calculator](https://mlco2.github.io/impact#compute) presented in [Lacoste et al.
(2019)](https://arxiv.org/abs/1910.09700).

- **Hardware Type:** [More Information Needed]
- **Hours used:** {{ hours_used | default("[More Information Needed]", true)}}

## Intended uses & limitations

More information needed

## Training and evaluation data

More information needed
"""
    assert read_prose("README.md", template) == []
    # one filled section among the placeholders is read
    filled = template.replace(
        "### Direct Use\n\n[More Information Needed]", "### Direct Use\n\nSorting fern photos."
    )
    assert pairs(read_prose("README.md", filled)) == [("intended_use", "Sorting fern photos.")]


@pytest.mark.parametrize(
    ("heading", "name"),
    [
        ("Training and evaluation data", "training_info"),
        ("Training procedure", "training_info"),
        ("2. Training Details [optional]", "training_info"),
        ("Intended Uses and Limitations", "intended_use"),
        ("Limitations and bias", "limitation"),
        ("Bias, Risks and Limitations", "limitation"),
        ("Out-of-scope uses", "limitation"),
        ("Intended use cases", "intended_use"),
        ("Environmental Impact", "energy_consumption"),
        ("Training results", None),
        ("Evaluation", None),
        ("How to use", None),
        ("Causes", None),
    ],
)
def test_which_headings_give_which_fact(heading: str, name: str | None) -> None:
    card = f"## {heading}\n\nLeaf notes, 5 kWh.\n"
    assert [f.name for f in read_prose("README.md", card)] == ([name] if name else [])


def test_a_label_is_kept_when_it_is_the_text() -> None:
    card = "## Training\n\nThe settings used were:\n\n- rate: 0.1\n- steps: 20\n"
    assert values(read_prose("README.md", card), "training_info") == [
        "The settings used were: rate: 0.1; steps: 20"
    ]


def test_empty_and_other_sections_give_nothing() -> None:
    card = """## Limitations

## Usage

Call it with a leaf.

## Training results

| a | b |
|---|---|

## Evaluation

Scored well on leaves.

## Carbon

We did not measure it (1200 kg of paper saved, 20 W lamp).
"""
    assert read_prose("README.md", card) == []


def test_values_are_capped_at_a_sentence_or_a_word() -> None:
    sentence = "Ferns vary a great deal by region and season. "
    long = sentence * 40
    (value,) = values(read_prose("README.md", f"## Limitations\n\n{long}\n"), "limitation")
    assert len(value) <= VALUE_LIMIT and value.endswith("season.")
    words = "leaf " * 400
    (value,) = values(read_prose("README.md", f"## Limitations\n\n{words}\n"), "limitation")
    assert len(value) <= VALUE_LIMIT and value.endswith("leaf…")
    unbroken = "x" * 5000
    (value,) = values(read_prose("README.md", f"## Limitations\n\n{unbroken}\n"), "limitation")
    assert len(value) == VALUE_LIMIT


def test_prose_facts_are_capped_and_deduplicated() -> None:
    card = "".join(f"## Limitations\n\nWeak on fern number {i}.\n\n" for i in range(20))
    card += "## Known limitations\n\nWeak on fern number 0.\n"
    found = read_prose("README.md", card)
    assert values(found, "limitation") == [
        f"Weak on fern number {i}." for i in range(PROSE_FACTS_LIMIT)
    ]


def test_only_the_first_part_of_a_card_is_read() -> None:
    filler = "## Notes\n\n" + ("Nothing about limits here. " * 40 + "\n\n") * (README_LIMIT // 1000)
    card = filler + "## Limitations\n\nPast the limit.\n"
    assert len(filler) > README_LIMIT
    assert read_prose("README.md", card) == []
    found = ModelInfoDetector().detect(README, card)
    assert found.facts == ()


def test_energy_only_from_energy_sections() -> None:
    card = "## Training\n\nIt took 500 kWh.\n\n## Energy\n\nAbout 3 MWh, or 12.5 kWh per day.\n"
    facts = read_prose("README.md", card)
    assert values(facts, "energy_consumption") == ["3000 kWh", "12.5 kWh"]
    assert values(facts, "training_info") == ["It took 500 kWh."]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1,200.50 kWh", "1200.5 kWh"),
        ("0.25 MWh", "250 kWh"),
        ("2MWh", "2000 kWh"),
        ("0.0004 MWh", "0.4 kWh"),
        ("12.3456 MWh", "12345.6 kWh"),
        ("1,000,000 MWh", "1000000000 kWh"),
        ("45 MJ", "45 MJ"),
        ("45 mJ", None),  # millijoules, or a typo: not read
        ("3 mWh", None),
        ("1,2 kWh", None),  # a decimal comma is not guessed at
        ("v1.5kWh", None),
    ],
)
def test_energy_amounts(amount: str, expected: str | None) -> None:
    found = values(
        read_prose("README.md", f"## Carbon footprint\n\nIt used {amount}.\n"), "energy_consumption"
    )
    assert found == ([expected] if expected else [])


@pytest.mark.parametrize(
    "text",
    [
        "\n".join((" " * 90 + "#" * 40 + " " * 90) for _ in range(1000)),  # ~220 KB
        "# a\n" * 65_000,  # a heading on every line
        "a\n-\n" * 60_000,  # a setext heading every two lines
        ("# " + " " * 2000 + "#" * 2000 + "\n") * 100,
        "#" * 200_000 + "\n",
        "## Limitations\n" + "[" * 200_000,
        "## Limitations\n" + "[a](" * 60_000,
        "## Limitations\n" + "<a " * 70_000,
        "## Limitations\n" + "![" * 100_000,
        "## Limitations\n" + "_a" * 100_000,
        "## Limitations\n" + "<!--" * 60_000,
        ("## Limitations\n[More Information Needed]\n") * 8_000,
        "## Energy\n" + "1," * 100_000 + " kWh",
        "## Energy\n" + ("9" * 30 + " kWh ") * 5_000,
        "text\n" + "=" * 200_000,
        "```\n" * 100_000,
        "---\n" + "a: b\n" * 50_000,
    ],
)
def test_crafted_cards_are_read_in_linear_time(text: str) -> None:
    start = time.perf_counter()
    ModelInfoDetector().detect(README, text)
    assert time.perf_counter() - start < 1.0


# --- end to end ---------------------------------------------------------------------


def test_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "plant", "architectures": ["PlantModel"], "n_layer": 2}),
        encoding="utf-8",
    )
    (tmp_path / "README.md").write_text(
        "---\nlicense: mit\nlanguage: en\n---\n\n# Fern\n\n## Limitations\n\nOnly ferns.\n",
        encoding="utf-8",
    )
    (tmp_path / "model.safetensors").write_bytes(b"")
    (tmp_path / "configs").mkdir()  # a config.json in a folder without weights: not the model
    (tmp_path / "configs" / "config.json").write_text('{"model_type": "other"}', encoding="utf-8")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{oops", encoding="utf-8")
    result = run_audit(str(tmp_path))
    mine = [
        (f.name, f.value, f.evidence.path)
        for f in result.facts
        if f.name in ("model_type", "architecture", "hyperparameter", "language", "limitation")
    ]
    assert mine == [
        ("language", "en", "README.md"),
        ("limitation", "Only ferns.", "README.md"),
        ("model_type", "plant", "config.json"),
        ("architecture", "PlantModel", "config.json"),
        ("hyperparameter", "n_layer=2", "config.json"),
    ]
    only = run_audit(str(tmp_path), Options(detectors=("model-info",)))
    assert [f.value for f in only.facts][-3:] == ["plant", "PlantModel", "n_layer=2"]
    # the broken config.json is no problem of model-info's (nor of lineage's)
    assert [s.path for s in result.skipped] == ["model.safetensors"]  # empty weights


def test_a_root_config_that_is_not_json_is_no_problem(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{oops", encoding="utf-8")
    result = run_audit(str(tmp_path), Options(detectors=("model-info",)))
    assert result.facts == () and result.skipped == ()


def test_the_example_still_scans_clean(tmp_path: Path) -> None:
    dest = tmp_path / "example"
    generate = str(ROOT / "fixtures" / "generate.py")
    made = subprocess.run(
        [sys.executable, generate, "--materialize", "example-model", str(dest)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    scan = run_cli("scan", str(dest), "--format", "json")
    assert scan.returncode == 0, scan.stderr
    report = json.loads(scan.stdout)
    assert report["findings"] == []
    facts = [(f["name"], f["value"]) for f in report["facts"]]
    assert ("model_type", "llama") in facts and ("hyperparameter", "hidden_size=8") in facts
