"""``auditor diff OLD NEW``: license changes, components, findings, obligations, exit codes.

Repos are the bundled example materialized in a temp folder (its license texts from
the installed ScanCode data), then changed the way a release changes them. The git
test builds a real repository with two tagged revisions and diffs ``PATH@REV``s.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from conftest import FIXTURES, ROOT, run_cli
from generate import materialize

from auditor.cli import cli
from auditor.diff import AuditDiff, compare, diff_dict, rank_license, render_json, render_text
from auditor.model import Evidence, Finding, Method, ObligationKind, Severity
from auditor.pipeline import Options, run_audit
from auditor.policy import load_policy

sys.path.insert(0, str(FIXTURES / "corpus"))
from runner import reference

DOC = ROOT / "docs" / "diff.md"
LLAMA_CARD = "license: llama3.1"
HAS_GIT_REV = importlib.util.find_spec("auditor.sources.git_rev") is not None


def example(dest: Path) -> Path:
    """The example repo: code MIT (LICENSE, SPDX tag), weights Apache-2.0 (card, LICENSE-MODEL)."""
    return materialize("example-model", dest)


def to_llama(repo: Path) -> Path:
    """The weights' license changed: the card says llama3.1, LICENSE-MODEL holds its text."""
    card = repo / "README.md"
    card.write_text(card.read_text().replace("license: apache-2.0", LLAMA_CARD))
    (repo / "LICENSE-MODEL").write_text(reference("scancode:llama-3.1-license-2024")[0])
    return repo


def to_bsd_code(repo: Path) -> Path:
    """Only the code's license changed: MIT -> BSD-3-Clause (text and SPDX tag)."""
    (repo / "LICENSE").write_text(
        "Copyright (c) 2026 Example Authors\n\n" + reference("scancode:bsd-new")[0]
    )
    train = repo / "train.py"
    train.write_text(train.read_text().replace("Identifier: MIT", "Identifier: BSD-3-Clause"))
    return repo


def diff_of(old: Path, new: Path, policy_root: Path | None = None) -> AuditDiff:
    options = Options(policy=load_policy(policy_root)) if policy_root else None
    return compare(run_audit(str(old), options), run_audit(str(new), options))


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["diff", *args])


