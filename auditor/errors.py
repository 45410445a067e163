"""One root exception; each layer raises its own subclass.

Only the CLI turns these into a message and an exit code, so library users
can catch ``AuditorError`` and get everything the tool can raise.
"""

from __future__ import annotations


class AuditorError(Exception):
    """Root of every error the auditor raises on purpose."""


class UsageError(AuditorError):
    """The caller asked for something impossible (exit 2): a missing path, a bad option."""


class SourceError(AuditorError):
    """The target could not be read at all (exit 3)."""


class DetectorError(AuditorError):
    """A detector failed in a way that is not about one file."""


class CheckError(AuditorError):
    """A check failed in a way that is not about one finding."""


class FormatError(AuditorError):
    """A report could not be rendered or written."""


class SignatureError(AuditorError):
    """The license knowledge under signatures/ is missing or unreadable (exit 3)."""
