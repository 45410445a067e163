"""Checks: turn a result's components and detections into findings.

Each check owns one stable rule id (documented in docs/rules.md) with its default
severity and summary, as class attributes. Adding a check is one module with a
``@register``ed class and one import line at the bottom of this file; ``RULES``
and ``RULE_SUMMARIES`` follow from the registered checks and ``POLICY_RULES``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from auditor.model import AuditResult, Evidence, Finding, Severity
from auditor.plugins import Plugins


class Check(ABC):
    """One rule: its id (docs/rules.md), default severity (a policy may change it) and
    one line for tools that list rules (SARIF). ``texts`` holds the repo's license,
    notice and README texts the pipeline read (path -> text), so that checks never
    read the repo themselves."""

    rule: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]

    @abstractmethod
    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]: ...

    def finding(
        self,
        message: str,
        *,
        path: str | None = None,
        component: str | None = None,
        evidence: tuple[Evidence, ...] = (),
        fix: str | None = None,
    ) -> Finding:
        """A finding of this check's rule at its default severity."""
        return Finding(self.rule, self.severity, message, path, component, evidence, fix)


@dataclass(frozen=True)
class PolicyRule:
    """A rule the policy raises (``Policy.apply``), not a check."""

    rule: str
    severity: Severity
    summary: str


POLICY_RULES = (
    PolicyRule(
        "license-denied",
        Severity.ERROR,
        "A component's license is on the policy's deny list.",
    ),
    PolicyRule(
        "license-not-allowed",
        Severity.ERROR,
        "A component's license is not on the policy's allow list.",
    ),
)

CHECKS: Plugins[Check] = Plugins("check")

C = TypeVar("C", bound=type[Check])


def register(cls: C) -> C:
    """Register a check under its rule id."""
    CHECKS.register(cls.rule)(cls)
    return cls


def run_checks(
    result: AuditResult, texts: Mapping[str, str], names: Iterable[str] | None = None
) -> tuple[Finding, ...]:
    """The findings of the checks ``names`` (None: every registered check), worst first."""
    findings = [
        f
        for n in (CHECKS.names() if names is None else names)
        for f in CHECKS.get(n)().run(result, texts)
    ]
    return tuple(sorted(findings, key=_severity_order))


def _severity_order(f: Finding) -> tuple[int, str, str, str]:
    return (-f.severity.rank, f.rule, f.path or "", f.message)


from auditor.checks import (  # noqa: E402,F401
    commercial_restriction,
    license_mismatch,
    license_missing,
    license_reference_broken,
    license_text_missing,
    license_text_modified,
    modification_unmarked,
    notice_missing,
    unknown_license,
    use_restrictions_dropped,
)

#: Every rule id with its default severity (docs/rules.md), checks' and the policy's.
#: These defaults are what a careful reviewer would choose: breaking what a license
#: requires is an error.
RULES: dict[str, Severity] = {
    **{name: cls.severity for name, cls in CHECKS},
    **{r.rule: r.severity for r in POLICY_RULES},
}
#: One line per rule for tools that list rules (SARIF); docs/rules.md says the rest.
RULE_SUMMARIES: dict[str, str] = {
    **{name: cls.summary for name, cls in CHECKS},
    **{r.rule: r.summary for r in POLICY_RULES},
}
