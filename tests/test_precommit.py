"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real pre-commit framework,
and ``auditor check FILES`` (auditor/changed.py) that the changed-files hook runs.

How the framework runs without a download. The hooks say ``language: python``: a
user's pre-commit clones this repository and pip-installs it with its dependencies,
which needs the network, and tests have none. So each test makes a git repository
in a temp folder and writes a ``.pre-commit-config.yaml`` with a ``repo: local``
hook for each hook of this repository's ``.pre-commit-hooks.yaml``: the same id,
name, args, pass_filenames, types, files, always_run and require_serial, with
``language: system`` and the entry's ``auditor`` replaced by this virtualenv's
``auditor`` executable (the package under test, installed in place). Then
``pre-commit install`` puts the framework's git hook into the repository and the
tests run ``git commit`` (and ``pre-commit run``) as a user would: the framework
picks the staged files, stashes what is not staged, runs both hooks and blocks the
commit when one fails. ``PRE_COMMIT_HOME`` and ``HOME`` point into the temp folder
(no user config, no cache of theirs), and nothing is fetched: local system hooks
need no environment to install.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, ROOT, run_cli
from generate import materialize, safetensors_bytes

from auditor.changed import ChangedSource, check, deciding, git_listing
from auditor.model import Severity
from auditor.policy import load_policy

sys.path.insert(0, str(FIXTURES / "corpus"))
from runner import reference

HOOKS_FILE = ROOT / ".pre-commit-hooks.yaml"
AUDITOR = Path(sys.executable).with_name("auditor")
#: Keys a local hook carries over from the manifest unchanged.
CARRIED = (
    "id",
    "name",
    "args",
    "pass_filenames",
    "types",
    "types_or",
    "exclude_types",
    "files",
    "exclude",
    "always_run",
    "require_serial",
)

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not AUDITOR.exists(),
    reason="needs git and the auditor executable beside this Python",
)

CODE = "# SPDX-License-Identifier: MIT\n\n\ndef train() -> None:\n    print('training')\n"
PLAIN_README = "# tiny\n\nA small model.\n"
CARD = "---\nlicense: apache-2.0\n---\n# tiny\n\nA small model.\n"


def mit() -> str:
    return "Copyright (c) 2026 Example Authors\n\n" + reference("scancode:mit")[0]


def apache() -> str:
    return reference("scancode:apache-2.0")[0]


def weights() -> bytes:
    return safetensors_bytes({"format": "pt"})


# -- a git repository with the hooks installed --------------------------------------------


class Repo:
    """A git repository in a temp folder, with this repo's hooks installed as local hooks."""

    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
        self.env.update(
            HOME=str(home),
            PRE_COMMIT_HOME=str(home / "pre-commit"),
            PRE_COMMIT_COLOR="never",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME="Test",
            GIT_AUTHOR_EMAIL="test@example.invalid",
            GIT_COMMITTER_NAME="Test",
            GIT_COMMITTER_EMAIL="test@example.invalid",
        )
        home.mkdir(parents=True, exist_ok=True)
        # Outside the work tree: auditor reads a `*-config.yaml` as model config, so a
        # .pre-commit-config.yaml in a repo without weights would make it a model
        # (test_a_pre_commit_config_is_no_model_file); the hooks run the same.
        self.config = home / "pre-commit-config.yaml"
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.path, env=self.env, capture_output=True, text=True, timeout=120
        )

    def git(self, *argv: str) -> str:
        proc = self.run("git", *argv)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def write(self, files: dict[str, str | bytes]) -> None:
        for rel, content in files.items():
            dest = self.path / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                dest.write_bytes(content)
            else:
                dest.write_text(content, encoding="utf-8")

    def install_hooks(self) -> None:
        """Write .pre-commit-config.yaml from the manifest and install the git hook."""
        hooks = []
        for hook in yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8")):
            entry = shlex.split(hook["entry"])
            assert entry[0] == "auditor", hook
            local = {k: hook[k] for k in CARRIED if k in hook}
            local["entry"] = shlex.join([str(AUDITOR), *entry[1:]])
            local["language"] = "system"
            hooks.append(local)
        config = {"repos": [{"repo": "local", "hooks": hooks}]}
        self.config.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        proc = self.pre_commit("install")
        assert proc.returncode == 0, proc.stdout + proc.stderr

    def pre_commit(self, command: str, *argv: str) -> subprocess.CompletedProcess[str]:
        return self.run(
            sys.executable, "-m", "pre_commit", command, "--config", str(self.config), *argv
        )

    def commit(self, message: str) -> subprocess.CompletedProcess[str]:
        """``git add -A`` and ``git commit``, through the installed pre-commit hook."""
        self.git("add", "-A")
        return self.run("git", "commit", "-m", message)

    def commits(self) -> int:
        proc = self.run("git", "rev-list", "--count", "HEAD")
        return int(proc.stdout) if proc.returncode == 0 else 0


