"""Bounded, never-executing reads of weight-file headers.

Weight files are gigabytes and some formats (pickle) run code when loaded.
The auditor only ever reads a capped prefix through a ``ReadAt`` callback
(a local file, or an HTTP range request for a Hub file) and parses the
header itself: safetensors' JSON header and GGUF's key/value table.
"""

from __future__ import annotations

import heapq
import json
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]

ReadAt = Callable[[int, int], bytes]
"""read_at(offset, length) -> at most ``length`` bytes (fewer only at end of file)."""

# safetensors refuses headers above 100 MB; so do we.
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024
# GGUF metadata includes tokenizer vocabularies of a few MB; cap the walk.
MAX_GGUF_METADATA = 64 * 1024 * 1024
# Longest header value kept in a report (a chat template can be kilobytes).
MAX_VALUE_CHARS = 2000
# Most header items kept in a report; license and lineage keys come first.
MAX_METADATA_ITEMS = 256
INTERESTING = re.compile(
    r"licen[cs]e|base_?model|^general\.(name|author|source|url|basename)", re.I
)

GGUF_TYPES_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_GGUF_STRUCT = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
GGUF_STRING, GGUF_ARRAY = 8, 9


class HeaderError(ValueError):
    """The header is truncated or malformed; the message says how, for the report."""


@dataclass(frozen=True)
class WeightsHeader:
    format: str
    metadata: tuple[tuple[str, str], ...]  # string form of header key/values worth reporting
    tensors: int | None = None


def sniff(head: bytes, size: int) -> str | None:
    """Name the container format from the first bytes, or None."""
    if head.startswith(b"GGUF"):
        return "gguf"
    if head[:4] in (b"lmgg", b"fmgg", b"tjgg", b"algg", b"tlgg"):
        return "ggml"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if len(head) >= 2 and head[0] == 0x80 and head[1] in (2, 3, 4, 5):
        return "pickle"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "hdf5"
    if head[4:8] == b"TFL3":
        return "tflite"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if len(head) >= 9 and head[8:9] == b"{":
        (n,) = struct.unpack("<Q", head[:8])
        if 0 < n <= MAX_SAFETENSORS_HEADER and n + 8 <= max(size, 9):
            return "safetensors"
    return None


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "..."


