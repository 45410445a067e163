"""The policy file: discovery, every key, errors with their line, allow/deny, severities,
ignores, baselines and fail-on (docs/policy.md)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, run_cli

from auditor import pipeline
from auditor.baseline import read_baseline, write_baseline
from auditor.checks import RULES
from auditor.cli import cli
from auditor.components import build_components
from auditor.errors import UsageError
from auditor.model import (
    AuditResult,
    Component,
    ComponentKind,
    FileEntry,
    FileKind,
    Finding,
    Inventory,
    Severity,
    Skipped,
    fingerprint,
)
from auditor.pipeline import Options, run_audit
from auditor.policy import Policy, load_policy, resolve_name
from auditor.signatures import license_keys
from auditor.sources import open_source

# -- helpers -------------------------------------------------------------------------------


def make_repo(
    root: Path,
    card_license: str | None = "apache-2.0",
    code_spdx: str | None = "MIT",
) -> Path:
    """A model (weights + config, licensed by the card) and one code file (SPDX header)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("model.safetensors", "config.json"):
        shutil.copy(FIXTURES / "example-model" / name, root / name)
    front = f"---\nlicense: {card_license}\n---\n" if card_license else ""
    (root / "README.md").write_text(front + "# tiny\n", encoding="utf-8")
    header = f"# SPDX-License-Identifier: {code_spdx}\n" if code_spdx else ""
    (root / "train.py").write_text(header + "print('training')\n", encoding="utf-8")
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def policy_from(tmp_path: Path, text: str) -> Policy:
    return load_policy(None, write(tmp_path / "policy.toml", text))


def base_audit(repo: Path) -> AuditResult:
    """An audit without policy, with only the check these tests rely on, so that
    findings of other checks do not get in the way."""
    return run_audit(str(repo), Options(checks=("license-missing",)))


def audit(repo: Path, policy: Policy) -> AuditResult:
    return policy.apply(base_audit(repo))


def only(keep: Iterable[str], levels: Mapping[str, str] | None = None) -> str:
    """A ``severity`` line that turns off every rule but ``keep`` (for CLI tests, where
    other checks cannot be left out), and sets ``levels``."""
    table = {rule: "off" for rule in RULES if rule not in keep} | dict(levels or {})
    return "severity = { " + ", ".join(f'"{r}" = "{v}"' for r, v in sorted(table.items())) + " }\n"


def rules(result: AuditResult) -> list[tuple[str, str | None, str]]:
    return [(f.rule, f.component, f.severity.value) for f in result.findings]


def usage_error(tmp_path: Path, text: str, name: str = ".auditor.toml") -> str:
    write(tmp_path / name, text)
    with pytest.raises(UsageError) as err:
        load_policy(tmp_path)
    message = str(err.value)
    assert "\n" not in message
    return message


# -- discovery -----------------------------------------------------------------------------


def test_no_policy_is_the_default_no_op(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    assert load_policy(repo) == Policy()
    assert load_policy(None) == Policy()
    assert load_policy(repo / "README.md") == Policy()  # not a folder: nothing to discover
    before = run_audit(str(repo))
    assert Policy().apply(before) == before
    assert Policy().filter(before.inventory) == before.inventory


def test_auditor_toml_wins_over_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.auditor]\nfail-on = "note"\n')
    assert load_policy(tmp_path).fail_on == "note"
    assert load_policy(tmp_path).source == str(tmp_path / "pyproject.toml")
    write(tmp_path / ".auditor.toml", 'fail-on = "warning"\n')
    policy = load_policy(tmp_path)
    assert policy.fail_on == "warning"
    assert policy.source == str(tmp_path / ".auditor.toml")


