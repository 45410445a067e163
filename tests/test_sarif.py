"""SARIF 2.1.0 output, validated against the official schema (tests/schemas/sarif-2.1.0)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import pytest
from bom_support import BOM_FIXTURES, audited, check_golden, golden_name
from conftest import EXAMPLE, FIXTURES, ROOT

from auditor.formats import FORMATS
from auditor.pipeline import Options, run_audit

# The official schema, copied from ../shared/schemas (see tests/schemas/sarif-2.1.0/SOURCES.md).
SCHEMA_FILE = ROOT / "tests" / "schemas" / "sarif-2.1.0" / "sarif-schema-2.1.0.json"

sys.path.insert(0, str(FIXTURES / "rules"))
import build as rules  # noqa: E402


def sarif(target: str, options: Options | None = None) -> dict:  # type: ignore[type-arg]
    data = FORMATS.get("sarif")().render(run_audit(target, options))
    doc = json.loads(data)
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(doc)
    return doc  # type: ignore[no-any-return]


@pytest.mark.parametrize("fixture", BOM_FIXTURES)
def test_bom_fixtures_validate_and_match_golden(
    bom_results: dict[str, object], fixture: str, update_goldens: bool
) -> None:
    """Every fixture repo of the BOM formats, as SARIF: validated, then compared."""
    result = audited(bom_results, fixture)
    data = FORMATS.get("sarif")().render(result)
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(json.loads(data))
    # The audited folder is a temporary one: the golden names it ROOT.
    root = Path(result.inventory.root)
    for place in (root.as_uri(), str(root), result.target):
        data = data.replace(place.encode(), b"ROOT")
    check_golden(f"{golden_name(fixture)}/findings.sarif", data, update_goldens)


@pytest.mark.parametrize("name", ["kinds", "bad-input", "example-model"])
def test_fixture_repos_validate(name: str) -> None:
    doc = sarif(str(FIXTURES / name))
    assert doc["version"] == "2.1.0"


@pytest.mark.parametrize("case", rules.load(), ids=lambda c: c["id"])
def test_rule_cases_validate_and_point_at_files(case: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    repo, upstream = rules.build(case, tmp_path / "repo")
    result = run_audit(str(repo), Options(upstream=str(upstream) if upstream else None))
    doc = sarif(str(repo), Options(upstream=str(upstream) if upstream else None))
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(run["results"]) == len(result.findings)
    for res, f in zip(run["results"], result.findings, strict=True):
        assert res["ruleId"] == f.rule and ids[res["ruleIndex"]] == f.rule
        assert res["level"] == f.severity.value
        if f.path:
            loc = res["locations"][0]["physicalLocation"]
            assert loc["artifactLocation"] == {"uri": f.path, "uriBaseId": "SRCROOT"}


def test_lines_fingerprints_and_stability() -> None:
    doc = sarif(str(FIXTURES / "kinds"))
    results = doc["runs"][0]["results"]
    assert results, "the kinds fixture has findings"
    unknown = [r for r in results if r["ruleId"] == "unknown-license"]
    assert unknown and all("region" in r["locations"][0]["physicalLocation"] for r in unknown)
    assert all(len(r["partialFingerprints"]["auditorFinding/v1"]) == 16 for r in results)
    again = FORMATS.get("sarif")().render(run_audit(str(FIXTURES / "kinds")))
    assert json.loads(again) == doc
    uris = [
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in results
        for loc in r["locations"] + r.get("relatedLocations", [])
    ]
    assert uris and not any(u.startswith("/") for u in uris)  # SRCROOT-relative only


def test_baseline_accepted_findings_are_suppressed(tmp_path: Path) -> None:
    from auditor.baseline import write_baseline
    from auditor.policy import load_policy

    result = run_audit(str(FIXTURES / "kinds"))
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, result)
    policy = load_policy(None).with_baseline(baseline)
    doc = sarif(str(FIXTURES / "kinds"), Options(policy=policy))
    results = doc["runs"][0]["results"]
    assert len(results) == len(result.findings)
    assert all(r["suppressions"][0]["kind"] == "external" for r in results)


def test_clean_example_has_no_results() -> None:
    assert sarif(str(EXAMPLE))["runs"][0]["results"] == []
