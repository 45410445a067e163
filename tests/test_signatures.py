"""The committed catalog: complete, consistent, and exactly what `make signatures` derives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT

from auditor.signatures import catalog
from auditor.signatures.build import main as build_main
from auditor.signatures.build import scancode_license_dir

SHARED = ROOT.parent / "shared" / "licenses"


def test_covers_all_of_scancode_and_shared() -> None:
    cat = catalog()
    scancode_keys = {p.name[: -len(".LICENSE")] for p in scancode_license_dir().glob("*.LICENSE")}
    assert len(scancode_keys) > 2600
    assert scancode_keys <= set(cat.keys())
    if SHARED.is_dir():
        index = json.loads((SHARED / "index.json").read_text())
        assert {r["key"] for r in index} <= set(cat.keys())


def test_keys_and_ids() -> None:
    cat = catalog()
    assert cat.get("mit").spdx_id == "MIT"
    assert cat.get("deepseek-la-1.0").spdx_id == "LicenseRef-scancode-deepseek-la-1.0"
    assert cat.get("llama3").spdx_id == "LicenseRef-llama3"  # shared only: its index key
    assert cat.get("baichuan2-community").name.startswith("Baichuan 2")  # known only by name
    assert cat.by_spdx("apache-2.0") == "apache-2.0"
    assert cat.by_spdx("GPL-2.0") == "gpl-2.0"  # deprecated SPDX id still maps
    assert cat.by_spdx("GPL-2.0-or-later") == "gpl-2.0-plus"
    assert cat.by_spdx("LicenseRef-scancode-llama-3.1-license-2024") == "llama-3.1-license-2024"


def test_obligation_facts_come_along() -> None:
    facts = catalog().get("llama-3.1-license-2024").facts
    assert facts["commercial_use"]["value"] == "threshold"
    assert "700 million" in facts["commercial_threshold"]["value"]
    assert (
        catalog().get("deepseek-la-1.0").facts["use_restrictions_must_propagate"]["value"] is True
    )


def test_catalog_holds_no_license_text() -> None:
    text = (ROOT / "auditor" / "signatures" / "catalog.json").read_text()
    # A phrase from the MIT text and one from Apache-2.0's: facts only, never texts.
    assert "WITHOUT WARRANTY OF ANY KIND, EXPRESS OR" not in text
    assert "Grant of Copyright License" not in text


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/licenses is not beside this checkout")
def test_committed_signatures_are_reproducible(tmp_path: Path) -> None:
    """`make signatures` on this machine's ScanCode data gives the committed bytes, both files."""
    out, fp = tmp_path / "catalog.json", tmp_path / "fingerprints.bin"
    committed = ROOT / "auditor" / "signatures"
    before = (committed / "fingerprints.bin").stat().st_mtime_ns
    assert build_main(["--shared", str(SHARED), "--out", str(out), "--fingerprints", str(fp)]) == 0
    assert out.read_bytes() == (committed / "catalog.json").read_bytes()
    assert fp.read_bytes() == (committed / "fingerprints.bin").read_bytes()
    assert (committed / "fingerprints.bin").stat().st_mtime_ns == before  # never rewritten by tests
