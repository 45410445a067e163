"""auditor: license and AI-BOM auditor for AI model repositories."""

from __future__ import annotations

__version__ = "0.1.0"