def status(output: str, hook_id: str) -> str:
    """``Passed``, ``Failed`` or ``Skipped`` for a hook, from pre-commit's summary lines."""
    hook = next(h for h in yaml.safe_load(HOOKS_FILE.read_text()) if h["id"] == hook_id)
    for line in output.splitlines():
        if line.startswith(hook["name"]):
            return line.rsplit(".", 1)[-1].strip().split()[-1]
    raise AssertionError(f"{hook_id} did not run:\n{output}")


def new_repo(tmp_path: Path, files: dict[str, str | bytes]) -> Repo:
    repo = Repo(tmp_path / "repo", tmp_path / "home")
    repo.write(files)
    repo.install_hooks()
    return repo


@pytest.fixture
def code_repo(tmp_path: Path) -> Repo:
    """Code under MIT (LICENSE-CODE, SPDX tag), a README without a license, no model yet."""
    repo = new_repo(
        tmp_path,
        {"README.md": PLAIN_README, "train.py": CODE, "LICENSE-CODE": mit()},
    )
    proc = repo.commit("code")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo


@pytest.fixture
def example_repo(tmp_path: Path) -> Repo:
    """The bundled example (MIT code, Apache-2.0 weights) committed: a clean repo."""
    repo = Repo(tmp_path / "repo", tmp_path / "home")
    materialize("example-model", tmp_path / "example")
    shutil.copytree(tmp_path / "example", repo.path, dirs_exist_ok=True)
    repo.install_hooks()
    proc = repo.commit("example")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo


# -- the hooks, through the framework -------------------------------------------------------


def test_the_manifest_is_valid_and_checks_every_file_type() -> None:
    from pre_commit.clientlib import load_manifest

    hooks = {h["id"]: h for h in load_manifest(str(HOOKS_FILE))}
    assert set(hooks) == {"auditor-check", "auditor-scan"}
    changed, whole = hooks["auditor-check"], hooks["auditor-scan"]
    assert shlex.split(changed["entry"]) == ["auditor", "check"]
    assert changed["pass_filenames"] and changed["require_serial"] and changed["always_run"]
    assert changed["types"] == ["file"] and not changed["types_or"]  # weights too, not text only
    assert changed["files"] == "" and changed["exclude"] == "^$"
    assert shlex.split(whole["entry"]) == ["auditor", "scan", "."]
    assert not whole["pass_filenames"] and whole["always_run"]
    assert {h["language"] for h in hooks.values()} == {"python"}


def test_a_commit_adding_weights_without_a_model_license_is_blocked(code_repo: Repo) -> None:
    code_repo.write({"model.safetensors": weights(), "config.json": '{"model_type": "llama"}\n'})
    before = code_repo.commits()
    proc = code_repo.commit("add weights")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert code_repo.commits() == before  # blocked
    assert status(out, "auditor-check") == "Failed"
    assert status(out, "auditor-scan") == "Failed"
    # One readable line: the file, the rule, what is missing; then the changed files and the fix.
    assert (
        "config.json: error license-missing: model component has no license "
        "(2 files, none licensed)\n"
        "  changed: config.json, model.safetensors\n"
        "  fix: add the model license text (e.g. LICENSE or MODEL_LICENSE) and a `license:` "
        "field in the model card front matter\n"
    ) in out
    # The same through `pre-commit run` on the staged files only.
    proc = code_repo.pre_commit("run", "auditor-check")
    assert proc.returncode == 1 and "license-missing" in proc.stdout, proc.stdout


def test_adding_only_the_weights_names_them(code_repo: Repo) -> None:
    code_repo.write({"model.safetensors": weights()})
    code_repo.git("add", "-A")
    proc = code_repo.pre_commit("run", "auditor-check")
    assert proc.returncode == 1, proc.stdout
    assert (
        "model.safetensors: error license-missing: model component has no license "
        "(1 file, none licensed)"
    ) in proc.stdout


def test_the_commit_that_adds_the_license_passes(code_repo: Repo) -> None:
    code_repo.write({"model.safetensors": weights(), "config.json": '{"model_type": "llama"}\n'})
    assert code_repo.commit("weights, no license").returncode != 0
    # The same weights with the card's license field and the license text: let through.
    code_repo.write({"README.md": CARD, "LICENSE-MODEL": apache()})
    proc = code_repo.commit("weights under Apache-2.0")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert status(out, "auditor-check") == "Passed"
    assert status(out, "auditor-scan") == "Passed"
    assert code_repo.commits() == 2


