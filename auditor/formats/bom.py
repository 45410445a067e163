"""The BOM view of an audit: what SPDX 2.3, SPDX 3.0.1 and CycloneDX documents share.

Every BOM format renders the same packages, license terms, identifiers and
time, so that the three documents of one audit never disagree:

* one package for the repository, one per component (code, each model, data)
  and one per base model the repo names. The repository package declares and
  concludes nothing itself: code and weights keep their own licenses, never
  one merged expression.
* license terms keyed by their report id: an SPDX License List id, or a
  ``LicenseRef-`` with the name, reference URLs and, where the repo ships it,
  the text of its own license file. A license text that matches no known
  license, or matches one with changes, is a term of its own
  (``LicenseRef-auditor-...``) quoting that file, never the license it
  resembles.
* identifiers derived from the content (a digest of every file's path, size
  and sha256), and the creation time from ``SOURCE_DATE_EPOCH`` when set, so
  that the same input gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import cache
from typing import ClassVar

from auditor.errors import FormatError
from auditor.formats import Format
from auditor.model import (
    UNKNOWN_KEY,
    AuditResult,
    BaseModel,
    Component,
    ComponentKind,
    Evidence,
    FileEntry,
    Finding,
    LicenseDetection,
    Method,
)
from auditor.signatures import catalog, is_policy, license_keys

#: The namespace of every UUID this tool derives from content (uuid5 of the tool's name).
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "auditor:bom")
HUB = "https://huggingface.co/"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_IDSTRING = re.compile(r"[^A-Za-z0-9.-]+")
_TOKEN = re.compile(r"[^\s()]+")
_OPERATORS = frozenset({"AND", "OR", "WITH"})


class BomError(FormatError):
    """A BOM that cannot be written: a bad SOURCE_DATE_EPOCH, a key the catalog lacks."""


def created_at(env: Mapping[str, str] | None = None) -> datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now; UTC, whole seconds."""
    env = os.environ if env is None else env
    pinned = env.get("SOURCE_DATE_EPOCH", "").strip()
    if pinned:
        try:
            return datetime.fromtimestamp(int(pinned), tz=timezone.utc)
        except (ValueError, OverflowError, OSError) as exc:
            raise BomError(f"SOURCE_DATE_EPOCH is not a Unix time: {pinned!r}") from exc
    return datetime.now(tz=timezone.utc).replace(microsecond=0)


def is_listed(spdx_id: str) -> bool:
    """On the SPDX License List (as spdx-tools and license-expression know it)."""
    return not spdx_id.startswith("LicenseRef-") and spdx_id in _spdx_symbols()


@cache
def _spdx_symbols() -> frozenset[str]:
    from license_expression import get_spdx_licensing

    return frozenset(get_spdx_licensing().known_symbols)


def license_ref(text: str) -> str:
    """``LicenseRef-`` + ``text`` with only the characters SPDX allows in an id."""
    return "LicenseRef-" + (_IDSTRING.sub("-", text).strip("-") or "unnamed")


@dataclass(frozen=True)
class Term:
    """One license as the documents name it."""

    #: Catalog key (``mit``), or ``""`` for a text of the repo's own that matches none.
    key: str
    #: SPDX License List id, or ``LicenseRef-...``.
    id: str
    listed: bool
    name: str
    urls: tuple[str, ...] = ()
    #: The license text as this repo ships it; None when the repo ships none.
    text: str | None = None
    #: Where that text is (``LICENSE-MODEL``), or None.
    text_path: str | None = None
    #: Where the repo states or ships this license.
    evidence: tuple[Evidence, ...] = ()
    #: Why this is a term of its own (``unknown`` or ``modified mit``); "" for a catalog license.
    note: str = ""


