"""Weight-file headers and code package metadata: mapped to catalog keys, unknown where they cannot be."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from generate import gguf_bytes, lfs_pointer, safetensors_bytes

from auditor.detectors import DETECTORS
from auditor.detectors import package_metadata as pm
from auditor.detectors.package_metadata import PackageMetadataDetector, resolve
from auditor.detectors.weights_metadata import WeightsMetadataDetector
from auditor.formats import FORMATS
from auditor.model import UNKNOWN_KEY, ComponentKind, FileEntry, FileKind, Method, Scope
from auditor.pipeline import Options, run_audit
from auditor.signatures import catalog

ROOT = Path(__file__).resolve().parents[1]


def gguf_entry(**header: str) -> FileEntry:
    return FileEntry(
        "tiny-q4_0.gguf",
        1000,
        FileKind.WEIGHTS,
        format="gguf",
        header=tuple(sorted(header.items())),
    )


def st_entry(**header: str) -> FileEntry:
    return FileEntry(
        "model.safetensors",
        1000,
        FileKind.WEIGHTS,
        format="safetensors",
        header=tuple(sorted(header.items())),
    )


def weights_keys(entry: FileEntry) -> list[tuple[str, bool]]:
    found = WeightsMetadataDetector().detect(entry, "")
    assert not found.problems
    return [(d.key, d.is_clue) for d in found.detections]


# --- weights-metadata ---------------------------------------------------------


def test_registered() -> None:
    assert "weights-metadata" in DETECTORS
    assert "package-metadata" in DETECTORS
    assert DETECTORS.get("weights-metadata") is WeightsMetadataDetector
    assert DETECTORS.get("package-metadata") is PackageMetadataDetector


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"general.license": "apache-2.0"}, [("apache-2.0", False)]),
        ({"general.license": "Apache-2.0"}, [("apache-2.0", False)]),
        ({"general.license": "llama3"}, [("llama3", False)]),
        ({"general.license": "llama3.1"}, [("llama-3.1-license-2024", False)]),
        ({"general.license": "mit"}, [("mit", False)]),
        ({"general.license": "apache-2.0 OR mit"}, [("apache-2.0", False), ("mit", False)]),
        ({"general.license": "(MIT AND Apache-2.0)"}, [("mit", False), ("apache-2.0", False)]),
        # gguf-py joins a card's license list with commas
        ({"general.license": "mit,apache-2.0"}, [("mit", False), ("apache-2.0", False)]),
        (
            {"general.license": "other", "general.license.name": "deepseek"},
            [("deepseek-la-1.0", False)],
        ),
        # families, several candidates, unknown ids: unknown, never a guess
        ({"general.license": "gpl"}, [(UNKNOWN_KEY, True)]),
        ({"general.license": "bsd"}, [(UNKNOWN_KEY, True)]),
        ({"general.license": "gemma"}, [(UNKNOWN_KEY, True)]),
        ({"general.license": "other"}, [(UNKNOWN_KEY, True)]),
        ({"general.license": "not-a-license-id"}, [(UNKNOWN_KEY, True)]),
        # a license's name instead of an id names it (as a card's field does)
        ({"general.license": "MIT License"}, [("mit", False)]),
        ({"general.license": "MIT Licence plus our terms"}, [(UNKNOWN_KEY, True)]),
        ({"general.license": "apache-2.0 OR gpl"}, [("apache-2.0", False), (UNKNOWN_KEY, True)]),
        ({"general.architecture": "llama", "general.name": "tiny"}, []),
    ],
)
def test_gguf_license(header: dict[str, str], expected: list[tuple[str, bool]]) -> None:
    assert weights_keys(gguf_entry(**header)) == expected


def test_gguf_evidence_scope_and_method() -> None:
    found = WeightsMetadataDetector().detect(gguf_entry(**{"general.license": "apache-2.0"}), "")
    (det,) = found.detections
    assert det.scope is Scope.MODEL
    assert det.spdx_id == "Apache-2.0"
    (ev,) = det.evidence
    assert (ev.path, ev.start_line, ev.end_line, ev.method, ev.excerpt) == (
        "tiny-q4_0.gguf",
        1,
        1,
        Method.WEIGHTS_METADATA,
        "general.license = apache-2.0",
    )


def test_gguf_unknown_keeps_the_stated_id() -> None:
    (det,) = (
        WeightsMetadataDetector().detect(gguf_entry(**{"general.license": "gpl"}), "").detections
    )
    assert det.key == UNKNOWN_KEY
    assert det.scope is Scope.MODEL
    assert det.evidence[0].excerpt == "general.license = gpl"


def test_gguf_facts_base_models_and_names() -> None:
    entry = gguf_entry(
        **{
            "general.name": "Tiny Chat",
            "general.license": "other",
            "general.license.name": "acme-license",
            "general.license.link": "https://example.com/LICENSE",
            "general.base_model.count": "2",
            "general.base_model.0.name": "Llama 3 8B",
            "general.base_model.0.organization": "Meta Llama",
            "general.base_model.0.repo_url": "https://huggingface.co/meta-llama/Meta-Llama-3-8B",
            "general.base_model.1.name": "tiny-base",
            "general.base_model.1.organization": "acme",
        }
    )
    found = WeightsMetadataDetector().detect(entry, "")
    facts = [(f.name, f.value) for f in found.facts]
    assert facts == [
        ("model_name", "Tiny Chat"),
        ("license_name", "acme-license"),
        ("license_link", "https://example.com/LICENSE"),
        ("base_model", "https://huggingface.co/meta-llama/Meta-Llama-3-8B"),
        ("base_model", "acme/tiny-base"),
    ]
    excerpts = {f.value: f.evidence.excerpt for f in found.facts}
    assert excerpts["acme/tiny-base"] == (
        "general.base_model.1.organization = acme; general.base_model.1.name = tiny-base"
    )
    assert all(
        (f.evidence.start_line, f.evidence.method) == (1, Method.WEIGHTS_METADATA)
        for f in found.facts
    )
    # "other" with a license name the catalog does not know: unknown
    assert [d.key for d in found.detections] == [UNKNOWN_KEY]


def test_safetensors_metadata() -> None:
    entry = st_entry(format="pt", license="apache-2.0", base_model="acme/tiny-base")
    found = WeightsMetadataDetector().detect(entry, "")
    assert [(d.key, d.scope) for d in found.detections] == [("apache-2.0", Scope.MODEL)]
    assert found.detections[0].evidence[0].excerpt == "license = apache-2.0"
    assert [(f.name, f.value) for f in found.facts] == [("base_model", "acme/tiny-base")]


def test_safetensors_format_only_says_nothing() -> None:
    found = WeightsMetadataDetector().detect(st_entry(format="pt"), "")
    assert found.detections == () and found.facts == ()


def test_safetensors_ambiguous_license() -> None:
    assert weights_keys(st_entry(license="llama3")) == [("llama3", False)]
    assert weights_keys(st_entry(license="gpl")) == [(UNKNOWN_KEY, True)]


def test_weights_applies_only_to_weights_with_a_header() -> None:
    det = WeightsMetadataDetector()
    assert det.text_limit == 0  # the pipeline never reads the file for it
    assert det.applies_to(gguf_entry(**{"general.license": "mit"}))
    assert not det.applies_to(FileEntry("model.gguf", 10, FileKind.WEIGHTS, format="gguf"))
    assert not det.applies_to(
        FileEntry("README.md", 10, FileKind.README, header=(("license", "mit"),))
    )


def test_weights_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "tiny-q4_0.gguf").write_bytes(
        gguf_bytes(
            {
                "general.architecture": "llama",
                "general.name": "tiny",
                "general.license": "apache-2.0",
                "general.base_model.count": 1,
                "general.base_model.0.organization": "acme",
                "general.base_model.0.name": "tiny-base",
                "llama.context_length": 128,
            }
        )
    )
    result = run_audit(str(tmp_path))
    (model,) = [c for c in result.components if c.kind is ComponentKind.MODEL]
    declared = [
        (d.key, d.evidence[0].path, d.evidence[0].method)
        for d in model.declared
        if d.evidence[0].method is Method.WEIGHTS_METADATA
    ]
    assert declared == [("apache-2.0", "tiny-q4_0.gguf", Method.WEIGHTS_METADATA)]
    assert model.concluded == "apache-2.0"
    assert ("base_model", "acme/tiny-base") in [(f.name, f.value) for f in result.facts]
    # the JSON report says so too, and stays valid against the schema (lines >= 1)
    report = json.loads(FORMATS.get("json")().render(result))
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)
    (model_report,) = [c for c in report["components"] if c["kind"] == "model"]
    methods = {
        ev["method"]
        for lic in model_report["licenses"]
        if lic["key"] == "apache-2.0"
        for ev in lic["evidence"]
    }
    assert methods == {"weights-metadata"}


def test_safetensors_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").write_bytes(
        safetensors_bytes({"format": "pt", "license": "mit", "base_model": "acme/base"})
    )
    result = run_audit(str(tmp_path), Options(detectors=("weights-metadata",)))
    assert [(d.key, d.evidence[0].path) for d in result.detections] == [
        ("mit", "model.safetensors")
    ]
    assert [(f.name, f.value) for f in result.facts] == [("base_model", "acme/base")]


def test_weights_lfs_pointer_is_not_read(tmp_path: Path) -> None:
    """A weights file whose header was not read (an LFS pointer) gives nothing, and no error."""
    (tmp_path / "model.gguf").write_bytes(lfs_pointer(gguf_bytes({"general.license": "mit"})))
    result = run_audit(str(tmp_path), Options(detectors=("weights-metadata",)))
    assert result.detections == ()
    assert not [s for s in result.skipped if "LFS" in s.reason]


# --- package-metadata ---------------------------------------------------------


def pkg(path: str, text: str) -> list[tuple[str, int, str]]:
    """(key, line, excerpt) of each detection."""
    found = PackageMetadataDetector().detect(FileEntry(path, len(text), FileKind.CODE), text)
    assert not found.problems, found.problems
    for d in found.detections:
        assert d.scope is Scope.CODE
        assert d.evidence[0].method is Method.PACKAGE_METADATA
        assert d.evidence[0].path == path
    return [(d.key, d.evidence[0].start_line, d.evidence[0].excerpt) for d in found.detections]


PYPROJECT_SPDX = """[build-system]
requires = ["setuptools"]

