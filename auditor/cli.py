"""Command line: parse arguments, call ``run_audit``, render, choose an exit code.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error,
3 the audit itself failed. Only here do errors become messages.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from auditor import __version__
from auditor.atomic import write_atomic
from auditor.errors import AuditorError, UsageError
from auditor.model import AuditResult

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
FAIL_ON: tuple[str, ...] = ("error", "warning", "note", "never")


def exit_code(result: AuditResult, fail_on: str) -> int:
    return EXIT_FINDINGS if result.fails(fail_on) else EXIT_OK


def fail(message: str, code: int) -> None:
    click.echo(f"auditor: error: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """License and AI-BOM auditor for AI model repositories."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(format="auditor: %(levelname)s: %(message)s")
    logging.getLogger("auditor").setLevel(level)


@cli.command()
@click.argument("target")
@click.option(
    "--format",
    "formats",
    multiple=True,
    metavar="NAME",
    help="Report format: text (default), json, sarif, spdx-json, spdx-tv, spdx3-jsonld, "
    "cyclonedx-json. Repeat it, or separate names with commas, to write several at once "
    "with --output-dir.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE (atomically) instead of standard output.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one file per --format into DIR, named after TARGET (NAME.spdx.json, ...).",
)
@click.option(
    "--supplier",
    help="Who distributes TARGET, for BOM formats (NTIA minimum elements): "
    "'Organization: NAME', 'Person: NAME' or a bare organization name.",
)
@click.option(
    "--no-checksum-cache",
    is_flag=True,
    help="Hash every file anew instead of reusing the checksum cache of earlier audits.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default=None,
    help="Exit 1 when a finding at or above this severity exists.  "
    "[default: the policy's fail-on, else error]",
)
@click.option(
    "--deep",
    is_flag=True,
    help="Also ask ScanCode's matcher about license text the fast matcher cannot place "
    "(slow: its index takes seconds and over 1 GB to load).",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Policy file to use instead of TARGET's .auditor.toml or [tool.auditor] "
    "in its pyproject.toml (docs/policy.md).",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Baseline file of accepted findings; overrides the policy's baseline.",
)
@click.option(
    "--write-baseline",
    "write_baseline_to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every finding to FILE as the new baseline, instead of a report; exit 0.",
)
@click.option(
    "--upstream",
    help="A local copy of the repository TARGET derives from, to compare with.",
)
@click.option(
    "--rev",
    metavar="REF",
    help="Audit the tree of commit REF of the git repository at TARGET, without checking it out",
)
@click.option(
    "--no-ignore",
    is_flag=True,
    help="Also read what .gitignore files exclude, virtualenvs and tool caches.",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Text report: only the summary lines and the findings.",
)
@click.option(
    "-v",
    "--verbose",
    "detail",
    count=True,
    help="Text report: every piece of evidence, mentions included.",
)
def scan(
    target: str,
    formats: tuple[str, ...],
    output: Path | None,
    output_dir: Path | None,
    supplier: str | None,
    no_checksum_cache: bool,
    fail_on: str | None,
    deep: bool,
    policy_file: Path | None,
    baseline: Path | None,
    write_baseline_to: Path | None,
    upstream: str | None,
    rev: str | None,
    no_ignore: bool,
    quiet: bool,
    detail: int,
) -> None:
    """Audit the repository at TARGET: a folder, PATH@REV (a git revision),
    hf://ORG/NAME[@REV] (a Hub repo) or hf-cache://[ORG/NAME] (the local Hub cache)."""
    from auditor.formats import FORMATS
    from auditor.pipeline import Options, run_audit
    from auditor.policy import load_policy, write_baseline
    from auditor.sources import expand
    from auditor.sources.git_rev import rev_target, split_target

    names = _format_names(formats)
    for name in names:
        if name not in FORMATS:
            fail(f"unknown format {name!r} (choose from {', '.join(FORMATS.names())})", EXIT_USAGE)
    if len(names) > 1 and output_dir is None:
        fail("several formats need --output-dir (one file each)", EXIT_USAGE)
    if deep:
        from auditor.deep import MISSING, available

        if not available():
            fail(MISSING, EXIT_USAGE)
    if output is not None and output_dir is not None:
        fail("--output and --output-dir cannot be used together", EXIT_USAGE)
    if write_baseline_to is not None and (
        baseline is not None or output is not None or output_dir is not None
    ):
        other = (
            "--baseline"
            if baseline is not None
            else ("--output" if output is not None else "--output-dir")
        )
        fail(f"--write-baseline cannot be used with {other}", EXIT_USAGE)
    if (
        upstream is not None
        and not os.path.lexists(upstream)
        and "://" not in upstream
        and split_target(upstream) is None
    ):
        fail(f"no such file or directory: {upstream} (--upstream)", EXIT_USAGE)
    try:
        if rev is not None:
            target = rev_target(target, rev)
        targets = expand(target)  # hf-cache:// names every cached repo
        if len(targets) > 1 and (
            output is not None
            or write_baseline_to is not None
            or (output_dir is None and names != ["text"])
        ):
            fail(
                f"{target} names {len(targets)} repositories: write their reports with "
                "--output-dir (one file per repository and format)",
                EXIT_USAGE,
            )
        split = split_target(target)  # PATH@REV: the policy of the work tree at PATH
        root = Path(split[0] if split else target)
        policy = load_policy(root if root.is_dir() else None, policy_file)
        # Read the baseline before the audit, so that a bad one fails fast; a baseline
        # being written is not applied, so that it holds every finding of this run.
        if write_baseline_to is not None:
            policy = policy.with_baseline(None)
        else:
            policy = policy.with_baseline(baseline or policy.baseline)
        if quiet and detail:
            fail("--quiet and --verbose cannot be used together", EXIT_USAGE)
        renderers = [
            FORMATS.get(name)(
                supplier=supplier,
                fail_on=fail_on or policy.fail_on or "error",
                detail=-1 if quiet else detail,
            )
            for name in names
        ]
        checksums = sorted({a for r in renderers for a in r.needs_checksums})
        options = Options(
            deep=deep,
            upstream=upstream,
            policy=policy,
            checksums=tuple(checksums),
            checksum_cache=not no_checksum_cache,
            ignore=not no_ignore,
        )
        codes: list[int] = []
        for one in targets:
            result = run_audit(one, options)
            if write_baseline_to is not None:
                output = write_baseline_to  # named by the OSError message below
                count = write_baseline(write_baseline_to, result)
                plural = "" if count == 1 else "s"
                click.echo(f"auditor: wrote {count} finding{plural} to {write_baseline_to}")
                sys.exit(EXIT_OK)
            if output_dir is not None:
                output_dir.mkdir(parents=True, exist_ok=True)
                stem = _stem(result.target)
                rendered = [(output_dir / f"{stem}{r.suffix}", r.render(result)) for r in renderers]
                for path, data in rendered:  # all rendered first: a failure writes nothing
                    output = path  # named by the OSError message below
                    write_atomic(path, data)
                    click.echo(f"auditor: wrote {path}", err=True)
            else:
                data = renderers[0].render(result)
                if output is None:
                    if codes:
                        sys.stdout.buffer.write(b"\n")  # one report after another
                    sys.stdout.buffer.write(data)
                    sys.stdout.flush()
                else:
                    write_atomic(output, data)
            codes.append(exit_code(result, fail_on or policy.fail_on or "error"))
    except UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    except AuditorError as exc:
        fail(str(exc), EXIT_FAILED)
    except OSError as exc:
        where = output if output is not None else (output_dir or target)
        fail(f"cannot write {where}: {exc.strerror or exc}", EXIT_FAILED)
    sys.exit(max(codes))  # the worst across the repositories


