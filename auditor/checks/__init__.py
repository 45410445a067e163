"""Checks: turn a result's components and detections into findings.

Each check owns one or more stable rule ids (documented in docs/rules.md).
Adding a check is one module with a class registered in ``CHECKS`` and one
import line at the bottom of this file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable

from auditor.model import AuditResult, Finding
from auditor.registry import Registry


class Check(ABC):
    @abstractmethod
    def run(self, result: AuditResult) -> Iterable[Finding]: ...


CHECKS: Registry[Check] = Registry("check")

from auditor.checks import (  # noqa: E402,F401
    license_missing,
    license_text_modified,
    unknown_license,
)
