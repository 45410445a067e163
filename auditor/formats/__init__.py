"""Formats: render one ``AuditResult`` as bytes.

Renderers are pure and byte-stable for the same result (fixed key order,
sorted lists, no clock), so golden files and diffs work. Adding a format is one module with a
class registered in ``FORMATS`` and one import (or ``FORMATS.declare``) line at the bottom of
this file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from auditor.model import AuditResult
from auditor.plugins import Plugins


class Format(ABC):
    #: File name suffix used with --output-dir.
    suffix: ClassVar[str]
    #: Checksums the format needs every file to carry (``sha1``, ``sha256``): the pipeline
    #: computes them only when a chosen format asks (auditor.checksums).
    needs_checksums: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, supplier: str | None = None, *, fail_on: str | None = None, detail: int = 0
    ) -> None:
        #: Who distributes the audited repo (``Organization: ACME``), for BOM formats.
        self.supplier = supplier
        #: The --fail-on in force, for a report that states the exit code; None: not stated.
        self.fail_on = fail_on
        #: How much a human report shows: -1 the summary and findings, 0 the default,
        #: 1 and more every piece of evidence.
        self.detail = detail

    @abstractmethod
    def render(self, result: AuditResult) -> bytes: ...


FORMATS: Plugins[Format] = Plugins("format")

from auditor.formats import json_report, sarif, text  # noqa: E402,F401

# BOM formats load big libraries: imported only when asked for.
FORMATS.declare("spdx-json", "auditor.formats.spdx2")
FORMATS.declare("spdx-tv", "auditor.formats.spdx2")
FORMATS.declare("spdx3-jsonld", "auditor.formats.spdx3")
FORMATS.declare("cyclonedx-json", "auditor.formats.cyclonedx")
