"""Resolving license links: "[Model License](LICENSE-MODEL)" means what LICENSE-MODEL holds.

Runs after detection, because it needs what every file was found to contain.
A link to a repo file takes that file's detections, with the scope the
statement gave; a link to a known license page takes that license; a link
to a repo file that is not there is recorded unresolved (a broken reference).
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from urllib.parse import unquote

from auditor.detectors import UNKNOWN_KEY, detection
from auditor.model import (
    Evidence,
    Inventory,
    LicenseDetection,
    LicenseReference,
    Method,
    ResolvedReference,
)
from auditor.names import key_for_url


def repo_path(ref: LicenseReference, files: set[str]) -> str | None:
    """The repo-relative path a link names, or None for an outside page."""
    target = unquote(ref.target.strip())
    if "://" in target:
        # A forge URL (.../blob/main/LICENSE) may name another repo's file (the base
        # model's): a local tree cannot tell, so it is never taken for this repo's file.
        return None
    target = target.split("#", 1)[0].split("?", 1)[0]
    if not target:
        return None
    if target.startswith("/"):  # root-relative, as forges render it
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(ref.evidence.path), target))


def resolve(
    inventory: Inventory,
    detections: tuple[LicenseDetection, ...],
    references: tuple[LicenseReference, ...],
) -> tuple[tuple[LicenseDetection, ...], tuple[ResolvedReference, ...]]:
    files = {f.path for f in inventory.files}
    by_path: dict[str, list[LicenseDetection]] = {}
    for d in detections:
        by_path.setdefault(d.evidence[0].path, []).append(d)
    added: list[LicenseDetection] = []
    resolved: list[ResolvedReference] = []
    for ref in references:
        link_ev = replace(ref.evidence, method=Method.LINK)
        path = repo_path(ref, files)
        if path is None:
            key = key_for_url(ref.target) if "://" in ref.target else None
            if key:
                added.append(detection(key, link_ev, scope=ref.scope, is_clue=not ref.states))
            resolved.append(ResolvedReference(ref, key is not None, (key,) if key else ()))
            continue
        if path not in files and not any(f.startswith(path + "/") for f in files):
            if not ref.mention:  # prose that names no file of ours is no broken link
                resolved.append(ResolvedReference(ref, False, path=path))
            continue
        keys = []
        for d in by_path.get(path, []):
            if d.is_clue or d.key == UNKNOWN_KEY:
                continue
            keys.append(d.key)
            target_ev: Evidence = d.evidence[0]
            added.append(
                replace(d, evidence=(link_ev, target_ev), scope=ref.scope, is_clue=not ref.states)
            )
        resolved.append(ResolvedReference(ref, True, tuple(dict.fromkeys(keys)), path))
    return tuple(added), tuple(resolved)
