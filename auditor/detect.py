"""The detect stage: each file read at most once, as text, and handed to the detectors
that apply to it (docs/architecture.md, Reading files)."""

from __future__ import annotations

from auditor.detectors import Detected, Detector
from auditor.model import (
    Fact,
    FileKind,
    Inventory,
    LicenseDetection,
    LicenseReference,
    Skipped,
)
from auditor.progress import SILENT, Progress
from auditor.sources import Source, os_reason
from auditor.textio import NotTextError

# License, notice and README files are always read: one that cannot be read is news.
ALWAYS_READ = frozenset({FileKind.LICENSE, FileKind.NOTICE, FileKind.README})
TEXT_LIMIT = 1 << 20


def detect(
    source: Source,
    inventory: Inventory,
    detectors: list[Detector],
    texts: dict[str, str],
    progress: Progress = SILENT,
) -> Detected:
    """Read each file at most once, as text, and hand it to the detectors that apply.

    License, notice and README texts are kept in ``texts`` for the checks."""
    unreadable = {s.path for s in inventory.skipped}
    detections: list[LicenseDetection] = []
    facts: list[Fact] = []
    problems: list[Skipped] = []
    references: list[LicenseReference] = []
    for det in detectors:
        det.prepare(inventory)
    work = []
    for entry in inventory.files:
        applicable = [d for d in detectors if d.applies_to(entry)]
        must_read = entry.kind in ALWAYS_READ
        if (applicable or must_read) and entry.path not in unreadable:
            work.append((entry, applicable, must_read))
    progress.start("reading", len(work))
    for entry, applicable, must_read in work:
        progress.advance()
        limit = max([d.text_limit for d in applicable] + [TEXT_LIMIT if must_read else 0])
        text = ""
        if limit:
            if entry.lfs:
                problems.append(
                    Skipped(entry.path, "Git LFS pointer: the content is not in this tree")
                )
                continue
            try:
                text = source.read_text(entry.path, limit).text
            except NotTextError as exc:
                problems.append(Skipped(entry.path, str(exc)))
                continue
            except OSError as exc:
                problems.append(Skipped(entry.path, f"cannot read: {os_reason(exc)}"))
                continue
        if must_read:
            texts[entry.path] = text
        for det in applicable:
            found = det.detect(entry, text[: det.text_limit] if det.text_limit else text)
            detections.extend(found.detections)
            facts.extend(found.facts)
            problems.extend(found.problems)
            references.extend(found.references)
    return Detected(tuple(detections), tuple(facts), tuple(problems), tuple(references))