@dataclass(frozen=True)
class Package:
    """A package of the BOM: the repository, a component, or a base model."""

    #: Stable id fragment, unique in the document: ``repository``, ``code``, ``model``,
    #: ``model-vision``, ``data``, ``base-1``.
    ref: str
    name: str
    #: ``repository``, ``code``, ``model``, ``data`` or ``base-model``.
    role: str
    files: tuple[FileEntry, ...]
    #: License expressions of term ids; None means no assertion can be made.
    declared: str | None
    concluded: str | None
    version: str | None
    #: ``Organization: NAME`` or ``Person: NAME``; None when nothing says who.
    supplier: str | None
    download_location: str | None
    component: Component | None = None
    base: BaseModel | None = None
    #: Refs of the base-model packages this package descends from.
    descends_from: tuple[str, ...] = ()
    #: Refs of the packages this one contains (the repository's components).
    contains: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class Bom:
    result: AuditResult
    name: str
    created: datetime
    #: sha256 over every file's path, size and sha256: the content's identity.
    digest: str
    uuid: uuid.UUID
    packages: tuple[Package, ...]
    terms: tuple[Term, ...]

    def package(self, ref: str) -> Package:
        for p in self.packages:
            if p.ref == ref:
                return p
        raise KeyError(ref)

    def term(self, term_id: str) -> Term:
        for t in self.terms:
            if t.id == term_id:
                return t
        raise KeyError(term_id)

    def ref_of(self, finding: Finding) -> str:
        """The package a finding is about: its component's, else the repository's."""
        for p in self.packages:
            if p.component is not None and p.component.name == finding.component:
                return p.ref
        if finding.path is not None:
            for p in self.packages:
                if p.role != "repository" and any(f.path == finding.path for f in p.files):
                    return p.ref
        return "repository"

    def facts(self, name: str, component: Component | None = None) -> list[str]:
        """Values of one fact, in order and without repeats; with ``component``, only the
        facts found in files of that component's folder (a sub-model's own card)."""
        seen: list[str] = []
        for f in self.result.facts:
            if f.name != name or f.value in seen:
                continue
            if component is not None and self._folder_of(f.evidence.path) != component.path:
                continue
            seen.append(f.value)
        return seen

    def _folder_of(self, path: str) -> str:
        """The folder of the model component a file belongs to ("" for the repo's own)."""
        folders = [c.path for c in self.result.components if c.path]
        inside = [p for p in folders if path.startswith(p.rstrip("/") + "/")]
        return max(inside, key=len) if inside else ""


_NUMBER = r"([0-9][0-9,]*(?:\.[0-9]+)?|\.[0-9]+)"
_ENERGY = re.compile(rf"^\s*{_NUMBER}\s*(kwh|mwh|mj)\s*$", re.IGNORECASE)
#: Energy units the card facts use -> (the unit reported, factor).
ENERGY_UNITS = {"kwh": ("kWh", 1.0), "mwh": ("kWh", 1000.0), "mj": ("MJ", 1.0)}


def number(text: str) -> int | float:
    """``1,250`` -> 1250; ``61.5`` -> 61.5."""
    value = float(text.replace(",", ""))
    return int(value) if value.is_integer() else value


@dataclass(frozen=True)
class Metric:
    """A ``metric`` fact (``TYPE=VALUE[ on DATASET]``) taken apart."""

    type: str
    value: str
    dataset: str | None = None


def metrics(values: list[str]) -> list[Metric]:
    """The ``metric`` facts that have a type and a value, in order."""
    out: list[Metric] = []
    for v in values:
        kind, sep, rest = v.partition("=")
        score, on, dataset = rest.partition(" on ")
        if sep and kind.strip() and score.strip():
            out.append(Metric(kind.strip(), score.strip(), dataset.strip() if on else None))
    return out


def energies(values: list[str]) -> list[tuple[int | float, str]]:
    """``energy_consumption`` facts as (quantity, ``kWh`` or ``MJ``); MWh become kWh."""
    out: list[tuple[int | float, str]] = []
    for v in values:
        m = _ENERGY.match(v)
        if m:
            unit, factor = ENERGY_UNITS[m[2].lower()]
            quantity = number(m[1]) * factor
            out.append((int(quantity) if float(quantity).is_integer() else quantity, unit))
    return out


