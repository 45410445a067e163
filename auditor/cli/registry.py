"""``auditor registry``: watch many Hub repos (docs/registry.md).

``registry changes`` says what changed since an earlier scan, ``registry report``
gives the current state of every watched repo (and BOMs on request); both read
the registry database (``auditor/registry/db.py``) that ``registry scan`` writes;
the outputs are rendered by ``auditor/registry/render.py``.

Exit codes: 0 (also when there are changes: a scheduled job tells "needs
attention" by ``changes --fail-on``), 1 a change at or above ``--fail-on``,
2 usage error (a bad option, no database), 3 the database or a BOM audit failed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from auditor.cli.common import (
    EXIT_FAILED,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    emit,
    fail,
    format_names,
    output_option,
    reported,
    stem,
)
from auditor.cli.registry_scan import scan
from auditor.errors import AuditorError, UsageError
from auditor.terminal import visible

if TYPE_CHECKING:  # the database module loads only for `auditor registry` commands
    from auditor.registry.db import RegistryDB
    from auditor.registry.render import State

BOM_FORMATS = ("spdx-json", "spdx3-jsonld", "cyclonedx-json")

_db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The registry database.  [default: $AUDITOR_DATA_DIR/registry.sqlite3, "
    "else registry.sqlite3 in the user data dir]",
)


@click.group()
def registry() -> None:
    """Watch many Hub repos: scheduled scans with history (docs/registry.md)."""


def _open(db_path: Path | None) -> RegistryDB:
    """The database for reading: a missing one is a usage error (nothing is created)."""
    from auditor.registry.db import RegistryDB

    path = db_path or RegistryDB.default_path()
    if not path.exists():
        raise UsageError(
            f"no registry database at {path} (run `auditor registry scan` first, "
            "or name one with --db)"
        )
    return RegistryDB(path, create=False)


@registry.command("changes")
@_db_option
@click.option(
    "--since",
    metavar="DATE|SCAN_ID",
    help="Compare with the state after this scan, or after the scans started before this "
    "UTC date (YYYY-MM-DD[THH:MM[:SS]]).  [default: the completed scan before the latest]",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(("text", "json", "csv")),
    default="text",
    show_default=True,
    help="Output format (json and csv: docs/registry.md).",
)
@output_option("it")
@click.option(
    "--fail-on",
    type=click.Choice(("error", "warning", "never")),
    default="never",
    show_default=True,
    help="Exit 1 when a concluded license changed (or a component appeared) with this "
    "severity or worse, or a new finding at it appeared: error for an unknown or "
    "non-permissive license, warning for a permissive one.",
)
def changes_command(
    db_path: Path | None, since: str | None, fmt: str, output: Path | None, fail_on: str
) -> None:
    """What changed since an earlier scan: licenses per component, components, findings,
    repos that became gated, private or missing, came back, or failed."""
    from auditor.registry.changes import changes, parse_since
    from auditor.registry.render import changes_csv, render_changes_json, render_changes_text

    try:
        cut = parse_since(since) if since is not None else None
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    with reported(lambda: f"cannot write {output or '-'}"):
        with _open(db_path) as db:
            try:
                found = changes(db, cut)
            except LookupError as exc:
                raise UsageError(str(exc)) from None
        render = {"text": render_changes_text, "json": render_changes_json, "csv": changes_csv}
        emit(render[fmt](found), output)
    worst = found.worst()
    threshold = {"error": 3, "warning": 2}.get(fail_on)
    failing = threshold is not None and worst is not None and worst.rank >= threshold
    sys.exit(EXIT_FINDINGS if failing else EXIT_OK)


@registry.command("report")
@_db_option
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(("csv", "json")),
    default="csv",
    show_default=True,
    help="Report format (docs/registry.md).",
)
@output_option("it")
@click.option(
    "--bom",
    "boms",
    multiple=True,
    metavar="FORMAT",
    help="Also write one BOM per repo, re-audited at its recorded revision: "
    f"{', '.join(BOM_FORMATS)} (repeat, or separate with commas). Needs --output-dir; "
    "the report is then written only with --output.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where --bom writes (ORG_NAME.spdx.json, ...).",
)
def report_command(
    db_path: Path | None,
    fmt: str,
    output: Path | None,
    boms: tuple[str, ...],
    output_dir: Path | None,
) -> None:
    """The current state of every watched repo: status, revision, licenses per
    component, finding counts, last error."""
    from auditor.registry.render import render_report_json, report_csv

    names = format_names(boms) if boms else []
    for name in names:
        if name not in BOM_FORMATS:
            fail(f"unknown BOM format {name!r} (choose from {', '.join(BOM_FORMATS)})", EXIT_USAGE)
    if names and output_dir is None:
        fail("--bom needs --output-dir (one file per repository and format)", EXIT_USAGE)
    if output_dir is not None and not names:
        fail("--output-dir is for --bom", EXIT_USAGE)
    failed = 0
    with reported(lambda: f"cannot write {output or output_dir or '-'}"):
        with _open(db_path) as db:
            state = db.current()
        data = render_report_json(state) if fmt == "json" else report_csv(state)
        if output is not None or not names:
            emit(data, output)
        if names:
            assert output_dir is not None
            failed = write_boms(state, names, output_dir)
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


def write_boms(state: State, names: list[str], output_dir: Path) -> int:
    """One BOM per repo and format, each repo re-audited at its recorded revision through
    the Hub source; returns how many repos could not be (each named on stderr)."""
    from auditor.atomic import write_atomic
    from auditor.formats import FORMATS
    from auditor.pipeline import Options, run_audit

    renderers = [FORMATS.get(name)() for name in names]
    checksums = tuple(sorted({a for r in renderers for a in r.needs_checksums}))
    output_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for repo, _audit in state:
        if not repo.last_good_revision:
            click.echo(visible(f"auditor: {repo.repo_id}: never audited, no BOM"), err=True)
            continue
        target = f"hf://{repo.repo_id}@{repo.last_good_revision}"
        try:
            result = run_audit(target, Options(checksums=checksums))
            rendered = [
                (output_dir / f"{stem(target)}{r.suffix}", r.render(result)) for r in renderers
            ]
        except AuditorError as exc:
            click.echo(visible(f"auditor: error: {repo.repo_id}: {exc}"), err=True)
            failed += 1
            continue
        for path, data in rendered:
            write_atomic(path, data)
            click.echo(f"auditor: wrote {path}", err=True)
    return failed


registry.add_command(scan)
