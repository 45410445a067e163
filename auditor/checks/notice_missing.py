"""``notice-missing``: a notice the license requires is absent.

An error; each is a condition of the license:

* ``copyright``: an MIT/BSD/ISC-style license text without its copyright
  line, or with the template's placeholder still in it;
* ``upstream``: a NOTICE file, license file or copyright line of the
  upstream (``--upstream``) that the derivative dropped;
* ``attribution``: a redistribution (a derivative) without the attribution
  text its license or its base model's license fixes ("Built with Llama",
  the Notice-file sentence of Llama 2, Qwen, Gemma...);
* ``naming``: a derivative whose name does not begin as the license requires;
* ``use-policy``: a license that incorporates a separate acceptable-use
  policy, shipped without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from auditor.checks import Check, register
from auditor.copyright import is_copyright, is_placeholder
from auditor.model import (
    AuditResult,
    ComponentKind,
    Evidence,
    FileKind,
    Finding,
    Method,
    ObligationKind,
    Severity,
)
from auditor.obligations import obligations_for, requires
from auditor.signatures import is_policy, label, license_keys

#: Licenses whose own text carries the copyright line ("Copyright (c) <year> <holders>").
COPYRIGHT_IN_TEXT = {"mit", "bsd-new", "bsd-simplified", "isc", "bsd-original", "mit-0"}
QUOTED = re.compile(r"[\"“]([^\"”]{12,})[\"”]")
POLICY_FILE = re.compile(r"use[_\- ]?policy|acceptable[_\- ]?use|prohibited", re.IGNORECASE)
UNCHECKABLE = ("no fixed wording", "encouraged")


def _norm(text: str) -> str:
    text = text.lower().replace("©", "(c)").replace("’", "'")
    return " ".join(re.sub(r"[\"“”*_`]", " ", text).split())


def _attribution(value: str) -> list[str] | None:
    """The alternatives of a fixed attribution text to display ("Built with Llama"), or None
    when the license fixes no wording or asks for a Notice-file sentence instead."""
    low = value.lower()
    if low.startswith("notice file") or any(u in low for u in UNCHECKABLE):
        return None
    quoted = QUOTED.findall(value)
    if quoted:
        return quoted[:1]
    if len(value) <= 60 and "(" not in value and "<" not in value:
        return [v.strip() for v in value.split(" / ") if v.strip()]
    return None


def _name_prefix(value: str) -> str | None:
    m = re.search(r"[\"“]([^\"”]{2,20})[\"”]\s+at the beginning", value) or re.search(
        r"begin with [\"“]([^\"”]{2,20})[\"”]", value
    )
    return m.group(1) if m else None


@register
class NoticeMissing(Check):
    rule = "notice-missing"
    severity = Severity.ERROR
    summary = (
        "A notice the license requires is absent (copyright, NOTICE, attribution, "
        "naming, use policy)."
    )

    def run(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        yield from self._copyright(result, texts)
        yield from self._upstream(result)
        yield from self._model_terms(result, texts)

    def _copyright(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        seen: set[str] = set()
        for d in result.detections:
            ev = d.evidence[-1]
            if d.is_clue or d.key not in COPYRIGHT_IN_TEXT or ev.method is not Method.LICENSE_TEXT:
                continue
            if ev.path in seen or ev.path not in texts:
                continue
            seen.add(ev.path)
            lines = list(enumerate(texts[ev.path].split("\n"), 1))
            if any(is_copyright(ln) for _, ln in lines):
                continue
            placeholders = [(n, ln) for n, ln in lines if is_placeholder(ln)]
            if placeholders:
                n, ln = placeholders[0]
                why = f"its copyright line is the template's placeholder: {ln.strip()}"
                where = Evidence(ev.path, n, n, Method.LICENSE_TEXT, ln.strip())
            else:
                why = "it has no copyright line"
                where = ev
            yield self.finding(
                f"{ev.path} is the {label(d.key)} text, but {why}; the license's notice "
                "condition needs the copyright holder",
                path=ev.path,
                evidence=(where,),
                fix="add 'Copyright (c) YEAR HOLDER' naming the copyright holder(s)",
            )

    def _upstream(self, result: AuditResult) -> Iterable[Finding]:
        up = result.upstream
        if up is None:
            return
        licenses = {c.kind.value: license_keys(c.concluded) for c in result.components}
        for kind, expression in up.licenses:
            licenses.setdefault(kind, []).extend(license_keys(expression))
        keys = {k for ks in licenses.values() for k in ks}
        wanted = {
            ObligationKind.COPYRIGHT_NOTICE,
            ObligationKind.NOTICE_FILE,
            ObligationKind.LICENSE_COPY,
            ObligationKind.REVIEW,
        }
        if keys and not any(o.kind in wanted for k in keys for o in obligations_for(k)):
            return  # every license in play is known to ask for no notices
        for dropped in up.dropped:
            what = {
                "notice-file": "the upstream NOTICE file",
                "license-file": "the upstream license file",
                "copyright": "an upstream copyright line",
            }.get(dropped.what, dropped.what)
            yield self.finding(
                f"{what} is not carried: {dropped.path}"
                + (f": {dropped.text}" if dropped.text != dropped.path else ""),
                path=dropped.path,
                evidence=(dropped.evidence,),
                fix="carry the upstream's NOTICE, license files and copyright lines unchanged "
                "(add your own notices beside them)",
            )

    def _model_terms(self, result: AuditResult, texts: Mapping[str, str]) -> Iterable[Finding]:
        kinds = {f.path: f.kind for f in result.inventory.files}
        redistribution = bool(result.base_models) or result.upstream is not None
        keys: dict[str, str] = {}  # key -> why it applies
        for comp in result.components:
            if comp.kind is ComponentKind.MODEL:
                for k in license_keys(comp.concluded):
                    keys.setdefault(k, f"the {comp.name} license")
        for base in result.base_models:
            if base.license:
                keys.setdefault(base.license, f"the license of base model {base.name}")
        for key, why in keys.items():
            if redistribution:
                yield from self._notice_file(key, why, texts, kinds)
                attribution = requires(key, ObligationKind.ATTRIBUTION)
                if attribution is not None:
                    yield from self._attribution(key, why, attribution.value, texts, kinds)
                naming = requires(key, ObligationKind.NAMING)
                if naming is not None:
                    yield from self._naming(result, key, why, naming.value)
            policy = requires(key, ObligationKind.ACCEPTABLE_USE_POLICY)
            if policy is not None and "inline" not in policy.value:
                yield from self._policy(result, key, why, policy.value)

    def _notice_file(
        self, key: str, why: str, texts: Mapping[str, str], kinds: Mapping[str, FileKind]
    ) -> Iterable[Finding]:
        """The "X is licensed under ..." sentence that must sit in a Notice file (Llama,
        Qwen, Gemma, Tongyi Qianwen...). Only NOTICE files count: the license text quotes
        the sentence itself, so shipping the license never satisfies it."""
        sentences = []
        attribution = requires(key, ObligationKind.ATTRIBUTION)
        if attribution and attribution.value.lower().startswith("notice file"):
            sentences += QUOTED.findall(attribution.value)[:1]
        notice = requires(key, ObligationKind.COPYRIGHT_NOTICE)
        if notice:
            whole = QUOTED.fullmatch(notice.quote.strip())
            if whole and re.search(r"licensed under|provided under", whole.group(1)):
                sentences.append(whole.group(1))
        if not sentences:
            return
        shipped = " ".join(_norm(t) for p, t in texts.items() if kinds.get(p) is FileKind.NOTICE)
        if any(_norm(s) in shipped for s in sentences):
            return
        yield self.finding(
            f'{why} ({label(key)}) requires a NOTICE file with "{sentences[0]}", and the repo '
            "does not carry one",
            component="model",
            fix=f'add a NOTICE file with the line "{sentences[0]}"',
        )

    def _attribution(
        self,
        key: str,
        why: str,
        value: str,
        texts: Mapping[str, str],
        kinds: Mapping[str, FileKind],
    ) -> Iterable[Finding]:
        alternatives = _attribution(value)
        if alternatives is None:
            return
        shipped = " ".join(_norm(t) for p, t in texts.items() if kinds.get(p) is FileKind.README)
        if any(_norm(a) in shipped for a in alternatives):
            return
        shown = " / ".join(f'"{a}"' for a in alternatives)
        yield self.finding(
            f"{why} ({label(key)}) requires the attribution {shown} in the model card or "
            "docs, and the repo does not carry it",
            component="model",
            fix=f"add {shown} to the README",
        )

    def _naming(self, result: AuditResult, key: str, why: str, value: str) -> Iterable[Finding]:
        prefix = _name_prefix(value)
        if prefix is None:
            return
        names = [f.value for f in result.facts if f.name == "model_name"]
        root = result.inventory.root.rstrip("/").rsplit("/", 1)[-1]
        name = names[0] if names else root
        if name.lower().startswith(prefix.lower()):
            return
        evidence = tuple(f.evidence for f in result.facts if f.name == "model_name")[:1]
        yield self.finding(
            f"{why} ({label(key)}) requires a derivative's name to begin with "
            f'"{prefix}"; this model is named "{name}"',
            component="model",
            evidence=evidence,
            path=evidence[0].path if evidence else None,
            fix=f'name the model "{prefix}-..." (card model_name / the repo name)',
        )

    def _policy(self, result: AuditResult, key: str, why: str, value: str) -> Iterable[Finding]:
        has_policy = any(is_policy(d.key) for d in result.detections) or any(
            POLICY_FILE.search(f.path.rsplit("/", 1)[-1]) for f in result.inventory.files
        )
        if has_policy:
            return
        yield self.finding(
            f"{why} ({label(key)}) incorporates a use policy ({value}) that the repo does not ship",
            component="model",
            fix="ship the acceptable-use policy beside the license (e.g. USE_POLICY.md)",
        )
