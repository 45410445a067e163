"""One-line openness verdict, in the spirit of the OSI Open Source AI Definition and the
Model Openness Framework: what the weights' license allows, whether training code
is here, whether the card discloses training data. Nothing is guessed: what the repo
does not say is "not stated".

Verdicts: ``open-source-ai`` (weights and code under OSI-approved licenses, training
data disclosed), ``open-weights`` (weights under an OSI-approved license),
``open-weights-restricted`` (weights under terms with use or commercial limits),
``unknown`` (the weights' license could not be concluded), ``no-model``.
"""

from __future__ import annotations

import re

from auditor.model import AuditResult, ComponentKind, FileKind, ObligationKind, Openness
from auditor.signatures import catalog, license_keys

#: Training code by name: train.py, finetune_lora.py, scripts/pretrain.sh, trainer/...
TRAINING = re.compile(
    r"(?:^|/)(?:train|training|trainer|finetune|fine_tune|fine-tune|pretrain|sft|dpo|rlhf)"
    r"(?:[_\-.][^/]*)?(?:\.(?:py|sh|ipynb|yaml|yml|json)|/)",
    re.IGNORECASE,
)


def _osi(key: str) -> bool:
    cat = catalog()
    return key in cat and bool(cat.get(key).raw.get("osi_approved"))


def assess(result: AuditResult) -> Openness:
    reasons: list[str] = []
    models = [c for c in result.components if c.kind is ComponentKind.MODEL]
    weights = any(f.kind is FileKind.WEIGHTS for f in result.inventory.files)
    code = next((c for c in result.components if c.kind is ComponentKind.CODE), None)
    open_weights = False
    if not models:
        verdict = "no-model"
        reasons.append("no model weights or model license in this repo")
    elif any(c.concluded is None for c in models):
        verdict = "unknown"
        reasons.append("the weights' license could not be concluded")
    else:
        keys = list(dict.fromkeys(k for c in models for k in license_keys(c.concluded)))
        limits = sorted(
            {
                o.kind.value
                for c in models
                for o in c.obligations
                if o.kind
                in (
                    ObligationKind.USE_RESTRICTIONS,
                    ObligationKind.COMMERCIAL,
                    ObligationKind.NAMING,
                )
            }
        )
        if all(_osi(k) for k in keys):
            open_weights = True
            verdict = "open-weights"
            reasons.append(f"weights under OSI-approved {' AND '.join(keys)}")
        else:
            verdict = "open-weights-restricted"
            detail = f" ({', '.join(limits)})" if limits else ""
            reasons.append(f"weights under {' AND '.join(keys)}, not OSI-approved{detail}")
        if not weights:
            reasons.append("no weight files in this tree (license stated for weights elsewhere)")
    training = sorted(f.path for f in result.inventory.files if TRAINING.search(f.path))
    if training:
        code_open = (
            code is not None
            and code.concluded is not None
            and all(_osi(k) for k in license_keys(code.concluded))
        )
        state = "OSI-approved" if code_open else "not under an OSI-approved license"
        reasons.append(f"training code present ({training[0]}), {state}")
    else:
        code_open = False
        reasons.append("training code: not stated")
    datasets = sorted({f.value for f in result.facts if f.name == "datasets"})
    if datasets:
        shown = ", ".join(datasets[:3]) + (f" (+{len(datasets) - 3})" if len(datasets) > 3 else "")
        reasons.append(f"training data named in the card: {shown}")
    else:
        reasons.append("training data: not stated")
    if open_weights and code_open and datasets:
        verdict = "open-source-ai"
    return Openness(verdict, tuple(reasons))
