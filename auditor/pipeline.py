"""The one place that knows the stage order.

source -> inventory (minus policy ignores) -> detect -> (--deep) -> links ->
(--upstream) -> components and obligations -> base models and their licenses ->
openness -> checks -> policy (severities, allow/deny, baseline) -> result.
The CLI, pre-commit checks, diffs and registry scans all call ``run_audit``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.checks import run_checks
from auditor.components import build_components, repository_license
from auditor.detect import detect
from auditor.detectors import DETECTORS
from auditor.links import outside_texts, resolve
from auditor.model import AuditResult, FileKind, Tool
from auditor.progress import SILENT, Progress
from auditor.signatures import catalog
from auditor.sources import Source, open_source

if TYPE_CHECKING:
    from auditor.policy import Policy

log = logging.getLogger(__name__)


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
    #: Where the stages report how far they are (the CLI's progress bar); silent by default.
    progress: Progress = field(default=SILENT, compare=False)


def run_audit(target: str | Source, options: Options | None = None) -> AuditResult:
    from auditor.derivation import base_licenses, base_models, own_names
    from auditor.openness import assess

    options = options or Options()
    catalog()  # unreadable signatures fail every audit, not only those that name a license
    source = open_source(target) if isinstance(target, str) else target
    if not options.ignore and hasattr(source, "ignore"):
        source.ignore = False
    source.progress = options.progress
    log.debug("inventory of %s", source.target)
    inventory = source.inventory()
    if options.policy is not None:
        inventory = options.policy.filter(inventory)
    if options.checksums:
        from auditor.checksums import fill

        inventory = fill(
            source,
            inventory,
            options.checksums,
            cache=options.checksum_cache,
            progress=options.progress,
        )
    names = options.detectors or tuple(DETECTORS.names())
    texts: dict[str, str] = {}
    detectors = [DETECTORS.get(n)() for n in names]
    detected = detect(source, inventory, detectors, texts, options.progress)
    if options.deep:
        from auditor.deep import deepen

        detected = deepen(source, detected)
    linked, references = resolve(inventory, detected.detections, detected.references)
    detections = outside_texts(detected.detections + linked)
    upstream = None
    if options.upstream is not None:
        from auditor import upstream as up

        theirs = up.open_upstream(options.upstream)
        theirs_result = run_audit(
            theirs, Options(checks=(), ignore=options.ignore, progress=options.progress)
        )
        upstream = up.compare(source, inventory, options.upstream, theirs, theirs_result)
        if options.policy is not None:
            policy = options.policy  # ignored paths are no more "removed" than they are here
            upstream = replace(
                upstream, changes=tuple(c for c in upstream.changes if not policy.ignores(c.path))
            )
    components = build_components(inventory, detections)
    repository = repository_license(components, detections)
    root_name = source.name
    bases = base_licenses(
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
    result = replace(result, findings=run_checks(result, texts, options.checks))
    if options.policy is not None:
        result = options.policy.apply(result)
    return result
