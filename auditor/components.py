"""Grouping files into the parts a license covers (code, models, data); one license each.

Precedence (docs/identification.md, "Which license covers what"), strongest first:

1. ``scoped``: a statement that names what it covers: LICENSE-MODEL /
   MODEL_LICENSE / LICENSE-CODE files, README sentences and links scoped to
   code, weights or data, package metadata (code).
2. ``metadata``: the model card's ``license`` field and weight-file headers
   speak for the model.
3. ``repository``: a statement that covers everything ("all files in this
   repository are under X").
4. ``unscoped``: a lone LICENSE or an unscoped README statement covers the
   code, and a model or data set only when nothing above speaks for it.

The first tier that speaks decides. It concludes one key when all its
licenses agree, none is unidentified and no text was altered; anything less
is None ("unknown, please review"). Licenses from other tiers that name a
different license are kept as ``disagreeing`` (the license-mismatch rule).
SPDX-License-Identifier tags speak for their own file only: their keys join
the code's conclusion with AND.

A folder with its own weights and its own model card or license file is a
model of its own; other folders belong to the repo's model (diffusers
pipelines, ``original/`` checkpoints, ONNX exports are one model).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from auditor.detectors import UNKNOWN_KEY
from auditor.model import (
    Component,
    ComponentKind,
    FileKind,
    Inventory,
    LicenseDetection,
    Method,
    Obligation,
    Scope,
)
from auditor.obligations import license_keys, obligations_for
from auditor.signatures import catalog, is_policy

KIND_OF_FILE: dict[FileKind, ComponentKind] = {
    FileKind.CODE: ComponentKind.CODE,
    FileKind.WEIGHTS: ComponentKind.MODEL,
    FileKind.CONFIG: ComponentKind.MODEL,
    FileKind.TOKENIZER: ComponentKind.MODEL,
    FileKind.DATA: ComponentKind.DATA,
}

SCOPE_OF_KIND: dict[ComponentKind, Scope] = {
    ComponentKind.CODE: Scope.CODE,
    ComponentKind.MODEL: Scope.MODEL,
    ComponentKind.DATA: Scope.DATA,
}

TIERS = ("scoped", "metadata", "repository", "unscoped")
REASONS = {
    "scoped": "a statement that names what it covers",
    "metadata": "the model card / weights metadata speaks for the model",
    "repository": "a statement that covers the whole repository",
    "unscoped": "an unscoped license (lone LICENSE or README statement)",
    "file-tags": "SPDX-License-Identifier tags of the files",
}
#: Families of licenses written for models: a lone LICENSE with one of these is
#: the model's license too, so a card that says otherwise disagrees with it.
NOT_MODEL_FAMILIES = {"permissive", "notice", "acceptable-use-policy", None}


def _tier(d: LicenseDetection, kind: ComponentKind) -> str | None:
    """The precedence tier ``d`` has for a component of ``kind``, or None if it does not apply."""
    if _is_tag(d):
        return None  # file tags are handled apart: they cover their own file only
    if d.scope is SCOPE_OF_KIND[kind]:
        if d.evidence[0].method in (Method.CARD_METADATA, Method.WEIGHTS_METADATA):
            return "metadata"
        return "scoped"
    if d.scope is Scope.ALL:
        return "repository"
    if d.scope is Scope.UNSPECIFIED:
        return "unscoped"
    return None


def _speaks(d: LicenseDetection) -> bool:
    """A license statement, or an unidentified one; not a mere mention, not a use policy."""
    return d.key == UNKNOWN_KEY or not (d.is_clue or is_policy(d.key))


def is_model_license(key: str) -> bool:
    cat = catalog()
    return (
        key in cat
        and "shared" in cat.get(key).raw.get("origin", ())
        and (cat.get(key).family not in NOT_MODEL_FAMILIES)
    )


def conclude(
    declared: tuple[LicenseDetection, ...], kind: ComponentKind
) -> tuple[str | None, tuple[LicenseDetection, ...], str, tuple[LicenseDetection, ...]]:
    """(concluded, basis, reason, disagreeing) for one component's declared licenses."""
    tiers: dict[str, list[LicenseDetection]] = {t: [] for t in TIERS}
    for d in declared:
        tier = _tier(d, kind)
        if tier is not None and _speaks(d):
            tiers[tier].append(d)
    tags = [d for d in declared if _is_tag(d) and _speaks(d)]
    winner = next((t for t in TIERS if tiers[t]), None)
    basis = tuple(tiers[winner]) if winner else ()
    keys = list(dict.fromkeys(d.key for d in basis))
    certain = (
        bool(basis)
        and len(keys) == 1
        and keys[0] != UNKNOWN_KEY
        and not any(d.modified for d in basis)
    )
    concluded = keys[0] if certain else None
    reason = REASONS[winner] if winner else ""
    if tags and (certain or not basis):
        tag_keys = sorted({d.key for d in tags})
        per_tag: dict[tuple[str, int], set[str]] = {}
        for d in tags:
            per_tag.setdefault((d.evidence[0].path, d.evidence[0].start_line), set()).add(d.key)
        if UNKNOWN_KEY in tag_keys or any(len(k) > 1 for k in per_tag.values()):
            concluded = None  # an expression in a tag (MIT OR Apache-2.0): a person decides
        else:
            joined = ([concluded] if concluded else []) + [k for k in tag_keys if k != concluded]
            concluded = " AND ".join(joined)
        basis = basis + tuple(tags)
        reason = f"{reason} and {REASONS['file-tags']}" if reason else REASONS["file-tags"]
    disagreeing: list[LicenseDetection] = []
    basis_keys = set(keys)
    for tier in TIERS:
        if tier == winner:
            if len(basis_keys - {UNKNOWN_KEY}) > 1:
                disagreeing.extend(d for d in tiers[tier] if d.key != UNKNOWN_KEY)
            continue
        for d in tiers[tier]:
            if d.key == UNKNOWN_KEY or d.key in basis_keys:
                continue
            if (
                tier == "unscoped"
                and kind is not ComponentKind.CODE
                and winner is not None
                and not is_model_license(d.key)
            ):
                # a lone LICENSE is the code's when something else speaks for the model;
                # it disagrees only when it is itself a model license
                continue
            disagreeing.append(d)
    return concluded, basis, reason, tuple(disagreeing)


