"""The one place that knows the stage order.

source -> inventory (minus policy ignores) -> detect -> (--deep) -> links ->
(--upstream) -> components and obligations -> base models and their licenses ->
openness -> checks -> policy (severities, allow/deny, baseline) -> result.
The CLI, pre-commit checks, diffs and registry scans all call ``run_audit``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.checks import CHECKS
from auditor.components import build_components, repository_license
from auditor.detectors import DETECTORS, Detected, Detector, detection
from auditor.links import resolve
from auditor.model import (
    UNKNOWN_KEY,
    AuditResult,
    BaseModel,
    Evidence,
    Fact,
    FileKind,
    Finding,
    Inventory,
    LicenseDetection,
    LicenseReference,
    Method,
    Skipped,
    Tool,
    Upstream,
)
from auditor.signatures import catalog, is_model_license
from auditor.sources import Source, open_source, os_reason
from auditor.textio import NotTextError

if TYPE_CHECKING:
    from auditor.policy import Policy

log = logging.getLogger(__name__)

# License, notice and README files are always read: one that cannot be read is news.
ALWAYS_READ = frozenset({FileKind.LICENSE, FileKind.NOTICE, FileKind.README})
TEXT_LIMIT = 1 << 20


@dataclass(frozen=True)
class Options:
    """What to run; None means every registered implementation."""

    detectors: tuple[str, ...] | None = None
    checks: tuple[str, ...] | None = None
    #: Ask ScanCode's matcher about license text the fast matcher left unknown.
    deep: bool = False
    #: A local copy of the repo this one derives from, compared by sha256.
    upstream: str | None = None
    #: Allowed and denied licenses, severities, ignores and baseline (auditor.policy).
    policy: Policy | None = None
    #: Checksums every file must carry ("sha1", "sha256"): asked for by BOM formats only,
    #: so that a pre-commit check reads no weight bytes.
    checksums: tuple[str, ...] = ()
    #: Reuse and record checksums in the user cache (auditor.checksums).
    checksum_cache: bool = True
    #: Leave out what git would not commit, virtualenvs and tool caches (auditor.ignore).
    ignore: bool = True


def _detect(
    source: Source, inventory: Inventory, detectors: list[Detector], texts: dict[str, str]
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
    for entry in inventory.files:
        applicable = [d for d in detectors if d.applies_to(entry)]
        must_read = entry.kind in ALWAYS_READ
        if not (applicable or must_read) or entry.path in unreadable:
            continue
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


def _deepen(source: Source, detected: Detected) -> Detected:
    """Replace the fast matcher's unknowns in license files by ScanCode's strong answers."""
    from auditor.deep import deep_match

    catalog_ = catalog()
    kept: list[LicenseDetection] = []
    for det in detected.detections:
        ev = det.evidence[0]
        if det.key != UNKNOWN_KEY or ev.method is not Method.LICENSE_TEXT:
            kept.append(det)
            continue
        try:
            text = source.read_text(ev.path, TEXT_LIMIT).text
        except (NotTextError, OSError):
            kept.append(det)
            continue
        lines = text.split("\n")
        hits = [
            m
            for m in deep_match("\n".join(lines[ev.start_line - 1 : ev.end_line]))
            if all(k in catalog_ for k in m.keys)
        ]
        strong = [m for m in hits if m.strong]
        span = set(range(ev.start_line, ev.end_line + 1))
        wordy = {ln for ln in span if lines[ln - 1].strip()} if ev.end_line <= len(lines) else span
        placed = {
            ev.start_line + ln - 1 for m in strong for ln in range(m.start_line, m.end_line + 1)
        }
        if not strong or len(wordy - placed) > 0.1 * len(wordy):
            kept.append(det)  # ScanCode placed part of the text at most: the rest is still unknown
        for m in strong or hits:
            found = Evidence(
                ev.path,
                ev.start_line + m.start_line - 1,
                ev.start_line + m.end_line - 1,
                Method.LICENSE_TEXT,
                f"scancode --deep: {m.expression} (score {m.score:.0f}, coverage {m.coverage:.0f})",
            )
            for key in m.keys:
                kept.append(
                    detection(key, found, scope=det.scope, score=m.score, is_clue=not m.strong)
                )
    return replace(detected, detections=tuple(kept))


def _outside_texts(detections: tuple[LicenseDetection, ...]) -> tuple[LicenseDetection, ...]:
    """A README sentence inside a license text pasted into that README is part of the text,
    not a statement of its own ("Licensed under the Apache License, Version 2.0 ...")."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for d in detections:
        ev = d.evidence[0]
        if ev.method is Method.LICENSE_TEXT and d.key != UNKNOWN_KEY:
            spans.setdefault(ev.path, []).append((ev.start_line, ev.end_line))
    if not spans:
        return detections

    def inside(d: LicenseDetection) -> bool:
        ev = d.evidence[0]
        return ev.method is Method.README_STATEMENT and any(
            a <= ev.start_line <= b for a, b in spans.get(ev.path, ())
        )

    return tuple(d for d in detections if not inside(d))


