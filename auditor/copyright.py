"""Telling a copyright statement ("Copyright (c) 2024 Acme") from license prose that
merely says the word ("the above copyright notice") and from a template's placeholder
("Copyright [yyyy] [name of copyright owner]").

Used by the upstream comparison (copyright lines a derivative dropped) and by the
notice-missing rule (a license text without its copyright line).
"""

from __future__ import annotations

import re

_COPYRIGHT_WORD = re.compile(r"\bcopyright\b", re.IGNORECASE)
_C_MARK = re.compile(r"(?<![\w)])\([cC]\)(?=\s*(?:\d{4}|[A-Z\u4e00-\u9fff]))")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
# "the above copyright notice...": license prose, not a copyright statement.
_COPYRIGHT_PROSE = re.compile(
    r"\bcopyright\s+(?:notices?|owners?|holders?|laws?|licen[cs]es?|statements?|protection"
    r"|and|or|to|in|of|is|the|for|on|under)\b",
    re.IGNORECASE,
)
PLACEHOLDER = re.compile(
    r"\[yyyy\]|\[year\]|<year>|\{year\}|\[name of copyright owner\]|<name of author>"
    r"|<copyright holders?>",
    re.IGNORECASE,
)


def is_copyright(line: str) -> bool:
    """A line that states a copyright (a holder, a year or the sign), not a placeholder."""
    if PLACEHOLDER.search(line):
        return False
    if "©" in line or "版权所有" in line or _C_MARK.search(line):
        return True
    if not _COPYRIGHT_WORD.search(line):
        return False
    return bool(_YEAR.search(line)) or not _COPYRIGHT_PROSE.search(line)


def is_placeholder(line: str) -> bool:
    """A template's copyright line whose holder or year was never filled in."""
    return bool(_COPYRIGHT_WORD.search(line) and PLACEHOLDER.search(line))
