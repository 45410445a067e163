"""Text of a PDF, extracted in a child process with time and memory budgets.

Some vendors ship their model license only as a PDF, so PDFs are read. A PDF is
also a program of sorts: streams that inflate to gigabytes (a Flate bomb), objects
that refer to themselves, a page of a million glyphs whose layout analysis never
ends, filters whose decoders crash (pdfminer's LZW decoder raises IndexError on
junk). pdfminer.six is pure Python and cannot be interrupted from inside, so it
runs in a child process (``python -I -m auditor.pdftext``, the PDF on its stdin,
the text on its stdout) that limits itself before parsing anything:

- ``MEMORY_BYTES`` of address space (``RLIMIT_AS``): a bomb ends in MemoryError;
- ``CPU_SECONDS`` of CPU (``RLIMIT_CPU``) and, from the parent, ``WALL_SECONDS``
  (less when the audit's ``AUDIT_SECONDS`` for all its PDFs are nearly spent);
- no file written (``RLIMIT_FSIZE`` 0), at most ``MAX_PAGES`` pages and
  ``MAX_TEXT`` characters of text.

Whatever goes wrong, the file is reported as not read, with the reason; the
audit goes on. The child is isolated (``-I``, run from ``/``): nothing of the
audited repository is on its import path.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

MEMORY_BYTES = 448 << 20
CPU_SECONDS = 3
WALL_SECONDS = 4.0
#: All PDFs of one audit together (``Source.read_text`` keeps the account): a repo of
#: twenty hostile PDFs costs this, not twenty times ``WALL_SECONDS``.
AUDIT_SECONDS = 6.0
MAX_PAGES = 500
MAX_TEXT = 4 << 20

#: Exit codes of the child, and what they mean to a report.
_REASONS = {
    3: f"it needs more than {MEMORY_BYTES >> 20} MiB to read (a decompression bomb?)",
    4: "it is nested too deeply to read",
}


class PdfError(Exception):
    """The PDF could not be read; the message says why, for the report."""


def extract(data: bytes, timeout: float = WALL_SECONDS) -> str:
    """The text of the PDF ``data`` (pages joined by form feeds); PdfError when the
    child fails or runs out of its budgets (``timeout`` seconds of wall time)."""
    if b"/Root" not in data:  # every readable PDF names its catalogue in plain text
        raise PdfError("no /Root object: not a complete PDF")  # and a child costs 0.1 s
    timeout = min(timeout, WALL_SECONDS)
    if timeout <= 0.05:
        raise PdfError(f"the audit already spent {AUDIT_SECONDS:.0f} s on PDFs, not read")
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-m", "auditor.pdftext"],
            input=data,
            capture_output=True,
            timeout=timeout,
            cwd="/",
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PdfError(f"it takes longer than {timeout:.1f} s to read") from None
    except OSError as exc:
        raise PdfError(f"the PDF reader could not start: {exc.strerror or exc}") from None
    if proc.returncode == 0:
        return proc.stdout.decode("utf-8", "replace")
    if proc.returncode in _REASONS:
        raise PdfError(_REASONS[proc.returncode])
    if proc.returncode < 0:
        signal_name = {9: "SIGKILL", 24: "SIGXCPU"}.get(-proc.returncode, str(-proc.returncode))
        if signal_name == "SIGXCPU":
            raise PdfError(f"it takes more than {CPU_SECONDS} s of CPU to read")
        raise PdfError(f"the PDF reader was stopped by {signal_name}")
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    raise PdfError(lines[-1][:200] if lines else f"the PDF reader failed ({proc.returncode})")


def _limit() -> None:
    import resource

    for name, value in (
        ("RLIMIT_AS", MEMORY_BYTES),
        ("RLIMIT_CPU", CPU_SECONDS),
        ("RLIMIT_FSIZE", 0),
        ("RLIMIT_CORE", 0),
    ):
        limit = getattr(resource, name, None)
        if limit is None:
            continue
        with contextlib.suppress(ValueError, OSError):  # a lower hard limit stays
            resource.setrlimit(limit, (value, value))


def _child() -> int:
    _limit()
    data = sys.stdin.buffer.read()
    import io

    try:
        from pdfminer.high_level import extract_text

        text = extract_text(io.BytesIO(data), maxpages=MAX_PAGES)
    except MemoryError:
        return 3
    except RecursionError:
        return 4
    except Exception as exc:  # any decoder's failure: the file is not read, and says why
        message = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:200]
        print(message, file=sys.stderr)
        return 2
    sys.stdout.buffer.write(text[:MAX_TEXT].encode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    os.environ.pop("PYTHONPATH", None)
    sys.exit(_child())
