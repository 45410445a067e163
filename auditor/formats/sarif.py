"""SARIF 2.1.0: findings where code scanning (GitHub, IDEs) shows them, on the right file and line.

Byte-stable for the same result: no clock, no absolute paths (locations are
repo-relative under the ``SRCROOT`` base id, which the consumer binds to the
checkout). Each result carries the baseline fingerprint of auditor.policy as a
partial fingerprint, so code scanning tracks a finding across commits; findings a
baseline accepted are kept with an external suppression.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.checks import RULE_SUMMARIES, RULES
from auditor.formats import FORMATS, Format
from auditor.model import AuditResult, Evidence, Finding, Severity, fingerprint

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def _region(ev: Evidence) -> dict[str, int]:
    return {"startLine": max(ev.start_line, 1), "endLine": max(ev.end_line, ev.start_line, 1)}


def _locations(f: Finding) -> list[dict[str, Any]]:
    """The finding's path, with the span of its first evidence in that file; else the first
    evidence's file. A finding about the repo as a whole has no location."""
    path = f.path or (f.evidence[0].path if f.evidence else None)
    if path is None:
        return []
    physical: dict[str, Any] = {"artifactLocation": {"uri": path, "uriBaseId": "SRCROOT"}}
    ev = next((e for e in f.evidence if e.path == path), None)
    if ev is not None:
        physical["region"] = _region(ev)
    return [{"physicalLocation": physical}]


def _related(f: Finding) -> list[dict[str, Any]]:
    out = []
    for i, ev in enumerate(f.evidence):
        out.append(
            {
                "id": i,
                "physicalLocation": {
                    "artifactLocation": {"uri": ev.path, "uriBaseId": "SRCROOT"},
                    "region": _region(ev),
                },
                "message": {
                    "text": f"{ev.method.value}: {ev.excerpt}" if ev.excerpt else ev.method.value
                },
            }
        )
    return out


def _result(f: Finding, index: dict[str, int], accepted: bool) -> dict[str, Any]:
    text = f.message + (f" Fix: {f.fix}" if f.fix else "")
    out: dict[str, Any] = {
        "ruleId": f.rule,
        "level": LEVEL[f.severity],
        "message": {"text": text},
        "locations": _locations(f),
        "partialFingerprints": {"auditorFinding/v1": fingerprint(f)},
        "properties": {"component": f.component, "fix": f.fix},
    }
    if f.rule in index:
        out["ruleIndex"] = index[f.rule]
    if f.evidence:
        out["relatedLocations"] = _related(f)
    if accepted:
        out["suppressions"] = [{"kind": "external", "justification": "accepted by the baseline"}]
    return out


@FORMATS.register("sarif")
class SarifFormat(Format):
    suffix = ".sarif"

    def render(self, result: AuditResult) -> bytes:
        rules = sorted(RULES)
        index = {r: i for i, r in enumerate(rules)}
        doc = {
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": result.tool.name,
                            "version": result.tool.version,
                            "rules": [
                                {
                                    "id": r,
                                    "name": r,
                                    "shortDescription": {"text": RULE_SUMMARIES[r]},
                                    "help": {"text": f"See docs/rules.md, rule {r}."},
                                    "defaultConfiguration": {"level": LEVEL[RULES[r]]},
                                }
                                for r in rules
                            ],
                        }
                    },
                    "results": [_result(f, index, False) for f in result.findings]
                    + [_result(f, index, True) for f in result.accepted],
                    "properties": {
                        "target": result.target,
                        "revision": result.inventory.revision,
                    },
                }
            ],
        }
        return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
