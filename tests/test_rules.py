"""Every rule, firing and staying silent, on the repositories of fixtures/rules/cases.yaml.

Each case is built in a temporary folder (license texts from the installed ScanCode
data and ../shared/licenses, at test time) and audited through the real pipeline,
with ``--upstream`` when the case has one. A case marked ``xfail`` is a known bug of
the auditor: its expectation stays what is right, and it fails strictly once fixed.
license-denied and license-not-allowed need a policy: tests/test_policy.py has them.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pytest

from auditor.checks import RULES
from auditor.model import AuditResult
from auditor.pipeline import Options, run_audit

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "fixtures" / "rules" / "build.py"
SHARED = ROOT.parent / "shared" / "licenses"
POLICY_RULES = frozenset({"license-denied", "license-not-allowed"})
CASE_KEYS = frozenset({"id", "about", "name", "files", "upstream", "expect", "xfail"})
EXPECT_KEYS = frozenset(
    {"fires", "silent", "concluded", "message_contains", "message_lacks", "component_of"}
)


def _build_module() -> ModuleType:
    """fixtures/rules/build.py, by path: fixtures/ is data, not a package."""
    spec = importlib.util.spec_from_file_location("rules_build", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_BUILD = _build_module()
build = cast(Callable[[dict[str, Any], Path], tuple[Path, Path | None]], _BUILD.build)
CASES = cast(Callable[[], list[dict[str, Any]]], _BUILD.load)()

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/licenses is missing")


def audit(case: Mapping[str, Any], tmp_path: Path) -> AuditResult:
    repo, upstream = build(dict(case), tmp_path / case.get("name", case["id"]))
    return run_audit(str(repo), Options(upstream=str(upstream) if upstream else None))


def unmet(expect: Mapping[str, Any], result: AuditResult) -> list[str]:
    """What of ``expect`` the result does not bear out, one line each; empty when all holds."""
    out: list[str] = []
    rules = {f.rule for f in result.findings}
    out += [f"{r} should fire" for r in expect.get("fires", []) if r not in rules]
    out += [f"{r} should stay silent" for r in expect.get("silent", []) if r in rules]
    concluded = {c.name: c.concluded for c in result.components}
    for name, want in expect.get("concluded", {}).items():
        if name not in concluded:
            out.append(f"no component {name} (components: {sorted(concluded)})")
        elif concluded[name] != want:
            out.append(f"{name} concluded {concluded[name]!r}, expected {want!r}")
    for rule, text in expect.get("message_contains", {}).items():
        if not any(text in f.message for f in result.findings if f.rule == rule):
            out.append(f"no {rule} message contains {text!r}")
    for rule, text in expect.get("message_lacks", {}).items():
        out += [
            f"{rule} message should not contain {text!r}: {f.message}"
            for f in result.findings
            if f.rule == rule and text in f.message
        ]
    for rule, component in expect.get("component_of", {}).items():
        if not any(f.component == component for f in result.findings if f.rule == rule):
            out.append(f"no {rule} finding about component {component}")
    return out


def _shown(result: AuditResult) -> str:
    lines = [f"  [{f.rule}] ({f.component}) {f.message}" for f in result.findings]
    comps = ", ".join(f"{c.name}={c.concluded}" for c in result.components)
    return f"components: {comps}\nfindings:\n" + ("\n".join(lines) or "  (none)")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any], tmp_path: Path) -> None:
    known_bug = case.get("xfail")
    try:
        result = audit(case, tmp_path)
    except Exception as exc:
        if known_bug:
            pytest.xfail(f"{known_bug} ({exc!r})")
        raise
    for f in result.findings:  # every finding tells a person what and how to fix it
        assert f.message.strip(), f
        assert f.fix is not None and f.fix.strip(), f
    problems = unmet(case["expect"], result)
    if known_bug:
        if problems:
            pytest.xfail(f"{known_bug} [{'; '.join(problems)}]")
        pytest.fail(f"{case['id']} now passes: the bug is fixed, remove its xfail")
    assert not problems, "\n".join(problems) + "\n" + _shown(result)


def test_cases_are_well_formed() -> None:
    assert 20 <= len(CASES) <= 40
    for case in CASES:
        where = case["id"]
        assert set(case) <= CASE_KEYS, where
        assert str(case.get("about", "")).strip(), f"{where}: one line of about"
        expect = case["expect"]
        assert set(expect) <= EXPECT_KEYS, where
        fires, silent = set(expect.get("fires", [])), set(expect.get("silent", []))
        assert fires or silent, f"{where}: expects nothing"
        assert not fires & silent, f"{where}: {fires & silent} both fire and stay silent"
        named = fires | silent
        for key in ("message_contains", "message_lacks", "component_of"):
            named |= set(expect.get(key, {}))
        assert named <= set(RULES) - POLICY_RULES, f"{where}: {named - set(RULES)}"
        assert set(expect.get("message_contains", {})) <= fires, where
        assert set(expect.get("component_of", {})) <= fires, where


def test_every_rule_fires_and_stays_silent_somewhere() -> None:
    """Counting only cases that pass: a rule seen only in known-bug cases is not covered."""
    working = [c for c in CASES if not c.get("xfail")]
    fired = {r for c in working for r in c["expect"].get("fires", [])}
    quiet = {r for c in working for r in c["expect"].get("silent", [])}
    wanted = set(RULES) - POLICY_RULES
    assert wanted - fired == set(), "rules no case makes fire"
    assert wanted - quiet == set(), "rules no case keeps silent"


def test_build_script_materializes_one_case(tmp_path: Path) -> None:
    dest = tmp_path / "Llama-3.1-Example-Chat-8B"
    proc = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "upstream-unmarked", str(dest)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    upstream = dest.with_name(dest.name + "-upstream")
    assert proc.stdout.split() == ["auditor", "scan", str(dest), "--upstream", str(upstream)]
    assert (dest / "modeling.py").is_file() and (upstream / "NOTICE").is_file()
    assert (dest / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    usage = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=120
    )
    assert usage.returncode == 2 and "deepseek-clean" in usage.stderr
