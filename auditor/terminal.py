"""Text from audited repositories made safe to print on a terminal or in a line format.

File names, license texts and card fields are the repository author's: an escape
sequence in one can rewrite the terminal's screen or title, a newline can forge a line
of a report (a finding that is not there, an SPDX tag-value field), a bidi override can
show a name reversed. Every such character is printed as its Python escape instead.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: C0 and C1 controls, DEL, bidi embeddings/overrides/isolates, line and paragraph
#: separators, and the byte-order mark.
_UNSAFE = [
    *range(0x00, 0x20),
    0x7F,
    *range(0x80, 0xA0),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x200E,
    0x200F,
    0x061C,
    0x2028,
    0x2029,
    0xFEFF,
]


def _escape(code: int) -> str:
    ch = chr(code)
    if ch in _NAMED:
        return _NAMED[ch]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_ESCAPES = {code: _escape(code) for code in _UNSAFE}
_KEEP_TABS = {**_ESCAPES, 0x09: "\t"}


def visible(text: str, *, tabs: bool = True) -> str:
    """``text`` on one line with every control character shown as an escape (tabs kept
    unless ``tabs`` is False)."""
    return text.translate(_KEEP_TABS if tabs else _ESCAPES)


def report_lines(lines: list[str]) -> bytes:
    """A text report, one line per item: a newline or escape sequence from a file name,
    a license text or a card field is shown escaped, never obeyed."""
    return "".join(visible(line) + "\n" for line in lines).encode("utf-8")