def _format_names(formats: tuple[str, ...]) -> list[str]:
    """``--format a --format b,c`` as [a, b, c], each once, in order; text by default."""
    names: list[str] = []
    for item in formats:
        for name in item.split(","):
            if name.strip() and name.strip() not in names:
                names.append(name.strip())
    return names or ["text"]


def _stem(target: str) -> str:
    """The file name stem of a target's reports: its last path part (``org_name`` on the Hub)."""
    name = target.split("://", 1)[-1].split("@", 1)[0].rstrip("/")
    if "://" in target:
        kind, _, repo = name.rsplit("/", 1)[-1].partition("--")  # hf-cache:///DIR/models--ORG--NAME
        if repo and kind in ("models", "datasets", "spaces"):
            name = repo.replace("--", "/")
        name = name.removeprefix("datasets/").replace("/", "_")
    else:
        name = Path(name).resolve().name if name in ("", ".", "..") else Path(name).name
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "auditor"


def main() -> None:
    """Entry point: click's own usage errors become one line, like ours."""
    try:
        code = cli.main(prog_name="auditor", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("auditor: error: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        fail(exc.format_message(), EXIT_USAGE)
    sys.exit(code or 0)


from auditor.cli_diff import diff as _diff  # noqa: E402

cli.add_command(_diff)

from auditor.cli_check import check as _check  # noqa: E402

cli.add_command(_check)

from auditor.cli_registry import registry as _registry  # noqa: E402

cli.add_command(_registry)
