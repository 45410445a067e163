"""``auditor registry scan``: audit many Hub repos into the registry database.

Exit codes: 0 the scan completed (what changed is for ``registry changes``),
2 usage error, 3 nothing could be audited (every repo failed, the Hub or the
Dask scheduler could not be reached, the database cannot be used).
See docs/registry.md.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from auditor.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, reported
from auditor.terminal import visible


@click.command("scan")
@click.argument("repo_ids", nargs=-1, metavar="[REPO_ID]...")
@click.option(
    "--from-file",
    "from_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read repo ids from FILE, one a line ('#' starts a comment; '-' is standard input).",
)
@click.option("--author", metavar="ORG", help="Every repo of this user or organisation.")
@click.option("--search", metavar="QUERY", help="Every repo the Hub's search finds for QUERY.")
@click.option(
    "--datasets",
    is_flag=True,
    help="--author/--search list datasets instead of models (ids: datasets/ORG/NAME).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The registry database.  [default: $AUDITOR_DATA_DIR/registry.sqlite3, "
    "else registry.sqlite3 in the user data dir]",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 512),
    default=None,
    help="Repos audited at once.  [default: 4; with --scheduler, twice the cluster's threads]",
)
@click.option(
    "--executor",
    type=click.Choice(("threads", "dask")),
    default="threads",
    show_default=True,
    help="Audit on threads of this process, or on a Dask cluster (pip install 'auditor[dask]').",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="The Dask scheduler to use with --executor dask; without it, a local cluster of "
    "--jobs worker processes (at most one per CPU) is started for the scan.",
)
@click.option(
    "--retry-failed/--no-retry-failed",
    default=True,
    show_default=True,
    help="Try repos that failed for a passing reason (HTTP 429 past the wait, 5xx, timeouts) "
    "once more at the end of the scan, before recording the failure.",
)
@click.option(
    "--progress/--no-progress",
    "show_progress",
    default=None,
    help="A progress line on standard error.  [default: when standard error is a terminal; "
    "otherwise one log line per repo]",
)
def scan(
    repo_ids: tuple[str, ...],
    from_file: Path | None,
    author: str | None,
    search: str | None,
    datasets: bool,
    db_path: Path | None,
    jobs: int | None,
    executor: str,
    scheduler: str | None,
    retry_failed: bool,
    show_progress: bool | None,
) -> None:
    """Audit Hub repos at their current commit into the registry database: REPO_IDs
    (ORG/NAME, datasets/ORG/NAME), those of --from-file, and those the Hub lists for
    --author/--search. A repo whose commit is that of its last good audit is recorded
    unchanged after one request; a killed scan, run again, resumes."""
    from auditor.registry.db import RegistryDB
    from auditor.registry.scan import (
        AuditSpec,
        Progress,
        check_repo_id,
        licenses_of,
        list_repo_shas,
        named_shas,
        read_ids,
        scan_params,
    )
    from auditor.registry.scan import scan as run_scan

    if scheduler and executor != "dask":
        fail("--scheduler needs --executor dask", EXIT_USAGE)
    if datasets and not (author or search):
        fail("--datasets goes with --author or --search", EXIT_USAGE)
    if search is not None and not search.strip():
        fail("--search needs a query", EXIT_USAGE)
    named = list(repo_ids)
    if from_file is not None:
        try:
            if str(from_file) == "-":
                named += read_ids(sys.stdin)
            else:
                with from_file.open(encoding="utf-8") as fh:
                    named += read_ids(fh)
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {from_file}: {getattr(exc, 'strerror', None) or exc}", EXIT_USAGE)
    if not named and not (author or search):
        fail("name repos to scan: REPO_ID..., --from-file, --author or --search", EXIT_USAGE)
    with reported(lambda: "cannot read the repo ids"):
        named = [check_repo_id(r) for r in named]
    tty = sys.stderr.isatty() if show_progress is None else show_progress
    started = time.monotonic()
    with reported(lambda: f"cannot open {db_path or 'the registry database'}"):
        listed = (
            list_repo_shas(author=author, search=search, datasets=datasets)
            if (author or search)
            else {}
        )
        ids = sorted(set(named) | set(listed))
        params = scan_params(named, author=author, search=search, datasets=datasets)
        db = RegistryDB(db_path)
    if (author or search) and not listed:
        click.echo(f"auditor: the Hub lists no repos for {_query(author, search)}", err=True)

    def on_start(scan_id: int, repos: int, resumed: int) -> None:
        again = f", resuming: {resumed} already recorded" if resumed else ""
        click.echo(f"auditor: scan {scan_id}: {repos} repos{again} (db {db.path})", err=True)

    width = [0]

    def progress(p: Progress) -> None:
        o = p.outcome
        if o.status == "audited" and o.result is not None:
            what = f"audited ({licenses_of(o.result)})"
        elif o.status == "unchanged":
            what = f"unchanged ({(o.revision or '')[:12]})"
        else:
            what = f"{o.status}: {o.error}" if o.error else o.status
        if tty:
            elapsed = time.monotonic() - started
            line = visible(
                f"auditor: [{p.done}/{p.total}] {p.done / elapsed if elapsed else 0:.1f} repos/s"
                f" {o.repo_id}: {o.status}"
            )[:120]
            click.echo("\r" + line.ljust(width[0]), err=True, nl=False)
            width[0] = len(line)
            if o.status == "failed":  # keep failures on screen
                shown = visible(f"auditor: {o.repo_id}: {what}")
                click.echo("\r" + shown.ljust(width[0]), err=True)
                width[0] = 0
        else:
            click.echo(visible(f"auditor: [{p.done}/{p.total}] {o.repo_id}: {what}"), err=True)

    # The endpoint travels with each task: Dask workers audit against the same Hub.
    spec = AuditSpec(endpoint=os.environ.get("HF_ENDPOINT") or None)
    try:
        with reported(lambda: f"cannot write {db.path}"):
            summary = run_scan(
                db,
                ids,
                params,
                spec=spec,
                jobs=jobs,
                executor=executor,
                scheduler=scheduler,
                retry_failed=retry_failed,
                progress=progress,
                on_start=on_start,
                known={**named_shas(named), **listed},
            )
    except KeyboardInterrupt:
        click.echo("\nauditor: interrupted: run the same scan again to resume it", err=True)
        sys.exit(130)
    finally:
        db.close()
    if tty and width[0]:
        click.echo("", err=True)
    click.echo(f"auditor: {summary.line()}", err=True)
    if summary.stopped:
        fail(
            f"{summary.stopped}: scan {summary.scan_id} stopped before recording anything; "
            "run it again to resume",
            EXIT_FAILED,
        )
    if summary.nothing_audited:
        fail(f"no repo could be audited (scan {summary.scan_id})", EXIT_FAILED)
    sys.exit(EXIT_OK)


def _query(author: str | None, search: str | None) -> str:
    parts = [f"author {author!r}" if author else "", f"search {search!r}" if search else ""]
    return " and ".join(p for p in parts if p)