def read_safetensors(read_at: ReadAt, size: int) -> WeightsHeader:
    if size < 8:
        raise HeaderError(f"truncated safetensors file: {size} bytes, the header length alone is 8")
    (n,) = struct.unpack("<Q", read_at(0, 8))
    if n > MAX_SAFETENSORS_HEADER:
        raise HeaderError(f"safetensors header length {n} exceeds the 100 MB limit")
    if n + 8 > size:
        raise HeaderError(
            f"truncated safetensors header: declares {n} bytes, "
            f"file has {size - 8} after the length"
        )
    raw = read_at(8, n)
    if len(raw) < n:
        raise HeaderError(f"truncated safetensors header: read {len(raw)} of {n} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HeaderError(f"safetensors header is not valid JSON: {exc}") from None
    del raw
    try:
        tensors, data_end, meta = _scan_safetensors(text.rstrip(" "))
    except RecursionError:
        raise HeaderError("safetensors header is nested too deeply to read") from None
    except ValueError as exc:  # JSONDecodeError, or an integer of thousands of digits
        raise HeaderError(f"safetensors header is not valid JSON: {str(exc)[:200]}") from None
    if 8 + n + data_end > size:
        raise HeaderError(
            f"truncated safetensors file: tensors need {8 + n + data_end} bytes, file has {size}"
        )
    return WeightsHeader("safetensors", _kept(meta), tensors=tensors)


_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


def _ws(text: str, pos: int) -> int:
    return _WS.match(text, pos).end()  # type: ignore[union-attr]


def _each_member(
    text: str,
    pos: int,
    visit: Callable[[str, object], None],
    nested: dict[str, Callable[[str, object], None]] | None = None,
) -> int:
    """Call ``visit(key, value)`` for each member of the JSON object at ``pos``, each value
    decoded alone (a header of a million keys never becomes a million-key dict); -> the
    position after the object. A member named in ``nested`` that holds an object has
    its own members visited by ``nested[key]`` the same way."""
    if text[pos : pos + 1] != "{":
        raise ValueError("not a JSON object")
    pos = _ws(text, pos + 1)
    if text[pos : pos + 1] == "}":
        return pos + 1
    while True:
        if text[pos : pos + 1] != '"':
            raise ValueError(f"a key expected at character {pos}")
        key, pos = scanstring(text, pos + 1)
        pos = _ws(text, pos)
        if text[pos : pos + 1] != ":":
            raise ValueError(f"':' expected at character {pos}")
        pos = _ws(text, pos + 1)
        if nested and key in nested and text[pos : pos + 1] == "{":
            pos = _each_member(text, pos, nested[key])
        else:
            value, pos = _DECODER.raw_decode(text, pos)
            visit(key, value)
        pos = _ws(text, pos)
        if text[pos : pos + 1] == "}":
            return pos + 1
        if text[pos : pos + 1] != ",":
            raise ValueError(f"',' or '}}' expected at character {pos}")
        pos = _ws(text, pos + 1)


def _scan_safetensors(text: str) -> tuple[int, int, list[tuple[str, object]]]:
    """(tensor count, end of the last tensor's data, metadata items) of a header."""
    found = {"tensors": 0, "end": 0}

    def tensor(name: str, info: object) -> None:
        if name == "__metadata__":
            return  # not an object: no metadata
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if not (
            isinstance(offsets, list)
            and len(offsets) == 2
            and all(isinstance(o, int) for o in offsets)
        ):
            raise HeaderError(
                f"safetensors header: tensor {name[:200]!r} has no valid data_offsets"
            )
        found["tensors"] += 1
        found["end"] = max(found["end"], offsets[1])

    keep: list[tuple[str, object]] = []

    def item(key: str, value: object) -> None:
        keep.append((key, value))
        if len(keep) >= 4 * MAX_METADATA_ITEMS:  # bounded: the best of what came so far
            keep[:] = _best(keep)

    end = _ws(text, _each_member(text, _ws(text, 0), tensor, {"__metadata__": item}))
    if end != len(text):
        raise ValueError(f"extra data at character {end}")
    return found["tensors"], found["end"], keep


def _kept(items: Iterable[tuple[str, object]]) -> tuple[tuple[str, str], ...]:
    """At most ``MAX_METADATA_ITEMS`` header items for the report: those naming a
    license, a base model or the model first (``INTERESTING``), then by key. A header of
    a million keys is junk or an attack, and its report must stay readable."""
    return tuple(sorted((k[:MAX_VALUE_CHARS], _short(v)) for k, v in _best(items)))


def _best(items: Iterable[tuple[str, object]]) -> list[tuple[str, object]]:
    return heapq.nsmallest(
        MAX_METADATA_ITEMS,
        ((str(k), v) for k, v in items),
        key=lambda kv: (not INTERESTING.search(kv[0]), kv[0]),
    )


class _Cursor:
    """Sequential reads over ``read_at`` in chunks, refusing to pass ``limit``."""

    def __init__(self, read_at: ReadAt, size: int, limit: int) -> None:
        self._read_at, self._size, self._limit = read_at, size, min(size, limit)
        self.pos = 0
        self._buf = b""
        self._buf_start = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > self._limit:
            if end > self._size:
                raise EOFError
            raise OverflowError
        if end > self._buf_start + len(self._buf):
            chunk = max(n, 1 << 20)
            self._buf = self._read_at(self.pos, min(chunk, self._limit - self.pos))
            self._buf_start = self.pos
            if len(self._buf) < n:
                raise EOFError
        start = self.pos - self._buf_start
        self.pos = end
        return self._buf[start : start + n]

    def unpack(self, fmt: str) -> int | float | bool:
        value: int | float | bool = struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        return value


def read_gguf(read_at: ReadAt, size: int, limit: int = MAX_GGUF_METADATA) -> WeightsHeader:
    """Parse GGUF's key/value table; keep ``general.*`` keys as report metadata."""
    cur = _Cursor(read_at, size, limit)
    where = "the fixed header"
    try:
        if cur.take(4) != b"GGUF":
            raise HeaderError("not a GGUF file (bad magic)")
        version = int(cur.unpack("<I"))
        if version not in (1, 2, 3):
            raise HeaderError(f"unsupported GGUF version {version}")
        count_fmt = "<I" if version == 1 else "<Q"
        tensors = int(cur.unpack(count_fmt))
        kv_count = int(cur.unpack(count_fmt))
        if kv_count > 1_000_000 or tensors > 100_000_000:
            raise HeaderError(f"implausible GGUF header: {tensors} tensors, {kv_count} keys")

        def string() -> str:
            return cur.take(int(cur.unpack(count_fmt))).decode("utf-8", "replace")

        def value(vtype: int) -> object:
            if vtype in _GGUF_STRUCT:
                return cur.unpack(_GGUF_STRUCT[vtype])
            if vtype == GGUF_STRING:
                return string()
            if vtype == GGUF_ARRAY:
                etype = int(cur.unpack("<I"))
                n = int(cur.unpack(count_fmt))
                if etype in GGUF_TYPES_FIXED:
                    cur.take(GGUF_TYPES_FIXED[etype] * n)
                    return f"[{n} values]"
                if etype == GGUF_STRING:
                    if n <= 16:
                        return [string() for _ in range(n)]
                    for _ in range(n):  # a vocabulary: skipped, never held
                        cur.take(int(cur.unpack(count_fmt)))
                    return f"[{n} strings]"
                raise HeaderError(f"GGUF array of unknown type {etype}")
            raise HeaderError(f"GGUF value of unknown type {vtype}")

        meta: list[tuple[str, object]] = []
        for i in range(kv_count):
            where = f"metadata key/value {i + 1} of {kv_count}"
            key = string()
            v = value(int(cur.unpack("<I")))
            if key.startswith("general."):
                meta.append((key, v))
    except EOFError:
        raise HeaderError(f"truncated GGUF file: ends inside {where} ({size} bytes)") from None
    except OverflowError:
        raise HeaderError(
            f"GGUF metadata larger than the {limit} byte read limit ({where})"
        ) from None
    return WeightsHeader("gguf", _kept(meta), tensors=tensors)


def read_header(fmt: str, read_at: ReadAt, size: int) -> WeightsHeader | None:
    """Parse the header of a format we know how to read; None for the others."""
    if fmt == "safetensors":
        return read_safetensors(read_at, size)
    if fmt == "gguf":
        return read_gguf(read_at, size)
    return None
