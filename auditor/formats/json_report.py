"""The JSON report: the project's stable, versioned interface (docs/report-schema.md).

Bump ``REPORT_VERSION``'s minor part for added fields and its major part for
anything that breaks a consumer; docs/report.schema.json must follow.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.formats import FORMATS, Format
from auditor.model import (
    AuditResult,
    BaseModel,
    Component,
    Evidence,
    Fact,
    Finding,
    LicenseDetection,
    Obligation,
    Severity,
    Upstream,
)

REPORT_VERSION = "1.4"


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
        "place": d.place.value,
        "stated": d.stated,
        "family": list(d.family),
        "joint": d.joint,
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


def obligation_dict(o: Obligation) -> dict[str, Any]:
    return {
        "license": o.license,
        "kind": o.kind.value,
        "summary": o.summary,
        "value": o.value,
        "quote": o.quote,
    }


def component_dict(c: Component) -> dict[str, Any]:
    return {
        "name": c.name,
        "kind": c.kind.value,
        "path": c.path,
        "concluded": c.concluded,
        "reason": c.reason,
        "basis": [license_dict(d) for d in c.basis],
        "disagreeing": [license_dict(d) for d in c.disagreeing],
        "licenses": [license_dict(d) for d in c.declared],
        "obligations": [obligation_dict(o) for o in c.obligations],
        "files": list(c.files),
    }


def base_model_dict(b: BaseModel) -> dict[str, Any]:
    return {
        "name": b.name,
        "relation": b.relation,
        "license": b.license,
        "license_source": b.license_source,
        "evidence": [evidence_dict(e) for e in b.evidence],
    }


def upstream_dict(u: Upstream | None) -> dict[str, Any] | None:
    if u is None:
        return None
    return {
        "target": u.target,
        "revision": u.revision,
        "licenses": dict(u.licenses),
        "changes": [
            {
                "path": c.path,
                "change": c.change,
                "kind": c.kind.value,
                "statement": evidence_dict(c.statement) if c.statement else None,
            }
            for c in u.changes
        ],
        "dropped": [
            {"what": d.what, "path": d.path, "text": d.text, "evidence": evidence_dict(d.evidence)}
            for d in u.dropped
        ],
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
            "ignored": inv.ignored,
            "components": len(result.components),
            "findings": counts,
            "accepted": len(result.accepted),
        },
        "repository": (
            {
                "concluded": result.repository.concluded,
                "reason": result.repository.reason,
                "basis": [license_dict(d) for d in result.repository.basis],
            }
            if result.repository
            else None
        ),
        "components": [component_dict(c) for c in result.components],
        "openness": (
            {"verdict": result.openness.verdict, "reasons": list(result.openness.reasons)}
            if result.openness
            else None
        ),
        "base_models": [base_model_dict(b) for b in result.base_models],
        "upstream": upstream_dict(result.upstream),
        "findings": [finding_dict(f) for f in result.findings],
        "accepted": [finding_dict(f) for f in result.accepted],
        "licenses": [license_dict(d) for d in result.detections],
        "facts": [fact_dict(f) for f in result.facts],
        "references": [
            {
                "target": r.reference.target,
                "name": r.reference.name,
                "scope": r.reference.scope.value,
                "states": r.reference.states,
                "resolved": r.resolved,
                "path": r.path,
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
