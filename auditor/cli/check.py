"""``auditor check [--root DIR] FILES...``: the fast check of what a commit changes.

The pre-commit hook ``auditor-check`` runs it with the staged files (paths
relative to the repo root, the current directory). It reads only the changed
files and the files that decide licenses, reports the findings that concern the
change, one line each with its fix, and prints nothing when the check passes
(unless ``-v``). Exit codes as ``scan``. How files and findings are chosen:
``auditor/changed.py`` and docs/precommit.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from auditor.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    baseline_option,
    fail_on_option,
    policy_option,
    reported,
    threshold,
)
from auditor.errors import UsageError
from auditor.terminal import visible

if TYPE_CHECKING:
    from auditor.model import AuditResult, Finding


def repo_path(arg: str, root: Path) -> str:
    """``arg`` (relative to the current directory) as a path relative to ``root``.

    The file's folder is resolved (symlinked folders), the file name is kept as it
    is: a symlink named in a commit is that symlink, not its target."""
    absolute = os.path.abspath(arg)
    real = os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
    rel = os.path.relpath(real, root)
    if rel == os.curdir or rel.startswith(os.pardir + os.sep) or rel == os.pardir:
        raise UsageError(f"{arg} is not a file in {root}")
    if os.path.isdir(real) and not os.path.islink(real):
        raise UsageError(f"{arg} is a folder: check takes files (auditor scan audits a folder)")
    return rel.replace(os.sep, "/")


def where(f: Finding) -> str:
    """``path:line`` of a finding, or the component it is about."""
    if f.path is None:
        return f"({f.component} component)" if f.component else "(repository)"
    line = next((e.start_line for e in f.evidence if e.path == f.path), None)
    return f"{f.path}:{line}" if line else f.path


def render(f: Finding, result: AuditResult, changed: frozenset[str]) -> list[str]:
    """The lines of one finding: ``path:line: severity rule: message``, what changed, the fix."""
    from auditor.changed import concerns

    lines = [f"{where(f)}: {f.severity.value} {f.rule}: {f.message}"]
    touched = concerns(f, result, changed)
    if touched and touched != (f.path,):
        shown = ", ".join(touched[:5]) + (
            f" and {len(touched) - 5} more" if len(touched) > 5 else ""
        )
        lines.append(f"  changed: {shown}")
    if f.fix:
        lines.append(f"  fix: {f.fix}")
    return lines


@click.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="The repository's root folder (FILES are relative to the current directory).",
)
@fail_on_option("a finding at or above this severity concerns the changed files")
@policy_option("the root's .auditor.toml or [tool.auditor]")
@baseline_option
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Also show findings below --fail-on, and a summary line when the check passes.",
)
def check(
    files: tuple[str, ...],
    root: Path,
    fail_on: str | None,
    policy_file: Path | None,
    baseline: Path | None,
    verbose: bool,
) -> None:
    """Check the changed FILES of a commit, fast (the pre-commit hook auditor-check).

    Reads FILES and the files that decide licenses (license, notice, README and
    config files, package metadata, the policy), lists every other file of the git
    index without reading it, and reports the findings that concern FILES: those
    naming one of them, those of a component holding one, or every finding when a
    license, notice or README file changed. Files the index deletes count as changed.
    No ScanCode index, no weight hashing.
    """
    from auditor.changed import check as run_check
    from auditor.model import Severity
    from auditor.policy import load_policy

    with reported(lambda: f"cannot check {root}"):
        if not root.is_dir():
            raise UsageError(f"no such folder: {root} (--root)")
        real_root = root.resolve()
        changed = [repo_path(f, real_root) for f in files]
        policy = load_policy(root, policy_file)
        policy = policy.with_baseline(baseline or policy.baseline)
        worst = threshold(fail_on, policy)
        level = None if worst == "never" else Severity(worst)
        outcome = run_check(real_root, changed, policy, level)
    failing = [f for f in outcome.findings if level is not None and f.severity.rank >= level.rank]
    shown = outcome.findings if (failing or verbose) else ()
    out = [line for f in shown for line in render(f, outcome.result, outcome.changed)]
    if out:
        click.echo("\n".join(visible(line) for line in out))
    if failing:
        n = len(failing)
        why = ""
        if outcome.deciding:
            why = (
                f" ({', '.join(outcome.deciding[:3])}{' ...' if len(outcome.deciding) > 3 else ''}"
                " changed: a license, notice, README or policy file concerns every finding)"
            )
        click.echo(
            f"auditor check: {n} finding{'s' if n != 1 else ''} at or above {worst} "
            f"concern{'s' if n == 1 else ''} the changed files{why}; `auditor scan {root}` "
            "shows the whole audit",
            err=True,
        )
        sys.exit(EXIT_FINDINGS)
    if verbose:
        how = "confirmed by reading every file" if outcome.confirmed else "fast pass"
        click.echo(
            f"auditor check: {len(outcome.changed)} changed, {outcome.listed} files listed "
            f"({outcome.listing}), {len(outcome.read)} read; nothing at or above {worst} "
            f"({how})",
            err=True,
        )
    sys.exit(EXIT_OK)
