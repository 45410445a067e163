"""Formats: render one ``AuditResult`` as bytes.

Renderers are pure and byte-stable for the same result (fixed key order,
sorted lists, no clock), so golden files and diffs work. Adding a format is one module with a
class registered in ``FORMATS`` and one import line at the bottom of this file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from auditor.model import AuditResult
from auditor.registry import Registry


class Format(ABC):
    #: File name suffix used with --output-dir.
    suffix: ClassVar[str]

    @abstractmethod
    def render(self, result: AuditResult) -> bytes: ...


FORMATS: Registry[Format] = Registry("format")

from auditor.formats import json_report, sarif, text  # noqa: E402,F401
