"""Grouping files into the parts a license covers (code, models, data); one license each.

Which license covers a part is decided by the weight of the evidence
(auditor.evidence): the strongest evidence concludes when it is unambiguous,
and weaker evidence that names another license is kept as ``disagreeing``
(the license-mismatch rule), never a veto. The answer is unknown only when
the strongest evidence itself disagrees, is unidentified, or is a modified
text; ``reason`` then says so.

What applies to which part:

- A statement or file named for a part (LICENSE-MODEL, "the code is licensed
  under ...", a Code License badge) speaks for that part.
- An unscoped license (a lone LICENSE, "licensed under MIT") covers the code,
  and a model or data set only when nothing at README level speaks for it, or
  when it is itself a model license (a lone LICENSE holding the Llama 2
  license covers the weights too, and then it is not the code's when the code
  has a license of its own).
- SPDX-License-Identifier tags and license headers speak for their own file:
  their keys join the code's conclusion with AND.
- Several texts at the top, each in a file of its own named for one model
  (model_licenses/LICENSE-SDXL1.0, model_licenses/LICENSE-SVD), are the
  licenses of several models: ``A AND B``.

A folder with its own license file or model card and its own weights or
tokenizer (or whose license file is a model license) is a model of its own:
``model:FOLDER``. A folder whose own README or license file states a data
license is a data set of its own: ``data:FOLDER``. Other folders belong to the
repo's parts (diffusers pipelines, ``original/`` checkpoints, ONNX exports are
one model).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from auditor.detectors.readme_statement import readme_role
from auditor.evidence import (
    LICENSE_FOLDER,
    Strength,
    folder_of,
    is_mention,
    is_text,
    names_part,
    source_path,
    strength,
)
from auditor.model import (
    UNKNOWN_KEY,
    Component,
    ComponentKind,
    FileKind,
    Inventory,
    LicenseDetection,
    Method,
    Obligation,
    Place,
    RepositoryLicense,
    Scope,
)
from auditor.names import in_family, key_for_name
from auditor.obligations import obligations_for
from auditor.signatures import catalog, is_model_license, is_policy, license_keys

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

REASONS: dict[Strength, str] = {
    Strength.SCOPED_TEXT: "a license file for this part",
    Strength.LONE_TEXT: "the repository's license file",
    Strength.METADATA: "the model card / weights metadata",
    Strength.SECTION: "the README's License section",
    Strength.BADGE: "a license badge",
    Strength.TABLE: "a README table of licenses",
    Strength.PACKAGE: "package metadata",
    Strength.PROSE: "a README statement",
    Strength.SUBFOLDER: "a sub-folder's license statement",
}
FILE_TAGS = "SPDX-License-Identifier tags and license headers of the files"
_LICENSE_WORDS = re.compile(r"licen[cs]e|copying|agreement|terms|model|weights?|\.\w+$", re.I)


def _is_file_tag(d: LicenseDetection) -> bool:
    """An SPDX tag or a license header, or a header's reference resolved: one file's own."""
    return d.place is Place.HEADER or d.evidence[0].method in (
        Method.SPDX_TAG,
        Method.LICENSE_HEADER,
    )


def _applies(d: LicenseDetection, kind: ComponentKind) -> str | None:
    """``scoped``, ``unscoped`` or None: does ``d`` speak for a part of ``kind``?"""
    if _is_file_tag(d) or (d.key in catalog() and is_policy(d.key)):
        return None
    if d.scope is SCOPE_OF_KIND[kind]:
        return "scoped"
    if d.scope is Scope.ALL and kind is not ComponentKind.DATA:
        return "scoped"
    if d.scope is Scope.UNSPECIFIED:
        return "unscoped"
    return None


@dataclass(frozen=True)
class Weighed:
    d: LicenseDetection
    strength: Strength
    scoped: bool


def weigh(
    declared: Iterable[LicenseDetection], kind: ComponentKind, folder: str = ""
) -> list[Weighed]:
    """Each applicable detection with its weight for a part of ``kind`` in ``folder``."""
    out: list[Weighed] = []
    for d in declared:
        how = _applies(d, kind)
        if how is None:
            continue
        scoped = how == "scoped"
        out.append(Weighed(d, strength(d, folder, scoped and names_part(d)), scoped))
    speaks = any(w.scoped and w.strength >= Strength.PROSE for w in out)
    if not speaks:
        return out
    if kind is ComponentKind.CODE:
        # A lone LICENSE holding a model license is the weights', when the code has a
        # license of its own.
        if not any(
            w.scoped and w.strength >= Strength.PROSE and w.d.key != UNKNOWN_KEY for w in out
        ):
            return out
        return [w for w in out if w.scoped or not _model_text(w.d)]
    return [
        w
        for w in out
        if w.scoped
        or (kind is ComponentKind.MODEL and w.d.key != UNKNOWN_KEY and is_model_license(w.d.key))
    ]


def _model_text(d: LicenseDetection) -> bool:
    return is_text(d) and d.key != UNKNOWN_KEY and is_model_license(d.key)


def _where(d: LicenseDetection) -> str:
    ev = d.evidence[0]
    return f"{ev.path}:{ev.start_line}"


def _said(d: LicenseDetection) -> str:
    if d.key != UNKNOWN_KEY:
        return f"{_where(d)} says {d.key}"
    name = f" {d.stated!r}" if d.stated else ""
    return f"{_where(d)} names a license{name} that could not be identified"


def _agrees(d: LicenseDetection, keys: Iterable[str]) -> bool:
    """An unknown that names a family agrees with a member of it."""
    return bool(d.family) and any(in_family(k, d.family) for k in keys)


def _per_model(group: list[Weighed]) -> bool:
    """Texts each in a file of its own, named for the model part and for one model
    (model_licenses/LICENSE-SDXL1.0): several models' licenses. (LICENSE-MIT beside
    LICENSE-APACHE names licenses, not models: a choice or a conflict, not this.)"""
    if not all(is_text(w.d) and w.scoped and names_part(w.d) for w in group):
        return False
    files: dict[str, set[str]] = {}
    for w in group:
        files.setdefault(w.d.key, set()).add(w.d.evidence[-1].path)
    seen: set[str] = set()
    for paths in files.values():
        if paths & seen:
            return False
        seen |= paths
    residues = set()
    for path in seen:
        name = posixpath.basename(path)
        residue = _LICENSE_WORDS.sub("", name).strip("-_. ")
        if not residue or key_for_name(residue):
            return False
        residues.add(residue.lower())
    return len(residues) == len(seen)


def _covers_own_folder(w: Weighed) -> bool:
    """A sub-folder's license file, package metadata or README speaks for that folder
    (vendored code, a demo's package.json, an evaluation kit's README): the folder's own
    terms, no disagreement with the repo's."""
    return w.strength is Strength.SUBFOLDER


