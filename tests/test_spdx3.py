"""SPDX 3.0.1 JSON-LD (``--format spdx3-jsonld``), validated offline by the official tooling.

Every document is checked against the official JSON Schema and, read as RDF with
the ``@context`` resolved to the local copy, against the official SHACL shapes
with pyshacl (tests/schemas/spdx-3.0.1/, see its SOURCES.md); then against the
rules of the AI and Dataset profiles that the shapes do not carry (exactly one
hasDeclaredLicense and hasConcludedLicense per package); then with its golden.
Nothing here touches the network: sockets refuse to connect in this module.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pyshacl
import pytest
import rdflib
from bom_support import BOM_FIXTURES, EPOCH, SUPPLIER, audited, check_golden, golden_name
from conftest import EXAMPLE, ROOT, run_cli

from auditor.formats import FORMATS
from auditor.formats.spdx3 import NOT_SHIPPED, Spdx3Format
from auditor.model import AuditResult, Evidence, Fact, Method

SCHEMAS = ROOT / "tests" / "schemas" / "spdx-3.0.1"
CONTEXT_URL = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
NO_ASSERTION = "expandedlicensing_NoAssertionLicense"
PINNED = {  # sha256 of the copies, as tests/schemas/spdx-3.0.1/SOURCES.md records them
    "spdx-model.ttl": "1e6df676d5a4108de90362170b0933da53f929ae8147453cea0dffadb804fae5",
    "spdx-context.jsonld": "c72b0928f094c83e5c127784edb1ebca2af74a104fcacc007c332b23cbc788bd",
    "spdx-json-schema.json": "582c64e809d5b3ef9bd0c4de13a32391b47b0284a3e8d199569fb96f649234b1",
}
PACKAGE_TYPES = ("software_Package", "ai_AIPackage", "dataset_DatasetPackage")
# rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph internally.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

#: 2026-02-01T00:00:00Z, for the byte-stability test.
OTHER_EPOCH = "1769904000"


# -- offline validators ----------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _offline() -> Iterator[None]:
    """Any attempt to open a network connection fails the test that makes it."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network access attempted: {args!r}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(socket, "getaddrinfo", refuse)
        yield


