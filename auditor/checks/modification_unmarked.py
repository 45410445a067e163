"""``modification-unmarked``: a derivative changed files or weights without the modification
statement its license requires (Apache-2.0 4(b), and model licenses that ask for it).

An error. With ``--upstream``, each file that differs from the upstream copy
and carries no statement (in the file, a NOTICE/CHANGELOG naming it, or the
card for weights) is one finding. Without it, a derivative known only from
weight headers or config (no card relation, no README sentence saying it was
fine-tuned, quantized or merged) is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.checks import Check, register
from auditor.components import KIND_OF_FILE
from auditor.model import (
    AuditResult,
    ComponentKind,
    FileKind,
    Finding,
    Method,
    ObligationKind,
    Severity,
)
from auditor.obligations import requires
from auditor.signatures import label, license_keys


def _requiring(keys: Iterable[str]) -> list[str]:
    return [k for k in dict.fromkeys(keys) if requires(k, ObligationKind.MODIFICATION_NOTICE)]


@register
class ModificationUnmarked(Check):
    rule = "modification-unmarked"
    severity = Severity.ERROR
    summary = (
        "A derivative changed files or weights without the modification statement "
        "its license requires."
    )

    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        concluded = {c.kind: license_keys(c.concluded) for c in reversed(result.components)}
        if result.upstream is not None:
            upstream = dict(result.upstream.licenses)
            # The card that states how the weights were changed is the statement itself.
            stating = {c.statement.path for c in result.upstream.changes if c.statement}
            for change in result.upstream.changes:
                if change.change != "modified" or change.statement is not None:
                    continue
                if change.kind is FileKind.README and change.path in stating:
                    continue
                kind = KIND_OF_FILE.get(change.kind)
                if kind is None:  # a README, license or notice: every license in play applies
                    keys = [k for ks in concluded.values() for k in ks]
                    keys += [k for _, e in result.upstream.licenses for k in license_keys(e)]
                else:
                    keys = concluded.get(kind, []) + license_keys(upstream.get(kind.value))
                asking = _requiring(keys)
                if not asking:
                    continue
                yield self.finding(
                    f"{change.path} differs from {result.upstream.target} and nothing says it "
                    f"was changed; {', '.join(label(k) for k in asking)} requires modified "
                    "files to carry a prominent notice",
                    path=change.path,
                    component=kind.value if kind else None,
                    fix="add a notice to the file (or a NOTICE/CHANGELOG line naming it) saying "
                    "that you changed it; for weights, say in the card how they were changed",
                )
            return
        for base in result.base_models:
            stated = base.relation or any(
                e.method is Method.README_STATEMENT for e in base.evidence
            )
            if stated:
                continue
            keys = ([base.license] if base.license else []) + concluded.get(ComponentKind.MODEL, [])
            asking = _requiring(keys)
            if not asking:
                continue
            where = ", ".join(f"{e.path} ({e.method.value})" for e in base.evidence)
            yield self.finding(
                f"derived from {base.name} (per {where}) but the card states no "
                f"modification; {', '.join(label(k) for k in asking)} requires one",
                path=base.evidence[0].path if base.evidence else None,
                component="model",
                evidence=base.evidence,
                fix="state in the model card how the model was changed (base_model_relation: "
                "finetune/quantized/merge/adapter and a sentence such as 'fine-tuned from ...')",
            )
