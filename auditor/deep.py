"""Opt-in deep matching (``--deep``) with ScanCode's own license index.

Only for license text the fast matcher could not place. ScanCode's index takes
seconds and over a gigabyte to load, so it is imported here alone, lazily, and
never on the default path. Its answer becomes a detection only when it is one
known license matched nearly whole; anything weaker stays a clue naming what
ScanCode suggests, because a wrong license is worse than an unknown one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from auditor.model import UNKNOWN_KEY, Evidence, LicenseDetection, Method
from auditor.textio import NotTextError

if TYPE_CHECKING:
    from auditor.detectors import Detected
    from auditor.sources import Source

log = logging.getLogger(__name__)

#: ScanCode match score and coverage (percent) needed to conclude a license.
MIN_SCORE = 95.0
MIN_COVERAGE = 95.0


@dataclass(frozen=True)
class DeepMatch:
    expression: str
    keys: tuple[str, ...]
    start_line: int
    end_line: int
    score: float
    coverage: float

    @property
    def strong(self) -> bool:
        return len(self.keys) == 1 and self.score >= MIN_SCORE and self.coverage >= MIN_COVERAGE


MISSING = (
    "--deep needs ScanCode, which is not installed: pip install 'auditor[deep]' "
    "(scancode-toolkit, about 600 MB)"
)


def available() -> bool:
    """Whether ScanCode can be imported (without importing it: that takes seconds)."""
    import importlib.util

    return importlib.util.find_spec("licensedcode") is not None


def deep_match(text: str) -> list[DeepMatch]:
    """ScanCode's matches in ``text`` (its first use builds or loads the index)."""
    from license_expression import Licensing
    from licensedcode.cache import get_index

    licensing = Licensing()
    out = []
    for m in get_index().match(query_string=text):
        expression = m.rule.license_expression
        keys = tuple(sorted(licensing.license_keys(expression)))
        start, end = m.lines()
        out.append(DeepMatch(expression, keys, start, end, float(m.score()), float(m.coverage())))
    log.debug("scancode deep match: %s", [(d.expression, d.score) for d in out])
    return out


def deepen(source: Source, detected: Detected) -> Detected:
    """Replace the fast matcher's unknowns in license files by ScanCode's strong answers."""
    from auditor.detect import TEXT_LIMIT
    from auditor.detectors import detection
    from auditor.signatures import catalog

    catalog_ = catalog()
    kept: list[LicenseDetection] = []
    for det in detected.detections:
        ev = det.evidence[0]
        if det.key != UNKNOWN_KEY or ev.method is not Method.LICENSE_TEXT:
            kept.append(det)
            continue
        try:
            text = source.read_text(ev.path, TEXT_LIMIT).text
        except (NotTextError, OSError):
            kept.append(det)
            continue
        lines = text.split("\n")
        hits = [
            m
            for m in deep_match("\n".join(lines[ev.start_line - 1 : ev.end_line]))
            if all(k in catalog_ for k in m.keys)
        ]
        strong = [m for m in hits if m.strong]
        span = set(range(ev.start_line, ev.end_line + 1))
        wordy = {ln for ln in span if lines[ln - 1].strip()} if ev.end_line <= len(lines) else span
        placed = {
            ev.start_line + ln - 1 for m in strong for ln in range(m.start_line, m.end_line + 1)
        }
        if not strong or len(wordy - placed) > 0.1 * len(wordy):
            kept.append(det)  # ScanCode placed part of the text at most: the rest is still unknown
        for m in strong or hits:
            found = Evidence(
                ev.path,
                ev.start_line + m.start_line - 1,
                ev.start_line + m.end_line - 1,
                Method.LICENSE_TEXT,
                f"scancode --deep: {m.expression} (score {m.score:.0f}, coverage {m.coverage:.0f})",
            )
            for key in m.keys:
                kept.append(
                    detection(key, found, scope=det.scope, score=m.score, is_clue=not m.strong)
                )
    return replace(detected, detections=tuple(kept))
