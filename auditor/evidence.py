"""How much a license fact weighs for a component: its method, its file's role, its place.

The strongest evidence for a component decides its license (auditor.components);
weaker evidence that names another license is a disagreement, never a veto.
Strongest first:

==================  ==============================================================
``scoped-text``     a full license text in a file named for the part (LICENSE-MODEL,
                    MODEL_LICENSE, model_licenses/..., LICENSE-CODE), or in the model
                    folder's own license file
``lone-text``       a full license text in an unscoped license file (a lone LICENSE)
``metadata``        the model card's ``license`` field, a weights header
``section``         the README's License section, a card's "License:" line
``badge``           a license badge (with the file or page it links to)
``table``           a table row with a License column
``package``         package metadata (pyproject, setup.py, package.json) of its folder
``prose``           other README prose; README-like files that are not the README
``subfolder``       a sub-folder's README, card, license file or package
``mention``         history, quotes, comparisons, other models, bundled third-party
                    texts: listed, never decides
==================  ==============================================================
"""

from __future__ import annotations

import posixpath
import re
from enum import IntEnum

from auditor.detectors.license_text import scope_of
from auditor.detectors.readme_statement import readme_role
from auditor.model import UNKNOWN_KEY, LicenseDetection, Method, Place
from auditor.signatures import is_model_license

#: Folders that hold license files for the repo (or the folder above), not a part of it.
LICENSE_FOLDER = re.compile(r"^(?:model[-_]?)?licen[cs]es?$|^legal$", re.IGNORECASE)


class Strength(IntEnum):
    MENTION = 0
    SUBFOLDER = 10
    PROSE = 20
    PACKAGE = 30
    TABLE = 35
    BADGE = 40
    SECTION = 50
    METADATA = 60
    LONE_TEXT = 70
    SCOPED_TEXT = 80

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


_PLACE = {
    Place.SECTION: Strength.SECTION,
    Place.BADGE: Strength.BADGE,
    Place.TABLE: Strength.TABLE,
    Place.PROSE: Strength.PROSE,
    Place.FIELD: Strength.SECTION,
    Place.TEXT: Strength.SECTION,  # a license text pasted into a README
    Place.HEADER: Strength.PACKAGE,
}


def is_mention(d: LicenseDetection) -> bool:
    """Named in passing, or for something else: never decides. (An unknown is always a
    clue, since it names no license; only its place says whether it was stated.)"""
    if d.place in (Place.MENTION, Place.THIRD_PARTY):
        return True
    return d.is_clue and d.key != UNKNOWN_KEY


def folder_of(path: str) -> str:
    """The folder a file speaks for: a license-collection folder speaks for its parent."""
    folder = posixpath.dirname(path)
    if folder and LICENSE_FOLDER.match(posixpath.basename(folder)):
        return posixpath.dirname(folder)
    return folder


def source_path(d: LicenseDetection) -> str:
    """The file whose words these are: the statement, for a link; the text otherwise."""
    return d.evidence[0].path


def is_text(d: LicenseDetection) -> bool:
    """A license file's own words: its text, or its pointer to the license's page."""
    ev = d.evidence[0]
    return ev.method is Method.LICENSE_TEXT or (ev.method is Method.LINK and d.place is Place.TEXT)


def strength(d: LicenseDetection, folder: str, own_scope_name: bool) -> Strength:
    """The weight of ``d`` for a component in ``folder``.

    ``own_scope_name``: the license file's name (or its folder's) names the
    component's part, so it is a scoped text."""
    if is_mention(d):
        return Strength.MENTION
    path = source_path(d)
    where = folder_of(path)
    if where != folder and (folder == "" or where.startswith(folder + "/")):
        return Strength.SUBFOLDER
    method = d.evidence[0].method
    if HISTORIC_NAME.search(posixpath.basename(path)):
        return Strength.MENTION  # LICENSE-old, README_20240605.md: what the terms were
    if is_text(d):
        if path.rsplit("/", 1)[-1].lower().startswith(("readme", "model_card", "model-card")):
            return Strength.SECTION  # a license text pasted into a README
        if own_scope_name or (folder and where == folder):
            return Strength.SCOPED_TEXT
        if named_for_other(path) and not is_model_license(d.key):
            return Strength.SUBFOLDER  # LICENSE_cctorch: the license of a bundled part
        return Strength.LONE_TEXT
    if method in (Method.CARD_METADATA, Method.WEIGHTS_METADATA):
        return Strength.METADATA
    if method is Method.PACKAGE_METADATA:
        return Strength.PACKAGE
    if method in (Method.SPDX_TAG, Method.LICENSE_HEADER):
        return Strength.PACKAGE
    found = _PLACE.get(d.place, Strength.PROSE)
    if readme_role(path) == "other":
        found = min(found, Strength.PROSE)
    return Strength(found)


#: A license file kept for the record: replaced terms, a dated copy.
HISTORIC_NAME = re.compile(
    r"(?:^|[-_. ])(?:old|previous|prior|former|deprecated|legacy|archived?|bak|backup|v\d+-old)"
    r"(?:[-_. ]|$)|(?:19|20)\d\d[-_.]?[01]\d[-_.]?[0-3]\d",
    re.IGNORECASE,
)
_LICENSE_NAME_WORDS = re.compile(
    r"licen[cs]e|copying|agreement|terms|\.(?:txt|md|markdown|rst|pdf|html?)$|"
    r"(?<![a-z])(?:zh|en|cn|ja|ko|fr|de|es|ru|zh[-_]?cn|zh[-_]?tw)(?![a-z])",
    re.IGNORECASE,
)


def named_for_other(path: str) -> bool:
    """A license file named for something besides a part or a language (LICENSE_cctorch,
    LICENSE-SDXL1.0): the license of that thing, not of the whole repo."""
    name = posixpath.basename(path)
    return bool(_LICENSE_NAME_WORDS.sub("", name).strip("-_. "))


def names_part(d: LicenseDetection) -> bool:
    """Is ``d`` a license file whose name (or folder) names the part it covers?"""
    return is_text(d) and scope_of(source_path(d)).value != "unspecified"
