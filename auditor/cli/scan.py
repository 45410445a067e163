"""``auditor scan TARGET``: audit one repository (or every cached one) and write its reports.

Exit codes (``common``): 0 clean, 1 findings at or above --fail-on, 2 usage
error, 3 the audit failed. The worst across repositories when TARGET names several.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from auditor.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    baseline_option,
    fail,
    fail_on_option,
    format_names,
    output_option,
    policy_option,
    reported,
    stem,
    threshold,
)


@click.command()
@click.argument("target")
@click.option(
    "-f",
    "--format",
    "formats",
    multiple=True,
    metavar="NAME",
    help="Report format: text (default), json, sarif, spdx-json, spdx-tv, spdx3-jsonld, "
    "cyclonedx-json. Repeat it, or separate names with commas, to write several at once "
    "with --output-dir.",
)
@output_option()
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
@fail_on_option("a finding at or above this severity exists")
@click.option(
    "--deep",
    is_flag=True,
    help="Also ask ScanCode's matcher about license text the fast matcher cannot place "
    "(slow: its index takes seconds and over 1 GB to load).",
)
@policy_option("TARGET's .auditor.toml or [tool.auditor] in its pyproject.toml")
@baseline_option
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
    from auditor.atomic import write_atomic
    from auditor.baseline import write_baseline
    from auditor.cli.progress import progress_for
    from auditor.formats import FORMATS
    from auditor.pipeline import Options, run_audit
    from auditor.policy import load_policy
    from auditor.sources import expand
    from auditor.sources.git_rev import rev_target, split_target

    names = format_names(formats)
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

    def failed_io() -> str:
        return f"cannot write {output if output is not None else (output_dir or target)}"

    codes: list[int] = []
    with reported(failed_io):
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
                fail_on=threshold(fail_on, policy),
                detail=-1 if quiet else detail,
            )
            for name in names
        ]
        checksums = sorted({a for r in renderers for a in r.needs_checksums})
        progress = progress_for(quiet or write_baseline_to is not None)
        options = Options(
            deep=deep,
            upstream=upstream,
            policy=policy,
            checksums=tuple(checksums),
            checksum_cache=not no_checksum_cache,
            ignore=not no_ignore,
            progress=progress,
        )
        for one in targets:
            rendered: list[bytes] = []
            try:
                result = run_audit(one, options)
                if write_baseline_to is None:  # all rendered first: a failure writes nothing
                    progress.start(f"writing {', '.join(names)}", unit="")
                    rendered = [r.render(result) for r in renderers]
            finally:
                progress.finish()
            if write_baseline_to is not None:
                output = write_baseline_to  # named by the OSError message below
                count = write_baseline(write_baseline_to, result)
                plural = "" if count == 1 else "s"
                click.echo(f"auditor: wrote {count} finding{plural} to {write_baseline_to}")
                sys.exit(EXIT_OK)
            if output_dir is not None:
                output_dir.mkdir(parents=True, exist_ok=True)
                name = stem(result.target)
                paths = [output_dir / f"{name}{r.suffix}" for r in renderers]
                for path, data in zip(paths, rendered, strict=True):
                    output = path  # named by the OSError message below
                    write_atomic(path, data)
                    click.echo(f"auditor: wrote {path}", err=True)
            else:
                data = rendered[0]
                if output is None:
                    if codes:
                        sys.stdout.buffer.write(b"\n")  # one report after another
                    sys.stdout.buffer.write(data)
                    sys.stdout.flush()
                else:
                    write_atomic(output, data)
            codes.append(EXIT_FINDINGS if result.fails(threshold(fail_on, policy)) else EXIT_OK)
    sys.exit(max(codes))  # the worst across the repositories