def _said_jointly(keys: set[str], weighed: list[Weighed]) -> tuple[str, str] | None:
    """``A OR B`` / ``A AND B`` when a statement names exactly these licenses together as a
    choice ("dual-licensed under MIT or Apache-2.0") or as all applying ("under both")."""
    together: dict[tuple[str, int, str], set[str]] = {}
    for w in weighed:
        if w.d.joint:
            ev = w.d.evidence[0]
            together.setdefault((ev.path, ev.start_line, w.d.joint), set()).add(w.d.key)
    for (_, _, joint), named in sorted(together.items()):
        if named == keys:
            operator = " OR " if joint == "or" else " AND "
            how = "as a choice (dual licensing)" if joint == "or" else "all together"
            return operator.join(sorted(keys)), how
    return None


@dataclass(frozen=True)
class Conclusion:
    concluded: str | None
    basis: tuple[LicenseDetection, ...]
    reason: str
    disagreeing: tuple[LicenseDetection, ...]
    #: The weight of the evidence that decided (None when nothing speaks).
    strength: Strength | None = None


def conclude(weighed: list[Weighed]) -> Conclusion:
    """The strongest evidence's answer, or None with the reason why not."""
    speaking = [w for w in weighed if w.strength > Strength.MENTION]
    if not speaking:
        return Conclusion(None, (), "", ())
    top = max(w.strength for w in speaking)
    group = [w for w in speaking if w.strength == top]
    known = [w for w in group if w.d.key != UNKNOWN_KEY]
    keys = list(dict.fromkeys(w.d.key for w in known))
    # An unknown blocks unless it names the family of a license beside it, or names no
    # license at all ("weights are for research use only") where one is named beside it.
    blocking = [
        w
        for w in group
        if w.d.key == UNKNOWN_KEY
        and not _agrees(w.d, keys)
        and not (keys and not w.d.stated and not is_text(w.d))
    ]
    basis = tuple(dict.fromkeys(w.d for w in group))
    what = REASONS[top]
    concluded: str | None = None
    tied: list[LicenseDetection] = []
    if blocking and not keys:
        reason = f"unknown: the strongest evidence, {what}, " + _said(blocking[0].d)
    elif blocking:
        reason = f"unknown: the strongest evidence, {what}, disagrees: " + "; ".join(
            dict.fromkeys(_said(w.d) for w in known[:2] + blocking[:2])
        )
    elif len(keys) == 1:
        changed = [w.d for w in known if w.d.modified]
        if changed:
            lines = ", ".join(str(e.start_line) for e in changed[0].differences[:5])
            at = f" (lines {lines})" if lines else ""
            reason = (
                f"unknown: {changed[0].evidence[-1].path} is a modified {keys[0]} text{at}; "
                "a person must read what was changed"
            )
        else:
            concluded = keys[0]
            reason = what
    elif _per_model(known) and not any(w.d.modified for w in known):
        concluded = " AND ".join(sorted(keys))
        reason = f"{what}: one license per model"
    elif (joined := _said_jointly(set(keys), speaking)) and not any(w.d.modified for w in known):
        concluded, how = joined
        reason = f"{what}, which the repo says apply {how}"
    else:
        reason = f"unknown: the strongest evidence, {what}, disagrees: " + "; ".join(
            dict.fromkeys(_said(w.d) for w in known[:4])
        )
        tied = [w.d for w in known]
    disagreeing: list[LicenseDetection] = list(tied)
    answer = set(license_keys(concluded)) if concluded else set(keys)
    if not answer:
        return Conclusion(concluded, basis, reason, tuple(disagreeing), top)
    for w in speaking:
        if w.strength == top or _covers_own_folder(w):
            continue
        if w.d.key == UNKNOWN_KEY:
            if w.d.family and answer and not _agrees(w.d, answer):
                disagreeing.append(w.d)
        elif w.d.key not in answer:
            disagreeing.append(w.d)
    return Conclusion(concluded, basis, reason, tuple(dict.fromkeys(disagreeing)), top)


