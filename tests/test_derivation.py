"""Lineage: base models named in README prose and config files, merged across detectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from generate import gguf_bytes

from auditor.derivation import base_models, normalize_id, normalize_relation, own_names
from auditor.detectors import DETECTORS
from auditor.detectors.lineage import LineageDetector, hub_id, hub_id_from_url, looks_like_model
from auditor.model import BaseModel, Evidence, Fact, FileEntry, FileKind, Method
from auditor.pipeline import run_audit

README = FileEntry("README.md", 100, FileKind.README)
CONFIG = FileEntry("config.json", 100, FileKind.CONFIG)
ADAPTER_CONFIG = FileEntry("adapter_config.json", 100, FileKind.CONFIG)


def prose(text: str) -> list[tuple[str, str]]:
    """(base model, relation) pairs the detector reads in README text."""
    found = LineageDetector().detect(README, text)
    assert not found.problems and not found.detections
    facts = list(found.facts)
    assert [f.name for f in facts] == ["base_model", "base_model_relation"] * (len(facts) // 2)
    pairs = []
    for model, relation in zip(facts[::2], facts[1::2], strict=True):
        assert model.evidence == relation.evidence
        assert model.evidence.method is Method.README_STATEMENT
        pairs.append((model.value, relation.value))
    return pairs


def config_facts(entry: FileEntry, data: object | str) -> list[tuple[str, str]]:
    text = data if isinstance(data, str) else json.dumps(data, indent=2)
    found = LineageDetector().detect(entry, text)
    assert not found.problems
    return [(f.name, f.value) for f in found.facts]


def fact(name: str, value: str, path: str, line: int, method: Method) -> Fact:
    return Fact(name, value, Evidence(path, line, line, method, f"{name}: {value}"))


def card(name: str, value: str, line: int = 2, path: str = "README.md") -> Fact:
    return fact(name, value, path, line, Method.CARD_METADATA)


def said(value: str, relation: str, line: int = 10) -> list[Fact]:
    """A prose statement as the lineage detector emits it: base model, then its relation."""
    ev = Evidence("README.md", line, line, Method.README_STATEMENT, f"... {value} ...")
    return [Fact("base_model", value, ev), Fact("base_model_relation", relation, ev)]


def gguf(value: str) -> Fact:
    return fact("base_model", value, "model.gguf", 1, Method.WEIGHTS_METADATA)


def summary(models: tuple[BaseModel, ...]) -> list[tuple[str, str]]:
    return [(b.name, b.relation) for b in models]


# --- the detector ----------------------------------------------------------------------


def test_registered() -> None:
    assert DETECTORS.get("lineage") is LineageDetector


def test_applies_to() -> None:
    det = LineageDetector()
    assert det.applies_to(README)
    assert det.applies_to(CONFIG)
    assert det.applies_to(ADAPTER_CONFIG)
    assert det.applies_to(FileEntry("sub/Config.JSON", 10, FileKind.CONFIG))
    assert not det.applies_to(FileEntry("generation_config.json", 10, FileKind.CONFIG))
    assert not det.applies_to(FileEntry("tokenizer_config.json", 10, FileKind.TOKENIZER))
    assert not det.applies_to(FileEntry("config.json", 10, FileKind.OTHER))
    assert not det.applies_to(FileEntry("model.safetensors", 10, FileKind.WEIGHTS))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # fine-tunes
        (
            "This model is a fine-tuned version of [Llama-3.1-8B-Instruct]"
            "(https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct) on the alpaca dataset.",
            [("meta-llama/Llama-3.1-8B-Instruct", "finetune")],
        ),
        ("Fine-tuned from meta-llama/Llama-2-7b-hf.", [("meta-llama/Llama-2-7b-hf", "finetune")]),
        (
            "This is a finetuned version of Qwen2.5-7B-Instruct.",
            [("Qwen2.5-7B-Instruct", "finetune")],
        ),
        (
            "A fine-tune of `mistralai/Mistral-7B-v0.1` using DPO.",
            [("mistralai/Mistral-7B-v0.1", "finetune")],
        ),
        ("Trained on top of **Llama-3-8B**.", [("Llama-3-8B", "finetune")]),
        (
            "The Mistral-7B-Instruct-v0.2 Large Language Model (LLM) is an instruct fine-tuned "
            "version of the Mistral-7B-v0.2.",
            [("Mistral-7B-v0.2", "finetune")],
        ),
        (
            "This model is a fine-tuned version of [distilbert-base-uncased]"
            "(https://huggingface.co/distilbert-base-uncased) on the imdb dataset.",
            [("distilbert-base-uncased", "finetune")],
        ),
        ("Fine-tuned from BERT.", [("BERT", "finetune")]),
        # quantizations
        (
            "Quantized version of Qwen/Qwen2.5-7B-Instruct.",
            [("Qwen/Qwen2.5-7B-Instruct", "quantized")],
        ),
        ("Quantised from Llama-3.2-1B.", [("Llama-3.2-1B", "quantized")]),
        (
            "GGUF quantizations of [Mistral-7B](https://huggingface.co/mistralai/Mistral-7B-v0.1).",
            [("mistralai/Mistral-7B-v0.1", "quantized")],
        ),
        ("GGUF conversion of google/gemma-2-9b-it", [("google/gemma-2-9b-it", "quantized")]),
        (
            "This repo contains GGUF format model files for [Meta's Llama 2 7B]"
            "(https://huggingface.co/meta-llama/Llama-2-7b-hf).",
            [("meta-llama/Llama-2-7b-hf", "quantized")],
        ),
        (
            "static quants of https://huggingface.co/Sao10K/L3-8B-Stheno-v3.2",
            [("Sao10K/L3-8B-Stheno-v3.2", "quantized")],
        ),
        (
            "This model was converted to GGUF format from [`Qwen/Qwen2-7B`]"
            "(https://huggingface.co/Qwen/Qwen2-7B) using llama.cpp.",
            [("Qwen/Qwen2-7B", "quantized")],
        ),
        (
            'AWQ model files for <a href="https://huggingface.co/lmsys/vicuna-7b-v1.5/tree/main">'
            "Vicuna</a>.",
            [("lmsys/vicuna-7b-v1.5", "quantized")],
        ),
        # merges
        (
            "This is a merge of mistralai/Mistral-7B-v0.1 and HuggingFaceH4/zephyr-7b-beta.",
            [("mistralai/Mistral-7B-v0.1", "merge"), ("HuggingFaceH4/zephyr-7b-beta", "merge")],
        ),
        (
            "Merged from Qwen2.5-7B and Qwen2.5-7B-Instruct.",
            [("Qwen2.5-7B", "merge"), ("Qwen2.5-7B-Instruct", "merge")],
        ),
        (
            "A merge of Llama-3-8B, Llama-3-8B-Instruct, and Hermes-2-Pro-Llama-3-8B.",
            [
                ("Llama-3-8B", "merge"),
                ("Llama-3-8B-Instruct", "merge"),
                ("Hermes-2-Pro-Llama-3-8B", "merge"),
            ],
        ),
        # adapters
        ("LoRA adapter for meta-llama/Llama-2-7b-hf.", [("meta-llama/Llama-2-7b-hf", "adapter")]),
        ("An adapter trained on Llama-3-8B.", [("Llama-3-8B", "adapter")]),
        # only "based on": no relation stated
        ("This model is based on Mistral-7B-v0.1.", [("Mistral-7B-v0.1", "")]),
        ("Derived from Llama-2-13b.", [("Llama-2-13b", "")]),
        ("Distilled from DeepSeek-R1.", [("DeepSeek-R1", "")]),
        ("The model is based on Llama 2.", [("Llama 2", "")]),
        (
            "- Original model: [Llama 2 7B](https://huggingface.co/meta-llama/Llama-2-7b-hf)",
            [("meta-llama/Llama-2-7b-hf", "")],
        ),
        (
            "| Base model | [Qwen2-7B](https://huggingface.co/Qwen/Qwen2-7B) |",
            [("Qwen/Qwen2-7B", "")],
        ),
    ],
)
def test_english_statements(text: str, expected: list[tuple[str, str]]) -> None:
    assert prose(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本模型基于Qwen2.5-7B-Instruct微调而来。", [("Qwen2.5-7B-Instruct", "finetune")]),
        ("基于Baichuan2-13B-Base进行指令微调。", [("Baichuan2-13B-Base", "finetune")]),
        ("在Llama-3-8B的基础上进行了指令微调。", [("Llama-3-8B", "finetune")]),
        ("该模型在 Qwen2.5-7B 的基础上训练。", [("Qwen2.5-7B", "finetune")]),
        ("本仓库是Qwen2-7B-Instruct的GGUF量化版本。", [("Qwen2-7B-Instruct", "quantized")]),
        ("由Qwen2.5-14B量化得到。", [("Qwen2.5-14B", "quantized")]),
        ("本模型是 Llama-3-8B 的 LoRA 适配器。", [("Llama-3-8B", "adapter")]),
        ("本模型基于ChatGLM3-6B开发。", [("ChatGLM3-6B", "")]),
        ("基于 Qwen-7B。", [("Qwen-7B", "")]),
        (
            "本模型基于 [Qwen2.5-7B](https://huggingface.co/Qwen/Qwen2.5-7B) 进行微调。",
            [("Qwen/Qwen2.5-7B", "finetune")],
        ),
    ],
)
def test_chinese_statements(text: str, expected: list[tuple[str, str]]) -> None:
    assert prose(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The model is based on the transformer architecture.",
        "Qwen2.5 is based on the Transformer architecture with RoPE, SwiGLU.",
        "Our results are based on our experiments.",
        "The code is released under the Apache License 2.0, based on Apache-2.0.",
        "The model is based on Llama 3.1 Community License.",
        "The tokenizer is based on Llama-3-8B.",
        "The chat template is based on ChatML v2.",
        "This data is distilled from GPT-4.",
        "Results based on GPT-4 judgments.",
        "Input/output pairs are based on input/output data.",
        "The imatrix was derived from Foo-7B-v2 outputs on calibration text.",
        "The imatrix was computed with calibration text, derived from Foo-7B-v2.",
        "This model is a fine-tuned version of Llama-2-7B's weights.",
        # "based on" a family word alone often means the architecture
        "It is based on BERT.",
        "Our model is based on LLaMA.",
        # data, not a model
        "Fine-tuned on 10k samples.",
        "We fine-tuned it on top of our internal checkpoint.",
        "Continued pretraining on top of 2T tokens.",
        # not this repo
        "We compare against models fine-tuned from Llama-2-7B.",
        "This is not a fine-tune of Llama-2-7B.",
        "We release a quantized version of Foo-7B soon.",
        "For a GGUF version of Mistral-7B, see below.",
        "The quantized version of this model is available.",
        # web addresses and paths are not Hub ids
        "See https://github.com/org/Foo-7B for code; this model is based on github.com/org/llama-7b",
        "Fine-tuned from outputs/checkpoint-500.",
        # mergekit's boilerplate names no model
        "This is a merge of pre-trained language models created using mergekit.",
        # Chinese
        "基于Transformer架构。",
        "本项目基于LLaMA架构。",
        "基于Apache-2.0协议开源。",
        "基于GPT-4的评测数据训练。",
        "我们基于GPT-4生成的数据训练了模型。",
        "本模型由Meta发布。",
        "本项目团队未基于 ChatGLM3-6B 开发任何应用。",
        "本项目推出了基于Llama-2的中文LLaMA-2以及Alpaca-2系列模型。",
    ],
)
def test_not_a_base_model(text: str) -> None:
    assert prose(text) == []


def test_evidence_is_the_line_of_the_name() -> None:
    text = "# Tiny\n\nA small chat model, trained with care and\nfine-tuned from Llama-3-8B on chats.\n"
    found = LineageDetector().detect(README, text)
    model, relation = found.facts
    assert (model.name, model.value) == ("base_model", "Llama-3-8B")
    assert (relation.name, relation.value) == ("base_model_relation", "finetune")
    assert model.evidence == Evidence(
        "README.md", 4, 4, Method.README_STATEMENT, "fine-tuned from Llama-3-8B on chats."
    )


def test_front_matter_code_and_comments_are_not_prose() -> None:
    text = (
        "---\nbase_model: x/y\ndescription: fine-tuned from Llama-2-7b\n---\n# Title\n\n"
        "```\nfine-tuned from Llama-2-7b\n```\n"
        "<!-- fine-tuned from Llama-2-13b -->\n"
        "<!--\nquantized version of Qwen2-7B\n-->\n"
        "\nReal: fine-tuned from Mistral-7B.\n"
    )
    found = LineageDetector().detect(README, text)
    assert [(f.value, f.evidence.start_line) for f in found.facts] == [
        ("Mistral-7B", 15),
        ("finetune", 15),
    ]


def test_quotations_and_a_copied_original_card_are_not_this_repos_words() -> None:
    text = (
        "# Foo 7B GGUF\n\n"
        "Llamacpp imatrix Quantizations of Foo-7B-Instruct.\n\n"
        "> Foo-7B-Instruct is a fine-tuned version of Foo-7B-Base.\n\n"
        "# Original model card: Foo 7B Instruct\n\n"
        "Foo-7B-Instruct is a fine-tuned version of Foo-7B-Base.\n\n"
        "## Training\n\nTrained on top of Foo-7B-Base.\n\n"
        "# Credits\n\nThe model is based on Foo-7B-v2.\n"
    )
    found = LineageDetector().detect(README, text)
    pairs = [(f.value, f.evidence.start_line) for f in found.facts if f.name == "base_model"]
    assert pairs == [("Foo-7B-Instruct", 3), ("Foo-7B-v2", 17)]


def test_reference_style_links() -> None:
    text = (
        "Original model: [the original][mdl]\n\n"
        "Quantized version of [Foo-13B][].\n\n"
        "[mdl]: https://huggingface.co/org/Foo-7B\n"
        "[foo-13b]: https://huggingface.co/org/Foo-13B\n"
    )
    assert prose(text) == [("org/Foo-7B", ""), ("org/Foo-13B", "quantized")]


def test_mergekit_card() -> None:
    text = (
        "This model was merged using the [SLERP](https://arxiv.org/abs/x) merge method using "
        "[mistralai/Mistral-7B-v0.1](https://huggingface.co/mistralai/Mistral-7B-v0.1) as a base.\n"
        "\n### Models Merged\n\nThe following models were included in the merge:\n"
        "* [org/A-7B](https://huggingface.co/org/A-7B)\n* org/B\n\nAlso org/C is nice.\n"
    )
    found = LineageDetector().detect(README, text)
    names = [(f.value, f.evidence.start_line) for f in found.facts if f.name == "base_model"]
    assert names == [("mistralai/Mistral-7B-v0.1", 1), ("org/A-7B", 6), ("org/B", 7)]
    assert {f.value for f in found.facts if f.name == "base_model_relation"} == {"merge"}


def test_one_statement_per_name_the_most_specific() -> None:
    # "fine-tuned based on X" is also "based on X": one fact pair, the fine-tune.
    assert prose("Fine-tuned based on Qwen2-7B.") == [("Qwen2-7B", "finetune")]
    assert prose("Fine-tuned from Qwen2-7B. Fine-tuned from Qwen2-7B.") == [
        ("Qwen2-7B", "finetune")
    ]


def test_prose_is_read_up_to_64_kib() -> None:
    filler = ("Lorem ipsum dolor sit amet.\n" * 2400)[: 64 * 1024 - 100]
    early = filler + "\nFine-tuned from Llama-3-8B.\n"
    assert prose(early) == [("Llama-3-8B", "finetune")]
    late = filler + "x" * 200 + "\nFine-tuned from Llama-3-8B.\n"
    assert prose(late) == []


def test_readme_without_statements_gives_nothing() -> None:
    assert LineageDetector().detect(README, "").facts == ()
    assert prose("# A model\n\nIt writes poems.\n") == []


@pytest.mark.parametrize(
    ("name", "weak", "expected"),
    [
        ("meta-llama/Llama-2-7b-hf", False, True),
        ("bigscience/bloom", False, True),
        ("Qwen2.5-7B-Instruct", False, True),
        ("Foo-v2", False, True),
        ("SmolLM2-135M", False, True),
        ("Mistral", False, True),
        ("Mistral", True, False),
        ("Llama 2", True, True),
        ("transformer", False, False),
        ("Apache-2.0", False, False),
        ("COVID-19", False, False),
        ("Python3.10", False, False),
        ("input/output", False, False),
        ("github.com/org", False, False),
        ("data/train.json", False, False),
        ("H100", False, False),
    ],
)
def test_looks_like_model(name: str, weak: bool, expected: bool) -> None:
    assert looks_like_model(name, weak=weak) is expected


# --- config.json and adapter_config.json ------------------------------------------------


def test_config_name_or_path_is_a_candidate_with_its_line() -> None:
    text = '{\n  "architectures": ["LlamaForCausalLM"],\n  "_name_or_path": "meta-llama/Llama-2-7b-hf"\n}\n'
    (f,) = LineageDetector().detect(CONFIG, text).facts
    assert (f.name, f.value) == ("base_model_candidate", "meta-llama/Llama-2-7b-hf")
    assert f.evidence == Evidence(
        "config.json",
        3,
        3,
        Method.PACKAGE_METADATA,
        '"_name_or_path": "meta-llama/Llama-2-7b-hf"',
    )


@pytest.mark.parametrize(
    "value",
    [
        "/data/ckpt",
        "/home/user/models/Llama-2-7b-hf",
        "./out",
        "../base",
        "~/x/y",
        "C:\\models\\llama",
        "C:/models",
        "llama-7b",
        "outputs/checkpoint-500",
        "models/llama-7b",
        "org/checkpoint-1000",
        "org/model.safetensors",
        "a/b/c",
        "",
    ],
)
def test_config_local_paths_and_single_words_are_ignored(value: str) -> None:
    assert config_facts(CONFIG, {"_name_or_path": value}) == []
    assert config_facts(ADAPTER_CONFIG, {"base_model_name_or_path": value}) == []


def test_config_url_is_a_hub_id() -> None:
    assert config_facts(
        CONFIG, {"_name_or_path": "https://huggingface.co/org/Foo-7B/tree/main"}
    ) == [("base_model_candidate", "org/Foo-7B")]


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"_name_or_path": "org/na',  # cut short
        "[1, 2]",
        '{"_name_or_path": 7}',
        '{"text_config": {"_name_or_path": "org/text-7b"}}',  # nested: a part's, not the model's
        "",
    ],
)
def test_config_without_a_top_level_hub_id_gives_nothing(text: str) -> None:
    found = LineageDetector().detect(CONFIG, text)
    assert found.facts == () and found.problems == () and found.detections == ()


def test_adapter_config_names_the_base_of_an_adapter() -> None:
    data = {"peft_type": "LORA", "base_model_name_or_path": "meta-llama/Llama-2-7b-hf", "r": 8}
    found = LineageDetector().detect(ADAPTER_CONFIG, json.dumps(data, indent=2))
    assert [(f.name, f.value) for f in found.facts] == [
        ("base_model", "meta-llama/Llama-2-7b-hf"),
        ("base_model_relation", "adapter"),
    ]
    assert found.facts[0].evidence == found.facts[1].evidence
    assert found.facts[0].evidence.start_line == 3
    assert found.facts[0].evidence.method is Method.PACKAGE_METADATA


def test_adapter_config_keys_are_not_config_keys() -> None:
    assert config_facts(CONFIG, {"base_model_name_or_path": "org/Foo-7B"}) == []
    assert config_facts(ADAPTER_CONFIG, {"_name_or_path": "org/Foo-7B"}) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("org/name", "org/name"),
        ("https://huggingface.co/org/name", "org/name"),
        ("https://hf.co/org/name/tree/main", "org/name"),
        ("huggingface.co/org/name.git", "org/name"),
        ("https://huggingface.co/datasets/org/name", None),
        ("https://huggingface.co/org", None),
        ("/org/name", None),
        ("org/name/more", None),
    ],
)
def test_hub_id(value: str, expected: str | None) -> None:
    assert hub_id(value) == expected


def test_hub_id_from_url_needs_the_hub() -> None:
    assert hub_id_from_url("https://github.com/org/name") is None
    assert hub_id_from_url("https://huggingface.co/spaces/org/name") is None


# --- merging base models ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf"),
        ("https://huggingface.co/meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-7b-hf"),
        ("https://huggingface.co/meta-llama/Llama-2-7b-hf/tree/main", "meta-llama/Llama-2-7b-hf"),
        ("https://huggingface.co/meta-llama/Llama-2-7b-hf.git", "meta-llama/Llama-2-7b-hf"),
        ("hf.co/org/x/", "org/x"),
        (" Llama-2-7b ", "Llama-2-7b"),
    ],
)
def test_normalize_id(value: str, expected: str) -> None:
    assert normalize_id(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("finetune", "finetune"),
        ("Fine-tuned", "finetune"),
        ("quantised", "quantized"),
        ("merge", "merge"),
        ("adapter", "adapter"),
        ("", ""),
        ("distilled", ""),
    ],
)
def test_normalize_relation(value: str, expected: str) -> None:
    assert normalize_relation(value) == expected


def test_card_weights_and_prose_merge_into_one_model() -> None:
    facts = (
        card("base_model", "meta-llama/Llama-2-7b-hf"),
        gguf("https://huggingface.co/Meta-Llama/Llama-2-7b-hf/tree/main"),
        *said("Llama-2-7b-hf", "quantized", 12),
        *said("meta-llama/llama-2-7b-hf", "finetune", 14),
    )
    (model,) = base_models(facts)
    assert model.name == "meta-llama/Llama-2-7b-hf"  # the card's spelling
    assert [(e.path, e.start_line, e.method) for e in model.evidence] == [
        ("README.md", 2, Method.CARD_METADATA),
        ("model.gguf", 1, Method.WEIGHTS_METADATA),
        ("README.md", 12, Method.README_STATEMENT),
        ("README.md", 14, Method.README_STATEMENT),
    ]
    # two prose relations disagree, the card states none: nothing stated
    assert model.relation == ""
    assert model.license is None


def test_gguf_spelling_with_spaces_merges_and_the_hub_id_names_it() -> None:
    facts = (
        gguf("Meta Llama/Llama 3.1 8B Instruct"),
        *said("meta-llama/Llama-3.1-8B-Instruct", "quantized"),
    )
    (model,) = base_models(facts)
    assert (model.name, model.relation, len(model.evidence)) == (
        "meta-llama/Llama-3.1-8B-Instruct",
        "quantized",
        2,
    )
    # a bare name with spaces merges too
    facts = (gguf("org/Foo-7B"), *said("Foo 7B", "finetune"))
    assert summary(base_models(facts)) == [("org/Foo-7B", "finetune")]


def test_bare_name_merges_only_into_one_hub_id() -> None:
    facts = (
        card("base_model", "org-a/Foo-7B"),
        card("base_model", "org-b/Foo-7B", 3),
        *said("Foo-7B", "finetune"),
    )
    assert summary(base_models(facts)) == [
        ("Foo-7B", "finetune"),
        ("org-a/Foo-7B", ""),
        ("org-b/Foo-7B", ""),
    ]


def test_relation_card_beats_prose_beats_adapter_config() -> None:
    adapter_ev = Evidence("adapter_config.json", 3, 3, Method.PACKAGE_METADATA, "...")
    adapter = (
        Fact("base_model", "org/Base-7B", adapter_ev),
        Fact("base_model_relation", "adapter", adapter_ev),
    )
    prose_ = tuple(said("Base-7B", "finetune"))
    card_ = (card("base_model", "org/Base-7B"), card("base_model_relation", "quantized", 3))
    assert summary(base_models(adapter)) == [("org/Base-7B", "adapter")]
    assert summary(base_models(adapter + prose_)) == [("org/Base-7B", "finetune")]
    assert summary(base_models(adapter + prose_ + card_)) == [("org/Base-7B", "quantized")]
    # prose that states no relation does not hide the adapter config's
    assert summary(base_models(adapter + tuple(said("Base-7B", "")))) == [
        ("org/Base-7B", "adapter")
    ]


def test_one_card_relation_applies_to_every_card_base_model() -> None:
    facts = (
        card("base_model", "org/A-7B", 2),
        card("base_model", "org/B-7B", 3),
        card("base_model_relation", "merge", 4),
    )
    assert summary(base_models(facts)) == [("org/A-7B", "merge"), ("org/B-7B", "merge")]


def test_card_relations_pair_in_order_when_as_many() -> None:
    facts = (
        card("base_model", "org/A-7B", 2),
        card("base_model", "org/B-7B", 3),
        card("base_model_relation", "finetune", 4),
        card("base_model_relation", "quantized", 5),
    )
    assert summary(base_models(facts)) == [("org/A-7B", "finetune"), ("org/B-7B", "quantized")]


def test_card_relation_of_another_card_does_not_apply() -> None:
    facts = (
        card("base_model", "org/A-7B", 2, "README.md"),
        card("base_model_relation", "merge", 4, "sub/README.md"),
    )
    assert summary(base_models(facts)) == [("org/A-7B", "")]


def test_card_relation_beats_a_prose_statement_about_the_same_model() -> None:
    facts = (
        card("base_model", "Qwen/Qwen2-7B"),
        card("base_model_relation", "finetune", 3),
        *said("Qwen2-7B", "quantized"),
    )
    assert summary(base_models(facts)) == [("Qwen/Qwen2-7B", "finetune")]


def test_candidate_counts_only_without_base_model() -> None:
    cand = fact(
        "base_model_candidate",
        "meta-llama/Llama-2-7b-hf",
        "config.json",
        3,
        Method.PACKAGE_METADATA,
    )
    (model,) = base_models((cand,), ("my-finetune",))
    assert (model.name, model.relation) == ("meta-llama/Llama-2-7b-hf", "")
    assert model.evidence == (cand.evidence,)
    # any base_model fact wins, even a different one
    assert summary(base_models((cand, gguf("org/Other-7B")))) == [("org/Other-7B", "")]


@pytest.mark.parametrize(
    "own", ["Llama-2-7b-hf", "llama-2-7b-HF", "Llama 2 7b hf", "meta-llama/Llama-2-7b-hf"]
)
def test_candidate_naming_the_repo_itself_is_ignored(own: str) -> None:
    cand = fact(
        "base_model_candidate",
        "meta-llama/Llama-2-7b-hf",
        "config.json",
        3,
        Method.PACKAGE_METADATA,
    )
    assert base_models((cand,), (own,)) == ()
    assert base_models((cand,), ("other", own)) == ()


def test_own_name_never_hides_a_card_base_model() -> None:
    assert summary(base_models((card("base_model", "org/Foo-7B"),), ("Foo-7B",))) == [
        ("org/Foo-7B", "")
    ]


def test_own_names_do_not_hide_prose() -> None:
    # A quantization keeps its base's name: GGUF general.name is the base's.
    facts = tuple(said("org/Foo-7B", "quantized"))
    assert summary(base_models(facts, ("Foo 7B",))) == [("org/Foo-7B", "quantized")]


def test_results_are_sorted_by_name() -> None:
    facts = (gguf("zeta/Z-7B"), gguf("Alpha/A-7B"), gguf("beta/B-7B"))
    assert [b.name for b in base_models(facts)] == ["Alpha/A-7B", "beta/B-7B", "zeta/Z-7B"]


def test_no_facts_no_base_models() -> None:
    assert base_models(()) == ()
    assert base_models((card("license_name", "x"),)) == ()


def test_own_names() -> None:
    facts = [
        fact("model_name", "Tiny Chat 7B", "m.gguf", 1, Method.WEIGHTS_METADATA),
        fact("model_name", "Tiny Chat 7B", "n.gguf", 1, Method.WEIGHTS_METADATA),
        card("base_model", "org/x"),
    ]
    assert own_names("/tmp/repos/tiny-chat-7b/", facts) == ("tiny-chat-7b", "Tiny Chat 7B")
    assert own_names("https://huggingface.co/org/Tiny-7B", ()) == ("Tiny-7B",)
    assert own_names("org/Tiny-7B@main", ()) == ("Tiny-7B",)
    assert own_names("C:\\models\\tiny", ()) == ("tiny",)
    assert own_names("", ()) == ()


# --- end to end -------------------------------------------------------------------------


def test_end_to_end(tmp_path: Path) -> None:
    repo = tmp_path / "Tiny-Chat-7B-GGUF"
    repo.mkdir()
    (repo / "README.md").write_text(
        "---\nlicense: apache-2.0\nbase_model: acme/Tiny-Chat-7B\nbase_model_relation: quantized\n---\n"
        "# Tiny Chat 7B GGUF\n\n"
        "GGUF quantizations of [Tiny Chat](https://huggingface.co/acme/Tiny-Chat-7B).\n\n"
        "Tiny-Chat-7B itself is a fine-tuned version of acme/tiny-base-7b.\n",
        encoding="utf-8",
    )
    (repo / "tiny-q4_0.gguf").write_bytes(
        gguf_bytes(
            {
                "general.architecture": "llama",
                "general.name": "Tiny Chat 7B",
                "general.base_model.count": 1,
                "general.base_model.0.organization": "Acme",
                "general.base_model.0.name": "Tiny-Chat-7B",
            }
        )
    )
    (repo / "config.json").write_text(
        json.dumps({"_name_or_path": "acme/Tiny-Chat-7B", "model_type": "llama"}), encoding="utf-8"
    )
    result = run_audit(str(repo))
    lineage = [
        (f.name, f.value, f.evidence.path, f.evidence.start_line, f.evidence.method)
        for f in result.facts
        if f.evidence.method in (Method.README_STATEMENT, Method.PACKAGE_METADATA)
        and f.name.startswith("base_model")
    ]
    assert sorted(lineage) == sorted(
        [
            (
                "base_model_candidate",
                "acme/Tiny-Chat-7B",
                "config.json",
                1,
                Method.PACKAGE_METADATA,
            ),
            ("base_model", "acme/Tiny-Chat-7B", "README.md", 8, Method.README_STATEMENT),
            ("base_model_relation", "quantized", "README.md", 8, Method.README_STATEMENT),
            ("base_model", "acme/tiny-base-7b", "README.md", 10, Method.README_STATEMENT),
            ("base_model_relation", "finetune", "README.md", 10, Method.README_STATEMENT),
        ]
    )
    names = own_names(repo.name, result.facts)
    assert names == ("Tiny-Chat-7B-GGUF", "Tiny Chat 7B")
    models = base_models(result.facts, names)
    assert summary(models) == [
        ("acme/tiny-base-7b", "finetune"),
        ("acme/Tiny-Chat-7B", "quantized"),
    ]
    tiny = models[1]
    assert {(e.path, e.method) for e in tiny.evidence} == {
        ("README.md", Method.CARD_METADATA),
        ("README.md", Method.README_STATEMENT),
        ("tiny-q4_0.gguf", Method.WEIGHTS_METADATA),
    }
    # the config's candidate is not used: the repo names its base model elsewhere
    assert all(e.path != "config.json" for m in models for e in m.evidence)


def test_end_to_end_adapter(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "base_model_name_or_path": "Qwen/Qwen2.5-7B"}),
        encoding="utf-8",
    )
    (tmp_path / "README.md").write_text("# My adapter\n\nIt writes poems.\n", encoding="utf-8")
    result = run_audit(str(tmp_path))
    assert summary(base_models(result.facts, own_names(str(tmp_path), result.facts))) == [
        ("Qwen/Qwen2.5-7B", "adapter")
    ]