def tree_digest(files: tuple[FileEntry, ...]) -> str:
    """The content's identity: a file without a known sha256 counts by its size only."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        h.update(f"{f.path}\t{f.size}\t{f.sha256 or ''}\n".encode())
    return h.hexdigest()


def hub_url(name: str) -> str | None:
    """The Hub page of a repo id (``org/name``); None for a name that is no repo id."""
    return HUB + name if _HUB_ID.match(name) else None


def hub_org(name: str) -> str | None:
    return name.split("/", 1)[0] if _HUB_ID.match(name) else None


class _Terms:
    """Collects the terms a document uses, each once, keyed by id.

    Evidence is gathered per term and sorted once (``final``): merging and sorting it on
    every use made a BOM quadratic in the number of tagged files."""

    def __init__(self, result: AuditResult) -> None:
        self.result = result
        self.texts = dict(result.license_texts)
        self.by_id: dict[str, Term] = {}
        self._evidence: dict[str, dict[Evidence, None]] = {}
        cat = catalog()
        # A catalog license's text, from a clean license-text detection in this repo.
        self.shipped: dict[str, Evidence] = {}
        for d in result.detections:
            ev = d.evidence[-1]
            if (
                not d.is_clue
                and not d.modified
                and d.key != UNKNOWN_KEY
                and ev.method is Method.LICENSE_TEXT
                and ev.path in self.texts
                and d.key in cat
            ):
                self.shipped.setdefault(d.key, ev)

    def _lines(self, ev: Evidence) -> str | None:
        text = self.texts.get(ev.path)
        if text is None:
            return None
        lines = text.split("\n")[ev.start_line - 1 : ev.end_line]
        return "\n".join(lines).strip("\n") or None

    def for_key(self, key: str, evidence: tuple[Evidence, ...] = ()) -> Term:
        cat = catalog()
        info = cat.get(key)
        term_id = info.spdx_id
        listed = is_listed(term_id)
        if not listed and not term_id.startswith("LicenseRef-"):
            term_id = license_ref(key)
        old = self.by_id.get(term_id)
        if old is not None:
            self._evidence[term_id].update(dict.fromkeys(evidence))
            return old
        self._evidence[term_id] = dict.fromkeys(evidence)
        shipped = self.shipped.get(key)
        urls = info.raw.get("urls") or []
        term = Term(
            key=key,
            id=term_id,
            listed=listed,
            name=info.name,
            urls=tuple(u for u in urls if isinstance(u, str))[:5],
            text=None if listed or shipped is None else self._lines(shipped),
            text_path=None if listed or shipped is None else shipped.path,
        )
        self.by_id[term_id] = term
        return term

    def final(self) -> tuple[Term, ...]:
        """Every term, its evidence merged and sorted, in id order."""
        out = []
        for term_id, term in self.by_id.items():
            gathered = self._evidence.get(term_id)
            if gathered is not None:
                term = replace(term, evidence=tuple(sorted(gathered, key=_ev_order)))
            out.append(term)
        return tuple(sorted(out, key=lambda t: t.id.lower()))

    def for_text(self, d: LicenseDetection) -> Term | None:
        """A license file whose text is unknown or modified: a term of its own, quoting it."""
        ev = d.evidence[-1]
        text = self._lines(ev)
        if text is None:
            return None
        if d.key == UNKNOWN_KEY:
            note, name = "unknown", f"License text in {ev.path} (not identified)"
        else:
            label = catalog().get(d.key).name if d.key in catalog() else d.key
            note, name = f"modified {d.key}", f"License text in {ev.path} ({label}, modified)"
        where = ev.path if ev.start_line == 1 else f"{ev.path}-L{ev.start_line}"
        term_id = license_ref(f"auditor-{where}")
        term = self.by_id.get(term_id) or Term(
            key="",
            id=term_id,
            listed=False,
            name=name,
            text=text,
            text_path=ev.path,
            evidence=(ev,),
            note=note,
        )
        self.by_id[term_id] = term
        return term


def _ev_order(e: Evidence) -> tuple[str, int, int, str]:
    return (e.path, e.start_line, e.end_line, e.method.value)


def _expression(keys_expr: str, terms: _Terms, evidence: tuple[Evidence, ...]) -> str:
    """A key expression (``apache-2.0 AND mit``) in term ids (``Apache-2.0 AND MIT``)."""

    def swap(m: re.Match[str]) -> str:
        token = m.group(0)
        if token.upper() in _OPERATORS:
            return token.upper()
        if token not in catalog():
            raise BomError(f"license key {token!r} is not in the catalog")
        return terms.for_key(token, evidence).id

    return _TOKEN.sub(swap, keys_expr)


def _declared(component: Component, terms: _Terms) -> str | None:
    """Everything the repo declares for a component, joined with AND; None when nothing."""
    ids: set[str] = set()
    for d in component.declared:
        if d.is_clue or (d.key in catalog() and is_policy(d.key)):
            continue
        if d.key == UNKNOWN_KEY or d.modified:
            if d.evidence[-1].method is Method.LICENSE_TEXT:
                term = terms.for_text(d)
                if term is not None:
                    ids.add(term.id)
            continue  # an unknown name in a statement: a finding says so, no id can
        if d.key not in catalog():
            continue
        ids.add(terms.for_key(d.key, d.evidence).id)
    if not ids:
        return None
    ordered = sorted(ids, key=str.lower)
    return " AND ".join(f"({i})" if " " in i else i for i in ordered)


def _concluded(component: Component, terms: _Terms) -> str | None:
    if component.concluded is None:
        return None
    evidence = tuple(e for d in component.basis for e in d.evidence)
    return _expression(component.concluded, terms, evidence)


def _supplier(result: AuditResult, explicit: str | None) -> str | None:
    if explicit:
        return explicit if ":" in explicit else f"Organization: {explicit}"
    for f in result.facts:
        if f.name == "quantized_by" and f.value.strip():
            return f"Organization: {f.value.strip()}"
    if result.target.startswith("hf://"):
        org = hub_org(result.target[len("hf://") :].split("@", 1)[0].removeprefix("datasets/"))
        if org:
            return f"Organization: {org}"
    return None


def _download(result: AuditResult) -> str | None:
    if result.download_location:
        return result.download_location
    if result.target.startswith("hf://"):
        repo = result.target[len("hf://") :].split("@", 1)[0]
        kind, _, rest = repo.partition("/")
        if kind == "datasets" and _HUB_ID.match(rest):
            return HUB + "datasets/" + rest
        return hub_url(repo)
    return None


def _name(result: AuditResult) -> str:
    if result.name:
        return result.name
    target = result.target.rstrip("/")
    if target.startswith("hf://"):
        target = target.split("@", 1)[0]
    return target.rsplit("/", 1)[-1] or "repository"


def _ref(component: Component) -> str:
    base = component.name.replace(":", "-")
    return re.sub(r"[^A-Za-z0-9.-]+", "-", base).strip("-") or "component"


def build(result: AuditResult, supplier: str | None = None, created: datetime | None = None) -> Bom:
    """The BOM view of ``result``; ``supplier`` is who distributes the repo (NTIA element)."""
    terms = _Terms(result)
    files = result.inventory.by_path()
    digest = tree_digest(result.inventory.files)
    name = _name(result)
    version = result.inventory.revision or next(
        iter(f.value for f in result.facts if f.name == "model_version"), None
    )
    version = version or f"sha256:{digest[:16]}"
    who = _supplier(result, supplier)
    download = _download(result)
    base_refs = {b.name: f"base-{i}" for i, b in enumerate(result.base_models, 1)}
    packages: list[Package] = []
    owned: set[str] = set()
    for comp in sorted(result.components, key=lambda c: (c.kind.value, c.name)):
        owned.update(comp.files)
        packages.append(
            Package(
                ref=_ref(comp),
                name=f"{name} ({comp.name})",
                role=comp.kind.value,
                files=tuple(files[p] for p in sorted(comp.files) if p in files),
                declared=_declared(comp, terms),
                concluded=_concluded(comp, terms),
                version=version,
                supplier=who,
                download_location=download,
                component=comp,
                descends_from=(
                    tuple(base_refs.values()) if comp.kind is ComponentKind.MODEL else ()
                ),
            )
        )
    for b in result.base_models:
        lic = _expression(b.license, terms, b.evidence) if b.license else None
        audited = b.license_source.startswith("--upstream")
        org = hub_org(b.name)
        packages.append(
            Package(
                ref=base_refs[b.name],
                name=b.name,
                role="base-model",
                files=(),
                declared=lic,
                concluded=lic if audited else None,
                version=None,
                supplier=f"Organization: {org}" if org else None,
                download_location=hub_url(b.name),
                base=b,
                comment=(
                    f"Base model ({b.relation or 'relation not stated'}); "
                    + (
                        f"license from {b.license_source}."
                        if b.license
                        else "its license is not known here."
                    )
                ),
            )
        )
    repo = result.repository
    root = Package(
        ref="repository",
        name=name,
        role="repository",
        files=tuple(f for f in result.inventory.files if f.path not in owned),
        # What the repo's top-level license file or README says of all of it (else its
        # parts' licenses together): the license people read off the repository page.
        declared=(
            _expression(repo.concluded, terms, tuple(e for d in repo.basis for e in d.evidence))
            if repo is not None and repo.concluded
            else None
        ),
        concluded=None,
        version=version,
        supplier=who,
        download_location=download,
        contains=tuple(p.ref for p in packages if p.role != "base-model"),
        comment=(
            "The repository as a whole: its declared license is what its top-level license "
            "file or README says of all of it; its code, model and data components carry "
            "their own licenses (see the packages it contains)."
        ),
    )
    return Bom(
        result=result,
        name=name,
        created=created or created_at(),
        digest=digest,
        uuid=uuid.uuid5(UUID_NAMESPACE, f"{name}\n{digest}\n{result.tool.version}"),
        packages=(root, *packages),
        terms=terms.final(),
    )


def expression_ids(expression: str | None) -> list[str]:
    """The term ids of an expression of ids (``A AND (B OR C)`` -> A, B, C)."""
    return license_keys(expression)


class BomFormat(Format):
    """A format that renders the BOM view; file checksums are part of every BOM."""

    needs_checksums: ClassVar[tuple[str, ...]] = ("sha256",)

    def render(self, result: AuditResult) -> bytes:
        return self.render_bom(build(result, self.supplier))

    @abstractmethod
    def render_bom(self, bom: Bom) -> bytes: ...
