"""Resolving license links: "[Model License](LICENSE-MODEL)" means what LICENSE-MODEL holds.

Runs after detection, because it needs what every file was found to contain.
A link to a repo file takes that file's detections, with the scope the
statement gave (or, for a statement that names no part, the part the file's
name gives: a link to MODEL_LICENSE speaks for the model); a link to a known
license page takes that license; a link to a repo file that is not there is
recorded unresolved (a broken reference). A vague name without a link ("the
Model License") takes the license of the repo's own license file for that
part, when exactly one license is there; otherwise it stays unknown.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from urllib.parse import unquote

from auditor.detectors import detection, unknown
from auditor.detectors.license_text import scope_of
from auditor.model import (
    UNKNOWN_KEY,
    Evidence,
    FileKind,
    Inventory,
    LicenseDetection,
    LicenseReference,
    Method,
    Place,
    ResolvedReference,
    Scope,
)
from auditor.names import key_for_name, key_for_url
from auditor.signatures import is_model_license, is_policy


def repo_path(ref: LicenseReference, files: set[str]) -> str | None:
    """The repo-relative path a link names, or None for an outside page."""
    target = unquote(ref.target.strip())
    if "://" in target or target.startswith("mailto:"):
        # A forge URL (.../blob/main/LICENSE) may name another repo's file (the base
        # model's): a local tree cannot tell, so it is never taken for this repo's file.
        return None
    target = target.split("#", 1)[0].split("?", 1)[0]
    if not target:
        return None
    if target.startswith("/"):  # root-relative, as forges render it
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(ref.evidence.path), target))


def _scope_for(ref: LicenseReference, path: str) -> Scope:
    """A statement that names no part takes the part the linked file is named for."""
    if ref.scope in (Scope.UNSPECIFIED, Scope.ALL):
        own = scope_of(path)
        if own is not Scope.UNSPECIFIED:
            return own
    return ref.scope


def _keys_of(dets: list[LicenseDetection]) -> list[LicenseDetection]:
    return [d for d in dets if not d.is_clue and d.key != UNKNOWN_KEY and not is_policy(d.key)]


def _vague(
    ref: LicenseReference,
    license_files: list[str],
    by_path: dict[str, list[LicenseDetection]],
) -> list[LicenseDetection]:
    """The repo's own license file that a vague name means, or an unknown statement."""
    folder = posixpath.dirname(ref.evidence.path)
    here = [p for p in license_files if posixpath.dirname(p) in (folder, "")]
    wanted = {Scope.CODE, Scope.MODEL} if ref.scope is Scope.ALL else {ref.scope}
    scoped = [p for p in here if scope_of(p) in wanted]
    found = [d for p in scoped for d in _keys_of(by_path.get(p, []))]
    if not found and ref.scope in (Scope.MODEL, Scope.UNSPECIFIED):
        # An unscoped license file: the one meant when it is a model license, or
        # when the statement names no part at all.
        unscoped = [p for p in here if scope_of(p) is Scope.UNSPECIFIED]
        found = [
            d
            for p in unscoped
            for d in _keys_of(by_path.get(p, []))
            if ref.scope is Scope.UNSPECIFIED or is_model_license(d.key)
        ]
    link_ev = replace(ref.evidence, method=Method.LINK)
    if len({d.key for d in found}) == 1:
        return [
            replace(
                d,
                evidence=(link_ev, d.evidence[0]),
                scope=ref.scope,
                is_clue=not ref.states,
                place=ref.place,
            )
            for d in found[:1]
        ]
    place = ref.place if ref.states else Place.MENTION
    return [unknown(ref.evidence, ref.scope, place, stated=ref.name)]


_LICENSE_NAME = re.compile(r"licen[cs]|许可|协议|agreement|terms", re.IGNORECASE)


def _names_license(name: str) -> bool:
    """A link text that names a license ("Model License", "《…许可协议》"), not a file or
    a bare URL."""
    return bool(name) and "://" not in name and bool(_LICENSE_NAME.search(name))


def resolve(
    inventory: Inventory,
    detections: tuple[LicenseDetection, ...],
    references: tuple[LicenseReference, ...],
) -> tuple[tuple[LicenseDetection, ...], tuple[ResolvedReference, ...]]:
    files = {f.path for f in inventory.files}
    license_files = sorted(f.path for f in inventory.files if f.kind is FileKind.LICENSE)
    by_path: dict[str, list[LicenseDetection]] = {}
    for d in detections:
        by_path.setdefault(d.evidence[0].path, []).append(d)
    added: list[LicenseDetection] = []
    resolved: list[ResolvedReference] = []
    for ref in references:
        if ref.vague:
            added.extend(_vague(ref, license_files, by_path))
            continue
        link_ev = replace(ref.evidence, method=Method.LINK)
        path = repo_path(ref, files)
        if path is None:
            key = key_for_url(ref.target) if "://" in ref.target else None
            if key:
                det = detection(key, link_ev, scope=ref.scope, is_clue=not ref.states)
                added.append(replace(det, place=ref.place))
            elif ref.states and _names_license(ref.name) and not key_for_name(ref.name):
                # "[《Baichuan-7B 模型许可协议》](https://.../license.pdf)": a license named,
                # kept elsewhere, and not one we know.
                added.append(unknown(ref.evidence, ref.scope, ref.place, stated=ref.name))
            resolved.append(ResolvedReference(ref, key is not None, (key,) if key else ()))
            continue
        if path not in files and not any(f.startswith(path + "/") for f in files):
            if not ref.mention:  # prose that names no file of ours is no broken link
                resolved.append(ResolvedReference(ref, False, path=path))
            continue
        keys = []
        for d in by_path.get(path, []):
            if d.is_clue or d.key == UNKNOWN_KEY or d.place is Place.THIRD_PARTY:
                continue  # a link to LICENSE means its license, not the texts appended to it
            keys.append(d.key)
            target_ev: Evidence = d.evidence[0]
            added.append(
                replace(
                    d,
                    evidence=(link_ev, target_ev),
                    scope=_scope_for(ref, path),
                    is_clue=not ref.states,
                    place=ref.place,
                )
            )
        resolved.append(ResolvedReference(ref, True, tuple(dict.fromkeys(keys)), path))
    return tuple(added), tuple(resolved)


def outside_texts(detections: tuple[LicenseDetection, ...]) -> tuple[LicenseDetection, ...]:
    """A README sentence inside a license text pasted into that README is part of the text,
    not a statement of its own ("Licensed under the Apache License, Version 2.0 ...")."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for d in detections:
        ev = d.evidence[0]
        if ev.method is Method.LICENSE_TEXT and d.key != UNKNOWN_KEY:
            spans.setdefault(ev.path, []).append((ev.start_line, ev.end_line))
    if not spans:
        return detections

    def inside(d: LicenseDetection) -> bool:
        ev = d.evidence[0]
        return ev.method is Method.README_STATEMENT and any(
            a <= ev.start_line <= b for a, b in spans.get(ev.path, ())
        )

    return tuple(d for d in detections if not inside(d))