[project]
name = "demo"
version = "1.0"
license = "MIT"
"""


def test_pyproject_spdx_expression_string() -> None:
    assert pkg("pyproject.toml", PYPROJECT_SPDX) == [("mit", 7, 'license = "MIT"')]
    text = PYPROJECT_SPDX.replace('"MIT"', '"MIT OR Apache-2.0"')
    assert [k for k, _, _ in pkg("pyproject.toml", text)] == ["mit", "apache-2.0"]


def test_pyproject_license_text_free_name() -> None:
    text = '[project]\nname = "demo"\nlicense = {text = "Apache License 2.0"}\n'
    assert pkg("pyproject.toml", text) == [
        ("apache-2.0", 3, 'license = {text = "Apache License 2.0"}')
    ]


def test_pyproject_license_file_is_a_fact() -> None:
    text = '[project]\nname = "demo"\nlicense = {file = "LICENSE"}\n'
    found = PackageMetadataDetector().detect(FileEntry("pyproject.toml", 1, FileKind.CODE), text)
    assert found.detections == ()
    assert [(f.name, f.value, f.evidence.start_line) for f in found.facts] == [
        ("license_file", "LICENSE", 3)
    ]


def test_pyproject_poetry_and_classifiers() -> None:
    text = """[tool.black]
