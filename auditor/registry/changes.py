"""What changed in the registry between two scans: per repo, its status, concluded and
declared licenses per component, components, and findings (``registry changes``).

Computed from the database (``auditor.registry.db``) alone; rendering is
``auditor.registry.render``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from auditor.model import Severity
from auditor.registry.db import (
    GOOD,
    Observation,
    RegistryDB,
    Scan,
    StoredAudit,
    StoredFinding,
    iso,
)

#: Change kinds, in the order they are listed for a repo.
CHANGE_KINDS = (
    "new-repo",
    "failed",
    "gated",
    "private",
    "missing",
    "back",
    "license",
    "declared",
    "component-added",
    "component-removed",
    "finding-new",
    "finding-resolved",
)


@dataclass(frozen=True)
class Change:
    """One change of one repo: a row of the CSV (docs/registry.md)."""

    kind: str
    component: str | None = None
    old: str | None = None
    new: str | None = None
    old_revision: str | None = None
    new_revision: str | None = None
    detail: str = ""
    #: For a changed or added concluded license, and for new findings: how much it matters.
    severity: str | None = None

    def order(self) -> tuple[int, str, str, str, str]:
        return (
            CHANGE_KINDS.index(self.kind),
            self.component or "",
            self.old or "",
            self.new or "",
            self.detail,
        )


@dataclass(frozen=True)
class RepoChanges:
    repo_id: str
    old: Observation | None
    new: Observation
    changes: tuple[Change, ...]


@dataclass(frozen=True)
class Changes:
    since: Scan | None  # the last scan of the old side; None: everything is new
    latest: Scan | None
    repos: tuple[RepoChanges, ...] = field(default=())

    def worst(self) -> Severity | None:
        ranks = [Severity(c.severity) for r in self.repos for c in r.changes if c.severity]
        return max(ranks, key=lambda s: s.rank) if ranks else None


def parse_since(value: str) -> int | str:
    """``--since``: a scan id (digits) or a date/time, as the stored UTC text; ValueError."""
    if value.isdigit():
        return int(value)
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text += "T00:00:00"
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"--since {value!r} is neither a scan id nor a date (YYYY-MM-DD[THH:MM[:SS]][Z])"
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return iso(t)


def changes(db: RegistryDB, since: int | str | None = None) -> Changes:
    """What changed for each repo between its state as of ``since`` and its latest state.

    ``since``: a scan id (its state after that scan), a UTC time as ``iso`` writes it
    (the state after the scans started before it), or None: the latest completed scan
    before the latest scan. The old state of a repo is its latest observation in a scan
    up to that one; its new state is its latest observation after it.
    """
    scans = db.scans()
    latest = scans[-1] if scans else None
    cut: Scan | None
    if isinstance(since, int):
        named = [s for s in scans if s.id == since]
        if not named:
            raise LookupError(f"no scan {since} in {db.path}")
        cut = named[0]
    elif isinstance(since, str):
        started = [s for s in scans if s.started_at < since]
        cut = started[-1] if started else None
    else:
        earlier = [s for s in scans[:-1] if s.status == "complete"]
        cut = earlier[-1] if earlier else None
    cut_id = cut.id if cut else 0
    by_repo: dict[str, list[Observation]] = {}
    for o in db.observations():
        by_repo.setdefault(o.repo_id, []).append(o)
    out: list[RepoChanges] = []
    for repo_id, history in sorted(by_repo.items()):
        old_side = [o for o in history if o.scan_id <= cut_id]
        new_side = [o for o in history if o.scan_id > cut_id]
        if not new_side:
            continue  # not seen since: nothing to say
        old, new = (old_side[-1] if old_side else None), new_side[-1]
        old_good = next((o for o in reversed(old_side) if o.status in GOOD), None)
        new_good = next((o for o in reversed(history) if o.status in GOOD), None)
        found = _status_changes(old, new)
        if (
            old_good is not None
            and new_good is not None
            and old_good.revision
            and new_good.revision
            and old_good.revision != new_good.revision
        ):
            before = db.audit(repo_id, old_good.revision)
            after = db.audit(repo_id, new_good.revision)
            if before is not None and after is not None:
                found += _audit_changes(before, after)
        if found:
            out.append(RepoChanges(repo_id, old, new, tuple(sorted(found, key=Change.order))))
    return Changes(cut, latest, tuple(out))


_BECAME = {"gated": "now gated", "private": "now private", "missing": "vanished from the Hub"}


def _status_changes(old: Observation | None, new: Observation) -> list[Change]:
    revs = {"old_revision": old.revision if old else None, "new_revision": new.revision}
    out: list[Change] = []
    if old is None:
        out.append(Change("new-repo", new=new.status, detail="first seen", **revs))
    if new.status == "failed":
        detail = new.error or "failed"
        out.append(
            Change("failed", old=old.status if old else None, new="failed", detail=detail, **revs)
        )
    elif new.status in _BECAME and (old is None or old.status != new.status):
        out.append(
            Change(
                new.status,
                old=old.status if old else None,
                new=new.status,
                detail=_BECAME[new.status] + (f": {new.error}" if new.error else ""),
                **revs,
            )
        )
    elif old is not None and new.status in GOOD and old.status in _BECAME:
        out.append(
            Change("back", old=old.status, new=new.status, detail=f"was {old.status}", **revs)
        )
    return out


def _audit_changes(before: StoredAudit, after: StoredAudit) -> list[Change]:
    from auditor.diff import rank_license

    revs = {"old_revision": before.revision, "new_revision": after.revision}
    out: list[Change] = []
    old = {c.name: c for c in before.components}
    new = {c.name: c for c in after.components}
    for name in sorted(old.keys() & new.keys()):
        o, n = old[name], new[name]
        if o.concluded != n.concluded:
            severity, reason = rank_license(n.concluded)
            declared = f"; declared: {_keys(o.declared)} → {_keys(n.declared)}"
            out.append(
                Change(
                    "license",
                    name,
                    o.concluded,
                    n.concluded,
                    detail=reason + (declared if o.declared != n.declared else ""),
                    severity=severity.value,
                    **revs,
                )
            )
        elif o.declared != n.declared:
            out.append(
                Change(
                    "declared",
                    name,
                    _keys(o.declared),
                    _keys(n.declared),
                    detail="declared licenses changed; the concluded license did not",
                    **revs,
                )
            )
    for name in sorted(new.keys() - old.keys()):
        severity, reason = rank_license(new[name].concluded)
        out.append(
            Change(
                "component-added",
                name,
                None,
                new[name].concluded,
                detail=f"new {new[name].kind} component; {reason}",
                severity=severity.value,
                **revs,
            )
        )
    for name in sorted(old.keys() - new.keys()):
        out.append(
            Change(
                "component-removed",
                name,
                old[name].concluded,
                None,
                detail=f"{old[name].kind} component removed",
                **revs,
            )
        )
    # Findings by fingerprint, counted: a third finding with the fingerprint of two is new.
    # A finding accepted by a baseline on the new side is not news.
    reported = [f for f in after.findings if not f.accepted]
    for f in _unmatched(reported, before.findings):
        out.append(
            Change(
                "finding-new",
                f.component,
                None,
                f.fingerprint,
                detail=_finding_text(f),
                severity=f.severity,
                **revs,
            )
        )
    for f in _unmatched(before.findings, after.findings):
        out.append(
            Change(
                "finding-resolved",
                f.component,
                f.fingerprint,
                None,
                detail=_finding_text(f),
                **revs,
            )
        )
    return out


def _unmatched(
    findings: Iterable[StoredFinding], known: Iterable[StoredFinding]
) -> list[StoredFinding]:
    left = Counter(f.fingerprint for f in known)
    out = []
    for f in findings:
        if left[f.fingerprint] > 0:
            left[f.fingerprint] -= 1
        else:
            out.append(f)
    return out


def _finding_text(f: StoredFinding) -> str:
    where = f" {f.path}" if f.path else ""
    return f"{f.severity} {f.rule}{where}: {f.message}"


def _keys(keys: tuple[str, ...]) -> str:
    return " ".join(keys) if keys else "none"