def _with_file_tags(result: Conclusion, declared: tuple[LicenseDetection, ...]) -> Conclusion:
    """Tags and headers cover their own file. When nothing else speaks for the code, their
    keys together are its license (AND); when the repo states a code license, it is the
    code's, and files that say otherwise (vendored code under Apache-2.0 in an MIT repo)
    keep their own license in the evidence and in the BOM's per-file licenses."""
    tags = [
        d
        for d in declared
        if _is_file_tag(d)
        and d.place is not Place.MENTION
        and (not d.is_clue or d.key == UNKNOWN_KEY)
    ]
    # Texts in sub-folders or named for a license (REUSE's LICENSES/MIT.txt) are the texts
    # of the tags, not the repo's statement of a code license: the tags decide then.
    if not tags or (result.basis and (result.strength or 0) > Strength.SUBFOLDER):
        return result
    result = Conclusion(None, (), "", (), None)
    per_tag: dict[tuple[str, int], set[str]] = {}
    for d in tags:
        per_tag.setdefault((d.evidence[0].path, d.evidence[0].start_line), set()).add(d.key)
    tag_keys = sorted({d.key for d in tags})
    basis = result.basis + tuple(tags)
    reason = f"{result.reason} and {FILE_TAGS}" if result.reason else FILE_TAGS
    if UNKNOWN_KEY in tag_keys or any(len(k) > 1 for k in per_tag.values()):
        # an unknown id, or a choice in one tag (MIT OR Apache-2.0): a person decides
        return Conclusion(
            None,
            basis,
            f"unknown: {FILE_TAGS} hold an expression or an unknown id",
            result.disagreeing,
        )
    joined = list(license_keys(result.concluded)) + [
        k for k in tag_keys if k not in license_keys(result.concluded)
    ]
    return Conclusion(" AND ".join(joined), basis, reason, result.disagreeing)


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
    weighed = weigh(declared, kind, path)
    kept = {id(w.d) for w in weighed}
    declared = tuple(
        d
        for d in declared
        if id(d) in kept
        or (_is_file_tag(d) and kind is ComponentKind.CODE)
        or (kind is ComponentKind.MODEL and d.key in catalog() and is_policy(d.key))
    )
    result = conclude(weighed)
    if kind is ComponentKind.CODE:
        result = _with_file_tags(result, declared)
    return Component(
        name=name,
        kind=kind,
        files=tuple(sorted(files)),
        declared=declared,
        concluded=result.concluded,
        path=path,
        basis=result.basis,
        reason=result.reason,
        disagreeing=result.disagreeing,
        obligations=_obligations(result.concluded),
    )