def test_a_code_only_commit_in_a_clean_repo_passes(example_repo: Repo) -> None:
    (example_repo.path / "train.py").write_text(
        (example_repo.path / "train.py").read_text() + "\n\ndef evaluate() -> None:\n    pass\n"
    )
    proc = example_repo.commit("evaluate")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert status(out, "auditor-check") == "Passed"
    assert status(out, "auditor-scan") == "Passed"
    assert "Failed" not in out and "error" not in out


def test_a_commit_deleting_the_model_license_is_blocked(example_repo: Repo) -> None:
    """pre-commit passes no deleted file; always_run runs the check, which finds the deletion."""
    example_repo.git("rm", "-q", "LICENSE-MODEL")
    proc = example_repo.run("git", "commit", "-m", "drop the model license")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert status(out, "auditor-check") == "Failed"
    assert "README.md:2: error license-text-missing: Apache License 2.0 (apache-2.0)" in out
    assert "LICENSE-MODEL changed: a license, notice, README or policy file" in out


def test_the_whole_repo_hook_reports_what_the_changed_files_hook_leaves_alone(
    tmp_path: Path,
) -> None:
    """A problem the commit does not touch blocks it through auditor-scan only."""
    repo = new_repo(
        tmp_path,
        {
            "README.md": CARD,  # Apache-2.0 declared for the weights, its text never shipped
            "model.safetensors": weights(),
            "train.py": CODE,
            "LICENSE-CODE": mit(),
        },
    )
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-verify", "-m", "old problem")
    repo.write({"train.py": CODE + "\n# tuned\n"})
    proc = repo.commit("code only")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert status(out, "auditor-check") == "Passed"
    assert status(out, "auditor-scan") == "Failed"
    assert "E license-text-missing [model] README.md: Apache License 2.0 (apache-2.0)" in out


# -- auditor check itself --------------------------------------------------------------------


def test_unchanged_files_are_listed_not_read(tmp_path: Path) -> None:
    """A large weight file and code outside the commit are never opened; the license files are."""
    repo = new_repo(tmp_path, {"README.md": CARD, "LICENSE-MODEL": apache(), "train.py": CODE})
    repo.write({"LICENSE-CODE": mit(), "inference/run.py": CODE})
    repo.write({"model-00002-of-00002.safetensors": weights()})
    repo.git("add", "-A")
    big = repo.path / "model-00001-of-00002.safetensors"
    with big.open("wb") as fh:  # 512 MiB, sparse: a header read would fail on the zeros
        fh.truncate(512 << 20)
    repo.git("add", "-N", big.name)  # in the index, without git hashing 512 MiB
    policy = load_policy(repo.path)
    outcome = check(repo.path, ["train.py"], policy, Severity.ERROR)
    assert outcome.findings == () and not outcome.confirmed
    assert outcome.listing == "git index" and outcome.listed == 7
    assert set(outcome.read) == {"README.md", "LICENSE-MODEL", "LICENSE-CODE", "train.py"}
    files = {c.name: c.files for c in outcome.result.components}
    assert big.name in files["model"]  # listed: the model knows its weights
    # Changing the shard reads it (a bounded header read), and its broken header is news.
    outcome = check(repo.path, [big.name], policy, Severity.ERROR)
    assert big.name in outcome.read
    assert any(s.path == big.name and "header" in s.reason for s in outcome.result.skipped)


def test_the_index_is_the_tree_untracked_files_do_not_count(tmp_path: Path) -> None:
    """A model license lying untracked in the folder does not license the committed weights."""
    repo = new_repo(tmp_path, {"README.md": PLAIN_README, "LICENSE-CODE": mit(), "a.py": CODE})
    repo.git("add", "-A")
    repo.write({"model.safetensors": weights(), "LICENSE-MODEL": apache()})
    repo.git("add", "model.safetensors")
    assert "LICENSE-MODEL" not in (git_listing(repo.path) or [])
    outcome = check(repo.path, ["model.safetensors"], load_policy(repo.path), Severity.ERROR)
    assert [f.rule for f in outcome.findings] == ["license-missing"]
    repo.git("add", "LICENSE-MODEL")
    outcome = check(repo.path, ["LICENSE-MODEL"], load_policy(repo.path), Severity.ERROR)
    assert outcome.findings == ()
    # Taken out of the index again (still in the folder): a deletion the check finds itself.
    repo.git("commit", "-q", "--no-verify", "-m", "licensed")
    repo.git("rm", "-q", "--cached", "LICENSE-MODEL")
    outcome = check(repo.path, [], load_policy(repo.path), Severity.ERROR)
    assert outcome.deciding == ("LICENSE-MODEL",)
    assert [f.rule for f in outcome.findings] == ["license-missing"]


