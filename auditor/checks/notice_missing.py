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

from auditor.checks import CHECKS, Check, finding, label
from auditor.model import (
    AuditResult,
    ComponentKind,
    Evidence,
    FileKind,
    Finding,
    Method,
    ObligationKind,
)
from auditor.obligations import license_keys, obligations_for, requires
from auditor.signatures import is_policy

#: Licenses whose own text carries the copyright line ("Copyright (c) <year> <holders>").
COPYRIGHT_IN_TEXT = {"mit", "bsd-new", "bsd-simplified", "isc", "bsd-original", "mit-0"}
COPYRIGHT = re.compile(r"\bcopyright\b|\(c\)|©|版权所有", re.IGNORECASE)
PLACEHOLDER = re.compile(
    r"<\s*(?:year|yyyy|copyright|name|owner|holder|author)[^>]*>|\[\s*(?:yyyy|year|name|fullname)"
    r"[^\]]*\]|\{\{[^}]*\}\}|\byyyy\b",
    re.IGNORECASE,
)
QUOTED = re.compile(r"[\"“]([^\"”]{12,})[\"”]")
POLICY_FILE = re.compile(r"use[_\- ]?policy|acceptable[_\- ]?use|prohibited", re.IGNORECASE)
UNCHECKABLE = ("no fixed wording", "encouraged")


def _norm(text: str) -> str:
    text = text.lower().replace("©", "(c)").replace("’", "'")
    return " ".join(re.sub(r"[\"“”*_`]", " ", text).split())


def _copyright_lines(text: str) -> list[tuple[int, str]]:
    return [(n, ln) for n, ln in enumerate(text.split("\n"), 1) if COPYRIGHT.search(ln)]


def _holder(line: str) -> bool:
    """A copyright line naming someone: more than the word and the sign."""
    rest = COPYRIGHT.sub(" ", line)
    rest = re.sub(r"\ball rights reserved\b|[\d,\-–.;:]+", " ", rest, flags=re.IGNORECASE)
    return len(re.findall(r"\w+", rest)) >= 1 and not PLACEHOLDER.search(line)


def _attribution(value: str) -> tuple[str, list[str]] | None:
    """(where, alternatives) of a fixed attribution text, or None when the license fixes none."""
    if any(u in value.lower() for u in UNCHECKABLE) and "notice file" not in value.lower():
        return None
    if value.lower().startswith("notice file"):
        quoted = QUOTED.findall(value)
        return ("notice", quoted[:1]) if quoted else None
    quoted = QUOTED.findall(value)
    if quoted:
        return ("readme", quoted[:1])
    if len(value) <= 60 and "(" not in value and "<" not in value:
        return ("readme", [v.strip() for v in value.split(" / ") if v.strip()])
    return None


def _name_prefix(value: str) -> str | None:
    m = re.search(r"[\"“]([^\"”]{2,20})[\"”]\s+at the beginning", value) or re.search(
        r"begin with [\"“]([^\"”]{2,20})[\"”]", value
    )
    return m.group(1) if m else None


@CHECKS.register("notice-missing")
class NoticeMissing(Check):
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
            lines = _copyright_lines(texts[ev.path])
            named = [(n, ln) for n, ln in lines if _holder(ln)]
            if named:
                continue
            if lines:
                n, ln = lines[0]
                why = f"its copyright line is the template's placeholder: {ln.strip()}"
                where = Evidence(ev.path, n, n, Method.LICENSE_TEXT, ln.strip())
            else:
                why = "it has no copyright line"
                where = ev
            yield finding(
                "notice-missing",
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
            yield finding(
                "notice-missing",
                f"{what} is not carried: {dropped.path}: {dropped.text}",
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
            attribution = requires(key, ObligationKind.ATTRIBUTION)
            if redistribution and attribution is not None:
                yield from self._attribution(key, why, attribution.value, texts, kinds)
            naming = requires(key, ObligationKind.NAMING)
            if redistribution and naming is not None:
                yield from self._naming(result, key, why, naming.value)
            policy = requires(key, ObligationKind.ACCEPTABLE_USE_POLICY)
            if policy is not None and "inline" not in policy.value:
                yield from self._policy(result, key, why, policy.value)

    @staticmethod
    def _attribution(
        key: str, why: str, value: str, texts: Mapping[str, str], kinds: Mapping[str, FileKind]
    ) -> Iterable[Finding]:
        wanted = _attribution(value)
        if wanted is None:
            return
        place, alternatives = wanted
        where = {FileKind.NOTICE, FileKind.LICENSE} if place == "notice" else {FileKind.README}
        shipped = " ".join(_norm(t) for p, t in texts.items() if kinds.get(p) in where)
        if any(_norm(a) in shipped for a in alternatives):
            return
        shown = " / ".join(f'"{a}"' for a in alternatives)
        yield finding(
            "notice-missing",
            f"{why} ({label(key)}) requires the attribution {shown}"
            + (" in a NOTICE file" if place == "notice" else " in the model card or docs")
            + ", and the repo does not carry it",
            component="model",
            fix=f"add {shown} to "
            + ("a NOTICE file shipped with the weights" if place == "notice" else "the README"),
        )

    @staticmethod
    def _naming(result: AuditResult, key: str, why: str, value: str) -> Iterable[Finding]:
        prefix = _name_prefix(value)
        if prefix is None:
            return
        names = [f.value for f in result.facts if f.name == "model_name"]
        root = result.inventory.root.rstrip("/").rsplit("/", 1)[-1]
        name = names[0] if names else root
        if name.lower().startswith(prefix.lower()):
            return
        evidence = tuple(f.evidence for f in result.facts if f.name == "model_name")[:1]
        yield finding(
            "notice-missing",
            f"{why} ({label(key)}) requires a derivative's name to begin with "
            f'"{prefix}"; this model is named "{name}"',
            component="model",
            evidence=evidence,
            path=evidence[0].path if evidence else None,
            fix=f'name the model "{prefix}-..." (card model_name / the repo name)',
        )

    @staticmethod
    def _policy(result: AuditResult, key: str, why: str, value: str) -> Iterable[Finding]:
        has_policy = any(is_policy(d.key) for d in result.detections) or any(
            POLICY_FILE.search(f.path.rsplit("/", 1)[-1]) for f in result.inventory.files
        )
        if has_policy:
            return
        yield finding(
            "notice-missing",
            f"{why} ({label(key)}) incorporates a use policy ({value}) that the repo does not ship",
            component="model",
            fix="ship the acceptable-use policy beside the license (e.g. USE_POLICY.md)",
        )