# --- where things are -------------------------------------------------------


def _under(path: str, folder: str) -> bool:
    return folder == "" or path == folder or path.startswith(folder + "/")


def _located(d: LicenseDetection) -> str:
    """The path a detection speaks from: a link into a model folder speaks for that folder's
    license file (a README table of per-model licenses), anything else from its own file."""
    if d.evidence[0].method is Method.LINK and len(d.evidence) > 1:
        return d.evidence[-1].path
    return source_path(d)


def _speaking_folders(inventory: Inventory) -> set[str]:
    out = set()
    for f in inventory.files:
        if f.kind is FileKind.LICENSE or (
            f.kind is FileKind.README and readme_role(f.path) in ("primary", "card")
        ):
            folder = posixpath.dirname(f.path)
            if folder and not LICENSE_FOLDER.match(posixpath.basename(folder)):
                out.add(folder)
    return out


def _roots(
    inventory: Inventory, detections: tuple[LicenseDetection, ...]
) -> dict[str, ComponentKind]:
    """Folders that are parts of their own: models, and data sets."""
    speaking = _speaking_folders(inventory)
    holds_model: set[str] = set()
    for f in inventory.files:
        if f.kind in (FileKind.WEIGHTS, FileKind.TOKENIZER):
            holds_model.add(posixpath.dirname(f.path))
    model_text: set[str] = set()
    data_said: set[str] = set()
    for d in detections:
        if is_mention(d):
            continue
        folder = folder_of(source_path(d))
        if is_text(d) and d.key != UNKNOWN_KEY and is_model_license(d.key):
            model_text.add(folder)
        if d.scope is Scope.DATA:
            data_said.add(folder)
    roots: dict[str, ComponentKind] = {}
    for folder in sorted(speaking):
        if folder in model_text or any(_under(w, folder) for w in holds_model):
            roots[folder] = ComponentKind.MODEL
    for folder in sorted(data_said & speaking):
        if folder not in roots and not any(_under(folder, r) for r in roots):
            roots[folder] = ComponentKind.DATA
    return roots


