"""Turning the bytes of a license, README or notice into text, or saying why not.

Model repos ship license texts in whatever encoding their authors' editors
wrote: UTF-8 with or without BOM, UTF-16 from Windows tools, GBK/GB18030 for
Chinese agreements, Latin-1/cp1252 for old European texts. A wrong guess
garbles the text and the matcher then reports "unknown", so the order of
guesses is deliberate and every branch is tested.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

# Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_CONTROL = frozenset(range(0x00, 0x09)) | frozenset(range(0x0E, 0x20)) | {0x7F}
# One C-level pass per text: a per-character Python loop cost more than matching did.
_CID = re.compile(r"\(cid:\d{1,6}\)")
_CONTROL_CHARS = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_CONTROL)) + "]")


class NotTextError(ValueError):
    """The bytes are not text in any encoding the auditor reads."""


@dataclass(frozen=True)
class Decoded:
    text: str  # newlines normalized to "\n"
    encoding: str


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text without a BOM has a zero byte in every other position for ASCII."""
    pairs = len(sample) // 2
    if pairs < 4:
        return None
    even_zero = sum(1 for i in range(0, pairs * 2, 2) if sample[i] == 0)
    odd_zero = sum(1 for i in range(1, pairs * 2, 2) if sample[i] == 0)
    if odd_zero >= 0.4 * pairs and even_zero <= 0.05 * pairs:
        return "utf-16-le"
    if even_zero >= 0.4 * pairs and odd_zero <= 0.05 * pairs:
        return "utf-16-be"
    return None


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= o <= 0x4DBF  # extension A
        or 0x3000 <= o <= 0x303F  # CJK punctuation
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x2010 <= o <= 0x206F  # general punctuation (quotes, dashes)
        or 0x3100 <= o <= 0x312F  # bopomofo
        or 0x2460 <= o <= 0x24FF  # enclosed numerals
        or 0x25A0 <= o <= 0x25FF  # geometric shapes (bullets)
    )


def _plausible_chinese(text: str) -> bool:
    """GB18030 decodes many byte strings; accept it only when the result reads as Chinese."""
    non_ascii = [c for c in text if ord(c) > 0x7F]
    if not non_ascii:
        return True
    cjk = sum(1 for c in non_ascii if _is_cjk(c))
    return cjk >= 0.9 * len(non_ascii)


def _strict(data: bytes, encoding: str, truncated: bool) -> str | None:
    """Decode strictly; when the read was cut at a limit, forgive a split last character."""
    for cut in range(0, 4 if truncated else 1):
        try:
            return (data[: len(data) - cut] if cut else data).decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _control_ratio(text: str) -> float:
    if not text:
        return 0.0
    return len(_CONTROL_CHARS.findall(text)) / len(text)


def decode(data: bytes, truncated: bool = False) -> Decoded:
    """Decode ``data`` or raise ``NotTextError`` with a reason fit for a report.

    ``truncated`` says the bytes are a prefix of a longer file (a bounded read).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _strict(data[len(bom) :], encoding, truncated)
            if text is None:
                raise NotTextError(
                    f"starts with a {encoding} byte-order mark but is not {encoding}"
                )
            return Decoded(_normalize_newlines(text), encoding)
    if b"\x00" in data:
        encoding16 = _utf16_without_bom(data[:4096])
        if encoding16 is not None:
            text = _strict(data, encoding16, truncated)
            if text is not None and _control_ratio(text) < 0.01:
                return Decoded(_normalize_newlines(text), encoding16)
        raise NotTextError("binary content (NUL bytes), not text")
    text = _strict(data, "utf-8", truncated)
    if text is not None:
        encoding = "utf-8"
    else:
        text = _strict(data, "gb18030", truncated)
        if text is not None and _plausible_chinese(text):
            encoding = "gb18030"
        else:
            text = _strict(data, "cp1252", truncated)
            encoding = "cp1252"
            if text is None:
                text = data.decode("latin-1")
                encoding = "latin-1"
    if _control_ratio(text) > 0.02:
        raise NotTextError("binary content (control bytes), not text")
    return Decoded(_normalize_newlines(text), encoding)


def extract_pdf(data: bytes, timeout: float | None = None) -> Decoded:
    """Text of a PDF (some vendors ship their model license only as one).

    pdfminer.six parses the PDF in a child process with time and memory budgets
    (``auditor.pdftext``): a hostile PDF costs seconds at most, never the audit.
    """
    from auditor.pdftext import WALL_SECONDS, PdfError, extract

    try:
        text = extract(data, WALL_SECONDS if timeout is None else timeout)
    except PdfError as exc:
        raise NotTextError(f"PDF could not be read: {exc}") from None
    if not text.strip():
        raise NotTextError("PDF has no extractable text (scanned image?)")
    # "(cid:9)": a glyph pdfminer could not map to a character (a tab, a bullet); no word.
    text = _CID.sub(" ", text)
    return Decoded(_normalize_newlines(text).replace("\f", "\n"), "pdf")
