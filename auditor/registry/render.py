"""The registry's outputs: what changed (``registry changes``) and the current state
(``registry report``) as text, JSON and CSV; formats in docs/registry.md.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from auditor import __version__
from auditor.registry.changes import Change, Changes, RepoChanges
from auditor.registry.db import Observation, RepoState, Scan, StoredAudit
from auditor.signatures import label, license_keys
from auditor.terminal import report_lines

#: Every repo with the audit its licenses come from (``RegistryDB.current``).
State = list[tuple[RepoState, "StoredAudit | None"]]

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


def _scan_dict(scan: Scan | None) -> dict[str, Any] | None:
    if scan is None:
        return None
    return {
        "scan_id": scan.id,
        "started_at": scan.started_at,
        "finished_at": scan.finished_at,
        "status": scan.status,
    }


def _observation_dict(o: Observation | None) -> dict[str, Any] | None:
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
    if not expression:
        return "UNKNOWN"
    return " AND ".join(label(k) for k in license_keys(expression))


_MARK = {"error": "E", "warning": "W", "note": "N", None: " "}


def _change_line(c: Change) -> str | tuple[str, str]:
    """A change's line (a license change: two lines)."""
    mark = _MARK[c.severity]
    revs = f"({_short(c.old_revision)} → {_short(c.new_revision)})"
    if c.kind == "license":
        return (
            f"  {mark} license   {c.component}: {_label(c.old)} → {_label(c.new)}  {revs}",
            f"                {c.detail}",
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
        for c in r.changes:
            line = _change_line(c)
            out.extend((line,) if isinstance(line, str) else line)
        out.append("")
    if found.repos:
        out.pop()
        count = len(found.repos)
        out.append("")
        out.append(f"{count} repo{'' if count == 1 else 's'} changed")
    return report_lines(out)


def report_dict(state: State) -> dict[str, Any]:
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


def render_report_json(state: State) -> bytes:
    return (json.dumps(report_dict(state), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def report_csv(state: State) -> bytes:
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