line-length = 100

[tool.poetry]
name = "demo"
license = "GPL-3.0-or-later"
classifiers = [
    "Programming Language :: Python :: 3",
    "License :: OSI Approved :: MIT License",
]
"""
    assert pkg("pyproject.toml", text) == [
        ("gpl-3.0-plus", 6, 'license = "GPL-3.0-or-later"'),
        ("mit", 9, '"License :: OSI Approved :: MIT License",'),
    ]


def test_pyproject_license_in_another_table_is_not_the_package_license() -> None:
    text = '[project]\nname = "demo"\n\n[tool.some-linter]\nlicense = "MIT"\n'
    assert pkg("pyproject.toml", text) == []
    pm_regex = PYPROJECT_SPDX + '\n[tool.some-linter]\nlicense = "BSD-2-Clause"\n'
    assert [k for k, _, _ in pkg("pyproject.toml", pm_regex)] == ["mit"]


def test_pyproject_without_toml_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.10 without tomli: the regex fallback reads one-line values."""
    monkeypatch.setattr(pm, "TOML_LOADS", None)
    text = (
        PYPROJECT_SPDX
        + 'classifiers = ["License :: OSI Approved :: BSD License"]\n'
        + '\n[tool.other]\nlicense = "GPL-2.0-only"\n'
    )
    assert pkg("pyproject.toml", text) == [
        ("mit", 7, 'license = "MIT"'),
        (UNKNOWN_KEY, 8, text.splitlines()[7]),
    ]
    file_text = '[project]\nlicense = { file = "LICENSE.txt" }\n'
    found = PackageMetadataDetector().detect(
        FileEntry("pyproject.toml", 1, FileKind.CODE), file_text
    )
    assert found.detections == ()
    assert [(f.name, f.value) for f in found.facts] == [("license_file", "LICENSE.txt")]