def schema() -> dict[str, Any]:
    """The JSON Schema that docs/diff.md shows (the fenced json block under 'JSON Schema')."""
    text = DOC.read_text(encoding="utf-8").split("### JSON Schema", 1)[1]
    block = re.search(r"```json\n(.*?)\n```", text, re.S)
    assert block is not None
    return json.loads(block.group(1))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Apache-2.0 weights (old) and the same repo with Llama 3.1 weights (new)."""
    root = tmp_path_factory.mktemp("pair")
    return example(root / "old"), to_llama(example(root / "new"))


@pytest.fixture(scope="module")
def llama_diff(pair: tuple[Path, Path]) -> AuditDiff:
    return diff_of(*pair)


def test_weights_license_change_is_a_model_license_change(llama_diff: AuditDiff) -> None:
    (lc,) = llama_diff.license_changes
    assert (lc.component, lc.old_concluded, lc.new_concluded) == (
        "model",
        "apache-2.0",
        "llama-3.1-license-2024",
    )
    assert (lc.old_declared, lc.new_declared) == (("apache-2.0",), ("llama-3.1-license-2024",))
    assert lc.severity is Severity.ERROR  # Llama terms are not permissive
    assert "llama-3.1-license-2024 (Proprietary Free)" in lc.reason
    assert not llama_diff.components_added and not llama_diff.components_removed
    assert llama_diff.worst() is Severity.ERROR
    assert llama_diff.fails("error") and not llama_diff.fails("never")


def test_llama_license_brings_attribution_and_naming(llama_diff: AuditDiff) -> None:
    appeared = {
        (o.component, o.obligation.license, o.obligation.kind)
        for o in llama_diff.obligations_appeared
    }
    llama = "llama-3.1-license-2024"
    assert {
        ("model", llama, ObligationKind.ATTRIBUTION),
        ("model", llama, ObligationKind.NAMING),
        ("model", llama, ObligationKind.ACCEPTABLE_USE_POLICY),
    } <= appeared
    gone = {
        (o.component, o.obligation.license, o.obligation.kind)
        for o in llama_diff.obligations_disappeared
    }
    assert ("model", "apache-2.0", ObligationKind.MODIFICATION_NOTICE) in gone
    assert all(
        o.component == "model"
        for o in llama_diff.obligations_appeared + llama_diff.obligations_disappeared
    )
    # The new license's requirements the repo does not meet yet are new findings.
    assert any(
        f.rule == "notice-missing" and "Built with Llama" in f.message
        for f in llama_diff.new_findings
    )
    assert not llama_diff.resolved_findings
    assert llama_diff.openness is not None
    assert (llama_diff.openness.old and llama_diff.openness.old.verdict) == "open-weights"
    assert (
        llama_diff.openness.new and llama_diff.openness.new.verdict
    ) == "open-weights-restricted"
    (base,) = llama_diff.base_models
    assert (base.name, base.change) == ("acme/tiny-base", "changed")
    assert base.new is not None and base.new.license == "llama-3.1-license-2024"


def test_text_sections_and_exit_1(pair: tuple[Path, Path]) -> None:
    result = invoke(str(pair[0]), str(pair[1]))
    assert result.exit_code == 1, result.output
    out = result.output
    assert "License changes\n  E model      Apache License 2.0 (apache-2.0) → Llama 3.1" in out
    assert "declared: apache-2.0 → llama-3.1-license-2024" in out
    assert "New findings\n  E notice-missing [model]" in out
    assert "Obligations appeared/disappeared\n  + model      llama-3.1-license-2024:" in out
    assert "  - model      apache-2.0: state prominently which files you changed" in out
    assert (
        "Base models\n  ~ acme/tiny-base: finetune, license not known → finetune, license llama-3.1-license-2024"
        in out
    )
    assert "Openness\n  open-weights → open-weights-restricted" in out
    assert "Resolved findings" not in out and "Components added/removed" not in out
    assert "no changes" not in out
    # --fail-on never reports the same and exits 0
    quiet = invoke(str(pair[0]), str(pair[1]), "--fail-on", "never")
    assert quiet.exit_code == 0 and quiet.output == out


def test_code_only_change_shows_nothing_for_the_model(tmp_path: Path) -> None:
    old = example(tmp_path / "old")
    new = to_bsd_code(example(tmp_path / "new"))
    d = diff_of(old, new)
    (lc,) = d.license_changes
    assert (lc.component, lc.old_concluded, lc.new_concluded) == ("code", "mit", "bsd-new")
    assert lc.severity is Severity.WARNING  # permissive to permissive
    assert all(o.component == "code" for o in d.obligations_appeared + d.obligations_disappeared)
    assert not d.new_findings and not d.resolved_findings
    assert d.openness is None and not d.base_models
    text = render_text(d).decode()
    assert " model " not in text and "model:" not in text
    # a warning: passes the default threshold, stops --fail-on warning
    assert invoke(str(old), str(new)).exit_code == 0
    assert invoke(str(old), str(new), "--fail-on", "warning").exit_code == 1


def test_identical_is_no_changes(tmp_path: Path) -> None:
    old, new = example(tmp_path / "old"), example(tmp_path / "new")
    (new / "train.py").write_text((new / "train.py").read_text() + "\n# a code change\n")
    d = diff_of(old, new)
    assert not d.changed and d.worst() is None and d.appeared() == []
    result = invoke(str(old), str(new), "--fail-on", "note")
    assert result.exit_code == 0
    assert result.output.endswith("\n\nno changes\n")
    doc = diff_dict(d)
    assert doc["changed"] is False and doc["worst"] is None and doc["openness"] is None


def test_finding_appears_then_resolves(tmp_path: Path) -> None:
    clean = example(tmp_path / "clean")
    broken = example(tmp_path / "broken")
    (broken / "LICENSE-MODEL").unlink()  # the card still says apache-2.0: its text is missing
    d = diff_of(clean, broken)
    (f,) = d.new_findings
    assert (f.rule, f.component, f.severity) == ("license-text-missing", "model", Severity.ERROR)
    assert not d.resolved_findings
    assert invoke(str(clean), str(broken)).exit_code == 1
    back = diff_of(broken, clean)
    assert [x.rule for x in back.resolved_findings] == ["license-text-missing"]
    assert not back.new_findings
    assert invoke(str(broken), str(clean)).exit_code == 0  # a resolved finding is good news
    assert "Resolved findings\n  E license-text-missing [model]" in render_text(back).decode()


def test_moved_lines_are_not_new_findings(tmp_path: Path) -> None:
    old = example(tmp_path / "old")
    (old / "LICENSE-MODEL").unlink()
    new = example(tmp_path / "new")
    (new / "LICENSE-MODEL").unlink()
    card = new / "README.md"  # the license line moves from line 2 to line 4
    card.write_text(card.read_text().replace("---\n", "---\nlanguage: en\ntags: [chat]\n", 1))
    a, b = run_audit(str(old)), run_audit(str(new))
    lines = {f.message for f in a.findings} ^ {f.message for f in b.findings}
    assert any("README.md:2" in m for m in lines) and any("README.md:4" in m for m in lines)
    d = compare(a, b)
    assert not d.new_findings and not d.resolved_findings
    assert not d.license_changes


def test_findings_are_counted_by_fingerprint(tmp_path: Path) -> None:
    """A third finding with the fingerprint of two old ones is new; evidence lines do not count."""
    base = run_audit(str(example(tmp_path / "repo")))

    def at(line: int) -> Finding:
        ev = Evidence("README.md", line, line, Method.CARD_METADATA)
        return Finding(
            "unknown-license",
            Severity.WARNING,
            f"odd text at line {line}",
            "README.md",
            "model",
            (ev,),
        )

    old = replace(base, findings=(at(1), at(2)))
    assert not compare(old, replace(base, findings=(at(7), at(9)))).changed
    d = compare(old, replace(base, findings=(at(3), at(5), at(8))))
    assert len(d.new_findings) == 1 and not d.resolved_findings
    assert d.fails("warning") and not d.fails("error")
    d = compare(old, replace(base, findings=(at(3),)))
    assert len(d.resolved_findings) == 1 and not d.new_findings


def test_components_added_and_removed(tmp_path: Path) -> None:
    old = example(tmp_path / "old")
    new = example(tmp_path / "new")
    (new / "data").mkdir()
    (new / "data" / "train.jsonl").write_text('{"text": "hello"}\n')
    d = diff_of(old, new)
    (added,) = d.components_added
    assert added.component.name == "data" and added.change == "added"
    # the lone LICENSE (MIT) covers the new data too: a permissive license is a warning
    assert added.component.concluded == "mit" and added.severity is Severity.WARNING
    assert added.reason == "new component; now under the permissive mit"
    assert d.worst() is Severity.WARNING
    back = diff_of(new, old)
    (removed,) = back.components_removed
    assert removed.component.name == "data" and removed.severity is None
    assert back.appeared() == []  # a removed component is shown, never counted
    assert "Components added/removed\n  W + data" in render_text(d).decode()
    assert "  - data" in render_text(back).decode()


def test_json_shape_schema_and_stability(
    pair: tuple[Path, Path], llama_diff: AuditDiff, tmp_path: Path
) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    jsonschema.Draft202012Validator.check_schema(schema())
    out = tmp_path / "diff.json"
    result = invoke(str(pair[0]), str(pair[1]), "--format", "json", "-o", str(out))
    assert result.exit_code == 1 and result.output == ""
    data = out.read_bytes()
    doc = json.loads(data)
    validator.validate(doc)
    assert list(doc) == [
        "diff_version",
        "tool",
        "old",
        "new",
        "changed",
        "worst",
        "appeared",
        "summary",
        "license_changes",
        "components_added",
        "components_removed",
        "new_findings",
        "resolved_findings",
        "obligations_appeared",
        "obligations_disappeared",
        "base_models",
        "openness",
    ]
    assert doc["diff_version"] == "1.0"
    assert (doc["old"], doc["new"]) == (
        {"target": str(pair[0]), "revision": None},
        {"target": str(pair[1]), "revision": None},
    )
    assert doc["changed"] is True and doc["worst"] == "error"
    (lc,) = doc["license_changes"]
    assert lc["old"] == {"concluded": "apache-2.0", "declared": ["apache-2.0"], "revision": None}
    assert lc["new"]["concluded"] == "llama-3.1-license-2024" and lc["severity"] == "error"
    assert doc["summary"]["new_findings"]["error"] == len(
        [f for f in doc["new_findings"] if f["severity"] == "error"]
    )
    assert doc["summary"]["obligations_appeared"] == len(doc["obligations_appeared"])
    assert all(re.fullmatch(r"[0-9a-f]{16}", f["fingerprint"]) for f in doc["new_findings"])
    keys = [
        (o["component"], o["license"], o["kind"], o["summary"], o["value"])
        for o in doc["obligations_appeared"]
    ]
    assert keys == sorted(keys)
    assert doc["appeared"][0]["severity"] == "error"
    # byte-stable: the same inputs give the same bytes, and the renderer is what the CLI wrote
    assert render_json(diff_of(*pair)) == data == render_json(llama_diff)
    # every shape validates: nothing changed, components added, resolved findings
    same = example(tmp_path / "same")
    validator.validate(json.loads(render_json(diff_of(same, same))))
    data_repo = example(tmp_path / "with-data")
    (data_repo / "data").mkdir()
    (data_repo / "data" / "x.jsonl").write_text("{}\n")
    validator.validate(json.loads(render_json(diff_of(data_repo, pair[1]))))
    validator.validate(json.loads(render_json(diff_of(pair[1], data_repo))))


def test_policy_of_new_side_applies_to_both(tmp_path: Path) -> None:
    old = example(tmp_path / "old")
    new = example(tmp_path / "new")
    (old / "LICENSE-MODEL").unlink()  # old has an error that new resolves...
    (new / ".auditor.toml").write_text('[severity]\nlicense-text-missing = "note"\n')
    (new / "LICENSE").unlink()  # ...and new has its own: code's MIT text is gone
    d = compare(
        run_audit(str(old), Options(policy=load_policy(new))),
        run_audit(str(new), Options(policy=load_policy(new))),
    )
    assert {f.severity for f in d.new_findings + d.resolved_findings} == {Severity.NOTE}
    assert invoke(str(old), str(new)).exit_code == 0  # the new error is a note by the policy
    assert invoke(str(old), str(new), "--fail-on", "note").exit_code == 1
    strict = tmp_path / "strict.toml"
    strict.write_text('fail-on = "note"\n')
    assert invoke(str(old), str(new), "--policy", str(strict)).exit_code == 1


def test_usage_and_audit_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = example(tmp_path / "repo")
    result = invoke(str(repo), str(tmp_path / "missing"))
    assert result.exit_code == 2
    assert f"auditor: error: no such file or directory: {tmp_path / 'missing'}" in result.output
    bad = tmp_path / "bad.toml"
    bad.write_text("fail_on = 1\n")
    result = invoke(str(repo), str(repo), "--policy", str(bad))
    assert result.exit_code == 2 and "unknown key 'fail_on'" in result.output
    proc = run_cli("diff", str(repo), str(repo), "--format", "xml")
    assert proc.returncode == 2 and proc.stderr.startswith("auditor: error: ")
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""

    import auditor.signatures as sig

    sig.catalog.cache_clear()
    monkeypatch.setattr(sig, "CATALOG_FILE", tmp_path / "missing-catalog.json")
    try:
        result = invoke(str(repo), str(repo))
    finally:
        sig.catalog.cache_clear()
    assert result.exit_code == 3
    assert "auditor: error: cannot read license catalog" in result.output


@pytest.mark.skipif(
    not HAS_GIT_REV,
    reason="auditor/sources/git_rev.py (PATH@REV targets) is not there yet",
)
def test_diff_shows_a_weights_license_change_between_two_git_revisions(tmp_path: Path) -> None:
    """Issue 6, done when: `auditor diff` shows a weights license change between two revisions."""
    import git

    repo_dir = example(tmp_path / "tiny-chat")
    repo = git.Repo.init(repo_dir)
    who = git.Actor("Test", "test@example.org")

    def commit(message: str, tag: str) -> str:
        repo.git.add(A=True)
        sha = repo.index.commit(message, author=who, committer=who).hexsha
        repo.create_tag(tag)
        return sha

    v1 = commit("weights under Apache-2.0", "v1")
    to_llama(repo_dir)
    v2 = commit("weights under the Llama 3.1 license", "v2")
    (repo_dir / "LICENSE-MODEL").write_text("working tree only: not in any revision\n")

    proc = run_cli("diff", f"{repo_dir}@v1", f"{repo_dir}@v2", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.Draft202012Validator(schema()).validate(doc)
    (lc,) = doc["license_changes"]
    assert (lc["component"], lc["old"]["concluded"], lc["new"]["concluded"]) == (
        "model",
        "apache-2.0",
        "llama-3.1-license-2024",
    )
    assert (lc["old"]["revision"], lc["new"]["revision"]) == (v1, v2)
    assert (doc["old"]["revision"], doc["new"]["revision"]) == (v1, v2)
    assert doc["worst"] == "error"

    text = run_cli("diff", f"{repo_dir}@v1", f"{repo_dir}@v2").stdout
    assert "E model      Apache License 2.0 (apache-2.0) → Llama 3.1" in text
    assert f"at {v1[:12]} → at {v2[:12]}: concluded license changed" in text
    same = run_cli("diff", f"{repo_dir}@v2", f"{repo_dir}@{v2}")
    assert same.returncode == 0 and same.stdout.endswith("no changes\n"), same.stderr
    # PATH@REV takes the policy of the working tree at PATH
    (repo_dir / ".auditor.toml").write_text('fail-on = "never"\n')
    assert run_cli("diff", f"{repo_dir}@v1", f"{repo_dir}@v2").returncode == 0


@pytest.mark.parametrize(
    ("expression", "severity"),
    [
        (None, Severity.ERROR),
        ("mit", Severity.WARNING),
        ("apache-2.0 AND mit", Severity.WARNING),
        ("cc0-1.0", Severity.WARNING),
        ("gpl-3.0", Severity.ERROR),
        ("cc-by-nc-4.0", Severity.ERROR),
        ("apache-2.0 AND llama-3.1-license-2024", Severity.ERROR),
        ("no-such-license-key", Severity.ERROR),
    ],
)
def test_license_rank_rule(expression: str | None, severity: Severity) -> None:
    assert rank_license(expression)[0] is severity