class Validators:
    """The JSON Schema validator, the JSON-LD context and the SHACL graph, loaded once."""

    def __init__(self) -> None:
        start = time.perf_counter()
        schema = json.loads((SCHEMAS / "spdx-json-schema.json").read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
        self.schema = jsonschema.Draft202012Validator(schema)
        context = json.loads((SCHEMAS / "spdx-context.jsonld").read_text(encoding="utf-8"))
        self.context = context["@context"]
        self.shapes = rdflib.Graph().parse(SCHEMAS / "spdx-model.ttl", format="turtle")
        self.load_seconds = time.perf_counter() - start

    def schema_errors(self, doc: dict[str, Any]) -> list[str]:
        return [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in self.schema.iter_errors(doc)
        ]

    def graph(self, doc: dict[str, Any]) -> rdflib.Graph:
        """The document as RDF, its ``@context`` URL replaced by the local context."""
        assert doc["@context"] == CONTEXT_URL
        local = {**doc, "@context": self.context}
        return rdflib.Graph().parse(data=json.dumps(local), format="json-ld")

    def shacl(self, doc: dict[str, Any]) -> tuple[bool, str]:
        conforms, _, text = pyshacl.validate(
            self.graph(doc),
            shacl_graph=self.shapes,
            ont_graph=self.shapes,  # the class hierarchy and the named individuals
            inference="none",
            do_owl_imports=False,
            allow_warnings=False,
            abort_on_first=False,
        )
        return bool(conforms), str(text)

    def check(self, doc: dict[str, Any]) -> None:
        errors = self.schema_errors(doc)
        assert not errors, "JSON Schema errors:\n" + "\n".join(errors[:20])
        conforms, text = self.shacl(doc)
        assert conforms, f"SHACL validation failed:\n{text[:6000]}"
        problems = profile_problems(doc)
        assert not problems, "AI/Dataset profile problems:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def validators() -> Validators:
    return Validators()


# -- reading a document ----------------------------------------------------------------


class Doc:
    """A rendered document, indexed by spdxId."""

    def __init__(self, data: bytes) -> None:
        self.raw = data
        self.json: dict[str, Any] = json.loads(data)
        self.graph: list[dict[str, Any]] = self.json["@graph"]
        self.by_id = {e["spdxId"]: e for e in self.graph if "spdxId" in e}

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.graph if e["type"] == kind]

    def named(self, name: str) -> dict[str, Any]:
        found = [e for e in self.graph if e.get("name") == name]
        assert len(found) == 1, (name, found)
        return found[0]

    def relationships(self, source: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        return [
            r
            for r in self.of_type("Relationship")
            if r["from"] == source["spdxId"] and r["relationshipType"] == kind
        ]

    def targets(self, source: dict[str, Any], kind: str) -> list[str]:
        return [t for r in self.relationships(source, kind) for t in r["to"]]

    def license_of(self, source: dict[str, Any], kind: str) -> str:
        """The expression a package's only license relationship of ``kind`` points at."""
        (target,) = self.targets(source, kind)
        if target == NO_ASSERTION:
            return "NOASSERTION"
        return str(self.by_id[target]["simplelicensing_licenseExpression"])

    def custom_license(self, expression_id: str, ref: str) -> dict[str, Any]:
        mapping = {
            e["key"]: e["value"]
            for e in self.by_id[expression_id].get("simplelicensing_customIdToUri", [])
        }
        return self.by_id[mapping[ref]]


def profile_problems(doc: dict[str, Any]) -> list[str]:
    """What the AI and Dataset profiles (and this format's promises) ask beyond the shapes."""
    d = Doc(json.dumps(doc).encode())
    problems: list[str] = []
    packages = [e for e in d.graph if e["type"] in PACKAGE_TYPES]
    for p in packages:
        for kind in ("hasDeclaredLicense", "hasConcludedLicense"):
            rels = d.relationships(p, kind)
            if len(rels) != 1 or len(rels[0]["to"]) != 1:
                problems.append(f"{p['name']}: {len(rels)} {kind} relationships")
                continue
            target = rels[0]["to"][0]
            if target != NO_ASSERTION and (
                d.by_id.get(target, {}).get("type") != "simplelicensing_LicenseExpression"
            ):
                problems.append(f"{p['name']}: {kind} points at {target}")
        if "software_primaryPurpose" not in p:
            problems.append(f"{p['name']}: no primaryPurpose")
    (document,) = d.of_type("SpdxDocument")
    (root_id,) = document["rootElement"]
    root = d.by_id[root_id]
    # The repository asserts at most the license that covers it whole, as declared.
    if d.targets(root, "hasConcludedLicense") != [NO_ASSERTION]:
        problems.append("the repository package asserts a license (hasConcludedLicense)")
    if len(d.targets(root, "hasDeclaredLicense")) != 1:
        problems.append("the repository package has no single hasDeclaredLicense")
    for ref in d.targets(root, "contains"):
        p = d.by_id[ref]
        if p["type"] not in PACKAGE_TYPES:
            continue
        wanted = ("software_packageVersion", "suppliedBy")
        if p["type"] != "software_Package":
            wanted += ("releaseTime",)
        problems += [f"{p['name']}: no {w}" for w in wanted if w not in p]
    for e in d.of_type("simplelicensing_LicenseExpression"):
        mapped = {x["key"]: x["value"] for x in e.get("simplelicensing_customIdToUri", [])}
        for ref in re.findall(r"LicenseRef-[A-Za-z0-9.-]+", e["simplelicensing_licenseExpression"]):
            target = d.by_id.get(mapped.get(ref, ""), {})
            if target.get("type") != "expandedlicensing_CustomLicense":
                problems.append(f"{ref} is not mapped to a CustomLicense")
            elif not target.get("simplelicensing_licenseText"):
                problems.append(f"{ref} has no license text")
    listed = set(document["element"])
    missing = sorted(set(d.by_id) - listed - {document["spdxId"]})
    if missing:
        problems.append(f"elements not listed in the document: {missing[:5]}")
    return problems


def render(result: AuditResult, monkeypatch: pytest.MonkeyPatch, epoch: str = EPOCH) -> Doc:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    return Doc(Spdx3Format(supplier=SUPPLIER).render(result))


def with_facts(result: AuditResult, *facts: tuple[str, str, str]) -> AuditResult:
    """``result`` with extra (name, value, path) facts, as the model-info detector finds them."""
    extra = tuple(
        Fact(name, value, Evidence(path, 1, 1, Method.CARD_METADATA)) for name, value, path in facts
    )
    return dataclasses.replace(result, facts=result.facts + extra)


# -- every fixture: valid, then equal to its golden ------------------------------------


def test_schema_copies_are_the_pinned_files() -> None:
    for name, digest in PINNED.items():
        assert hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest() == digest, name
    assert (SCHEMAS / "SOURCES.md").is_file()


def test_the_network_is_refused() -> None:
    with pytest.raises(AssertionError, match="network access attempted"):
        socket.create_connection(("spdx.org", 443), timeout=1)


@pytest.mark.parametrize("fixture", BOM_FIXTURES)
def test_bom_fixtures_validate_and_match_golden(
    bom_results: dict[str, object],
    fixture: str,
    update_goldens: bool,
    validators: Validators,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = render(audited(bom_results, fixture), monkeypatch)
    validators.check(doc.json)
    check_golden(f"{golden_name(fixture)}/bom.spdx3.json", doc.raw, update_goldens)


def test_registered_with_checksums() -> None:
    fmt = FORMATS.get("spdx3-jsonld")()
    assert isinstance(fmt, Spdx3Format)
    assert fmt.suffix == ".spdx3.json"
    assert fmt.needs_checksums == ("sha256",)


# -- what the documents say ------------------------------------------------------------


def test_deepseek_code_is_mit_and_model_is_deepseek_never_merged(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = audited(bom_results, "deepseek-model")
    doc = render(result, monkeypatch)
    code = doc.named("deepseek-model (code)")
    model = doc.named("deepseek-model (model)")
    repo = doc.named("deepseek-model")
    assert code["type"] == "software_Package"
    assert model["type"] == "ai_AIPackage"
    for kind in ("hasDeclaredLicense", "hasConcludedLicense"):
        assert doc.license_of(code, kind) == "MIT"
        assert doc.license_of(model, kind) == "LicenseRef-scancode-deepseek-la-1.0"
        assert doc.license_of(repo, kind) == "NOASSERTION"
    # The DeepSeek license is a CustomLicense quoting the repo's own LICENSE-MODEL.
    (expression,) = doc.targets(model, "hasConcludedLicense")
    custom = doc.custom_license(expression, "LicenseRef-scancode-deepseek-la-1.0")
    assert custom["type"] == "expandedlicensing_CustomLicense"
    assert custom["name"] == "DeepSeek License Agreement v1.0"
    shipped = (Path(result.target) / "LICENSE-MODEL").read_text(encoding="utf-8")
    text = custom["simplelicensing_licenseText"]
    assert text.startswith("DEEPSEEK LICENSE AGREEMENT")
    assert len(text) > 5000 and text in shipped
    assert text.strip() == shipped.strip()
    assert "LICENSE-MODEL" in custom["comment"]
    assert custom["expandedlicensing_seeAlso"]
    # MIT is on the SPDX License List: an expression, no custom license.
    (mit,) = doc.targets(code, "hasDeclaredLicense")
    assert "simplelicensing_customIdToUri" not in doc.by_id[mit]
    assert {e["name"] for e in doc.of_type("expandedlicensing_CustomLicense")} == {
        "DeepSeek License Agreement v1.0"
    }


def test_one_declared_and_one_concluded_license_per_ai_and_dataset_package(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = set()
    for fixture in BOM_FIXTURES:
        if isinstance(bom_results[fixture], str):
            continue
        doc = render(audited(bom_results, fixture), monkeypatch)
        for kind in ("ai_AIPackage", "dataset_DatasetPackage"):
            for p in doc.of_type(kind):
                seen.add(kind)
                for rel in ("hasDeclaredLicense", "hasConcludedLicense"):
                    assert len(doc.relationships(p, rel)) == 1, (fixture, p["name"], rel)
                    assert len(doc.targets(p, rel)) == 1, (fixture, p["name"], rel)
    assert seen == {"ai_AIPackage", "dataset_DatasetPackage"}


def test_base_model_descendant_of(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = render(audited(bom_results, "example-model"), monkeypatch)
    model = doc.named("example-model (model)")
    (base_id,) = doc.targets(model, "descendantOf")
    base = doc.by_id[base_id]
    assert base["type"] == "ai_AIPackage"
    assert base["name"] == "acme/tiny-base"
    assert base["software_downloadLocation"] == "https://huggingface.co/acme/tiny-base"
    assert doc.by_id[base["suppliedBy"]]["name"] == "acme"
    assert "finetune" in base["comment"]
    for kind in ("hasDeclaredLicense", "hasConcludedLicense"):
        assert doc.license_of(base, kind) == "NOASSERTION"  # the card does not say it
    assert doc.license_of(model, "hasConcludedLicense") == "Apache-2.0"
    assert doc.license_of(doc.named("example-model (code)"), "hasConcludedLicense") == "MIT"


def test_llama_base_model_license_is_declared_not_concluded(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = render(audited(bom_results, "rules:llama31-finetune-complete"), monkeypatch)
    base = doc.named("meta-llama/Llama-3.1-8B-Instruct")
    ref = "LicenseRef-scancode-llama-3.1-license-2024"
    assert doc.license_of(base, "hasDeclaredLicense") == ref
    assert doc.license_of(base, "hasConcludedLicense") == "NOASSERTION"
    model = doc.named("Llama-3.1-Example-Chat-8B (model)")
    assert doc.targets(model, "descendantOf") == [base["spdxId"]]


def test_trained_on_the_datasets_the_card_names(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = render(audited(bom_results, "deepseek-model"), monkeypatch)
    model = doc.named("deepseek-model (model)")
    (data_id,) = doc.targets(model, "trainedOn")
    data = doc.by_id[data_id]
    assert data["type"] == "dataset_DatasetPackage"
    assert data["name"] == "example-org/pretrain-mix"
    assert data["software_downloadLocation"] == (
        "https://huggingface.co/datasets/example-org/pretrain-mix"
    )
    assert data["software_primaryPurpose"] == "data"
    assert data["dataset_datasetType"] == ["noAssertion"]  # the card does not say which
    assert doc.by_id[data["suppliedBy"]]["name"] == "example-org"
    for kind in ("hasDeclaredLicense", "hasConcludedLicense"):
        assert doc.license_of(data, kind) == "NOASSERTION"
    # A data set outside the repository: not contained by it.
    (root,) = (e for e in doc.graph if e.get("spdxId", "").endswith("#repository"))
    assert data_id not in doc.targets(root, "contains")


def test_data_component_is_a_dataset_package(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = render(audited(bom_results, "kinds"), monkeypatch)
    data = doc.named("kinds (data)")
    assert data["type"] == "dataset_DatasetPackage"
    assert data["releaseTime"] == "2026-01-01T00:00:00Z"
    assert doc.targets(data, "contains")
    (root,) = (e for e in doc.graph if e.get("name") == "kinds")
    assert data["spdxId"] in doc.targets(root, "contains")


#: Facts the model-info detector reports from config.json and the card.
MODEL_INFO = frozenset(
    "model_type architecture hyperparameter language tag metric co2_eq_emissions "
    "training_hardware training_type model_creator quantized_by model_version release_date "
    "limitation intended_use training_info energy_consumption datasets".split()
)


def without_model_info(result: AuditResult) -> AuditResult:
    return dataclasses.replace(
        result, facts=tuple(f for f in result.facts if f.name not in MODEL_INFO)
    )


def test_hyperparameters_from_config_json(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deepseek-shaped fixture as the detectors read it: config.json and the card."""
    result = audited(bom_results, "deepseek-model")
    doc = render(result, monkeypatch)
    model = doc.named("deepseek-model (model)")
    from_config = [
        f.value
        for f in result.facts
        if f.name == "hyperparameter" and f.evidence.path == "config.json"
    ]
    if not from_config:
        pytest.skip("the model-info detector reports no hyperparameters here")
    entries = [(e["key"], e.get("value")) for e in model["ai_hyperparameter"]]
    assert entries == [tuple(v.split("=", 1)) for v in from_config]
    assert ("hidden_size", "64") in entries and ("num_hidden_layers", "2") in entries
    assert "example_moe" in model["ai_typeOfModel"]
    assert model["ai_domain"] == ["text-generation"]


def test_model_card_and_config_facts(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch, validators: Validators
) -> None:
    """Each fact the model-info detector reports fills its AI field (facts made here)."""
    result = with_facts(
        without_model_info(audited(bom_results, "example-model")),
        ("model_type", "llama", "config.json"),
        ("architecture", "LlamaForCausalLM", "config.json"),
        ("hyperparameter", "hidden_size=64", "config.json"),
        ("hyperparameter", "num_hidden_layers=2", "config.json"),
        ("hyperparameter", "torch_dtype=bfloat16", "config.json"),
        ("metric", "accuracy=61.5 on example-org/reasoning-bench", "README.md"),
        ("metric", "perplexity=7.25", "README.md"),
        ("energy_consumption", "12.5 kWh", "README.md"),
        ("energy_consumption", "a lot", "README.md"),
        ("release_date", "2024-05-01", "README.md"),
        ("limitation", "May produce wrong answers.", "README.md"),
        ("intended_use", "Research on small language models.", "README.md"),
        ("training_info", "Fine-tuned on 10k instructions.", "README.md"),
        ("training_hardware", "8x A100", "README.md"),
        ("co2_eq_emissions", "1200 g", "README.md"),
        ("model_creator", "Example Org", "README.md"),
        ("datasets", "example-org/instructions", "README.md"),
        ("datasets", "wikitext", "README.md"),
    )
    doc = render(result, monkeypatch)
    validators.check(doc.json)
    model = doc.named("example-model (model)")
    assert model["ai_typeOfModel"] == ["llama", "LlamaForCausalLM"]
    assert model["ai_domain"] == ["text-generation"]
    assert model["ai_hyperparameter"] == [
        {"type": "DictionaryEntry", "key": "hidden_size", "value": "64"},
        {"type": "DictionaryEntry", "key": "num_hidden_layers", "value": "2"},
        {"type": "DictionaryEntry", "key": "torch_dtype", "value": "bfloat16"},
    ]
    assert model["ai_metric"] == [
        {
            "type": "DictionaryEntry",
            "key": "accuracy (example-org/reasoning-bench)",
            "value": "61.5",
        },
        {"type": "DictionaryEntry", "key": "perplexity", "value": "7.25"},
    ]
    (energy,) = model["ai_energyConsumption"]["ai_trainingEnergyConsumption"]
    assert float(energy["ai_energyQuantity"]) == 12.5
    assert energy["ai_energyUnit"] == "kilowattHour"
    assert model["releaseTime"] == "2024-05-01T00:00:00Z"
    assert model["ai_limitation"] == "May produce wrong answers."
    assert model["ai_informationAboutApplication"] == "Research on small language models."
    assert model["ai_informationAboutTraining"] == (
        "Fine-tuned on 10k instructions.\n\nTraining hardware: 8x A100\n\nCO2-eq emissions: 1200 g"
    )
    assert [doc.by_id[a]["name"] for a in model["originatedBy"]] == ["Example Org"]
    assert "ai_autonomyType" not in model and "ai_safetyRiskAssessment" not in model
    trained = sorted(doc.by_id[t]["name"] for t in doc.targets(model, "trainedOn"))
    assert trained == ["example-org/instructions", "wikitext"]
    wikitext = doc.named("wikitext")
    assert "software_downloadLocation" not in wikitext  # not an org/name Hub id
    assert "suppliedBy" not in wikitext


def test_without_model_facts(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch, validators: Validators
) -> None:
    """A card that says nothing: the AI package has only what the profile requires."""
    doc = render(without_model_info(audited(bom_results, "deepseek-model")), monkeypatch)
    validators.check(doc.json)
    model = doc.named("deepseek-model (model)")
    assert not [k for k in model if k.startswith("ai_") and k != "ai_domain"]
    assert model["releaseTime"] == "2026-01-01T00:00:00Z"  # the document's time
    assert doc.targets(model, "trainedOn") == []
    assert doc.of_type("dataset_DatasetPackage") == []


def test_facts_of_a_sub_model_stay_with_it(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch, validators: Validators
) -> None:
    result = with_facts(
        without_model_info(audited(bom_results, "rules:multi-model")),
        ("hyperparameter", "image_size=224", "faces/config.json"),
        ("datasets", "example-org/faces", "faces/README.md"),
    )
    doc = render(result, monkeypatch)
    validators.check(doc.json)
    faces = doc.named("multi-model (model:faces)")
    plates = doc.named("multi-model (model:plates)")
    assert faces["ai_hyperparameter"] == [
        {"type": "DictionaryEntry", "key": "image_size", "value": "224"}
    ]
    assert "ai_hyperparameter" not in plates
    assert [doc.by_id[t]["name"] for t in doc.targets(faces, "trainedOn")] == ["example-org/faces"]
    assert doc.targets(plates, "trainedOn") == []
    assert doc.license_of(plates, "hasConcludedLicense") == "CC-BY-NC-4.0"
    assert doc.license_of(faces, "hasConcludedLicense") == "Apache-2.0"


def test_modified_license_text_is_its_own_custom_license(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = audited(bom_results, "rules:mit-extra-terms")
    doc = render(result, monkeypatch)
    code = doc.named("mit-extra-terms (code)")
    ref = "LicenseRef-auditor-LICENSE-L3"
    assert doc.license_of(code, "hasDeclaredLicense") == ref
    assert doc.license_of(code, "hasConcludedLicense") == "NOASSERTION"
    (expression,) = doc.targets(code, "hasDeclaredLicense")
    custom = doc.custom_license(expression, ref)
    shipped = (Path(result.target) / "LICENSE").read_text(encoding="utf-8")
    assert custom["simplelicensing_licenseText"] in shipped
    assert "modified mit" in custom["comment"]
    (rel,) = doc.relationships(code, "hasConcludedLicense")
    assert rel["comment"].startswith("Unknown, review needed")


def test_license_without_shipped_text_points_at_its_urls(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A LicenseRef the repo declares but does not ship says so, and where to read it."""
    result = audited(bom_results, "deepseek-model")
    texts = tuple((p, t) for p, t in result.license_texts if p != "LICENSE-MODEL")
    doc = render(dataclasses.replace(result, license_texts=texts), monkeypatch)
    (custom,) = doc.of_type("expandedlicensing_CustomLicense")
    assert custom["simplelicensing_licenseText"] == NOT_SHIPPED
    assert custom["expandedlicensing_seeAlso"]


def test_findings_are_review_annotations_on_their_package(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = audited(bom_results, "kinds")
    doc = render(result, monkeypatch)
    notes = [n for n in doc.of_type("Annotation") if not n["statement"].startswith("[unreadable]")]
    assert len(notes) == len(result.findings) + len(result.accepted)
    assert {n["annotationType"] for n in notes} == {"review"}
    model = doc.named("kinds (model)")
    # a finding about the model is annotated on the model's package, with where it is
    on_model = [n for n in notes if n["statement"].startswith("[unknown-license] warning: model ")]
    assert on_model and all(n["subject"] == model["spdxId"] for n in on_model)
    assert any(n["statement"].endswith("(LICENSE-MODEL:1)") for n in on_model)
    repo = doc.named("kinds")
    unknown = [n for n in notes if n["statement"].startswith("[unknown-license]")]
    packages = {doc.named(f"kinds ({part})")["spdxId"] for part in ("code", "model", "data")}
    assert unknown and {n["subject"] for n in unknown} <= packages | {repo["spdxId"]}


def test_unreadable_files_are_annotated_on_the_file(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = audited(bom_results, "bad-input")
    doc = render(result, monkeypatch)
    notes = [n for n in doc.of_type("Annotation") if n["statement"].startswith("[unreadable]")]
    assert len(notes) == len(result.skipped) > 0
    binary = next(n for n in notes if n["statement"].startswith("[unreadable] LICENSE: "))
    assert doc.by_id[binary["subject"]]["name"] == "LICENSE"
    assert doc.by_id[binary["subject"]]["type"] == "software_File"


def test_byte_stable_and_only_times_follow_the_epoch(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.pipeline import Options, run_audit

    result = audited(bom_results, "example-model")
    first = render(result, monkeypatch).raw
    assert render(result, monkeypatch).raw == first
    # A new audit of the same tree gives the same bytes.
    again = run_audit(result.target, Options(checksums=("sha256",), checksum_cache=False))
    assert render(again, monkeypatch).raw == first
    later = render(result, monkeypatch, OTHER_EPOCH).raw
    assert later != first
    assert b"2026-02-01T00:00:00Z" in later
    assert later.replace(b"2026-02-01T00:00:00Z", b"2026-01-01T00:00:00Z") == first


# -- the validators can fail -----------------------------------------------------------


def _element(doc: dict[str, Any], kind: str, suffix: str = "") -> dict[str, Any]:
    return next(
        e for e in doc["@graph"] if e["type"] == kind and e.get("spdxId", "").endswith(suffix)
    )


def _break_spec_version(doc: dict[str, Any]) -> None:
    del _element(doc, "CreationInfo")["specVersion"]


def _break_supplier(doc: dict[str, Any]) -> None:
    model = _element(doc, "ai_AIPackage", "#model")
    model["suppliedBy"] = _element(doc, "software_Package", "#code")["spdxId"]


def _break_reference(doc: dict[str, Any]) -> None:
    rel = _element(doc, "Relationship", "#rel-model-hasDeclaredLicense")
    rel["to"] = [rel["to"][0] + "-missing"]


def _break_dataset_type(doc: dict[str, Any]) -> None:
    del _element(doc, "dataset_DatasetPackage")["dataset_datasetType"]


def _break_second_license(doc: dict[str, Any]) -> None:
    rel = copy.deepcopy(_element(doc, "Relationship", "#rel-model-hasDeclaredLicense"))
    rel["spdxId"] += "-2"
    doc["@graph"].append(rel)
    _element(doc, "SpdxDocument")["element"].append(rel["spdxId"])


@pytest.mark.parametrize(
    ("breakage", "schema", "shacl", "profile"),
    [
        (_break_spec_version, True, True, False),
        (_break_supplier, False, True, False),
        (_break_reference, False, True, True),
        (_break_dataset_type, True, True, False),
        (_break_second_license, False, False, True),
    ],
    ids=["no-specVersion", "supplier-not-agent", "dangling-to", "no-datasetType", "two-licenses"],
)
def test_validators_catch_broken_documents(
    bom_results: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
    validators: Validators,
    breakage: Any,
    schema: bool,
    shacl: bool,
    profile: bool,
) -> None:
    doc = render(audited(bom_results, "deepseek-model"), monkeypatch).json
    broken = copy.deepcopy(doc)
    breakage(broken)
    assert bool(validators.schema_errors(broken)) is schema
    conforms, text = validators.shacl(broken)
    assert conforms is not shacl, text
    assert bool(profile_problems(broken)) is profile


# -- tools read it ---------------------------------------------------------------------


def test_spdx_python_model_reads_it_back(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from spdx_python_model import v3_0_1 as spdx3

    doc = render(audited(bom_results, "deepseek-model"), monkeypatch)
    objects = spdx3.SHACLObjectSet()
    spdx3.JSONLDDeserializer().deserialize_data(doc.json, objects)
    assert not objects.missing_ids
    models = list(objects.foreach_type(spdx3.ai_AIPackage))
    assert [m.name for m in models] == ["deepseek-model (model)"]
    again = spdx3.JSONLDSerializer().serialize_data(objects, force_at_graph=True)
    assert len(again["@graph"]) == len(doc.graph)


def test_cli_writes_spdx3(tmp_path: Path) -> None:
    out = tmp_path / "bom.spdx3.json"
    proc = run_cli(
        "scan",
        str(EXAMPLE),
        "--format",
        "spdx3-jsonld",
        "--supplier",
        SUPPLIER,
        "--fail-on",
        "never",
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    doc = Doc(out.read_bytes())
    assert doc.json["@context"] == CONTEXT_URL
    assert [e["name"] for e in doc.of_type("ai_AIPackage")] == [
        "acme/tiny-base",
        "example-model (model)",
    ]
