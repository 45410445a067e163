"""CycloneDX 1.6 ML-BOMs: validated by cyclonedx-python-lib's strict 1.6 JSON schema, goldens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from bom_support import BOM_FIXTURES, EPOCH, SUPPLIER, audited, check_golden, golden_name
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from auditor.formats import FORMATS
from auditor.formats.cyclonedx import CycloneDxFormat
from auditor.formats.cyclonedx_modelcard import model_card
from auditor.model import (
    AuditResult,
    Evidence,
    Fact,
    Finding,
    Method,
    Severity,
)

VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)


def _render(result: AuditResult) -> bytes:
    return CycloneDxFormat(supplier=SUPPLIER).render(result)


def _valid(data: bytes) -> dict[str, Any]:
    error = VALIDATOR.validate_str(data.decode("utf-8"))
    assert error is None, f"not valid CycloneDX 1.6: {error}"
    return json.loads(data)  # type: ignore[no-any-return]


def _components(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every component of the document: the described one, top-level, nested, ancestors, tools."""

    def walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for c in items:
            yield c
            yield from walk(c.get("components", []))
            yield from walk(c.get("pedigree", {}).get("ancestors", []))

    yield from walk([doc["metadata"]["component"], *doc.get("components", [])])
    yield from walk(doc["metadata"].get("tools", {}).get("components", []))


