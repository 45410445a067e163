"""What the BOM format tests share: the fixture repos audited once, and golden files.

Every BOM format is produced for every repo in ``BOM_FIXTURES``, validated by
the official schema or validator first, then compared with its golden file
under ``tests/goldens/``. ``pytest --update-goldens`` rewrites the goldens.

Goldens hold no license text: a long string (a license text quoted from a
license file, which the fixtures take from ScanCode's data at test time) is
replaced on both sides by its length and sha256 before comparing, so the
project commits derived facts only.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLDENS = ROOT / "tests" / "goldens"

#: The creation time every golden document carries (2026-01-01T00:00:00Z).
EPOCH = "1767225600"
#: Who distributes the fixture repos: NTIA minimum elements need a supplier.
SUPPLIER = "Organization: Example Org"

#: Fixture repos: committed folders under fixtures/ (materialized with their license
#: texts) and ``rules:ID`` cases of fixtures/rules/cases.yaml.
BOM_FIXTURES = (
    "example-model",
    "deepseek-model",
    "kinds",
    "bad-input",
    "rules:llama31-finetune-complete",
    "rules:multi-model",
    "rules:gguf-quant-marked",
    "rules:mit-extra-terms",
)

LONG = 400
_TV_TEXT = re.compile(r"<text>(.*?)</text>", re.DOTALL)


def audited(bom_results: dict[str, object], fixture: str) -> Any:
    """The audit of one BOM fixture (an ``AuditResult``); skips the test when the fixture
    could not be built here (a license text from ../shared/licenses this checkout lacks)."""
    import pytest

    from auditor.model import AuditResult

    value = bom_results[fixture]
    if isinstance(value, str):
        pytest.skip(value)
    assert isinstance(value, AuditResult)
    return value


def golden_name(fixture: str) -> str:
    return fixture.replace("rules:", "rules-")


def _digest(text: str) -> str:
    return f"<{len(text)} characters, sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}>"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _digest(value) if len(value) > LONG else value
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    return value


def scrub(data: bytes, suffix: str) -> bytes:
    """The document with long texts replaced by their digest, for golden comparison."""
    text = data.decode("utf-8")
    if suffix.endswith(".json") or suffix.endswith(".jsonld") or suffix.endswith(".sarif"):
        return (json.dumps(_scrub(json.loads(text)), indent=2, ensure_ascii=False) + "\n").encode()

    def swap(m: re.Match[str]) -> str:
        inner = m.group(1)
        return f"<text>{_digest(inner)}</text>" if len(inner) > LONG else m.group(0)

    return _TV_TEXT.sub(swap, text).encode()


def check_golden(name: str, data: bytes, update: bool) -> None:
    """Compare ``data`` (scrubbed) with ``tests/goldens/NAME``, or rewrite it with --update-goldens."""
    path = GOLDENS / name
    got = scrub(data, path.name)
    if update or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(got)
        if not update:
            raise AssertionError(f"golden {name} was missing: written, check it in")
        return
    want = path.read_bytes()
    if got != want:
        import difflib

        diff = "".join(
            list(
                difflib.unified_diff(
                    want.decode().splitlines(True),
                    got.decode().splitlines(True),
                    f"golden/{name}",
                    "output",
                    n=2,
                )
            )[:80]
        )
        raise AssertionError(
            f"{name} differs from its golden (pytest --update-goldens to accept):\n{diff}"
        )


def build_fixture(fixture: str, dest_dir: Path) -> Path:
    """Materialize one BOM fixture repo under ``dest_dir`` (folder named after it)."""
    if fixture.startswith("rules:"):
        spec = importlib.util.spec_from_file_location(
            "rules_build", ROOT / "fixtures" / "rules" / "build.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        case = next(c for c in module.load() if c["id"] == fixture[len("rules:") :])
        repo, _ = module.build(dict(case), dest_dir / case.get("name", case["id"]))
        return Path(repo)
    from generate import materialize

    return Path(materialize(fixture, dest_dir / fixture))
