"""A progress bar on standard error for audits that take more than a second.

Only made when standard error is a terminal and ``--quiet`` is off; a quick
scan (a pre-commit hook, a small repo) never shows one, because nothing is
drawn before ``delay`` seconds have passed. The bar itself is click's.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

import click

from auditor.progress import Progress

REDRAW_S = 0.1


def _forever() -> Iterator[None]:
    """An iterable without a length: click draws a bar of unknown length for it."""
    while True:
        yield None


class TerminalProgress(Progress):
    """One click progress bar per stage, shown once the audit has run ``delay`` seconds."""

    def __init__(self, file: TextIO | None = None, delay: float = 1.0) -> None:
        self.file = file or sys.stderr
        self.delay = delay
        self.started = time.monotonic()
        self._stage: tuple[str, int | None, str] | None = None
        self._done = 0
        self._bar: Any = None  # click's ProgressBar, entered
        self._pending = 0  # advanced but not drawn yet: the bar is redrawn ten times a second
        self._drawn = 0.0

    def start(self, stage: str, total: int | None = None, unit: str = "files") -> None:
        self._close()
        self._stage = (stage, total, unit)
        self._done = 0
        self._show()

    def advance(self, n: int = 1) -> None:
        self._done += n
        now = time.monotonic()
        if self._bar is None:
            if now - self.started >= self.delay:
                self._show()
            return
        self._pending += n
        if now - self._drawn >= REDRAW_S:
            self._bar.update(self._pending)
            self._pending = 0
            self._drawn = now

    def finish(self) -> None:
        self._close()
        self._stage = None

    def _show(self) -> None:
        if self._stage is None or time.monotonic() - self.started < self.delay:
            return
        stage, total, unit = self._stage
        label = f"auditor: {stage}"
        if unit == "bytes" and total:
            label += f" {_size(total)}"
        self._bar = click.progressbar(
            iterable=None if total is not None else _forever(),
            length=total,
            label=label,
            file=self.file,
            show_eta=total is not None,
            show_percent=total is not None,
            show_pos=unit == "files",
            width=24,
        )
        self._bar.__enter__()
        self._bar.update(self._done)
        self._pending = 0
        self._drawn = time.monotonic()

    def _close(self) -> None:
        if self._bar is not None:
            if self._pending:
                self._bar.update(self._pending)
                self._pending = 0
            self._bar.__exit__(None, None, None)
            self._bar = None


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def progress_for(quiet: bool) -> Progress:
    """The terminal bar when standard error is a terminal and output is not quieted,
    else silence."""
    if quiet or not sys.stderr.isatty():
        return Progress()
    return TerminalProgress()
