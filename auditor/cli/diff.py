"""``auditor diff OLD NEW``: audit two targets with one policy and show what changed.

Exit codes as ``scan``: 0 nothing at or above --fail-on appeared, 1 something
did (a new finding, a changed or new concluded license: auditor/diff.py),
2 usage error, 3 an audit failed. See docs/diff.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auditor.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    emit,
    fail_on_option,
    output_option,
    policy_option,
    reported,
    threshold,
)


def policy_root(target: str) -> Path | None:
    """The folder whose policy applies to ``target``: the folder itself, or for a git
    revision ``PATH@REV`` the working tree at PATH; None for a remote target."""
    from auditor.sources.git_rev import split_target

    if "://" in target:
        return None
    if Path(target).is_dir():
        return Path(target)
    split = split_target(target)
    return Path(split[0]) if split is not None and Path(split[0]).is_dir() else None


@click.command()
@click.argument("old")
@click.argument("new")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="Output format (json: docs/diff.md).",
)
@output_option("the diff")
@fail_on_option(
    "something at or above this severity appeared: a new finding, a changed or new "
    "concluded license (error when it is unknown or not permissive, else warning)"
)
@policy_option("NEW's .auditor.toml or [tool.auditor] in its pyproject.toml, for both audits")
def diff(
    old: str, new: str, fmt: str, output: Path | None, fail_on: str | None, policy_file: Path | None
) -> None:
    """Show what changed from OLD to NEW: licenses, components, findings, obligations.

    OLD and NEW are any targets `auditor scan` accepts: two folders, or two
    revisions of one git repository written PATH@REV.
    """
    from auditor.diff import diff_targets, render_json, render_text
    from auditor.pipeline import Options
    from auditor.policy import load_policy

    with reported(lambda: f"cannot write {output or '-'}"):
        policy = load_policy(policy_root(new), policy_file)
        policy = policy.with_baseline(policy.baseline)  # a bad baseline fails before the audits
        result = diff_targets(old, new, Options(policy=policy))
        emit(render_json(result) if fmt == "json" else render_text(result), output)
    sys.exit(EXIT_FINDINGS if result.fails(threshold(fail_on, policy)) else EXIT_OK)