def test_pyproject_invalid_toml_is_a_problem() -> None:
    found = PackageMetadataDetector().detect(
        FileEntry("pyproject.toml", 1, FileKind.CODE), '[project\nlicense = "MIT"\n'
    )
    assert found.detections == ()
    (problem,) = found.problems
    assert problem.path == "pyproject.toml"
    assert "not valid TOML" in problem.reason


def test_setup_cfg() -> None:
    text = """[metadata]
name = demo
license = Apache-2.0
classifiers =
    Programming Language :: Python
    License :: OSI Approved :: Apache Software License

[options]
packages = find:
"""
    # The versionless classifier adds nothing beside a field that names the version.
    assert pkg("setup.cfg", text) == [("apache-2.0", 3, "license = Apache-2.0")]


def test_setup_cfg_license_outside_metadata_is_ignored() -> None:
    assert pkg("setup.cfg", "[bdist_wheel]\nlicense = MIT\n") == []


SETUP_PY = """from setuptools import setup

setup(
    name="demo",
    version="1.0",
    license="BSD-3-Clause",
    classifiers=[
        "License :: OSI Approved :: BSD License",
    ],
)
"""


def test_setup_py_constant_license() -> None:
    # the family classifier agrees with the license field: no unknown for it
    assert pkg("src/demo/setup.py", SETUP_PY) == [("bsd-new", 6, 'license="BSD-3-Clause",')]


def test_setup_py_family_classifier_alone_is_unknown() -> None:
    text = SETUP_PY.replace('    license="BSD-3-Clause",\n', "")
    assert pkg("setup.py", text) == [(UNKNOWN_KEY, 7, '"License :: OSI Approved :: BSD License",')]


def test_setup_py_variable_license_gives_nothing() -> None:
    text = 'from setuptools import setup\nLICENSE = "MIT"\nsetup(name="demo", license=LICENSE)\n'
    assert pkg("setup.py", text) == []
    text = 'import setuptools\nsetuptools.setup(name="demo", license="MIT")\n'
    assert pkg("setup.py", text) == [("mit", 2, 'setuptools.setup(name="demo", license="MIT")')]


