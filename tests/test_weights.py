"""Bounded weight-header reads: parse what is there, say exactly what is broken."""

from __future__ import annotations

import json
import struct

import pytest
from generate import gguf_bytes, safetensors_bytes

from auditor.weights import HeaderError, read_gguf, read_safetensors, sniff


class Reads:
    """A read_at over bytes that records every read, to prove reads stay bounded."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.calls: list[tuple[int, int]] = []

    def __call__(self, offset: int, length: int) -> bytes:
        self.calls.append((offset, length))
        return self.data[offset : offset + length]


def test_safetensors_metadata_and_tensor_count() -> None:
    data = safetensors_bytes({"format": "pt", "license": "apache-2.0"}, tensors=3)
    h = read_safetensors(Reads(data), len(data))
    assert h.format == "safetensors"
    assert dict(h.metadata) == {"format": "pt", "license": "apache-2.0"}
    assert h.tensors == 3


def test_safetensors_reads_only_the_header() -> None:
    data = safetensors_bytes(None, tensors=1) + bytes(10_000_000)
    # the file is "larger" than the header says: pad the last tensor's offsets accordingly
    header_len = struct.unpack("<Q", data[:8])[0]
    reads = Reads(data)
    read_safetensors(reads, len(data))
    assert sum(n for _, n in reads.calls) == 8 + header_len


@pytest.mark.parametrize(
    ("cut", "message"),
    [
        (0, "truncated safetensors file: 0 bytes"),
        (5, "truncated safetensors file: 5 bytes"),
        (30, "truncated safetensors header: declares"),
        (-1, "truncated safetensors file: tensors need"),
    ],
)
def test_safetensors_truncation(cut: int, message: str) -> None:
    data = safetensors_bytes({"format": "pt"})
    data = data[:cut]
    with pytest.raises(HeaderError, match=message):
        read_safetensors(Reads(data), len(data))


def test_safetensors_huge_or_bad_header() -> None:
    huge = struct.pack("<Q", 1 << 40) + b"{}"
    with pytest.raises(HeaderError, match="exceeds the 100 MB limit"):
        read_safetensors(Reads(huge), 1 << 41)
    bad = struct.pack("<Q", 4) + b"[1] "
    with pytest.raises(HeaderError, match="not a JSON object"):
        read_safetensors(Reads(bad), len(bad))
    junk = struct.pack("<Q", 4) + b"{{{{"
    with pytest.raises(HeaderError, match="not valid JSON"):
        read_safetensors(Reads(junk), len(junk))
    no_offsets = json.dumps({"w": {"dtype": "F32", "shape": [1]}}).encode()
    raw = struct.pack("<Q", len(no_offsets)) + no_offsets
    with pytest.raises(HeaderError, match="no valid data_offsets"):
        read_safetensors(Reads(raw), len(raw))


def test_gguf_general_keys() -> None:
    data = gguf_bytes(
        {
            "general.architecture": "llama",
            "general.license": "llama3",
            "general.base_model.0.name": "Meta Llama 3 8B",
            "llama.block_count": 32,
        }
    )
    h = read_gguf(Reads(data), len(data))
    assert dict(h.metadata) == {
        "general.architecture": "llama",
        "general.base_model.0.name": "Meta Llama 3 8B",
        "general.license": "llama3",
    }


def test_gguf_every_truncation_is_reported() -> None:
    data = gguf_bytes({"general.architecture": "llama", "general.name": "x"})
    for cut in range(0, len(data) - 1):
        with pytest.raises(HeaderError, match=r"truncated GGUF file|not a GGUF file"):
            read_gguf(Reads(data[:cut]), cut)


def test_gguf_metadata_limit() -> None:
    data = gguf_bytes({"general.name": "x" * 5000})
    with pytest.raises(HeaderError, match="read limit"):
        read_gguf(Reads(data), len(data), limit=1024)


def test_gguf_version_1_counts() -> None:
    key = b"general.name"
    val = b"tiny"
    data = (
        b"GGUF"
        + struct.pack("<III", 1, 0, 1)
        + struct.pack("<I", len(key))
        + key
        + struct.pack("<I", 8)
        + struct.pack("<I", len(val))
        + val
    )
    assert dict(read_gguf(Reads(data), len(data)).metadata) == {"general.name": "tiny"}


def test_sniff() -> None:
    st = safetensors_bytes({"format": "pt"})
    assert sniff(st[:16], len(st)) == "safetensors"
    assert sniff(b"GGUF\x03\x00\x00\x00", 100) == "gguf"
    assert sniff(b"\x80\x02}q", 100) == "pickle"
    assert sniff(b"PK\x03\x04", 100) == "zip"
    assert sniff(b"%PDF-1.7", 100) == "pdf"
    assert sniff(b"hello world12345", 100) is None
