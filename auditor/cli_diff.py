"""``auditor diff OLD NEW``: audit two targets with one policy and show what changed.

Exit codes as ``scan``: 0 nothing at or above --fail-on appeared, 1 something
did (a new finding, a changed or new concluded license: auditor/diff.py),
2 usage error, 3 an audit failed. See docs/diff.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from auditor.atomic import write_atomic
from auditor.cli import EXIT_FAILED, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, FAIL_ON, fail
from auditor.errors import AuditorError, UsageError


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
    "--format",
    "fmt",
    type=click.Choice(("text", "json")),
    default="text",
    show_default=True,
    help="Output format (json: docs/diff.md).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the diff to FILE (atomically) instead of standard output.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default=None,
    help="Exit 1 when something at or above this severity appeared: a new finding, "
    "a changed or new concluded license (error when it is unknown or not permissive, "
    "else warning).  [default: the policy's fail-on, else error]",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy file for both audits instead of NEW's .auditor.toml or [tool.auditor] "
    "in its pyproject.toml (docs/policy.md).",
)
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

    try:
        policy = load_policy(policy_root(new), policy_file)
        policy = policy.with_baseline(policy.baseline)  # a bad baseline fails before the audits
        result = diff_targets(old, new, Options(policy=policy))
        data = render_json(result) if fmt == "json" else render_text(result)
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            write_atomic(output, data)
    except UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    except AuditorError as exc:
        fail(str(exc), EXIT_FAILED)
    except OSError as exc:
        fail(f"cannot write {output or '-'}: {exc.strerror or exc}", EXIT_FAILED)
    sys.exit(EXIT_FINDINGS if result.fails(fail_on or policy.fail_on or "error") else EXIT_OK)
