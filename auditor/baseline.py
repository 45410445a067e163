"""Baseline files: the findings a team has accepted, by fingerprint (docs/policy.md).

``scan --write-baseline FILE`` writes every finding of an audit; a policy's
``baseline`` (or ``--baseline``) moves the findings whose fingerprint is in it to
``accepted``. Fingerprints (``model.fingerprint``) leave out line numbers and
counts, so that an unrelated edit does not bring an accepted finding back.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from auditor.atomic import write_atomic
from auditor.errors import UsageError
from auditor.model import AuditResult, Finding, fingerprint

BASELINE_VERSION = 1


def _baseline_entry(finding: Finding) -> dict[str, str | None]:
    return {
        "fingerprint": fingerprint(finding),
        "rule": finding.rule,
        "component": finding.component,
        "path": finding.path,
        "message": finding.message,
    }


def baseline_bytes(result: AuditResult) -> tuple[bytes, int]:
    """The baseline file for every finding of ``result`` (accepted ones included)."""
    entries = sorted(
        (_baseline_entry(f) for f in result.findings + result.accepted),
        key=lambda e: tuple(e[k] or "" for k in ("rule", "component", "path", "message")),
    )
    doc = {"baseline_version": BASELINE_VERSION, "findings": entries}
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8"), len(entries)


def write_baseline(path: Path, result: AuditResult) -> int:
    """Write every finding of ``result`` to the baseline file ``path``; return how many."""
    data, count = baseline_bytes(result)
    write_atomic(path, data)
    return count


def read_baseline(path: Path) -> frozenset[str]:
    """The fingerprints a baseline file accepts; a missing or malformed file is a UsageError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"baseline {path} does not exist (write one with --write-baseline {path})"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read baseline {path}: {exc.strerror or exc}") from exc
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"{path}: baseline is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: baseline is not valid JSON: {exc.msg}") from None
    if not isinstance(doc, dict) or doc.get("baseline_version") != BASELINE_VERSION:
        raise UsageError(
            f"{path}: not a baseline file (expected an object with "
            f'"baseline_version": {BASELINE_VERSION})'
        )
    entries = doc.get("findings")
    if not isinstance(entries, list):
        raise UsageError(f'{path}: baseline "findings" must be a list')
    fingerprints: set[str] = set()
    for n, entry in enumerate(entries):
        fp = entry.get("fingerprint") if isinstance(entry, dict) else None
        if not isinstance(fp, str) or not re.fullmatch(r"[0-9a-f]{16}", fp):
            raise UsageError(
                f'{path}: baseline finding #{n + 1} has no "fingerprint" of 16 hex digits'
            )
        fingerprints.add(fp)
    return frozenset(fingerprints)