def test_a_fast_false_alarm_is_confirmed_away(tmp_path: Path) -> None:
    """Code licensed by SPDX tags only: a README change leaves the tags unread, so the fast
    pass sees unlicensed code; the confirming pass reads them and the check passes."""
    tagged = "# SPDX-License-Identifier: CC0-1.0\nprint('hi')\n"
    repo = new_repo(tmp_path, {"README.md": PLAIN_README, "a.py": tagged, "b.py": tagged})
    repo.git("add", "-A")
    outcome = check(repo.path, ["README.md"], load_policy(repo.path), Severity.ERROR)
    assert outcome.confirmed
    assert outcome.findings == ()
    assert "a.py" not in outcome.read


def test_findings_outside_the_change_are_left_to_the_whole_repo_hook(tmp_path: Path) -> None:
    gpl = "# SPDX-License-Identifier: GPL-3.0-only\nprint('hi')\n"
    repo = new_repo(
        tmp_path,
        {
            "README.md": CARD,
            "LICENSE-MODEL": apache(),
            "model.safetensors": weights(),
            "config.json": "{}\n",
            "LICENSE-CODE": mit(),
            "tool.py": gpl,  # GPL-3.0 declared, its text not shipped: a code finding
        },
    )
    repo.git("add", "-A")
    policy = load_policy(repo.path)
    assert check(repo.path, ["config.json"], policy, Severity.ERROR).findings == ()
    outcome = check(repo.path, ["tool.py"], policy, Severity.ERROR)
    assert {f.rule for f in outcome.findings} >= {"license-text-missing"}
    assert deciding(["README.md", "tool.py", "x/NOTICE", ".auditor.toml"]) == (
        ".auditor.toml",
        "README.md",
        "x/NOTICE",
    )


def test_the_cli_honours_the_policy_and_its_baseline(code_repo: Repo) -> None:
    code_repo.write({"model.safetensors": weights()})
    code_repo.git("add", "-A")
    proc = run_cli("check", "model.safetensors", cwd=code_repo.path)
    assert proc.returncode == 1 and proc.stdout.startswith("model.safetensors: error"), proc
    assert "auditor check: 1 finding at or above error concerns the changed files" in proc.stderr
    # Accept today's findings: the policy names the baseline, the check passes silently.
    proc = run_cli("scan", ".", "--write-baseline", ".auditor-baseline.json", cwd=code_repo.path)
    assert proc.returncode == 0, proc.stderr
    code_repo.write({".auditor.toml": 'baseline = ".auditor-baseline.json"\n'})
    code_repo.git("add", "-A")
    proc = run_cli("check", "model.safetensors", cwd=code_repo.path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    # -v: a summary line when the check passes.
    proc = run_cli("check", "-v", "model.safetensors", cwd=code_repo.path)
    assert proc.returncode == 0 and "auditor check: 1 changed" in proc.stderr, proc.stderr
    # The policy's severities and fail-on: a warning passes, unless fail-on reaches it.
    policy = '[severity]\nlicense-missing = "warning"\n'
    code_repo.write({".auditor.toml": policy})
    proc = run_cli("check", "model.safetensors", cwd=code_repo.path)
    assert (proc.returncode, proc.stdout) == (0, ""), proc
    code_repo.write({".auditor.toml": 'fail-on = "warning"\n' + policy})
    proc = run_cli("check", "model.safetensors", cwd=code_repo.path)
    assert proc.returncode == 1, proc
    assert proc.stdout.startswith("model.safetensors: warning license-missing: model component")


def test_usage_errors_and_a_folder_that_is_no_git_repo(tmp_path: Path) -> None:
    proc = run_cli("check", "--root", str(tmp_path), str(ROOT / "README.md"))
    assert proc.returncode == 2 and "is not a file in" in proc.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "model.safetensors").write_bytes(weights())
    (plain / "README.md").write_text(PLAIN_README)
    proc = run_cli("check", "model.safetensors", cwd=plain)
    assert proc.returncode == 1, proc
    assert "model.safetensors: error license-missing" in proc.stdout
    source = ChangedSource(str(plain), ["README.md"])
    assert {f.path for f in source.inventory().files} == {"README.md", "model.safetensors"}
    assert source.opened == {"README.md"}


@pytest.mark.parametrize(
    "path",
    [".pre-commit-config.yaml", ".github/workflows/lint-config.yml", ".ci/model-config.json"],
)
def test_tool_configs_are_no_model_files(path: str) -> None:
    """A repo without weights must not get an unlicensed model from its tooling."""
    from auditor.classify import kind_from_name
    from auditor.model import FileKind

    assert kind_from_name(path) is FileKind.OTHER
    assert kind_from_name("model-config.yaml") is FileKind.CONFIG
