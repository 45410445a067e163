"""--deep: ScanCode's matcher for what the fast path cannot place; never on the default path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from generate import safetensors_bytes


def test_default_path_never_loads_scancode() -> None:
    code = (
        "import sys; from auditor.pipeline import run_audit; "
        f"run_audit({str(ROOT / 'fixtures' / 'kinds')!r}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('licensedcode', 'scancode', 'cluecode', 'commoncode')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_deep_places_what_the_fast_path_cannot(tmp_path: Path) -> None:
    from auditor.pipeline import Options, run_audit

    # The Apache-2.0 standard notice: no full license text, so the fast matcher says unknown.
    notice = (
        'Licensed under the Apache License, Version 2.0 (the "License");\n'
        "you may not use this file except in compliance with the License.\n"
        "You may obtain a copy of the License at\n\n"
        "    http://www.apache.org/licenses/LICENSE-2.0\n\n"
        "Unless required by applicable law or agreed to in writing, software\n"
        'distributed under the License is distributed on an "AS IS" BASIS,\n'
        "WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.\n"
        "See the License for the specific language governing permissions and\n"
        "limitations under the License.\n"
    )
    (tmp_path / "LICENSE").write_text(notice)
    (tmp_path / "model.safetensors").write_bytes(safetensors_bytes({"format": "pt"}))
    fast = run_audit(str(tmp_path))
    assert [d.key for d in fast.detections] == ["unknown-license-reference"]
    deep = run_audit(str(tmp_path), Options(deep=True))
    keys = {(d.key, d.is_clue) for d in deep.detections}
    assert ("apache-2.0", False) in keys
    assert ("unknown-license-reference", True) not in keys
    assert (
        "scancode --deep"
        in next(d for d in deep.detections if d.key == "apache-2.0").evidence[0].excerpt
    )


@pytest.mark.slow
def test_deep_keeps_text_it_cannot_place(tmp_path: Path) -> None:
    from auditor.pipeline import Options, run_audit

    notice = (
        'Licensed under the Apache License, Version 2.0 (the "License");\n'
        "you may not use this file except in compliance with the License.\n"
        "You may obtain a copy of the License at http://www.apache.org/licenses/LICENSE-2.0\n"
        "Unless required by applicable law or agreed to in writing, software\n"
        'distributed under the License is distributed on an "AS IS" BASIS,\n'
        "WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.\n"
        "See the License for the specific language governing permissions and\n"
        "limitations under the License.\n\n"
        "Additional term: the weights may only be used on Tuesdays by the licensee and\n"
        "must never be redistributed to any third party for any purpose whatsoever.\n"
    )
    (tmp_path / "LICENSE").write_text(notice)
    (tmp_path / "model.safetensors").write_bytes(safetensors_bytes({"format": "pt"}))
    deep = run_audit(str(tmp_path), Options(deep=True))
    assert ("unknown-license-reference", True) in {(d.key, d.is_clue) for d in deep.detections}
    (model,) = [c for c in deep.components if c.kind.value == "model"]
    assert model.concluded is None


def test_deep_without_scancode_is_a_clear_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ScanCode is an extra (`auditor[deep]`): without it, --deep says how to get it."""
    import importlib.util

    from click.testing import CliRunner

    from auditor.cli import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "licensedcode" else real(name, *a),
    )
    (tmp_path / "a.py").write_text("print(1)\n")
    result = CliRunner().invoke(cli, ["scan", str(tmp_path), "--deep"])
    assert result.exit_code == 2
    assert "pip install 'auditor[deep]'" in result.output