def test_setup_py_unknown_license() -> None:
    text = 'from setuptools import setup\nsetup(license="Acme Secret License")\n'
    assert pkg("setup.py", text) == [(UNKNOWN_KEY, 2, 'setup(license="Acme Secret License")')]


def test_setup_py_python2_is_a_problem_not_a_crash() -> None:
    found = PackageMetadataDetector().detect(
        FileEntry("setup.py", 1, FileKind.CODE), 'print "hello"\nsetup(license="MIT")\n'
    )
    assert found.detections == ()
    assert "not valid Python" in found.problems[0].reason


def test_setup_py_is_never_executed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    marker = tmp_path / "pwned"
    payload = f'import os; os.system("touch {marker}")\n'
    (repo / "setup.py").write_text(
        payload + 'from setuptools import setup\nsetup(name="x", license="MIT")\n'
    )
    # The payload is live: running the file would create the marker...
    control = tmp_path / "control.py"
    control.write_text(payload.replace(str(marker), str(tmp_path / "control-ran")))
    subprocess.run([sys.executable, str(control)], check=True, timeout=60)
    assert (tmp_path / "control-ran").exists()
    # ...and a whole audit reads the license without running it.
    result = run_audit(str(repo))
    assert not marker.exists()
    keys = [d.key for d in result.detections if d.evidence[0].method is Method.PACKAGE_METADATA]
    assert keys == ["mit"]
    (code,) = [c for c in result.components if c.kind is ComponentKind.CODE]
    assert code.concluded == "mit"


def test_package_json_forms() -> None:
    assert pkg("package.json", '{\n  "name": "demo",\n  "license": "MIT"\n}\n') == [
        ("mit", 3, '"license": "MIT"')
    ]
    obj = '{\n  "name": "demo",\n  "license": {"type": "ISC", "url": "https://x"}\n}\n'
    assert [k for k, _, _ in pkg("web/package.json", obj)] == ["isc"]
    old = """{
  "name": "demo",
  "licenses": [
    {"type": "MIT", "url": "https://x/mit"},
    {"type": "Apache-2.0", "url": "https://x/apache"}
  ]
}
"""
    assert [(k, line) for k, line, _ in pkg("package.json", old)] == [
        ("mit", 4),
        ("apache-2.0", 5),
    ]


def test_package_json_unlicensed_and_see_license() -> None:
    assert pkg("package.json", '{"license": "UNLICENSED"}') == [
        (UNKNOWN_KEY, 1, '{"license": "UNLICENSED"}')
    ]
    found = PackageMetadataDetector().detect(
        FileEntry("package.json", 1, FileKind.CODE), '{"license": "SEE LICENSE IN LICENSE.md"}'
    )
    assert found.detections == ()
    assert [(f.name, f.value) for f in found.facts] == [("license_file", "LICENSE.md")]


def test_package_json_invalid_is_a_problem() -> None:
    found = PackageMetadataDetector().detect(
        FileEntry("package.json", 1, FileKind.CODE), '{"license": "MIT",'
    )
    assert found.detections == ()
    assert "not valid JSON" in found.problems[0].reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("MIT", ["mit"]),
        ("Apache-2.0", ["apache-2.0"]),
        ("Apache License 2.0", ["apache-2.0"]),
        ("Apache License, Version 2.0", ["apache-2.0"]),
        ("Apache 2", ["apache-2.0"]),
        ("MIT License", ["mit"]),
        ("The MIT License (MIT)", ["mit"]),
        ("BSD 3-Clause", ["bsd-new"]),
        ("GPLv3", ["gpl-3.0"]),
        ("GPLv3+", ["gpl-3.0-plus"]),
        ("GPL v2 or later", ["gpl-2.0-plus"]),
        ("GNU General Public License v3 (GPLv3)", ["gpl-3.0"]),
        ("LGPLv2.1", ["lgpl-2.1"]),
        ("Mozilla Public License 2.0", ["mpl-2.0"]),
        ("The Unlicense", ["unlicense"]),
        ("MIT OR Apache-2.0", ["mit", "apache-2.0"]),
        ("mit or apache-2.0", ["mit", "apache-2.0"]),
        ("MIT License OR Apache License 2.0", ["mit", "apache-2.0"]),
        # named but not one license: unknown, never a guess
        ("BSD", [None]),
        ("BSD License", [None]),
        ("GPL", [None]),
        ("GPL License", [None]),  # the catalog reads a bare "GPL" as GPL-1.0+
        ("MIT OR GPL", ["mit", None]),
        ("LGPL", [None]),
        ("Apache", [None]),
        ("Apache Software License", [None]),
        ("UNLICENSED", [None]),
        ("Proprietary", [None]),
        ("Public Domain", [None]),
        ("MIT-style", [None]),
        ("MIT License (BSD)", [None]),
        ("GPL 2 or 3", [None]),
        ("MIT AND BSD", ["mit", None]),
        ("", []),
    ],
)
def test_resolve_free_text_and_ids(value: str, expected: list[str | None]) -> None:
    assert resolve(value) == expected


