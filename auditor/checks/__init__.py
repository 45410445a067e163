"""Checks: turn a result's components and detections into findings.

Each check owns one or more stable rule ids (documented in docs/rules.md).
Adding a check is one module with a class registered in ``CHECKS`` and one
import line at the bottom of this file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping

from auditor.model import AuditResult, Evidence, Finding, Severity
from auditor.plugins import Plugins

#: Every rule id with its default severity (docs/rules.md). A policy file may change
#: a severity or turn a rule off; these defaults are what a careful reviewer would
#: choose: breaking what a license requires is an error.
RULES: dict[str, Severity] = {
    "license-missing": Severity.ERROR,
    "license-text-missing": Severity.ERROR,
    "license-reference-broken": Severity.WARNING,
    "license-mismatch": Severity.WARNING,
    "license-text-modified": Severity.WARNING,
    "unknown-license": Severity.WARNING,
    "notice-missing": Severity.ERROR,
    "use-restrictions-dropped": Severity.ERROR,
    "modification-unmarked": Severity.ERROR,
    "commercial-restriction": Severity.NOTE,
    "license-denied": Severity.ERROR,
    "license-not-allowed": Severity.ERROR,
}

#: One line per rule for tools that list rules (SARIF); docs/rules.md says the rest.
RULE_SUMMARIES: dict[str, str] = {
    "license-missing": "A code, model or data component has no license at all.",
    "license-text-missing": "A license is declared but its text is not shipped in the repo.",
    "license-reference-broken": "A README or card links a license file that is not in the repo.",
    "license-mismatch": "The repo's own sources disagree about a component's license.",
    "license-text-modified": "A known license text was altered.",
    "unknown-license": "License text or a license statement that matches nothing known.",
    "notice-missing": "A notice the license requires is absent (copyright, NOTICE, attribution, "
    "naming, use policy).",
    "use-restrictions-dropped": "A derivative is published without the use-based restrictions "
    "its base model's license requires to travel.",
    "modification-unmarked": "A derivative changed files or weights without the modification "
    "statement its license requires.",
    "commercial-restriction": "The license limits commercial use.",
    "license-denied": "A component's license is on the policy's deny list.",
    "license-not-allowed": "A component's license is not on the policy's allow list.",
}


class Check(ABC):
    """``texts`` holds the repo's license, notice and README texts the pipeline read
    (path -> text), so that checks never read the repo themselves."""

    @abstractmethod
    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]: ...


def finding(
    rule: str,
    message: str,
    *,
    path: str | None = None,
    component: str | None = None,
    evidence: tuple[Evidence, ...] = (),
    fix: str | None = None,
) -> Finding:
    """A finding of ``rule`` at its default severity (a policy may change it later)."""
    return Finding(rule, RULES[rule], message, path, component, evidence, fix)


CHECKS: Plugins[Check] = Plugins("check")


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