def _severity_order(f: Finding) -> tuple[int, str, str, str]:
    return (-f.severity.rank, f.rule, f.path or "", f.message)


def _base_licenses(
    bases: tuple[BaseModel, ...],
    detections: tuple[LicenseDetection, ...],
    upstream: Upstream | None,
) -> tuple[BaseModel, ...]:
    """Fill each base model's license from what is in reach, strongest first: the
    upstream's concluded model license, a model license text shipped here (the base's
    LICENSE carried along), the card's license field when it names a model license."""
    if not bases:
        return bases
    shipped: dict[str, str] = {}  # model license key -> the file holding its text
    card: set[str] = set()
    for d in detections:
        if d.is_clue or not is_model_license(d.key):
            continue
        if d.evidence[-1].method is Method.LICENSE_TEXT:
            shipped.setdefault(d.key, d.evidence[-1].path)
        elif d.evidence[0].method is Method.CARD_METADATA:
            card.add(d.key)
    found: tuple[str | None, str] = (None, "")
    if upstream is not None and dict(upstream.licenses).get("model"):
        found = (dict(upstream.licenses)["model"], f"--upstream {upstream.target}")
    elif len(shipped) == 1:
        ((key, path),) = shipped.items()
        found = (key, f"license file {path}")
    elif len(card) == 1:
        found = (next(iter(card)), "the model card's license field")
    if found[0] is None or " " in found[0]:
        return bases  # an expression or nothing: no single license to apply
    return tuple(replace(b, license=found[0], license_source=found[1]) for b in bases)


def run_audit(target: str | Source, options: Options | None = None) -> AuditResult:
    from auditor.derivation import base_models, own_names
    from auditor.openness import assess

    options = options or Options()
    catalog()  # unreadable signatures fail every audit, not only those that name a license
    source = open_source(target) if isinstance(target, str) else target
    if not options.ignore and hasattr(source, "ignore"):
        source.ignore = False
    log.debug("inventory of %s", source.target)
    inventory = source.inventory()
    if options.policy is not None:
        inventory = options.policy.filter(inventory)
    if options.checksums:
        from auditor.checksums import fill

        inventory = fill(source, inventory, options.checksums, cache=options.checksum_cache)
    names = options.detectors or tuple(DETECTORS.names())
    texts: dict[str, str] = {}
    detected = _detect(source, inventory, [DETECTORS.get(n)() for n in names], texts)
    if options.deep:
        detected = _deepen(source, detected)
    linked, references = resolve(inventory, detected.detections, detected.references)
    detections = _outside_texts(detected.detections + linked)
    upstream = None
    if options.upstream is not None:
        from auditor.upstream import compare

        upstream = compare(source, inventory, options.upstream)
        if options.policy is not None:
            policy = options.policy  # ignored paths are no more "removed" than they are here
            upstream = replace(
                upstream, changes=tuple(c for c in upstream.changes if not policy.ignores(c.path))
            )
    components = build_components(inventory, detections)
    repository = repository_license(components, detections)
    root_name = source.name
    bases = _base_licenses(
        base_models(detected.facts, own_names(root_name, detected.facts)),
        detections,
        upstream,
    )
    license_files = {f.path for f in inventory.files if f.kind is FileKind.LICENSE}
    skipped = tuple(
        sorted(set(inventory.skipped) | set(detected.problems), key=lambda s: (s.path, s.reason))
    )
    result = AuditResult(
        tool=Tool("auditor", __version__),
        target=source.target,
        name=root_name,
        download_location=source.download_location,
        repository=repository,
        inventory=inventory,
        detections=detections,
        components=components,
        findings=(),
        skipped=skipped,
        facts=detected.facts,
        references=references,
        base_models=bases,
        upstream=upstream,
        license_texts=tuple(
            sorted((path, text) for path, text in texts.items() if path in license_files)
        ),
    )
    result = replace(result, openness=assess(result))
    findings: list[Finding] = []
    for name in options.checks if options.checks is not None else tuple(CHECKS.names()):
        findings.extend(CHECKS.get(name)().run(result, texts))
    result = replace(result, findings=tuple(sorted(findings, key=_severity_order)))
    if options.policy is not None:
        result = options.policy.apply(result)
    return result