def _root_of(path: str, roots: dict[str, ComponentKind], kind: ComponentKind) -> str:
    best = ""
    for root, root_kind in roots.items():
        if root_kind is kind and path.startswith(root + "/") and len(root) > len(best):
            best = root
    return best


def _relevant(
    detections: tuple[LicenseDetection, ...],
    roots: dict[str, ComponentKind],
    kind: ComponentKind,
    folder: str,
) -> tuple[LicenseDetection, ...]:
    """The detections that stand in ``folder`` or below it, minus those of other parts of
    the same kind; for a part in a folder, the repo's own when nothing there speaks."""
    own = tuple(d for d in detections if _root_of(_located(d), roots, kind) == folder)
    if not folder:
        return own
    if any(_applies(d, kind) and not is_mention(d) for d in own):
        return own
    # a folder whose card and files say nothing of its license inherits the repo's
    top = tuple(
        d
        for d in detections
        if _root_of(_located(d), roots, kind) == "" and folder_of(source_path(d)) == ""
    )
    return own + top


def _states(detections: Iterable[LicenseDetection], kind: ComponentKind) -> bool:
    """Does something at the repo's top level speak for a part of ``kind``?"""
    for d in detections:
        if is_mention(d):
            continue
        if folder_of(source_path(d)) != "" or is_policy(d.key):
            continue
        if d.scope is SCOPE_OF_KIND[kind] or (d.scope is Scope.ALL and kind is ComponentKind.MODEL):
            return True
        if kind is ComponentKind.MODEL and _model_text(d) and d.scope is Scope.UNSPECIFIED:
            return True
    return False


def build_components(
    inventory: Inventory, detections: tuple[LicenseDetection, ...]
) -> tuple[Component, ...]:
    roots = _roots(inventory, detections)
    files: dict[tuple[ComponentKind, str], list[str]] = {}
    for entry in inventory.files:
        kind = KIND_OF_FILE.get(entry.kind)
        if kind is None:
            continue
        root = "" if kind is ComponentKind.CODE else _root_of(entry.path, roots, kind)
        files.setdefault((kind, root), []).append(entry.path)
    components: list[Component] = []
    for kind in ComponentKind:
        top = _relevant(detections, roots, kind, "")
        if (kind, "") in files or (kind is not ComponentKind.CODE and _states(top, kind)):
            components.append(_component(kind.value, kind, files.get((kind, ""), []), top))
        for root, root_kind in roots.items():
            if root_kind is not kind:
                continue
            declared = _relevant(detections, roots, kind, root)
            components.append(
                _component(
                    f"{kind.value}:{root}", kind, files.get((kind, root), []), declared, root
                )
            )
    return tuple(components)


# --- the repository as a whole ----------------------------------------------


def repository_license(
    components: tuple[Component, ...], detections: tuple[LicenseDetection, ...]
) -> RepositoryLicense:
    """What the repo's top-level license file or README says of the repository as a whole
    (the license a repository page shows, and what SPDX calls a package's declared
    license). None when nothing covers the whole: parts licensed apart (LICENSE-CODE
    and LICENSE-MODEL) are never merged into one license here."""
    top = [
        d
        for d in detections
        if folder_of(source_path(d)) == ""
        and d.scope in (Scope.UNSPECIFIED, Scope.ALL)
        and not _is_file_tag(d)
        and not (d.key in catalog() and is_policy(d.key))
    ]
    weighed = [Weighed(d, strength(d, "", False), True) for d in top]
    # a text named for one license or part (LICENSES/MIT.txt, LICENSE_cctorch) is no
    # statement about the whole
    found = conclude([w for w in weighed if w.strength > Strength.SUBFOLDER])
    if found.basis:
        return RepositoryLicense(found.concluded, found.reason, found.basis)
    parts = "; ".join(f"{c.name}: {c.concluded or 'unknown'}" for c in components)
    if not parts:
        return RepositoryLicense(None, "", ())
    return RepositoryLicense(
        None, f"no license file or statement covers the whole repository; its parts: {parts}"
    )
