"""Two audits compared: ``compare(old, new)`` gives an ``AuditDiff`` (docs/diff.md).

Components are matched by name (``code``, ``model``, ``model:FOLDER``, ``data``),
findings by their fingerprint (``model.fingerprint``: moved line numbers are not
news), obligations by (license, kind, summary, value), base models by name.
What counts for ``--fail-on`` is what *appeared* (``AuditDiff.appeared``); see
the package docstring.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.model import (
    AuditResult,
    BaseModel,
    Component,
    ComponentKind,
    Finding,
    Obligation,
    Openness,
    Severity,
    Tool,
    fingerprint,
)
from auditor.signatures import license_keys

if TYPE_CHECKING:
    from auditor.pipeline import Options

DIFF_VERSION = "1.0"
#: Catalog categories whose licenses ask little of a recipient: a change to one is a warning.
PERMISSIVE_CATEGORIES = frozenset({"Permissive", "Public Domain"})


@dataclass(frozen=True)
class Side:
    """One side of a diff: what was audited and at which revision (None for a folder)."""

    target: str
    revision: str | None

    @property
    def label(self) -> str:
        """The revision (a commit shortened to 12 digits), else the target."""
        if self.revision is None:
            return self.target
        if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", self.revision):
            return self.revision[:12]
        return self.revision


@dataclass(frozen=True)
class LicenseChange:
    """A component on both sides whose concluded or declared licenses differ.

    ``severity`` is None when only the declared licenses changed (not counted).
    """

    component: str
    kind: ComponentKind
    old_concluded: str | None
    new_concluded: str | None
    old_declared: tuple[str, ...]
    new_declared: tuple[str, ...]
    old_revision: str | None
    new_revision: str | None
    severity: Severity | None
    reason: str

    @property
    def concluded_changed(self) -> bool:
        return self.old_concluded != self.new_concluded


@dataclass(frozen=True)
class ComponentChange:
    """A component on one side only; ``severity`` set for an added one (its license is news)."""

    component: Component
    change: str  # "added" or "removed"
    severity: Severity | None
    reason: str


@dataclass(frozen=True)
class ObligationChange:
    component: str
    obligation: Obligation


@dataclass(frozen=True)
class BaseModelChange:
    """A base model named on one side only (``added``/``removed``), or whose relation or
    license differs (``changed``)."""

    name: str
    change: str
    old: BaseModel | None
    new: BaseModel | None


@dataclass(frozen=True)
class OpennessChange:
    old: Openness | None
    new: Openness | None


@dataclass(frozen=True)
class AuditDiff:
    """Everything that differs between two audits, each list sorted for stable output."""

    tool: Tool
    old: Side
    new: Side
    license_changes: tuple[LicenseChange, ...] = ()
    components_added: tuple[ComponentChange, ...] = ()
    components_removed: tuple[ComponentChange, ...] = ()
    new_findings: tuple[Finding, ...] = ()
    resolved_findings: tuple[Finding, ...] = ()
    obligations_appeared: tuple[ObligationChange, ...] = ()
    obligations_disappeared: tuple[ObligationChange, ...] = ()
    base_models: tuple[BaseModelChange, ...] = ()
    openness: OpennessChange | None = None

    @property
    def changed(self) -> bool:
        return bool(
            self.license_changes
            or self.components_added
            or self.components_removed
            or self.new_findings
            or self.resolved_findings
            or self.obligations_appeared
            or self.obligations_disappeared
            or self.base_models
            or self.openness
        )

    def appeared(self) -> list[tuple[Severity, str]]:
        """What counts for ``--fail-on``: (severity, one line saying what), see the module doc."""
        out: list[tuple[Severity, str]] = []
        for lc in self.license_changes:
            if lc.severity is not None:
                out.append((lc.severity, f"{lc.component}: {lc.reason}"))
        for cc in self.components_added:
            if cc.severity is not None:
                out.append((cc.severity, f"{cc.component.name}: {cc.reason}"))
        for f in self.new_findings:
            out.append((f.severity, f"new finding {f.rule}: {f.message}"))
        return sorted(out, key=lambda item: (-item[0].rank, item[1]))

    def worst(self) -> Severity | None:
        """The highest severity of what appeared, or None."""
        ranked = [s for s, _ in self.appeared()]
        return max(ranked, key=lambda s: s.rank) if ranked else None

    def fails(self, fail_on: str) -> bool:
        """True when something at or above ``fail_on`` (a severity, or ``never``) appeared."""
        if fail_on == "never":
            return False
        worst = self.worst()
        return worst is not None and worst.rank >= Severity(fail_on).rank


# -- comparing -----------------------------------------------------------------------------


def rank_license(expression: str | None) -> tuple[Severity, str]:
    """How a component's license that changed (or appeared) counts: see the module doc."""
    if expression is None:
        return Severity.ERROR, "now unknown (no license could be concluded): review needed"
    from auditor.signatures import catalog, is_policy

    cat = catalog()
    restrictive = [
        f"{k} ({(cat.get(k).category if k in cat else None) or 'uncategorized'})"
        for k in license_keys(expression)
        if not is_policy(k) and (k not in cat or cat.get(k).category not in PERMISSIVE_CATEGORIES)
    ]
    if restrictive:
        return Severity.ERROR, (
            f"now under terms that are not permissive: {', '.join(restrictive)}; review them"
        )
    return Severity.WARNING, f"now under the permissive {expression}"


