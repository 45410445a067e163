"""SPDX 2.3 documents: validated by spdx-tools, checked for the NTIA minimum elements, goldens."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from bom_support import BOM_FIXTURES, EPOCH, SUPPLIER, audited, check_golden, golden_name
from conftest import run_cli
from ntia_conformance_checker.sbom_checker import SbomChecker
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from auditor.errors import FormatError
from auditor.formats import FORMATS
from auditor.model import AuditResult, Finding, Severity

FORMAT_FILES = {"spdx-json": "bom.spdx.json", "spdx-tv": "bom.spdx"}


def _render(result: AuditResult, fmt: str = "spdx-json", supplier: str | None = SUPPLIER) -> bytes:
    return FORMATS.get(fmt)(supplier=supplier).render(result)


@pytest.fixture(autouse=True)
def _epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def _parseable(tag_value: bytes) -> bytes:
    """spdx-tools 0.8.2's tag-value grammar cannot read ``Annotator: Tool: ...`` (its rule
    is ``ANNOTATOR PERSON_VALUE | TOOL_VALUE | ORGANIZATION_VALUE``: the ANNOTATOR token is
    missing from the other two). The SPDX 2.3 spec allows a tool annotator, so we keep
    writing it and let the parser read it as a person; everything else is parsed as
    written."""
    return tag_value.replace(b"\nAnnotator: Tool: ", b"\nAnnotator: Person: ")


def _doc(data: bytes) -> dict:  # type: ignore[type-arg]
    return json.loads(data)  # type: ignore[no-any-return]


@pytest.mark.parametrize("fmt", sorted(FORMAT_FILES))
@pytest.mark.parametrize("fixture", BOM_FIXTURES)
def test_every_fixture_validates_meets_ntia_and_matches_golden(
    bom_results: dict[str, object],
    fixture: str,
    fmt: str,
    tmp_path: Path,
    update_goldens: bool,
) -> None:
    data = _render(audited(bom_results, fixture), fmt)
    path = tmp_path / ("doc" + FORMATS.get(fmt).suffix)
    path.write_bytes(_parseable(data) if fmt == "spdx-tv" else data)
    # spdx-tools parses what we wrote and validates it in full (SPDX 2.3 rules).
    parsed = parse_file(str(path))
    assert validate_full_spdx_document(parsed) == []
    checker = SbomChecker(str(path))
    assert checker.ntia_minimum_elements_compliant, (
        checker.components_without_suppliers,
        checker.components_without_versions,
        checker.validation_messages,
    )
    check_golden(f"{golden_name(fixture)}/{FORMAT_FILES[fmt]}", data, update_goldens)


def test_tag_value_and_json_say_the_same(bom_results: dict[str, object], tmp_path: Path) -> None:
    result = audited(bom_results, "kinds")
    (tmp_path / "a.spdx.json").write_bytes(_render(result, "spdx-json"))
    (tmp_path / "a.spdx").write_bytes(_parseable(_render(result, "spdx-tv")))
    from_json = parse_file(str(tmp_path / "a.spdx.json"))
    from_tv = parse_file(str(tmp_path / "a.spdx"))
    assert from_tv.annotations and from_json.annotations
    for a in from_tv.annotations:
        a.annotator = from_json.annotations[0].annotator
    for field in ("creation_info", "packages", "files", "extracted_licensing_info"):
        assert getattr(from_tv, field) == getattr(from_json, field), field
    key = lambda r: (r.spdx_element_id, r.relationship_type.name, str(r.related_spdx_element_id))  # noqa: E731
    assert sorted(from_tv.relationships, key=key) == sorted(from_json.relationships, key=key)
    by = lambda a: (a.spdx_id, a.annotation_comment)  # noqa: E731
    assert sorted(from_tv.annotations, key=by) == sorted(from_json.annotations, key=by)


def test_deepseek_code_is_mit_and_model_is_deepseek_never_merged(
    bom_results: dict[str, object],
) -> None:
    result = audited(bom_results, "deepseek-model")
    doc = _doc(_render(result))
    packages = {p["SPDXID"]: p for p in doc["packages"]}
    code = packages["SPDXRef-Package-code"]
    model = packages["SPDXRef-Package-model"]
    repo = packages["SPDXRef-Package-repository"]
    assert (code["licenseDeclared"], code["licenseConcluded"]) == ("MIT", "MIT")
    deepseek = "LicenseRef-scancode-deepseek-la-1.0"
    assert (model["licenseDeclared"], model["licenseConcluded"]) == (deepseek, deepseek)
    assert (repo["licenseDeclared"], repo["licenseConcluded"]) == ("NOASSERTION", "NOASSERTION")
    for p in doc["packages"]:  # no package anywhere carries a merged expression
        for field in ("licenseDeclared", "licenseConcluded"):
            assert " AND " not in p[field] and " OR " not in p[field], p
    (extracted,) = doc["hasExtractedLicensingInfos"]
    assert extracted["licenseId"] == deepseek
    shipped = dict(result.license_texts)["LICENSE-MODEL"]
    assert extracted["extractedText"].strip() == shipped.strip()
    contains = {
        (r["spdxElementId"], r["relatedSpdxElement"])
        for r in doc["relationships"]
        if r["relationshipType"] == "CONTAINS"
    }
    files = {f["SPDXID"]: f["fileName"] for f in doc["files"]}
    model_files = {files[b] for a, b in contains if a == "SPDXRef-Package-model"}
    code_files = {files[b] for a, b in contains if a == "SPDXRef-Package-code"}
    assert "./model-00001-of-00002.safetensors" in model_files
    assert "./config.json" in model_files
    assert code_files == {"./inference/generate.py", "./inference/requirements.txt"}
    assert ("SPDXRef-Package-repository", "SPDXRef-Package-model") in contains


def test_files_carry_sha1_and_sha256_of_their_bytes(bom_results: dict[str, object]) -> None:
    import hashlib

    result = audited(bom_results, "deepseek-model")
    doc = _doc(_render(result))
    root = Path(result.inventory.root)
    for f in doc["files"]:
        data = (root / f["fileName"][2:]).read_bytes()
        sums = {c["algorithm"]: c["checksumValue"] for c in f["checksums"]}
        assert sums == {
            "SHA1": hashlib.sha1(data).hexdigest(),
            "SHA256": hashlib.sha256(data).hexdigest(),
        }


def test_derivative_descends_from_its_base_model_package(bom_results: dict[str, object]) -> None:
    doc = _doc(_render(audited(bom_results, "example-model")))
    base = next(p for p in doc["packages"] if p["name"] == "acme/tiny-base")
    assert base["filesAnalyzed"] is False
    assert base["downloadLocation"] == "https://huggingface.co/acme/tiny-base"
    assert base["supplier"] == "Organization: acme"
    assert base["externalRefs"][0]["referenceLocator"] == "pkg:huggingface/acme/tiny-base"
    rel = [
        r
        for r in doc["relationships"]
        if r["relationshipType"] == "DESCENDANT_OF" and r["relatedSpdxElement"] == base["SPDXID"]
    ]
    assert [r["spdxElementId"] for r in rel] == ["SPDXRef-Package-model"]


def test_findings_become_review_annotations_on_their_package(
    bom_results: dict[str, object],
) -> None:
    result = audited(bom_results, "rules:mit-extra-terms")
    assert result.findings, "the case has findings"
    doc = _doc(_render(result))
    notes = [a for p in doc["packages"] for a in p.get("annotations", [])]
    assert len([a for a in notes if not a["comment"].startswith("[unreadable]")]) == len(
        result.findings
    )
    for a in notes:
        assert a["annotationType"] == "REVIEW"
        assert a["annotator"] == "Tool: auditor-0.1.0"
        assert a["annotationDate"] == "2026-01-01T00:00:00Z"
    rules = {a["comment"].split("]")[0][1:] for a in notes}
    assert rules == {f.rule for f in result.findings}


def test_modified_license_text_is_a_license_of_its_own_quoting_the_file(
    bom_results: dict[str, object],
) -> None:
    """An MIT text with added terms is not MIT: never declared as MIT, its own words kept."""
    result = audited(bom_results, "rules:mit-extra-terms")
    doc = _doc(_render(result))
    code = next(p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-Package-code")
    assert code["licenseDeclared"].startswith("LicenseRef-auditor-"), code
    assert code["licenseConcluded"] == "NOASSERTION"
    info = {e["licenseId"]: e for e in doc["hasExtractedLicensingInfos"]}
    own = info[code["licenseDeclared"]]
    path = own["comment"].split("shipped in ")[1].split(".")[0]
    assert own["extractedText"].strip() in dict(result.license_texts)[path]
    assert "modified mit" in own["comment"]


def test_lfs_pointer_package_is_not_analyzed_but_still_valid(
    bom_results: dict[str, object], tmp_path: Path
) -> None:
    result = audited(bom_results, "kinds")
    lfs = [f for f in result.inventory.files if f.lfs]
    assert lfs and all(f.sha256 and f.sha1 is None for f in lfs)
    doc = _doc(_render(result))
    not_analyzed = [p for p in doc["packages"] if not p["filesAnalyzed"]]
    assert any("Git LFS" in p.get("comment", "") for p in not_analyzed)
    names = {f["fileName"] for f in doc["files"]}
    assert not any(f"./{f.path}" in names for f in lfs)


def test_unreadable_files_are_listed_not_dropped(bom_results: dict[str, object]) -> None:
    result = audited(bom_results, "bad-input")
    assert result.skipped
    doc = _doc(_render(result))
    repo = next(p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-Package-repository")
    comments = [a["comment"] for a in repo.get("annotations", [])]
    for s in result.skipped:
        assert f"[unreadable] {s.path}: {s.reason}" in comments


def test_ntia_checker_fails_without_a_supplier(
    bom_results: dict[str, object], tmp_path: Path
) -> None:
    """The NTIA check can fail: no --supplier and nothing in the repo naming one."""
    path = tmp_path / "doc.spdx.json"
    path.write_bytes(_render(audited(bom_results, "deepseek-model"), supplier=None))
    checker = SbomChecker(str(path))
    assert not checker.ntia_minimum_elements_compliant
    assert "deepseek-model (model)" in checker.components_without_suppliers
    assert checker.validation_messages == []  # still a valid SPDX document


def test_output_is_byte_stable_and_epoch_pins_only_the_time(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = audited(bom_results, "example-model")
    first, second = _render(result), _render(result)
    assert first == second
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 86400))
    later = _render(result)
    changed = [
        (a, b)
        for a, b in zip(first.decode().splitlines(), later.decode().splitlines(), strict=True)
        if a != b
    ]
    assert changed and all("2026-01-0" in a and "2026-01-02" in b for a, b in changed)


def test_bad_source_date_epoch_is_a_clear_error(
    bom_results: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(FormatError, match="SOURCE_DATE_EPOCH"):
        _render(audited(bom_results, "example-model"))


def test_a_document_that_does_not_validate_is_never_written(
    bom_results: dict[str, object],
) -> None:
    """spdx-tools' validation guards the writer: a broken license id is refused."""
    result = audited(bom_results, "example-model")
    broken = replace(
        result,
        components=tuple(replace(c, concluded="no-such-key") for c in result.components),
    )
    with pytest.raises(FormatError):
        _render(broken)


