"""Decoding license and README bytes: every encoding model repos ship, and binaries refused."""

from __future__ import annotations

import pytest
from conftest import make_pdf

from auditor.textio import NotTextError, decode, extract_pdf

ZH = "本仓库的代码依照 Apache-2.0 协议开源，模型权重的使用需要遵循模型许可协议。"
EN = "Permission is granted, free of charge, to any person obtaining a copy.\n"


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        (EN.encode(), "utf-8", EN),
        (b"\xef\xbb\xbf" + EN.encode(), "utf-8", EN),
        (EN.encode("utf-16"), "utf-16-le", EN),  # BOM written by Python: little endian here
        (b"\xfe\xff" + EN.encode("utf-16-be"), "utf-16-be", EN),
        (EN.encode("utf-16-le"), "utf-16-le", EN),  # no BOM
        (EN.encode("utf-16-be"), "utf-16-be", EN),  # no BOM
        (EN.encode("utf-32"), "utf-32-le", EN),
        (ZH.encode("gbk"), "gb18030", ZH),
        ((ZH + "𠀀").encode("gb18030"), "gb18030", ZH + "𠀀"),
        (ZH.encode("utf-16"), "utf-16-le", ZH),
        (
            "Copyright © 2026 Jürgen Müller – Zürich".encode("cp1252"),
            "cp1252",
            "Copyright © 2026 Jürgen Müller – Zürich",
        ),
        ("Ærø, Ïle-de-France: façade".encode("latin-1"), "cp1252", "Ærø, Ïle-de-France: façade"),
    ],
)
def test_encodings(data: bytes, encoding: str, text: str) -> None:
    got = decode(data)
    assert got.encoding == encoding
    assert got.text == text


def test_latin1_pairs_are_not_mistaken_for_chinese() -> None:
    # Two accented Latin-1 letters in a row are a valid GB18030 character; the
    # plausibility check must still choose cp1252 for European text.
    text = "Licencié à Orléans. Société générale, Zürich, Ørsted ÄÖÜ äöü ßé.\n"
    assert decode(text.encode("latin-1")).text == text


def test_crlf_and_cr_become_lf() -> None:
    assert decode(b"a\r\nb\rc\n").text == "a\nb\nc\n"


def test_truncated_read_forgives_a_split_character() -> None:
    data = ZH.encode("utf-8")
    cut = data[: len(data) - 1]  # inside the last 3-byte character
    got = decode(cut, truncated=True)
    assert got.encoding == "utf-8"
    assert ZH.startswith(got.text)
    # The same bytes claimed complete are not valid UTF-8: another decoding answers, or none.
    assert decode(cut).text != got.text


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 4,  # random binary
        b"\x89PNG\r\n\x1a\n" + bytes(64),
        b"\x80\x04\x95" + bytes(40),  # pickle
        b"MZ\x90\x00\x03" + b"\x00\x01\x02\x03\x04\x05\x06\x07" * 8,
    ],
)
def test_binary_is_refused(data: bytes) -> None:
    with pytest.raises(NotTextError, match="binary content"):
        decode(data)


def test_pdf_text_is_extracted() -> None:
    got = extract_pdf(make_pdf("Model License Agreement\nSection 1. Our own words."))
    assert got.encoding == "pdf"
    assert "Model License Agreement" in got.text
    assert "Section 1. Our own words." in got.text


def test_broken_pdf_is_a_reason_not_a_crash() -> None:
    with pytest.raises(NotTextError, match="PDF could not be read"):
        extract_pdf(b"%PDF-1.4\n%garbage\n")