def declared_keys(c: Component) -> tuple[str, ...]:
    """The keys a component's sources state (clues left out), sorted, each once."""
    return tuple(sorted({d.key for d in c.declared if not d.is_clue}))


def _license_change(old: Component, new: Component, o: Side, n: Side) -> LicenseChange | None:
    od, nd = declared_keys(old), declared_keys(new)
    if old.concluded == new.concluded and od == nd:
        return None
    severity: Severity | None = None
    if old.concluded != new.concluded:
        severity, reason = rank_license(new.concluded)
        reason = f"concluded license changed; {reason}"
    else:
        reason = "declared licenses changed; the concluded license did not"
    return LicenseChange(
        component=new.name,
        kind=new.kind,
        old_concluded=old.concluded,
        new_concluded=new.concluded,
        old_declared=od,
        new_declared=nd,
        old_revision=o.revision,
        new_revision=n.revision,
        severity=severity,
        reason=reason,
    )


def _finding_order(f: Finding) -> tuple[int, str, str, str, str]:
    return (-f.severity.rank, f.rule, f.component or "", f.path or "", f.message)


def _unmatched(findings: Iterable[Finding], known: Iterable[Finding]) -> list[Finding]:
    """The findings of ``findings`` that ``known`` has no counterpart for, by fingerprint.

    Counted, not just looked up: a third finding with the fingerprint of two old ones
    is new."""
    left = Counter(fingerprint(f) for f in known)
    out: list[Finding] = []
    for f in sorted(findings, key=_finding_order):
        fp = fingerprint(f)
        if left[fp] > 0:
            left[fp] -= 1
        else:
            out.append(f)
    return out


def _obligation_key(o: Obligation) -> tuple[str, str, str, str]:
    return (o.license, o.kind.value, o.summary, o.value)


def _obligations(
    old: dict[str, Component], new: dict[str, Component]
) -> tuple[list[ObligationChange], list[ObligationChange]]:
    appeared: list[ObligationChange] = []
    gone: list[ObligationChange] = []
    for name in sorted(old.keys() | new.keys()):
        before = {_obligation_key(o): o for o in (old[name].obligations if name in old else ())}
        after = {_obligation_key(o): o for o in (new[name].obligations if name in new else ())}
        appeared += [ObligationChange(name, after[k]) for k in sorted(after.keys() - before)]
        gone += [ObligationChange(name, before[k]) for k in sorted(before.keys() - after)]
    return appeared, gone


def _base_models(old: AuditResult, new: AuditResult) -> list[BaseModelChange]:
    before = {b.name: b for b in old.base_models}
    after = {b.name: b for b in new.base_models}
    out: list[BaseModelChange] = []
    for name in sorted(before.keys() | after.keys()):
        b, a = before.get(name), after.get(name)
        if b is None:
            out.append(BaseModelChange(name, "added", None, a))
        elif a is None:
            out.append(BaseModelChange(name, "removed", b, None))
        elif (b.relation, b.license) != (a.relation, a.license):
            out.append(BaseModelChange(name, "changed", b, a))
    return out


def compare(old: AuditResult, new: AuditResult) -> AuditDiff:
    """What differs from ``old`` to ``new`` (both made by ``run_audit``, same policy)."""
    o = Side(old.target, old.inventory.revision)
    n = Side(new.target, new.inventory.revision)
    before = {c.name: c for c in old.components}
    after = {c.name: c for c in new.components}
    changes = [
        lc
        for name in sorted(before.keys() & after.keys())
        if (lc := _license_change(before[name], after[name], o, n)) is not None
    ]
    added = []
    for name in sorted(after.keys() - before.keys()):
        severity, reason = rank_license(after[name].concluded)
        added.append(ComponentChange(after[name], "added", severity, f"new component; {reason}"))
    removed = [
        ComponentChange(before[name], "removed", None, "component removed")
        for name in sorted(before.keys() - after.keys())
    ]
    appeared, gone = _obligations(before, after)
    openness = None
    old_verdict = old.openness.verdict if old.openness else None
    if old_verdict != (new.openness.verdict if new.openness else None):
        openness = OpennessChange(old.openness, new.openness)
    return AuditDiff(
        tool=new.tool,
        old=o,
        new=n,
        license_changes=tuple(changes),
        components_added=tuple(added),
        components_removed=tuple(removed),
        # A finding a baseline accepts on the new side is not news; one accepted on the
        # old side and reported now is (it was known, but it is not accepted any more).
        new_findings=tuple(_unmatched(new.findings, old.findings)),
        resolved_findings=tuple(
            _unmatched(old.findings + old.accepted, new.findings + new.accepted)
        ),
        obligations_appeared=tuple(appeared),
        obligations_disappeared=tuple(gone),
        base_models=tuple(_base_models(old, new)),
        openness=openness,
    )


def diff_targets(old: str, new: str, options: Options | None = None) -> AuditDiff:
    """Audit ``old`` and ``new`` with the same ``pipeline.Options`` and compare them."""
    from auditor.pipeline import run_audit

    return compare(run_audit(old, options), run_audit(new, options))
