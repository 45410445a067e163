"""How far an audit is: stages report here, a front end decides whether to show it.

The pipeline, the sources and the checksum stage call ``start`` when a stage
begins (with its total when known) and ``advance`` as they go. ``Progress``
itself shows nothing: a library call, a pre-commit check and a report piped to
a file stay silent. The CLI passes a terminal progress bar instead
(``auditor/cli/progress.py``) when standard error is a terminal.
"""

from __future__ import annotations


class Progress:
    """Reports nowhere; subclasses show it."""

    def start(self, stage: str, total: int | None = None, unit: str = "files") -> None:
        """A stage begins: ``total`` units to go (None: not known in advance)."""

    def advance(self, n: int = 1) -> None:
        """``n`` more units of the current stage are done."""

    def finish(self) -> None:
        """The audit is done (or failed): whatever is shown is put away."""


SILENT = Progress()