def _by_ref(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    return next(c for c in _components(doc) if c.get("bom-ref") == ref)


def _licenses(component: dict[str, Any], ack: str) -> list[dict[str, Any]]:
    return [
        entry["license"]
        for entry in component.get("licenses", [])
        if "license" in entry and entry["license"].get("acknowledgement") == ack
    ]


def _props(component: dict[str, Any], name: str) -> list[str]:
    return [p["value"] for p in component.get("properties", []) if p["name"] == name]


def _fact(name: str, value: str, path: str = "README.md") -> Fact:
    return Fact(name, value, Evidence(path, 1, 1, Method.CARD_METADATA))


@pytest.fixture(autouse=True)
def _epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


@pytest.mark.parametrize("fixture", BOM_FIXTURES)
def test_every_fixture_validates_and_matches_golden(
    bom_results: dict[str, object], fixture: str, update_goldens: bool
) -> None:
    data = _render(audited(bom_results, fixture))
    doc = _valid(data)
    assert doc["specVersion"] == "1.6"
    refs = [c["bom-ref"] for c in _components(doc) if "bom-ref" in c]
    assert len(refs) == len(set(refs)), "bom-refs must be unique"
    # The repository carries only what covers it whole (its top-level LICENSE), declared;
    # never a merged expression of its parts, never a concluded license.
    repo_license = audited(bom_results, fixture).repository
    root = doc["metadata"]["component"]
    if repo_license is None or repo_license.concluded is None:
        assert "licenses" not in root
    else:
        assert _licenses(root, "declared") and not _licenses(root, "concluded")
    check_golden(f"{golden_name(fixture)}/bom.cdx.json", data, update_goldens)


def test_registered_with_suffix_and_checksums() -> None:
    assert FORMATS.get("cyclonedx-json") is CycloneDxFormat
    assert CycloneDxFormat.suffix == ".cdx.json"
    assert CycloneDxFormat.needs_checksums == ("sha256",)


def test_deepseek_code_is_mit_and_model_is_deepseek_never_merged(
    bom_results: dict[str, object],
) -> None:
    result = audited(bom_results, "deepseek-model")
    doc = _valid(_render(result))
    code, model = _by_ref(doc, "code"), _by_ref(doc, "model")
    assert code["type"] == "library"
    assert model["type"] == "machine-learning-model"
    for ack in ("declared", "concluded"):
        assert [lic.get("id") for lic in _licenses(code, ack)] == ["MIT"]
        (deepseek,) = _licenses(model, ack)
        assert deepseek["name"] == "DeepSeek License Agreement v1.0"
        assert "id" not in deepseek
        assert _props(deepseek, "auditor:license-id") == ["LicenseRef-scancode-deepseek-la-1.0"]
        assert deepseek["url"].startswith("https://")
    # The declared entry quotes the repo's own LICENSE-MODEL.
    text = _licenses(model, "declared")[0]["text"]["content"]
    assert text == dict(result.license_texts)["LICENSE-MODEL"].strip("\n")
    assert "DeepSeek" in text
    # Nothing names both licenses at once; the repository names none.
    for c in _components(doc):
        names = json.dumps(c.get("licenses", []))
        assert not ("MIT" in names and "DeepSeek" in names), c.get("bom-ref")
    assert all("expression" not in e for c in _components(doc) for e in c.get("licenses", []))


def test_licenses_declared_and_concluded_acknowledgements(
    bom_results: dict[str, object],
) -> None:
    doc = _valid(_render(audited(bom_results, "example-model")))
    model = _by_ref(doc, "model")
    assert [x["id"] for x in _licenses(model, "declared")] == ["Apache-2.0"]
    assert [x["id"] for x in _licenses(model, "concluded")] == ["Apache-2.0"]
    # kinds: the model's license files hold no known text: everything declared, nothing
    # concluded.
    doc = _valid(_render(audited(bom_results, "kinds")))
    model = _by_ref(doc, "model")
    assert "Apache-2.0" in [x.get("id") for x in _licenses(model, "declared")]
    assert _licenses(model, "concluded") == []
    # A modified license text is a named license quoting the repo's file, never "MIT".
    doc = _valid(_render(audited(bom_results, "rules:mit-extra-terms")))
    (lic,) = _licenses(_by_ref(doc, "code"), "declared")
    assert lic["name"] == "License text in LICENSE (MIT License, modified)"
    assert "registered with Example Org" in lic["text"]["content"]


def test_or_expression_is_one_expression_and_declared_a_property(
    bom_results: dict[str, object],
) -> None:
    result = audited(bom_results, "example-model")
    code = next(c for c in result.components if c.name == "code")
    dual = replace(code, concluded="apache-2.0 OR mit")
    result = replace(result, components=tuple(dual if c is code else c for c in result.components))
    comp = _by_ref(_valid(_render(result)), "code")
    assert comp["licenses"] == [{"expression": "Apache-2.0 OR MIT", "acknowledgement": "concluded"}]
    assert _props(comp, "auditor:license:declared") == ["MIT"]


def test_base_model_is_an_ancestor_and_a_component(bom_results: dict[str, object]) -> None:
    doc = _valid(_render(audited(bom_results, "example-model")))
    model = _by_ref(doc, "model")
    (ancestor,) = model["pedigree"]["ancestors"]
    assert ancestor["name"] == "acme/tiny-base"
    assert ancestor["type"] == "machine-learning-model"
    assert "bom-ref" not in ancestor  # the top-level base component holds the ref
    base = _by_ref(doc, "base-1")
    assert base["name"] == "acme/tiny-base"
    assert base["externalReferences"] == [
        {"type": "distribution", "url": "https://huggingface.co/acme/tiny-base"}
    ]
    assert _props(base, "auditor:base-model:relation") == ["finetune"]
    assert "licenses" not in base  # its license is not known here
    # The base model is not part of the repository.
    deps = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert deps["repository"] == ["code", "model"]


def test_files_are_nested_with_sha256(bom_results: dict[str, object]) -> None:
    result = audited(bom_results, "example-model")
    doc = _valid(_render(result))
    files = {f.path: f for f in result.inventory.files}
    nested = [c for c in _components(doc) if c["type"] == "file"]
    assert sorted(c["name"] for c in nested) == sorted(files)
    for c in nested:
        assert c["hashes"] == [{"alg": "SHA-256", "content": files[c["name"]].sha256}]
    # A file without a known digest has no hash (never an empty or made-up one).
    first = result.inventory.files[0]
    inventory = replace(
        result.inventory,
        files=(replace(first, sha256=None), *result.inventory.files[1:]),
    )
    doc = _valid(_render(replace(result, inventory=inventory)))
    (entry,) = [c for c in _components(doc) if c["type"] == "file" and c["name"] == first.path]
    assert "hashes" not in entry


def test_model_card_from_facts(bom_results: dict[str, object]) -> None:
    result = audited(bom_results, "deepseek-model")
    facts = (
        _fact("model_type", "example_moe", "config.json"),
        _fact("architecture", "ExampleMoeForCausalLM", "config.json"),
        _fact("hyperparameter", "hidden_size=64", "config.json"),
        _fact("hyperparameter", "num_hidden_layers=2", "config.json"),
        _fact("training_type", "self supervised"),
        _fact("metric", "accuracy=61.5 on Example Reasoning Bench"),
        _fact("metric", "perplexity=7.2"),
        _fact("limitation", "Tested in English and Chinese only."),
        _fact("intended_use", "Research on mixture-of-experts models."),
        _fact("energy_consumption", "1,250 kWh"),
        _fact("co2_eq_emissions", "500 g"),
        _fact("language", "en"),
        _fact("tag", "moe"),
        _fact("training_hardware", "64 accelerators"),
    )
    # The card's own facts (task, data set) as read, the rest as a detector would emit them.
    kept = tuple(f for f in result.facts if f.name in ("pipeline_tag", "datasets"))
    result = replace(result, facts=kept + facts)
    doc = _valid(_render(result))
    model = _by_ref(doc, "model")
    assert model["modelCard"] == {
        "modelParameters": {
            "approach": {"type": "self-supervised"},
            "task": "text-generation",
            "architectureFamily": "example_moe",
            "modelArchitecture": "ExampleMoeForCausalLM",
            "datasets": [{"ref": "dataset:example-org/pretrain-mix"}],
        },
        "quantitativeAnalysis": {
            "performanceMetrics": [
                {"type": "accuracy", "value": "61.5", "slice": "Example Reasoning Bench"},
                {"type": "perplexity", "value": "7.2"},
            ]
        },
        "considerations": {
            "useCases": ["Research on mixture-of-experts models."],
            "technicalLimitations": ["Tested in English and Chinese only."],
            "environmentalConsiderations": {
                "energyConsumptions": [
                    {
                        "activity": "training",
                        "energyProviders": [],
                        "activityEnergyCost": {"value": 1250, "unit": "kWh"},
                        "co2CostEquivalent": {"value": 0.0005, "unit": "tCO2eq"},
                    }
                ]
            },
        },
    }
    assert _props(model, "auditor:hyperparameter:hidden_size") == ["64"]
    assert _props(model, "auditor:hyperparameter:num_hidden_layers") == ["2"]
    assert _props(model, "auditor:training_type") == ["self supervised"]
    assert _props(model, "auditor:language") == ["en"]
    assert _props(model, "auditor:training_hardware") == ["64 accelerators"]
    assert model["tags"] == ["moe"]
    # The card's data set is a data component with its data entry; the card refers to it.
    dataset = _by_ref(doc, "dataset:example-org/pretrain-mix")
    assert dataset["type"] == "data"
    assert dataset["data"] == [
        {
            "type": "dataset",
            "name": "example-org/pretrain-mix",
            "contents": {"url": "https://huggingface.co/datasets/example-org/pretrain-mix"},
        }
    ]
    # Only ML components carry a model card.
    assert [c["bom-ref"] for c in _components(doc) if "modelCard" in c] == ["model"]


def test_model_card_leaves_out_what_is_not_known(bom_results: dict[str, object]) -> None:
    from auditor.formats.bom import build

    result = replace(audited(bom_results, "kinds"), facts=())
    bom = build(result, SUPPLIER)
    assert model_card(bom, bom.package("model"), []) == {}
    result = replace(
        result,
        facts=(
            _fact("training_type", "fine-tuned"),  # no learning type of the schema
            _fact("co2_eq_emissions", "12 kg"),
            _fact("energy_consumption", "a lot"),
        ),
    )
    bom = build(result, SUPPLIER)
    assert model_card(bom, bom.package("model"), []) == {
        "considerations": {
            "environmentalConsiderations": {
                "properties": [
                    {"name": "auditor:energy_consumption", "value": "a lot"},
                    {"name": "auditor:co2_eq_emissions", "value": "12 kg"},
                ]
            }
        }
    }
    doc = _valid(_render(result))
    assert "approach" not in json.dumps(_by_ref(doc, "model")["modelCard"])


def test_sub_model_card_uses_its_own_folder(bom_results: dict[str, object]) -> None:
    result = audited(bom_results, "rules:multi-model")
    result = replace(
        result,
        facts=(
            _fact("pipeline_tag", "image-classification", "faces/README.md"),
            _fact("pipeline_tag", "object-detection", "plates/README.md"),
        ),
    )
    doc = _valid(_render(result))
    tasks = {
        ref: _by_ref(doc, ref)["modelCard"]["modelParameters"]["task"]
        for ref in ("model-faces", "model-plates")
    }
    assert tasks == {"model-faces": "image-classification", "model-plates": "object-detection"}


def test_findings_are_properties_of_their_component(bom_results: dict[str, object]) -> None:
    result = audited(bom_results, "example-model")
    findings = (
        Finding(
            "license-mismatch",
            Severity.WARNING,
            "model license sources disagree",
            component="model",
            evidence=(Evidence("README.md", 2, 2, Method.CARD_METADATA),),
        ),
        Finding("license-missing", Severity.ERROR, "no license for the repo"),
    )
    accepted = (Finding("unknown-license", Severity.NOTE, "accepted one", path="LICENSE"),)
    doc = _valid(_render(replace(result, findings=findings, accepted=accepted)))
    assert _props(_by_ref(doc, "model"), "auditor:finding") == [
        "[license-mismatch] warning: model license sources disagree (README.md:2)"
    ]
    root = doc["metadata"]["component"]
    assert _props(root, "auditor:finding") == ["[license-missing] error: no license for the repo"]
    assert _props(root, "auditor:finding:accepted") == [
        "[unknown-license] note: accepted one (LICENSE)"
    ]


def test_metadata_serial_and_timestamp(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = audited(bom_results, "example-model")
    data = _render(result)
    doc = _valid(data)
    meta = doc["metadata"]
    assert meta["timestamp"] == "2026-01-01T00:00:00+00:00"
    assert meta["tools"]["components"] == [
        {"type": "application", "name": result.tool.name, "version": result.tool.version}
    ]
    assert meta["supplier"] == {"name": "Example Org"}
    assert meta["component"]["type"] == "application"
    assert doc["serialNumber"].startswith("urn:uuid:")
    assert doc["version"] == 1
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767312000")
    later = _valid(_render(result))
    assert later["metadata"]["timestamp"] == "2026-01-02T00:00:00+00:00"
    assert later["serialNumber"] == doc["serialNumber"]  # content-derived, not time-derived


def test_output_is_byte_stable(bom_results: dict[str, object]) -> None:
    result = audited(bom_results, "deepseek-model")
    first = _render(result)
    assert first.endswith(b"}\n")
    assert _render(result) == first
    assert CycloneDxFormat(supplier=SUPPLIER).render(result) == first


def test_validator_rejects_a_broken_document(bom_results: dict[str, object]) -> None:
    doc = _valid(_render(audited(bom_results, "deepseek-model")))
    broken = json.loads(json.dumps(doc))
    _by_ref(broken, "model")["type"] = "weights"
    assert VALIDATOR.validate_str(json.dumps(broken)) is not None
    # The inserted modelCard is checked too (its objects allow no unknown keys).
    broken = json.loads(json.dumps(doc))
    _by_ref(broken, "model")["modelCard"]["modelParameters"]["hiddenSize"] = 64
    assert VALIDATOR.validate_str(json.dumps(broken)) is not None
    broken = json.loads(json.dumps(doc))
    _by_ref(broken, "dataset:example-org/pretrain-mix")["data"][0]["type"] = "corpus"
    assert VALIDATOR.validate_str(json.dumps(broken)) is not None


def test_person_supplier_and_data_sets_outside_the_hub(bom_results: dict[str, object]) -> None:
    result = audited(bom_results, "example-model")
    result = replace(
        result,
        facts=(
            _fact("datasets", "wikipedia"),
            _fact("datasets", "https://example.org/corpus.tar"),
        ),
    )
    doc = _valid(CycloneDxFormat(supplier="Person: Jane Doe").render(result))
    assert doc["metadata"]["supplier"] == {"contact": [{"name": "Jane Doe"}]}
    assert _by_ref(doc, "model")["modelCard"]["modelParameters"]["datasets"] == [
        {"ref": "dataset:wikipedia"},
        {"ref": "dataset:https://example.org/corpus.tar"},
    ]
    plain = _by_ref(doc, "dataset:wikipedia")
    assert plain["data"] == [{"type": "dataset", "name": "wikipedia"}]
    assert "supplier" not in plain and "externalReferences" not in plain
    linked = _by_ref(doc, "dataset:https://example.org/corpus.tar")
    assert linked["data"][0]["contents"] == {"url": "https://example.org/corpus.tar"}