def applicable(
    declared: tuple[LicenseDetection, ...], kind: ComponentKind
) -> tuple[LicenseDetection, ...]:
    """Drop the lone LICENSE from a model's or data set's declared licenses when something
    else speaks for it, unless that LICENSE is itself a model license (then it disagrees)."""
    if kind is ComponentKind.CODE:
        return declared
    higher = any(_tier(d, kind) not in (None, "unscoped") and _speaks(d) for d in declared)
    if not higher:
        return declared
    return tuple(
        d
        for d in declared
        if _tier(d, kind) != "unscoped" or d.key == UNKNOWN_KEY or is_model_license(d.key)
    )


def _model_roots(inventory: Inventory) -> list[str]:
    """Folders that are models of their own: own weights plus own card or license file."""
    speaking: set[str] = set()
    weights: set[str] = set()
    for f in inventory.files:
        folder = posixpath.dirname(f.path)
        if f.kind in (FileKind.README, FileKind.LICENSE):
            speaking.add(folder)
        elif f.kind is FileKind.WEIGHTS:
            weights.add(folder)
    roots = []
    for folder in sorted(speaking):
        if folder and any(w == folder or w.startswith(folder + "/") for w in weights):
            roots.append(folder)
    return roots


def _root_of(path: str, roots: list[str]) -> str:
    best = ""
    for root in roots:
        if path.startswith(root + "/") and len(root) > len(best):
            best = root
    return best


def _obligations(concluded: str | None) -> tuple[Obligation, ...]:
    out: list[Obligation] = []
    for key in license_keys(concluded):
        out.extend(obligations_for(key))
    return tuple(out)


def _component(
    name: str,
    kind: ComponentKind,
    files: Iterable[str],
    declared: tuple[LicenseDetection, ...],
    path: str = "",
) -> Component:
    declared = applicable(declared, kind)
    concluded, basis, reason, disagreeing = conclude(declared, kind)
    return Component(
        name=name,
        kind=kind,
        files=tuple(sorted(files)),
        declared=declared,
        concluded=concluded,
        path=path,
        basis=basis,
        reason=reason,
        disagreeing=disagreeing,
        obligations=_obligations(concluded),
    )


def _states_model(detections: Iterable[LicenseDetection]) -> bool:
    return any(d.scope is Scope.MODEL and _speaks(d) and not is_policy(d.key) for d in detections)


def build_components(
    inventory: Inventory, detections: tuple[LicenseDetection, ...]
) -> tuple[Component, ...]:
    roots = _model_roots(inventory)
    located: dict[str, list[LicenseDetection]] = {}
    for d in detections:
        located.setdefault(_root_of(d.evidence[0].path, roots), []).append(d)
    top = tuple(located.get("", ()))
    files: dict[tuple[ComponentKind, str], list[str]] = {}
    for entry in inventory.files:
        kind = KIND_OF_FILE.get(entry.kind)
        if kind is None:
            continue
        root = _root_of(entry.path, roots) if kind is ComponentKind.MODEL else ""
        files.setdefault((kind, root), []).append(entry.path)
    components = []
    if (ComponentKind.CODE, "") in files:
        declared = tuple(d for d in top if _tier(d, ComponentKind.CODE) or _is_tag(d))
        components.append(
            _component("code", ComponentKind.CODE, files[(ComponentKind.CODE, "")], declared)
        )
    if (ComponentKind.MODEL, "") in files or _states_model(top):
        declared = tuple(d for d in top if _tier(d, ComponentKind.MODEL) or is_policy(d.key))
        model_files = files.get((ComponentKind.MODEL, ""), [])
        components.append(_component("model", ComponentKind.MODEL, model_files, declared))
    for root in roots:
        own = tuple(located.get(root, ()))
        applies = tuple(d for d in own if _tier(d, ComponentKind.MODEL) or is_policy(d.key))
        if not any(_speaks(d) and not is_policy(d.key) for d in applies):
            # a folder whose card says nothing of its license inherits the repo's
            applies = applies + tuple(
                d for d in top if _tier(d, ComponentKind.MODEL) or is_policy(d.key)
            )
        components.append(
            _component(
                f"model:{root}",
                ComponentKind.MODEL,
                files.get((ComponentKind.MODEL, root), []),
                applies,
                root,
            )
        )
    if (ComponentKind.DATA, "") in files:
        declared = tuple(d for d in top if _tier(d, ComponentKind.DATA))
        components.append(
            _component("data", ComponentKind.DATA, files[(ComponentKind.DATA, "")], declared)
        )
    return tuple(components)


def _is_tag(d: LicenseDetection) -> bool:
    return d.evidence[0].method is Method.SPDX_TAG
