"""Opt-in deep matching (``--deep``) with ScanCode's own license index.

Only for license text the fast matcher could not place. ScanCode's index takes
seconds and over a gigabyte to load, so it is imported here alone, lazily, and
never on the default path. Its answer becomes a detection only when it is one
known license matched nearly whole; anything weaker stays a clue naming what
ScanCode suggests, because a wrong license is worse than an unknown one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

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
