"""Detectors: each finds license facts of one kind, in the files it applies to.

A detector never reads files itself: the pipeline reads each file once, as
text, up to the largest ``text_limit`` among the detectors that apply, and
hands the text over. Adding a detector is one module with a class registered
in ``DETECTORS`` and one import line at the bottom of this file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import ClassVar

from auditor.model import (
    UNKNOWN_KEY,
    Evidence,
    Fact,
    FileEntry,
    Inventory,
    LicenseDetection,
    LicenseReference,
    Method,
    Place,
    Scope,
    Skipped,
)
from auditor.plugins import Plugins
from auditor.signatures import catalog


@dataclass(frozen=True)
class Detected:
    detections: tuple[LicenseDetection, ...] = ()
    facts: tuple[Fact, ...] = ()
    problems: tuple[Skipped, ...] = ()
    references: tuple[LicenseReference, ...] = ()


class Detector(ABC):
    #: Bytes of the file this detector needs; 0 for detectors that read only the entry.
    text_limit: ClassVar[int] = 1 << 20

    def prepare(self, inventory: Inventory) -> None:  # noqa: B027 (an optional hook)
        """See the whole tree before any file: which folders hold weights, say."""

    @abstractmethod
    def applies_to(self, entry: FileEntry) -> bool: ...

    @abstractmethod
    def detect(self, entry: FileEntry, text: str) -> Detected: ...


DETECTORS: Plugins[Detector] = Plugins("detector")


def detection(
    key: str,
    evidence: Evidence,
    *,
    scope: Scope = Scope.UNSPECIFIED,
    score: float = 100.0,
    is_clue: bool = False,
    place: Place = Place.TEXT,
) -> LicenseDetection:
    """A detection for a catalog key, named and SPDX-identified from the catalog."""
    info = catalog().get(key)
    return LicenseDetection(
        key=key,
        spdx_id=info.spdx_id,
        name=info.name,
        score=score,
        evidence=(evidence,),
        scope=scope,
        is_clue=is_clue,
        place=place,
    )


def unknown(
    evidence: Evidence,
    scope: Scope = Scope.UNSPECIFIED,
    place: Place = Place.TEXT,
    *,
    stated: str = "",
    family: tuple[str, ...] = (),
) -> LicenseDetection:
    """A license that is named but cannot be identified: reported, never guessed.

    What the repo stated stays in the evidence excerpt (and ``stated``, the name it
    gave); the name is the catalog's. ``is_clue`` is set: an unknown alone never
    concludes. Whether it stands in the way of a conclusion is decided by its place
    (auditor.evidence).
    """
    det = detection(UNKNOWN_KEY, evidence, scope=scope, score=0.0, is_clue=True, place=place)
    return replace(det, stated=stated, family=family)


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


__all__ = ["DETECTORS", "Detected", "Detector", "Method", "detection", "line_of", "unknown"]

from auditor.detectors import (  # noqa: E402,F401
    card_metadata,
    license_header,
    license_text,
    lineage,
    model_info,
    package_metadata,
    readme_statement,
    spdx_tag,
    weights_metadata,
)
