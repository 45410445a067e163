"""The JSON report of every fixture repo validates against docs/report.schema.json.

The schema is strict (no unknown keys, enums for every closed set), so a field
added to or renamed in auditor/formats/json_report.py without a schema update
fails here. See docs/report-schema.md.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from auditor.formats import FORMATS
from auditor.pipeline import run_audit

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
EXAMPLE = ROOT / "build" / "example-model"  # materialized by conftest
SCHEMA_FILE = ROOT / "docs" / "report.schema.json"

# Fixture repos are the directories under fixtures/ (not caches such as __pycache__).
FIXTURE_REPOS = sorted(
    p for p in FIXTURES.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
)


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


def errors(report: object) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
        for e in sorted(validator().iter_errors(report), key=lambda e: list(e.absolute_path))
    ]


def render(path: Path) -> dict[str, Any]:
    data = FORMATS.get("json")().render(run_audit(str(path)))
    return json.loads(data)  # type: ignore[no-any-return]


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_fixture_repos_are_found() -> None:
    names = {p.name for p in FIXTURE_REPOS}
    assert {"example-model", "kinds", "bad-input"} <= names, names


@pytest.mark.parametrize("repo", FIXTURE_REPOS, ids=lambda p: p.name)
def test_report_of_fixture_is_valid(repo: Path) -> None:
    report = render(repo)
    assert errors(report) == []


@pytest.mark.parametrize("repo", FIXTURE_REPOS, ids=lambda p: p.name)
def test_summary_counts_match_lists(repo: Path) -> None:
    """What the schema cannot say: the summary counts the lists it sits next to."""
    report = render(repo)
    summary = report["summary"]
    assert summary["files"] == len(report["files"])
    assert summary["skipped"] == len(report["skipped"])
    assert summary["components"] == len(report["components"])
    for severity, count in summary["findings"].items():
        assert count == sum(1 for f in report["findings"] if f["severity"] == severity)


def test_cli_report_is_valid() -> None:
    repo = EXAMPLE
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "scan", str(repo), "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert errors(report) == []
    assert report["target"] == str(repo)


# --- the schema must be able to fail -------------------------------------------------

FINDING: dict[str, Any] = {
    "rule": "license-missing",
    "severity": "error",
    "component": "model",
    "path": "model.safetensors",
    "message": "model component has no license",
    "fix": None,
    "evidence": [],
}


@pytest.fixture(scope="module")
def base_report() -> dict[str, Any]:
    """A real report with one finding added, so mutations have something to break."""
    report = render(EXAMPLE)
    report["findings"].append(copy.deepcopy(FINDING))
    assert errors(report) == []
    return report


def _set_severity(r: dict[str, Any]) -> None:
    r["findings"][-1]["severity"] = "critical"


def _extra_top_level_key(r: dict[str, Any]) -> None:
    r["generated_at"] = "2024-01-01T00:00:00Z"


def _missing_top_level_key(r: dict[str, Any]) -> None:
    del r["skipped"]


def _major_version(r: dict[str, Any]) -> None:
    r["report_version"] = "2.0"


def _extra_finding_key(r: dict[str, Any]) -> None:
    r["findings"][-1]["confidence"] = 1.0


def _bad_file_kind(r: dict[str, Any]) -> None:
    r["files"][0]["kind"] = "weight"


def _uppercase_sha256(r: dict[str, Any]) -> None:
    r["files"][0]["sha256"] = "A" * 64


def _header_not_string(r: dict[str, Any]) -> None:
    r["files"][0]["header"] = {"general.file_type": 2}


def _bad_method(r: dict[str, Any]) -> None:
    r["components"][0]["licenses"][0]["evidence"][0]["method"] = "guess"


def _bad_scope(r: dict[str, Any]) -> None:
    r["licenses"][0]["scope"] = "weights"


def _line_zero(r: dict[str, Any]) -> None:
    r["facts"][0]["evidence"]["start_line"] = 0


@pytest.mark.parametrize(
    "mutate",
    [
        _set_severity,
        _extra_top_level_key,
        _missing_top_level_key,
        _major_version,
        _extra_finding_key,
        _bad_file_kind,
        _uppercase_sha256,
        _header_not_string,
        _bad_method,
        _bad_scope,
        _line_zero,
    ],
    ids=lambda f: f.__name__.lstrip("_"),
)
def test_schema_rejects(base_report: dict[str, Any], mutate: Any) -> None:
    report = copy.deepcopy(base_report)
    mutate(report)
    assert errors(report), f"schema accepted a report after {mutate.__name__}"


def test_schema_rejects_unknown_severity_with_a_clear_message(base_report: dict[str, Any]) -> None:
    report = copy.deepcopy(base_report)
    _set_severity(report)
    found = errors(report)
    assert len(found) == 1
    assert found[0].startswith(f"findings/{len(report['findings']) - 1}/severity:")


def test_schema_rejects_extra_top_level_key(base_report: dict[str, Any]) -> None:
    report = copy.deepcopy(base_report)
    _extra_top_level_key(report)
    found = errors(report)
    assert len(found) == 1
    assert "generated_at" in found[0]