def test_classifier_table_ids_are_all_in_the_catalog() -> None:
    cat = catalog()
    missing = [spdx for spdx in pm.CLASSIFIERS.values() if cat.by_spdx(spdx) is None]
    assert missing == []
    # and each maps to the license its classifier names, not a relative
    assert cat.by_spdx(pm.CLASSIFIERS["OSI Approved :: GNU General Public License v3 (GPLv3)"]) == (
        "gpl-3.0"
    )


@pytest.mark.parametrize(
    ("path", "applies"),
    [
        ("pyproject.toml", True),
        ("sub/dir/pyproject.toml", True),
        ("setup.cfg", True),
        ("setup.py", True),
        ("web/package.json", True),
        ("mypyproject.toml", False),
        ("Setup.py", False),
        ("package.json.bak", False),
        ("tests/setup.py.txt", False),
    ],
)
def test_package_applies_to(path: str, applies: bool) -> None:
    assert PackageMetadataDetector().applies_to(FileEntry(path, 1, FileKind.CODE)) is applies


def test_versionless_apache_classifier_alone_is_unknown() -> None:
    text = '[project]\nname = "x"\nclassifiers = ["License :: OSI Approved :: Apache Software License"]\n'
    assert [k for k, _, _ in pkg("pyproject.toml", text)] == ["unknown-license-reference"]


DEEP = 50_000


@pytest.mark.parametrize(
    ("files", "skipped"),
    [
        # libyaml's composer recursed in C and crashed the process (SIGSEGV).
        (
            {"README.md": "---\nlicense: mit\ntags: " + "[" * DEEP + "\n---\n# x\n"},
            "README.md: YAML front matter is nested more than 100 levels deep",
        ),
        (
            {"README.md": "---\nlicense: mit\ntags:\n" + "- " * DEEP + "x\n---\n"},
            "README.md: YAML front matter is nested more than 100 levels deep",
        ),
        # A date YAML cannot build raised ValueError out of the detector.
        (
            {"README.md": "---\nlicense: mit\nrelease_date: 2024-02-30\n---\n# x\n"},
            "README.md: YAML front matter is not valid (day is out of range for month)",
        ),
        # json.loads raises RecursionError, not ValueError, on deep nesting.
        ({"config.json": "[" * 100_000}, None),
        ({"package.json": "[" * 100_000}, "package.json: package.json is nested too deeply"),
        ({"pyproject.toml": "a = " + "[" * 100_000}, "pyproject.toml: pyproject.toml is nested"),
    ],
    ids=["yaml-flow", "yaml-block", "yaml-bad-date", "config", "package-json", "pyproject"],
)
def test_crafted_nesting_and_bad_values_are_reported_not_fatal(
    tmp_path: Path, files: dict[str, str], skipped: str | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "scan", str(tmp_path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    shown = [f"{s['path']}: {s['reason']}" for s in report["skipped"]]
    if skipped is None:
        assert shown == []
    else:
        assert any(s.startswith(skipped) for s in shown), shown