def test_pyproject_without_tool_auditor_is_no_policy(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n[tool.ruff]\nline-length = 9\n")
    assert load_policy(tmp_path) == Policy()
    # a broken pyproject.toml that has nothing of ours does not fail the audit
    write(tmp_path / "pyproject.toml", "[project\nname = \n")
    assert load_policy(tmp_path) == Policy()


def test_explicit_file_top_level_or_tool_auditor(tmp_path: Path) -> None:
    write(tmp_path / "repo" / ".auditor.toml", 'fail-on = "note"\n')
    explicit = write(tmp_path / "ci" / "strict.toml", 'fail-on = "warning"\n')
    assert load_policy(tmp_path / "repo", explicit).fail_on == "warning"
    pyproject = write(tmp_path / "ci" / "pyproject.toml", '[tool.auditor]\nfail-on = "never"\n')
    assert load_policy(tmp_path / "repo", pyproject).fail_on == "never"
    # an explicit pyproject.toml must hold the table; an explicit file must exist
    write(pyproject, "[project]\nname = 'x'\n")
    with pytest.raises(UsageError, match=r"pyproject.toml: no \[tool.auditor\] table"):
        load_policy(None, pyproject)
    with pytest.raises(UsageError, match=r"no such policy file: .*missing\.toml"):
        load_policy(None, tmp_path / "missing.toml")


def test_every_key(tmp_path: Path) -> None:
    policy = policy_from(
        tmp_path,
        """
allow = ["MIT", "apache-2.0", "Permissive"]
deny = ["llama", "Non-Commercial", "GPL-3.0-only"]
ignore = ["checkpoints/", "*.bin"]
baseline = "baselines/accepted.json"
fail-on = "warning"

[severity]
license-missing = "warning"
unknown-license = "off"
""",
    )
    assert policy.source == str(tmp_path / "policy.toml")
    assert policy.allow == ("mit", "apache-2.0", "permissive")
    assert policy.deny == ("llama", "non-commercial", "gpl-3.0")
    assert policy.ignore == ("checkpoints/", "*.bin")
    assert policy.baseline == tmp_path / "baselines" / "accepted.json"
    assert policy.fail_on == "warning"
    assert policy.severities == (("license-missing", "warning"), ("unknown-license", "off"))
    assert policy.severity_of("license-missing", Severity.ERROR) is Severity.WARNING
    assert policy.severity_of("unknown-license", Severity.WARNING) is None
    assert policy.severity_of("license-denied", Severity.ERROR) is Severity.ERROR


def test_keys_in_pyproject_and_inline_severity(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """[project]
name = "x"

[tool.auditor]
deny = ["openrail"]
severity = { "license-missing" = "note" }

[tool.ruff]
line-length = 100
""",
    )
    policy = load_policy(tmp_path)
    assert policy.deny == ("openrail",)
    assert policy.severities == (("license-missing", "note"),)


def test_baseline_is_relative_to_the_policy_folder(tmp_path: Path) -> None:
    explicit = write(tmp_path / "ci" / "policy.toml", 'baseline = "base.json"\n')
    assert load_policy(tmp_path, explicit).baseline == tmp_path / "ci" / "base.json"


# -- errors name the file and the line -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # TOML syntax: tomllib's line
        ('allow = ["mit"]\n\nfail-on = \n', ":3: invalid TOML: Invalid value"),
        ('fail-on = "note"\nfail-on = "error"\n', ":2: invalid TOML: Cannot overwrite a value"),
        # unknown keys (snake_case included)
        ('allow = ["mit"]\nfail_on = "note"\n', ":2: unknown key 'fail_on' (known: allow, "),
        ("\n\nalow = []\n", ":3: unknown key 'alow'"),
        # wrong types
        ('allow = "mit"\n', ":1: allow must be a list of strings"),
        ("# c\ndeny = [\n  1,\n]\n", ":2: deny must be a list of strings"),
        ('severity = "error"\n', ":1: severity must be a table of rule = severity"),
        ("ignore = 3\n", ":1: ignore must be a list of strings"),
        ("baseline = 3\n", ":1: baseline must be a string"),
        ("\nfail-on = 1\n", ":2: fail-on must be a string"),
        # unknown values
        ('fail-on = "fatal"\n', ":1: unknown fail-on 'fatal' (known: error, warning, note, never)"),
        (
            'allow = ["mit"]\n\n[severity]\nlicense-missing = "note"\nlicence-missing = "off"\n',
            ":5: unknown rule 'licence-missing' in severity (known: commercial-restriction, ",
        ),
        (
            'severity = { "licence-missing" = "error" }\n',
            ":1: unknown rule 'licence-missing' in severity",
        ),
        (
            '[severity]\n\nunknown-license = "fatal"\n',
            ":3: unknown severity 'fatal' for unknown-license",
        ),
        (
            'allow = [\n  "mit",\n  "not-a-license",\n]\n',
            ":3: unknown license or family 'not-a-license' in allow",
        ),
        ('deny = ["GPL"]\n', ":1: unknown license or family 'GPL' in deny"),  # a family, no one id
        ('ignore = ["!keep.bin"]\n', ":1: negated pattern '!keep.bin' in ignore is not supported"),
        ('ignore = [\n  "ok",\n  "",\n]\n', ":3: empty pattern '' in ignore"),
        # one name both ways, however spelled: the line of the deny entry
        (
            'allow = ["mit", "apache-2.0"]\n\ndeny = [\n  "llama",\n  "Apache-2.0",\n]\n',
            ":5: 'apache-2.0' is both allowed and denied",
        ),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    message = usage_error(tmp_path, text)
    assert message.startswith(f"{tmp_path / '.auditor.toml'}{expected}"), message


def test_errors_in_pyproject_count_lines_of_the_whole_file(tmp_path: Path) -> None:
    text = """[project]
name = "x"

[tool.ruff]
severity = "whatever"

[tool.auditor]
allow = ["mit"]

[tool.auditor.severity]
license-missing = "note"
licence-missing = "off"
"""
    message = usage_error(tmp_path, text, "pyproject.toml")
    assert message.startswith(f"{tmp_path / 'pyproject.toml'}:12: unknown rule 'licence-missing'")
    message = usage_error(
        tmp_path, "[tool.auditor]\nallow = ['mit']\nfrobnicate = true\n", "pyproject.toml"
    )
    assert message.startswith(f"{tmp_path / 'pyproject.toml'}:3: unknown key 'frobnicate'")
    message = usage_error(tmp_path, "[tool]\nauditor = 3\n", "pyproject.toml")
    assert "tool.auditor must be a table" in message


def test_policy_error_is_one_line_and_exit_2(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo / ".auditor.toml", '\n\n[severity]\nlicence-missing = "off"\n')
    proc = run_cli("scan", str(repo))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(
        f"auditor: error: {repo / '.auditor.toml'}:4: unknown rule 'licence-missing' in severity"
    )
    proc = run_cli("scan", str(repo), "--policy", str(tmp_path / "nope.toml"))
    assert (proc.returncode, proc.stderr.count("\n")) == (2, 1)
    assert "no such policy file" in proc.stderr


# -- allow and deny ------------------------------------------------------------------------


def test_names_resolve_to_keys_or_groups() -> None:
    assert resolve_name("MIT") == "mit"
    assert resolve_name("Apache-2.0") == "apache-2.0"
    assert resolve_name("apache-2.0") == "apache-2.0"
    assert resolve_name("Llama") == "llama"
    assert resolve_name("acceptable-use-policy") == "acceptable-use-policy"
    assert resolve_name("Copyleft") == "copyleft"
    assert resolve_name("Non-Commercial") == "non-commercial"
    assert resolve_name("not-a-license") is None
    assert resolve_name("BSD") is None


@pytest.mark.parametrize("entry", ["mit", "MIT", "Permissive", "permissive"])
def test_deny_by_key_spdx_id_family_and_category(tmp_path: Path, entry: str) -> None:
    repo = make_repo(tmp_path / "repo", card_license="llama3.1")
    result = audit(repo, policy_from(tmp_path, f'deny = ["{entry}"]\n'))
    denied = [f for f in result.findings if f.rule == "license-denied"]
    assert [(f.component, f.severity, f.path) for f in denied] == [
        ("code", Severity.ERROR, "train.py")
    ]
    assert denied[0].message.startswith(
        "code component is licensed under MIT License (mit), which the policy denies"
    )
    assert denied[0].evidence and denied[0].evidence[0].path == "train.py"
    assert "deny" in (denied[0].fix or "")


def test_deny_a_family(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", card_license="llama3.1")
    result = audit(repo, policy_from(tmp_path, 'deny = ["llama", "Copyleft"]\n'))
    (denied,) = [f for f in result.findings if f.rule == "license-denied"]
    assert (denied.component, denied.path) == ("model", "README.md")
    assert "llama-3.1-license-2024" in denied.message and "'llama' in deny" in denied.message
    # the same repo under a license of no denied family: nothing
    other = make_repo(tmp_path / "other", card_license="apache-2.0")
    assert not [f for f in audit(other, policy_from(tmp_path, 'deny = ["llama"]\n')).findings]


def test_allow_by_key_spdx_id_and_family(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", card_license="llama3.1")
    assert rules(audit(repo, policy_from(tmp_path, 'allow = ["MIT", "llama"]\n'))) == []
    assert rules(audit(repo, policy_from(tmp_path, 'allow = ["mit", "Proprietary Free"]\n'))) == []
    result = audit(repo, policy_from(tmp_path, 'allow = ["mit", "Apache-2.0"]\n'))
    (finding,) = result.findings
    assert (finding.rule, finding.component, finding.severity) == (
        "license-not-allowed",
        "model",
        Severity.ERROR,
    )
    assert finding.path == "README.md"
    assert "llama-3.1-license-2024" in finding.message
    assert "not in the policy's allow list" in finding.message
    assert "allow list" in (finding.fix or "")


def test_allow_with_an_unconcluded_license(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", code_spdx=None)  # code: no license at all
    result = audit(repo, policy_from(tmp_path, 'allow = ["mit", "apache-2.0"]\n'))
    assert rules(result) == [
        ("license-missing", "code", "error"),
        ("license-not-allowed", "code", "error"),
    ]
    nope = result.findings[1]
    assert "could not be concluded" in nope.message
    assert "cannot be checked against the policy's allow list" in nope.message


def test_denied_declared_license_that_is_not_concluded(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    base = base_audit(repo)
    model = next(c for c in base.components if c.kind is ComponentKind.MODEL)
    stated = next(d for d in model.declared if not d.is_clue)
    other = replace(stated, key="gpl-3.0", spdx_id="GPL-3.0-only", name="GPL 3.0")
    comps = tuple(
        replace(c, declared=(*c.declared, other), concluded=None) if c is model else c
        for c in base.components
    )
    result = policy_from(tmp_path, 'deny = ["Copyleft"]\n').apply(replace(base, components=comps))
    (denied,) = [f for f in result.findings if f.rule == "license-denied"]
    assert denied.message.startswith(
        "model component declares GNU General Public License 3.0 (gpl-3.0)"
    )
    # clues never count: a mere mention of a denied license is not a declaration
    clue = replace(other, is_clue=True)
    comps = tuple(
        replace(c, declared=(*c.declared, clue)) if c is model else c for c in base.components
    )
    result = policy_from(tmp_path, 'deny = ["Copyleft"]\n').apply(replace(base, components=comps))
    assert not [f for f in result.findings if f.rule == "license-denied"]


def test_expressions_need_every_key_allowed(tmp_path: Path) -> None:
    assert license_keys("apache-2.0 AND mit") == ["apache-2.0", "mit"]
    assert license_keys("(apache-2.0 OR mit) AND (bsd-new)") == ["apache-2.0", "mit", "bsd-new"]
    assert license_keys("gpl-2.0 WITH classpath-exception-2.0") == ["gpl-2.0"]
    base = base_audit(make_repo(tmp_path / "repo"))
    comps = tuple(
        replace(c, concluded="(apache-2.0 AND mit)") if c.kind is ComponentKind.MODEL else c
        for c in base.components
    )
    result = replace(base, components=comps)
    assert rules(policy_from(tmp_path, 'allow = ["apache-2.0", "mit"]\n').apply(result)) == []
    only = policy_from(tmp_path, 'allow = ["apache-2.0"]\n').apply(result)
    # sorted by path: the model's mit has no declaration of its own to point at
    assert [(f.rule, f.component, f.path) for f in only.findings] == [
        ("license-not-allowed", "model", None),
        ("license-not-allowed", "code", "train.py"),
    ]
    assert all(
        "licensed under MIT License (mit), which is not in" in f.message for f in only.findings
    )
    comps = tuple(
        replace(c, concluded="mit OR gpl-3.0") if c.kind is ComponentKind.MODEL else c
        for c in base.components
    )
    denied = policy_from(tmp_path, 'deny = ["gpl-3.0"]\n').apply(replace(base, components=comps))
    assert [(f.rule, f.component) for f in denied.findings] == [("license-denied", "model")]
    # a denied key is not also reported as not allowed
    both = policy_from(tmp_path, 'allow = ["mit"]\ndeny = ["gpl-3.0"]\n').apply(
        replace(base, components=comps)
    )
    assert [(f.rule, f.component) for f in both.findings] == [("license-denied", "model")]


# -- severities ----------------------------------------------------------------------------


def test_severity_override_and_off(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", card_license="llama3.1", code_spdx=None)
    base = base_audit(repo)
    assert ("license-missing", "code", "error") in rules(base)
    lowered = policy_from(
        tmp_path,
        'deny = ["llama"]\n[severity]\nlicense-missing = "note"\nlicense-denied = "warning"\n',
    ).apply(base)
    # sorted by severity first
    assert rules(lowered) == [
        ("license-denied", "model", "warning"),
        ("license-missing", "code", "note"),
    ]
    silenced = policy_from(
        tmp_path,
        'deny = ["llama"]\nseverity = { license-missing = "off", license-denied = "off" }\n',
    ).apply(base)
    assert rules(silenced) == []
    assert silenced.accepted == ()


# -- ignores -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "ignored", "kept"),
    [
        (
            "*.bin",
            ["a.bin", "x/y/b.bin", "dir.bin/inner.txt"],
            ["a.bin.txt", "bin", "a.safetensors"],
        ),
        (
            "checkpoints/",
            ["checkpoints/m.bin", "x/checkpoints/a/b"],
            ["checkpoints", "checkpointsx/m"],
        ),
        ("models/old", ["models/old", "models/old/w.bin"], ["x/models/old", "models/older"]),
        ("/top.txt", ["top.txt"], ["a/top.txt"]),
        ("docs/*.md", ["docs/a.md"], ["docs/sub/a.md", "a/docs/a.md"]),
        ("docs/**/*.md", ["docs/a.md", "docs/sub/deep/a.md"], ["a/docs/a.md", "docs/a.txt"]),
        ("**/tmp", ["tmp", "a/tmp", "a/b/tmp/c.txt"], ["a/tmpx"]),
        ("data/**", ["data/a", "data/b/c"], ["data", "x/data/a"]),
        ("w?.pt", ["w1.pt", "a/w2.pt"], ["w10.pt", "w.pt"]),
        ("a/**/b/", ["a/b/x", "a/1/2/b/x"], ["a/b", "a/c/x"]),
    ],
)
def test_ignore_patterns(pattern: str, ignored: list[str], kept: list[str]) -> None:
    policy = Policy(ignore=(pattern,))
    for path in ignored:
        assert policy.ignores(path), (pattern, path)
    for path in kept:
        assert not policy.ignores(path), (pattern, path)


def test_ignored_weights_make_no_model_component(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo / "train.py", "# SPDX-License-Identifier: MIT\n")
    (repo / "checkpoints").mkdir()
    shutil.copy(
        FIXTURES / "example-model" / "model.safetensors", repo / "checkpoints" / "m.safetensors"
    )
    inventory = open_source(str(repo)).inventory()
    assert {c.kind for c in build_components(inventory, ())} == {
        ComponentKind.CODE,
        ComponentKind.MODEL,
    }
    filtered = policy_from(tmp_path, 'ignore = ["checkpoints/"]\n').filter(inventory)
    assert [f.path for f in filtered.files] == ["train.py"]
    assert {c.kind for c in build_components(filtered, ())} == {ComponentKind.CODE}


def test_filter_drops_ignored_skipped_entries() -> None:
    inventory = Inventory(
        root="/r",
        revision=None,
        files=(FileEntry("a.bin", 1, FileKind.WEIGHTS), FileEntry("b.py", 1, FileKind.CODE)),
        skipped=(Skipped("c.bin", "permission denied"), Skipped("d.py", "permission denied")),
    )
    out = Policy(ignore=("*.bin",)).filter(inventory)
    assert [f.path for f in out.files] == ["b.py"]
    assert [s.path for s in out.skipped] == ["d.py"]


def test_cli_ignore_end_to_end(tmp_path: Path) -> None:
    """Needs the pipeline to call ``policy.filter(inventory)``."""
    repo = tmp_path / "repo"
    write(repo / "train.py", "# SPDX-License-Identifier: MIT\n")
    (repo / "checkpoints").mkdir()
    shutil.copy(
        FIXTURES / "example-model" / "model.safetensors", repo / "checkpoints" / "m.safetensors"
    )
    write(repo / ".auditor.toml", only(["license-missing"]))
    assert run_cli("scan", str(repo)).returncode == 1  # weights with no license
    write(repo / ".auditor.toml", 'ignore = ["checkpoints/"]\n' + only(["license-missing"]))
    proc = run_cli("scan", str(repo), "--format", "json")
    assert proc.returncode == 0, proc.stdout
    report = json.loads(proc.stdout)
    assert [c["kind"] for c in report["components"]] == ["code"]


# -- fingerprints and baselines ------------------------------------------------------------


def test_fingerprint_is_stable_and_specific() -> None:
    f = Finding(
        "license-missing", Severity.ERROR, "code component has no license (3 files)", "a.py", "code"
    )
    fp = fingerprint(f)
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert fingerprint(replace(f, message="code component has no license (12 files)")) == fp
    assert fingerprint(replace(f, severity=Severity.NOTE, fix="x")) == fp
    assert fingerprint(replace(f, path="b.py")) != fp
    assert fingerprint(replace(f, component="model")) != fp
    assert fingerprint(replace(f, rule="unknown-license")) != fp
    assert fingerprint(replace(f, message="model component has no license (3 files)")) != fp
    # the scheme is documented: pin it
    assert (
        fp
        == __import__("hashlib")
        .sha256(b"license-missing\0code\0a.py\0code component has no license (# files)")
        .hexdigest()[:16]
    )


def test_write_then_read_baseline(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", card_license="llama3.1", code_spdx=None)
    result = audit(repo, policy_from(tmp_path, 'deny = ["llama"]\n'))
    path = tmp_path / "baseline.json"
    assert write_baseline(path, result) == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".baseline")] == []
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["baseline_version"] == 1
    assert [(e["rule"], e["component"], e["path"]) for e in doc["findings"]] == [
        ("license-denied", "model", "README.md"),
        ("license-missing", "code", "train.py"),
    ]
    assert set(doc["findings"][0]) == {"fingerprint", "rule", "component", "path", "message"}
    assert read_baseline(path) == {fingerprint(f) for f in result.findings}


def test_baseline_accepts_old_findings_and_not_new_ones(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", code_spdx=None)
    path = tmp_path / "baseline.json"
    write_baseline(path, base_audit(repo))
    policy = Policy(baseline=path)  # read by apply when not read before
    accepted = policy.apply(base_audit(repo))
    assert accepted.findings == ()
    assert [f.rule for f in accepted.accepted] == ["license-missing"]
    # a new problem is not in the baseline
    write(repo / "README.md", "# no license any more\n")
    later = Policy().with_baseline(path).apply(base_audit(repo))
    assert [(f.rule, f.component) for f in later.findings] == [("license-missing", "model")]
    assert [(f.rule, f.component) for f in later.accepted] == [("license-missing", "code")]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist (write one with --write-baseline"),
        ("{\n  nope", ":2: baseline is not valid JSON"),
        ('{"baseline_version": 2, "findings": []}', "not a baseline file"),
        ('{"baseline_version": 1, "findings": {}}', '"findings" must be a list'),
        ('{"baseline_version": 1, "findings": [{"rule": "x"}]}', 'finding #1 has no "fingerprint"'),
    ],
)
def test_bad_baseline_is_one_line_usage_error(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "baseline.json"
    if content is not None:
        write(path, content)
    with pytest.raises(UsageError) as err:
        Policy().with_baseline(path)
    assert expected in str(err.value) and str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_baseline_named_by_the_policy_fails_the_cli(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo / ".auditor.toml", 'baseline = "accepted.json"\n')
    proc = run_cli("scan", str(repo))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        f"auditor: error: baseline {repo / 'accepted.json'} does not exist "
        f"(write one with --write-baseline {repo / 'accepted.json'})\n"
    )
    # writing it is how a baseline starts
    proc = run_cli("scan", str(repo), "--write-baseline", str(repo / "accepted.json"))
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(
        rf"auditor: wrote \d+ findings? to {re.escape(str(repo))}/accepted.json\n", proc.stdout
    )
    assert run_cli("scan", str(repo), "--fail-on", "note").returncode == 0  # all accepted


def test_cli_write_baseline_then_rescan(tmp_path: Path) -> None:
    """Needs the pipeline to call ``policy.apply(result)``."""
    repo = make_repo(tmp_path / "repo", code_spdx=None)  # license-missing error for the code
    baseline = tmp_path / "accepted.json"
    assert run_cli("scan", str(repo)).returncode == 1
    proc = run_cli("scan", str(repo), "--write-baseline", str(baseline))
    assert proc.returncode == 0, proc.stderr
    written = json.loads(baseline.read_text())["findings"]
    assert (
        proc.stdout
        == f"auditor: wrote {len(written)} finding{'' if len(written) == 1 else 's'} to {baseline}\n"
    )
    assert ("license-missing", "code") in [(e["rule"], e["component"]) for e in written]
    proc = run_cli("scan", str(repo), "--baseline", str(baseline), "--fail-on", "error")
    assert proc.returncode == 0, proc.stdout
    # the same baseline named by the policy, relative to the policy's folder
    write(repo / ".auditor.toml", f'baseline = "{Path("..") / baseline.name}"\n')
    assert run_cli("scan", str(repo), "--fail-on", "error").returncode == 0
    # a new finding still fails
    write(repo / "README.md", "# the card lost its license\n")
    proc = run_cli("scan", str(repo), "--fail-on", "error", "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert ("license-missing", "model") in [(f["rule"], f["component"]) for f in report["findings"]]
    old = {e["fingerprint"] for e in written}
    assert all(
        fingerprint(Finding(f["rule"], Severity.ERROR, f["message"], f["path"], f["component"]))
        not in old
        for f in report["findings"]
    )


def test_cli_write_baseline_conflicts(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    for extra in (["--baseline", "b.json"], ["-o", "r.json"]):
        proc = run_cli("scan", str(repo), "--write-baseline", str(tmp_path / "b.json"), *extra)
        assert proc.returncode == 2
        assert (
            proc.stderr
            == f"auditor: error: --write-baseline cannot be used with {extra[0].replace('-o', '--output')}\n"
        )
    assert not (tmp_path / "b.json").exists()


# -- fail-on and options -------------------------------------------------------------------


def test_fail_on_from_the_policy_and_the_cli_wins(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", code_spdx=None)  # an error: license-missing
    assert run_cli("scan", str(repo)).returncode == 1
    write(repo / ".auditor.toml", 'fail-on = "never"\n')
    assert run_cli("scan", str(repo)).returncode == 0
    assert run_cli("scan", str(repo), "--fail-on", "error").returncode == 1
    # a warning only fails at fail-on warning, from the policy too
    clean = make_repo(tmp_path / "clean", card_license="gpl")  # unknown-license warning
    write(clean / "pyproject.toml", "[tool.auditor]\n" + only(["unknown-license"]))
    assert run_cli("scan", str(clean)).returncode == 0
    write(
        clean / "pyproject.toml",
        '[tool.auditor]\nfail-on = "warning"\n' + only(["unknown-license"]),
    )
    assert run_cli("scan", str(clean)).returncode == 1
    assert run_cli("scan", str(clean), "--fail-on", "never").returncode == 0


def test_cli_passes_policy_and_upstream_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo")
    write(repo / ".auditor.toml", 'deny = ["llama"]\n')
    upstream = make_repo(tmp_path / "upstream")
    seen: list[Options] = []
    real = pipeline.run_audit

    def spy(target: str, options: Options | None = None) -> AuditResult:
        if target == str(repo):  # not the upstream's own audit, if any
            assert options is not None
            seen.append(options)
        return real(target, options)

    monkeypatch.setattr(pipeline, "run_audit", spy)
    runner = CliRunner()
    res = runner.invoke(cli, ["scan", str(repo), "--upstream", str(upstream), "--fail-on", "never"])
    assert res.exit_code == 0, res.output
    (options,) = seen
    assert options.upstream == str(upstream)
    assert options.policy is not None and options.policy.deny == ("llama",)
    assert options.policy.source == str(repo / ".auditor.toml")
    seen.clear()
    explicit = write(tmp_path / "p.toml", 'allow = ["mit"]\n')
    runner.invoke(cli, ["scan", str(repo), "--policy", str(explicit), "--fail-on", "never"])
    assert seen[0].policy is not None and seen[0].policy.allow == ("mit",)


def test_cli_upstream_must_exist(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    proc = run_cli("scan", str(repo), "--upstream", str(tmp_path / "nope"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert (
        proc.stderr
        == f"auditor: error: no such file or directory: {tmp_path / 'nope'} (--upstream)\n"
    )


def test_cli_policy_end_to_end(tmp_path: Path) -> None:
    """Needs the pipeline to call ``policy.apply(result)``."""
    repo = make_repo(tmp_path / "repo", card_license="llama3.1")
    write(repo / ".auditor.toml", only(["license-denied"]))
    assert run_cli("scan", str(repo)).returncode == 0
    write(repo / ".auditor.toml", 'deny = ["llama"]\n' + only(["license-denied"]))
    proc = run_cli("scan", str(repo), "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert [(f["rule"], f["component"], f["severity"]) for f in report["findings"]] == [
        ("license-denied", "model", "error")
    ]
    write(
        repo / ".auditor.toml",
        'deny = ["llama"]\n' + only(["license-denied"], {"license-denied": "warning"}),
    )
    assert run_cli("scan", str(repo)).returncode == 0
    assert run_cli("scan", str(repo), "--fail-on", "warning").returncode == 1


def test_policy_component_kind_names(tmp_path: Path) -> None:
    """Findings name the component the way the report does (its ``name``)."""
    comp = Component("weights", ComponentKind.MODEL, ("m.safetensors",), concluded="mit")
    base = base_audit(make_repo(tmp_path / "repo"))
    result = Policy(deny=("mit",)).apply(replace(base, components=(comp,)))
    (f,) = result.findings
    assert (f.component, f.path, f.evidence) == ("weights", None, ())
    assert (
        f.message
        == "model component is licensed under MIT License (mit), which the policy denies ('mit' in deny)"
    )
