"""Grouping files into the parts a license covers: code, model, data.

Which declared license applies to which component follows the scope each
detection carries; ``concluded`` is set only when the declared licenses of a
component agree on one key. Anything less certain stays None ("unknown,
please review") rather than a guess.
"""

from __future__ import annotations

from auditor.detectors import UNKNOWN_KEY
from auditor.model import Component, ComponentKind, FileKind, Inventory, LicenseDetection, Scope
from auditor.signatures import is_policy

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


def _applies(detection: LicenseDetection, kind: ComponentKind) -> bool:
    return detection.scope in (Scope.ALL, Scope.UNSPECIFIED, SCOPE_OF_KIND[kind])


def conclude(declared: tuple[LicenseDetection, ...]) -> str | None:
    """One key when every declared license agrees, none is unidentified and no declared
    text was altered; else None ("unknown, review needed")."""
    if any(d.key == UNKNOWN_KEY for d in declared):
        return None  # "MIT AND something unknown" is not MIT
    if any(d.modified for d in declared):
        return None  # a changed license text is a different license: a person must read it
    keys = {d.key for d in declared if not d.is_clue and not is_policy(d.key)}
    return keys.pop() if len(keys) == 1 else None


def build_components(
    inventory: Inventory, detections: tuple[LicenseDetection, ...]
) -> tuple[Component, ...]:
    files: dict[ComponentKind, list[str]] = {}
    for entry in inventory.files:
        kind = KIND_OF_FILE.get(entry.kind)
        if kind is not None:
            files.setdefault(kind, []).append(entry.path)
    components = []
    for kind in ComponentKind:
        if kind not in files:
            continue
        declared = tuple(d for d in detections if _applies(d, kind))
        components.append(
            Component(
                name=kind.value,
                kind=kind,
                files=tuple(sorted(files[kind])),
                declared=declared,
                concluded=conclude(declared),
            )
        )
    return tuple(components)
