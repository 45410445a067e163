"""The JSON report: the project's stable, versioned interface (docs/report-schema.md).

Bump ``REPORT_VERSION``'s minor part for added fields and its major part for
anything that breaks a consumer; docs/report.schema.json must follow.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.formats import FORMATS, Format
from auditor.model import AuditResult, Evidence, Fact, Finding, LicenseDetection, Severity

REPORT_VERSION = "1.1"


def evidence_dict(ev: Evidence) -> dict[str, Any]:
    return {
        "path": ev.path,
        "start_line": ev.start_line,
        "end_line": ev.end_line,
        "method": ev.method.value,
        "excerpt": ev.excerpt,
    }


def license_dict(d: LicenseDetection) -> dict[str, Any]:
    return {
        "key": d.key,
        "spdx_id": d.spdx_id,
        "name": d.name,
        "score": d.score,
        "scope": d.scope.value,
        "is_clue": d.is_clue,
        "modified": d.modified,
        "coverage": d.coverage,
        "evidence": [evidence_dict(e) for e in d.evidence],
        "differences": [evidence_dict(e) for e in d.differences],
    }


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "severity": f.severity.value,
        "component": f.component,
        "path": f.path,
        "message": f.message,
        "fix": f.fix,
        "evidence": [evidence_dict(e) for e in f.evidence],
    }


def fact_dict(f: Fact) -> dict[str, Any]:
    return {"name": f.name, "value": f.value, "evidence": evidence_dict(f.evidence)}


def report_dict(result: AuditResult) -> dict[str, Any]:
    inv = result.inventory
    counts = {s.value: 0 for s in Severity}
    for f in result.findings:
        counts[f.severity.value] += 1
    return {
        "report_version": REPORT_VERSION,
        "tool": {"name": result.tool.name, "version": result.tool.version},
        "target": result.target,
        "revision": inv.revision,
        "summary": {
            "files": len(inv.files),
            "skipped": len(result.skipped),
            "components": len(result.components),
            "findings": counts,
        },
        "components": [
            {
                "name": c.name,
                "kind": c.kind.value,
                "concluded": c.concluded,
                "licenses": [license_dict(d) for d in c.declared],
                "files": list(c.files),
            }
            for c in result.components
        ],
        "findings": [finding_dict(f) for f in result.findings],
        "licenses": [license_dict(d) for d in result.detections],
        "facts": [fact_dict(f) for f in result.facts],
        "references": [
            {
                "target": r.reference.target,
                "name": r.reference.name,
                "scope": r.reference.scope.value,
                "states": r.reference.states,
                "resolved": r.resolved,
                "keys": list(r.keys),
                "evidence": evidence_dict(r.reference.evidence),
            }
            for r in result.references
        ],
        "files": [
            {
                "path": f.path,
                "kind": f.kind.value,
                "size": f.size,
                "sha256": f.sha256,
                "lfs": f.lfs,
                "format": f.format,
                "header": dict(f.header),
            }
            for f in inv.files
        ],
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
    }


@FORMATS.register("json")
class JsonFormat(Format):
    suffix = ".json"

    def render(self, result: AuditResult) -> bytes:
        text = json.dumps(report_dict(result), indent=2, ensure_ascii=False, sort_keys=False)
        return (text + "\n").encode("utf-8")