def test_findings_without_component_go_to_the_repository(bom_results: dict[str, object]) -> None:
    result = audited(bom_results, "example-model")
    finding = Finding("license-missing", Severity.ERROR, "something about the repo")
    doc = _doc(_render(replace(result, findings=(finding,))))
    repo = next(p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-Package-repository")
    assert [a["comment"] for a in repo["annotations"]] == [
        "[license-missing] error: something about the repo"
    ]


def test_cli_writes_several_formats_into_an_output_dir(tmp_path: Path) -> None:
    from conftest import EXAMPLE

    out = tmp_path / "boms"
    proc = run_cli(
        "scan",
        str(EXAMPLE),
        "--format",
        "spdx-json,spdx-tv",
        "--format",
        "json",
        "--output-dir",
        str(out),
        "--supplier",
        "Example Org",
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "example-model.json",
        "example-model.spdx",
        "example-model.spdx.json",
    ]
    doc = json.loads((out / "example-model.spdx.json").read_text())
    assert {p["supplier"] for p in doc["packages"] if p["name"].startswith("example-model")} == {
        "Organization: Example Org"
    }
    assert oct((out / "example-model.spdx.json").stat().st_mode & 0o777) != "0o600"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "spdx-json,json"), "several formats need --output-dir"),
        (("--format", "spdx-json", "-o", "x", "--output-dir", "y"), "cannot be used together"),
        (("--format", "spdx-xml"), "unknown format 'spdx-xml'"),
    ],
)
def test_cli_format_usage_errors(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    from conftest import EXAMPLE

    proc = run_cli("scan", str(EXAMPLE), *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:hf_secret@huggingface.co/acme/tiny", "git+https://huggingface.co/acme/tiny"),
        ("https://github.com/acme/tiny.git", "git+https://github.com/acme/tiny.git"),
        ("git@github.com:acme/tiny.git", None),  # ssh names no public download location
    ],
)
def test_download_location_from_the_git_origin_without_credentials(
    tmp_path: Path, url: str, expected: str | None
) -> None:
    import shutil

    from conftest import EXAMPLE

    from auditor.pipeline import Options, run_audit

    repo = tmp_path / "tiny"
    shutil.copytree(EXAMPLE, repo)
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text(
        f'[core]\n\tbare = false\n[remote "origin"]\n\turl = {url}\n'
    )
    result = run_audit(str(repo), Options(checksums=("sha1", "sha256")))
    doc = _doc(_render(result))
    locations = {p["name"]: p["downloadLocation"] for p in doc["packages"]}
    assert locations["tiny"] == (expected or "NOASSERTION")
    assert locations["tiny (model)"] == (expected or "NOASSERTION")
    assert "hf_secret" not in json.dumps(doc)
