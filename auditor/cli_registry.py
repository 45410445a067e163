"""``auditor registry``: watch many Hub repos (docs/registry.md).

``registry changes`` says what changed since an earlier scan, ``registry report``
gives the current state of every watched repo (and BOMs on request); both read
the registry database (``auditor/registry_db.py``) that ``registry scan`` writes.

Exit codes: 0 (also when there are changes: a scheduled job tells "needs
attention" by ``changes --fail-on``), 1 a change at or above ``--fail-on``,
2 usage error (a bad option, no database), 3 the database or a BOM audit failed.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from auditor import __version__
from auditor.atomic import write_atomic
from auditor.cli import EXIT_FAILED, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, fail
from auditor.errors import AuditorError, UsageError

if TYPE_CHECKING:  # the database module loads only for `auditor registry` commands
    from auditor.registry_db import Change, Changes, RegistryDB, RepoChanges, StoredAudit

CHANGES_VERSION = "1.0"
REPORT_VERSION = "1.0"
CHANGES_CSV = (
    "repo_id",
    "kind",
    "component",
    "old",
    "new",
    "old_revision",
    "new_revision",
    "detail",
)
REPORT_CSV = (
    "repo_id",
    "status",
    "scanned_at",
    "scan_id",
    "revision",
    "audited_revision",
    "component",
    "kind",
    "concluded",
    "declared",
    "errors",
    "warnings",
    "notes",
    "error",
)
BOM_FORMATS = ("spdx-json", "spdx3-jsonld", "cyclonedx-json")

_db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The registry database.  [default: $AUDITOR_DATA_DIR/registry.sqlite3, "
    "else registry.sqlite3 in the user data dir]",
)
_output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE (atomically) instead of standard output.",
)


@click.group()
def registry() -> None:
    """Watch many Hub repos: scheduled scans with history (docs/registry.md)."""


def _open(db_path: Path | None) -> RegistryDB:
    """The database for reading: a missing one is a usage error (nothing is created)."""
    from auditor.registry_db import RegistryDB

    path = db_path or RegistryDB.default_path()
    if not path.exists():
        raise UsageError(
            f"no registry database at {path} (run `auditor registry scan` first, "
            "or name one with --db)"
        )
    return RegistryDB(path, create=False)


def _emit(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_atomic(output, data)


# -- changes -----------------------------------------------------------------------------


@registry.command("changes")
@_db_option
@click.option(
    "--since",
    metavar="DATE|SCAN_ID",
    help="Compare with the state after this scan, or after the scans started before this "
    "UTC date (YYYY-MM-DD[THH:MM[:SS]]).  [default: the completed scan before the latest]",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("text", "json", "csv")),
    default="text",
    show_default=True,
    help="Output format (json and csv: docs/registry.md).",
)
@_output_option
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
    try:
        from auditor.registry_db import changes, parse_since

        cut = parse_since(since) if since is not None else None
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    try:
        with _open(db_path) as db:
            try:
                found = changes(db, cut)
            except LookupError as exc:
                raise UsageError(str(exc)) from None
        render = {"text": render_changes_text, "json": render_changes_json, "csv": changes_csv}
        _emit(render[fmt](found), output)
    except UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    except AuditorError as exc:
        fail(str(exc), EXIT_FAILED)
    except OSError as exc:
        fail(f"cannot write {output or '-'}: {exc.strerror or exc}", EXIT_FAILED)
    worst = found.worst()
    threshold = {"error": 3, "warning": 2}.get(fail_on)
    failing = threshold is not None and worst is not None and worst.rank >= threshold
    sys.exit(EXIT_FINDINGS if failing else EXIT_OK)


def _change_dict(c: Change) -> dict[str, Any]:
    return {
        "kind": c.kind,
        "component": c.component,
        "old": c.old,
        "new": c.new,
        "old_revision": c.old_revision,
        "new_revision": c.new_revision,
        "severity": c.severity,
        "detail": c.detail,
    }


def changes_dict(found: Changes) -> dict[str, Any]:
    """The JSON document (docs/registry.md): fixed key order, repos and changes sorted."""
    by_kind: dict[str, int] = {}
    for r in found.repos:
        for c in r.changes:
            by_kind[c.kind] = by_kind.get(c.kind, 0) + 1
    worst = found.worst()
    return {
        "changes_version": CHANGES_VERSION,
        "tool": {"name": "auditor", "version": __version__},
        "since": _scan_dict(found.since),
        "latest": _scan_dict(found.latest),
        "summary": {
            "repos": len(found.repos),
            "changes": dict(sorted(by_kind.items())),
            "worst": worst.value if worst else None,
        },
        "repos": [
            {
                "repo_id": r.repo_id,
                "old": _observation_dict(r.old),
                "new": _observation_dict(r.new),
                "changes": [_change_dict(c) for c in r.changes],
            }
            for r in found.repos
        ],
    }


def _scan_dict(scan: Any) -> dict[str, Any] | None:
    if scan is None:
        return None
    return {
        "scan_id": scan.id,
        "started_at": scan.started_at,
        "finished_at": scan.finished_at,
        "status": scan.status,
    }


def _observation_dict(o: Any) -> dict[str, Any] | None:
    if o is None:
        return None
    return {
        "scan_id": o.scan_id,
        "status": o.status,
        "revision": o.revision,
        "error": o.error,
        "at": o.at,
    }


def render_changes_json(found: Changes) -> bytes:
    return (json.dumps(changes_dict(found), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _csv(header: tuple[str, ...], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buf.getvalue().encode("utf-8")


def changes_csv(found: Changes) -> bytes:
    """One row per change: repo_id, kind, component, old, new, old/new revision, detail."""
    return _csv(
        CHANGES_CSV,
        [
            [
                r.repo_id,
                c.kind,
                c.component,
                c.old,
                c.new,
                c.old_revision,
                c.new_revision,
                c.detail,
            ]
            for r in found.repos
            for c in r.changes
        ],
    )


def _short(revision: str | None) -> str:
    if revision is None:
        return "-"
    return revision[:12] if len(revision) >= 40 else revision


def _label(expression: str | None) -> str:
    """A license expression of keys with its names: ``MIT License (mit)``; UNKNOWN for None."""
    from auditor.signatures import label, license_keys

    if not expression:
        return "UNKNOWN"
    return " AND ".join(label(k) for k in license_keys(expression))


_SIGN = {
    "component-added": "+ component",
    "component-removed": "- component",
    "finding-new": "+ finding",
    "finding-resolved": "- finding",
}
_MARK = {"error": "E", "warning": "W", "note": "N", None: " "}


def _change_line(c: Change) -> str:
    mark = _MARK[c.severity]
    revs = f"({_short(c.old_revision)} → {_short(c.new_revision)})"
    if c.kind == "license":
        return (
            f"  {mark} license   {c.component}: {_label(c.old)} → {_label(c.new)}  {revs}\n"
            f"                {c.detail}"
        )
    if c.kind == "declared":
        return f"  {mark} declared  {c.component}: {c.old} → {c.new}  {revs}"
    if c.kind == "component-added":
        return f"  {mark} + component {c.component}: {_label(c.new)}  {revs}"
    if c.kind == "component-removed":
        return f"  {mark} - component {c.component}: was {_label(c.old)}  {revs}"
    if c.kind in ("finding-new", "finding-resolved"):
        sign = "+" if c.kind == "finding-new" else "-"
        comp = f" [{c.component}]" if c.component else ""
        return f"  {mark} {sign} finding{comp} {c.detail}"
    if c.kind == "new-repo":
        return f"  {mark} new repo ({c.new})"
    if c.kind == "back":
        return f"  {mark} back: {c.old} → {c.new}"
    if c.kind == "failed":
        return f"  {mark} failed: {c.detail}"
    return f"  {mark} {c.kind}: {c.detail}"  # gated, private, missing


def _repo_heading(r: RepoChanges) -> str:
    def side(status: str, revision: str | None) -> str:
        return f"{status} {_short(revision)}" if revision else status

    old = side(r.old.status, r.old.revision) if r.old else "not seen"
    new = side(r.new.status, r.new.revision)
    return f"{r.repo_id}  ({old} → {new})"


def render_changes_text(found: Changes) -> bytes:
    out = [f"auditor {__version__} registry changes"]
    since = found.since
    latest = found.latest
    old = f"scan {since.id} ({since.started_at}, {since.status})" if since else "the beginning"
    new = f"scan {latest.id} ({latest.started_at}, {latest.status})" if latest else "no scans"
    out.append(f"since {old}, up to {new}")
    out.append("")
    if not found.repos:
        out.append("no changes")
    for r in found.repos:
        out.append(_repo_heading(r))
        out.extend(_change_line(c) for c in r.changes)
        out.append("")
    if found.repos:
        out.pop()
        count = len(found.repos)
        out.append("")
        out.append(f"{count} repo{'' if count == 1 else 's'} changed")
    return ("\n".join(out) + "\n").encode("utf-8")


# -- report ------------------------------------------------------------------------------


@registry.command("report")
@_db_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("csv", "json")),
    default="csv",
    show_default=True,
    help="Report format (docs/registry.md).",
)
@_output_option
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
    from auditor.cli import _format_names

    names = _format_names(boms) if boms else []
    for name in names:
        if name not in BOM_FORMATS:
            fail(f"unknown BOM format {name!r} (choose from {', '.join(BOM_FORMATS)})", EXIT_USAGE)
    if names and output_dir is None:
        fail("--bom needs --output-dir (one file per repository and format)", EXIT_USAGE)
    if output_dir is not None and not names:
        fail("--output-dir is for --bom", EXIT_USAGE)
    failed = 0
    try:
        with _open(db_path) as db:
            state = current(db)
        data = render_report_json(state) if fmt == "json" else report_csv(state)
        if output is not None or not names:
            _emit(data, output)
        if names:
            assert output_dir is not None
            failed = write_boms(state, names, output_dir)
    except UsageError as exc:
        fail(str(exc), EXIT_USAGE)
    except AuditorError as exc:
        fail(str(exc), EXIT_FAILED)
    except OSError as exc:
        fail(f"cannot write {output or output_dir or '-'}: {exc.strerror or exc}", EXIT_FAILED)
    sys.exit(EXIT_FAILED if failed else EXIT_OK)


def current(db: RegistryDB) -> list[tuple[Any, StoredAudit | None]]:
    """Every repo with the audit its licenses come from (its last good revision)."""
    out: list[tuple[Any, StoredAudit | None]] = []
    for repo in db.repos():
        audit = db.audit(repo.repo_id, repo.last_good_revision) if repo.last_good_revision else None
        out.append((repo, audit))
    return out


def report_dict(state: list[tuple[Any, StoredAudit | None]]) -> dict[str, Any]:
    repos = []
    for repo, audit in state:
        repos.append(
            {
                "repo_id": repo.repo_id,
                "status": repo.last_status,
                "scanned_at": repo.scanned_at,
                "scan_id": repo.last_scan_id,
                "first_seen": repo.first_seen,
                "revision": repo.last_revision,
                "audited_revision": repo.last_good_revision,
                "error": repo.last_error,
                "components": [
                    {
                        "name": c.name,
                        "kind": c.kind,
                        "concluded": c.concluded,
                        "declared": list(c.declared),
                    }
                    for c in (audit.components if audit else ())
                ],
                "findings": audit.counts() if audit else None,
            }
        )
    return {
        "report_version": REPORT_VERSION,
        "tool": {"name": "auditor", "version": __version__},
        "repos": repos,
    }


def render_report_json(state: list[tuple[Any, StoredAudit | None]]) -> bytes:
    return (json.dumps(report_dict(state), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def report_csv(state: list[tuple[Any, StoredAudit | None]]) -> bytes:
    """One row per repo and component (one row with no component for a repo without audit)."""
    rows: list[list[Any]] = []
    for repo, audit in state:
        counts = audit.counts() if audit else {}
        head = [
            repo.repo_id,
            repo.last_status,
            repo.scanned_at,
            repo.last_scan_id,
            repo.last_revision,
            repo.last_good_revision,
        ]
        tail = [counts.get("error"), counts.get("warning"), counts.get("note"), repo.last_error]
        components = audit.components if audit else ()
        if not components:
            rows.append([*head, None, None, None, None, *tail])
        for c in components:
            rows.append([*head, c.name, c.kind, c.concluded, " ".join(c.declared), *tail])
    return _csv(REPORT_CSV, rows)


def write_boms(
    state: list[tuple[Any, StoredAudit | None]], names: list[str], output_dir: Path
) -> int:
    """One BOM per repo and format, each repo re-audited at its recorded revision through
    the Hub source; returns how many repos could not be (each named on stderr)."""
    from auditor.cli import _stem
    from auditor.formats import FORMATS
    from auditor.pipeline import Options, run_audit

    renderers = [FORMATS.get(name)() for name in names]
    checksums = tuple(sorted({a for r in renderers for a in r.needs_checksums}))
    output_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for repo, _audit in state:
        if not repo.last_good_revision:
            click.echo(f"auditor: {repo.repo_id}: never audited, no BOM", err=True)
            continue
        target = f"hf://{repo.repo_id}@{repo.last_good_revision}"
        try:
            result = run_audit(target, Options(checksums=checksums))
            rendered = [
                (output_dir / f"{_stem(target)}{r.suffix}", r.render(result)) for r in renderers
            ]
        except AuditorError as exc:
            click.echo(f"auditor: error: {repo.repo_id}: {exc}", err=True)
            failed += 1
            continue
        for path, data in rendered:
            write_atomic(path, data)
            click.echo(f"auditor: wrote {path}", err=True)
    return failed


# -- registry scan (auditor/cli_registry_scan.py) -----------------------------------------


from auditor.cli_registry_scan import scan as _scan  # noqa: E402

registry.add_command(_scan)
