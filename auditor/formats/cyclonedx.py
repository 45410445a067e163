"""CycloneDX 1.6 ML-BOM (JSON), built with cyclonedx-python-lib's model and JSON outputter.

The document renders the BOM view (auditor.formats.bom) the SPDX documents share:

* ``metadata.component`` is the repository, type ``application``: the deliverable
  that bundles the parts (CycloneDX has no type for a source repository or a
  bundle). It carries no license: code, weights and data keep their own, never one
  merged license. Its own files (README, license files...) are its nested ``file``
  components; the audit's repository-wide findings are its properties.
* one top-level component per part: ``code`` -> ``library`` (modelling, training
  and inference code that a runtime imports or runs with the weights), each model
  -> ``machine-learning-model`` with a ``modelCard``, the repo's ``data`` -> ``data``,
  each data set the model card names -> ``data`` (``dataset:NAME``, referenced from
  the card's ``modelParameters.datasets``), each base model ->
  ``machine-learning-model``. A model made from a base model also names it in
  ``pedigree.ancestors`` (CycloneDX's "derived from"); the ancestor is a copy without
  a ``bom-ref`` (bom-refs are unique and several models may share a base), while
  the top-level base component keeps the ref so that license tools list it.
* a component's files are nested ``file`` components with their SHA-256.
* licenses carry an ``acknowledgement``: ``declared`` (what the repo says) and
  ``concluded`` (the auditor's answer). CycloneDX 1.6 allows a list of licenses or
  one expression, never both; declared sets are ``AND`` joins, so every term is a
  license entry of its own (an SPDX id, or a named license with the repo's own text
  and the ``LicenseRef-`` id as the ``auditor:license-id`` property). Only an
  expression with ``OR`` or ``WITH`` is written as one ``expression``; the other set
  then goes to an ``auditor:license:declared`` / ``:concluded`` property. No
  assertion is written as no entry (CycloneDX has no NOASSERTION).
* findings, obligations, hyperparameters and facts without a standard slot are
  ``auditor:*`` properties of the component they are about.

``modelCard`` and ``data``: the library (11.x) models neither yet (``Component``
has them as TODO). They are inserted into the serialized JSON, by bom-ref, after
the library wrote it: a subclass of ``Component`` with extra py-serializable
properties would depend on the serializer's private class registration and on
``Component``'s name-mangled comparison, and would clash with the library's own
``modelCard`` the day it ships one; inserting plain JSON that the 1.6 schema
describes (built by ``cyclonedx_modelcard``) needs nothing of the library's
internals, and fails loudly (BomError) if the library starts writing either key.
The tests validate every document with the library's strict 1.6 JSON validator.

Byte-stable: the library sorts components, licenses and properties; keys are put
in a fixed reading order; bom-refs come from the package refs and file paths, the
serial number from the content, the timestamp from ``SOURCE_DATE_EPOCH``.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable
from typing import Any

from cyclonedx.exception.model import InvalidUriException
from cyclonedx.model import (
    AttachedText,
    ExternalReference,
    ExternalReferenceType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom as CdxBom
from cyclonedx.model.bom import BomMetaData
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
from cyclonedx.model.license import (
    DisjunctiveLicense,
    License,
    LicenseAcknowledgement,
    LicenseExpression,
)
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.spdx import is_supported_id

from auditor.formats import FORMATS
from auditor.formats.bom import HUB, Bom, BomError, BomFormat, Package, Term, hub_org
from auditor.formats.cyclonedx_modelcard import data_entry, dataset_ref, model_card
from auditor.model import Finding

SCHEMA_VERSION = SchemaVersion.V1_6
#: The namespace of every property this tool writes.
NS = "auditor:"

TYPES: dict[str, ComponentType] = {
    "repository": ComponentType.APPLICATION,
    "code": ComponentType.LIBRARY,
    "model": ComponentType.MACHINE_LEARNING_MODEL,
    "data": ComponentType.DATA,
    "base-model": ComponentType.MACHINE_LEARNING_MODEL,
}

#: Facts of a model component that have no standard slot: ``auditor:NAME`` properties.
FACT_PROPERTIES = (
    "model_name",
    "library_name",
    "language",
    "model_creator",
    "quantized_by",
    "release_date",
    "training_hardware",
    "training_type",
    "training_info",
)

_TOKENS = re.compile(r"\(|\)|[^\s()]+")

#: Reading order of JSON keys (the library writes them sorted); others follow, sorted.
_KEY_ORDER = {
    k: i
    for i, k in enumerate(
        (
            "$schema",
            "bomFormat",
            "specVersion",
            "serialNumber",
            "type",
            "bom-ref",
            "ref",
            "alg",
            "id",
            "name",
            "value",
            "version",
            "acknowledgement",
            "timestamp",
            "tools",
            "supplier",
            "metadata",
            "component",
            "description",
            "hashes",
            "licenses",
            "expression",
            "text",
            "url",
            "pedigree",
            "externalReferences",
            "modelCard",
            "data",
            "tags",
            "properties",
            "components",
            "dependencies",
            "dependsOn",
        )
    )
}


def _ordered(value: Any) -> Any:
    """``value`` with every object's keys in reading order (a copy)."""
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    if not isinstance(value, dict):
        return value
    keys = sorted(value, key=lambda k: (_KEY_ORDER.get(k, len(_KEY_ORDER)), k))
    # modelCard and data are built in their schema order already.
    return {k: value[k] if k in ("modelCard", "data") else _ordered(value[k]) for k in keys}


def _uri(url: str | None) -> XsUri | None:
    if not url:
        return None
    try:
        return XsUri(url)
    except InvalidUriException:
        return None


def _entity(supplier: str | None) -> OrganizationalEntity | None:
    """``Organization: NAME`` or ``Person: NAME`` as a CycloneDX supplier."""
    if not supplier:
        return None
    kind, _, name = supplier.partition(":")
    name = name.strip()
    if kind.strip() == "Person" and name:
        return OrganizationalEntity(contacts=[OrganizationalContact(name=name)])
    return OrganizationalEntity(name=name or supplier)


def _split(expression: str) -> list[str] | None:
    """The term ids of an ``AND``-only expression; None when it has ``OR`` or ``WITH``."""
    ids: list[str] = []
    for token in _TOKENS.findall(expression):
        if token in ("(", ")") or token.upper() == "AND":
            continue
        if token.upper() in ("OR", "WITH"):
            return None
        if token not in ids:
            ids.append(token)
    return ids


class _Writer:
    """Builds the library's Bom from the BOM view, and the JSON the library cannot write."""

    def __init__(self, bom: Bom) -> None:
        self.bom = bom
        self.result = bom.result
        #: bom-ref -> the modelCard / data JSON inserted after serialization.
        self.cards: dict[str, dict[str, Any]] = {}
        self.data: dict[str, list[dict[str, Any]]] = {}
        #: Each package's files as nested ``file`` components, by the package's bom-ref.
        self.files: dict[str, list[dict[str, Any]]] = {}
        self.datasets: dict[str, Component] = {}

    # -- licenses

    def _license(self, term: Term, ack: LicenseAcknowledgement, with_text: bool) -> License:
        if term.listed and is_supported_id(term.id):
            return DisjunctiveLicense(id=term.id, acknowledgement=ack)
        text = AttachedText(content=term.text) if with_text and term.text is not None else None
        return DisjunctiveLicense(
            name=term.name,
            text=text,
            url=_uri(term.urls[0] if term.urls else None),
            acknowledgement=ack,
            properties=[Property(name=NS + "license-id", value=term.id)],
        )

    def licenses(
        self, pkg: Package, with_text: bool = True
    ) -> tuple[list[License], list[Property]]:
        """The declared and concluded licenses of ``pkg``, and what did not fit."""
        sets = (
            ("declared", pkg.declared, LicenseAcknowledgement.DECLARED),
            ("concluded", pkg.concluded, LicenseAcknowledgement.CONCLUDED),
        )
        split = {name: _split(expr) for name, expr, _ in sets if expr is not None}
        out: list[License] = []
        props: list[Property] = []
        if all(ids is not None for ids in split.values()):
            texted: set[str] = set()
            for name, _, ack in sets:
                for term_id in split.get(name) or []:
                    term = self.bom.term(term_id)
                    out.append(self._license(term, ack, with_text and term_id not in texted))
                    texted.add(term_id)
            return out, props
        # A set with OR or WITH cannot be split. CycloneDX 1.6 allows one expression:
        # the concluded set's when there is one, else the declared; the other set is
        # kept as a property.
        chosen = "concluded" if "concluded" in split else "declared"
        for name, expr, ack in sets:
            if expr is None:
                continue
            if name == chosen:
                out.append(LicenseExpression(expr, acknowledgement=ack))
            else:
                props.append(Property(name=f"{NS}license:{name}", value=expr))
        return out, props

    # -- properties

    def _finding(self, f: Finding) -> str:
        where = f" ({f.path})" if f.path else ""
        if f.evidence:
            ev = f.evidence[0]
            where = f" ({ev.path}:{ev.start_line})"
        return f"[{f.rule}] {f.severity.value}: {f.message}{where}"

    def _findings(self, ref: str) -> list[Property]:
        props = [
            Property(name=NS + "finding", value=self._finding(f))
            for f in self.result.findings
            if self.bom.ref_of(f) == ref
        ]
        props += [
            Property(name=NS + "finding:accepted", value=self._finding(f))
            for f in self.result.accepted
            if self.bom.ref_of(f) == ref
        ]
        return props

    def _component_properties(self, pkg: Package) -> list[Property]:
        props: list[Property] = []
        comp = pkg.component
        if comp is None:
            return props
        if comp.reason:
            props.append(Property(name=NS + "license:reason", value=comp.reason))
        for d in comp.disagreeing:
            ev = d.evidence[0]
            props.append(
                Property(
                    name=NS + "license:disagreeing",
                    value=f"{d.spdx_id or d.key} ({ev.path}:{ev.start_line})",
                )
            )
        for ob in comp.obligations:
            props.append(Property(name=NS + "obligation", value=f"{ob.license}: {ob.summary}"))
        if pkg.role == "model":
            for hp in self.bom.facts("hyperparameter", comp):
                name, sep, value = hp.partition("=")
                if sep and name.strip():
                    props.append(
                        Property(name=f"{NS}hyperparameter:{name.strip()}", value=value.strip())
                    )
            for fact in FACT_PROPERTIES:
                for value in self.bom.facts(fact, comp):
                    props.append(Property(name=NS + fact, value=value))
        return props

    # -- components

    def _files(self, pkg: Package) -> list[Component]:
        """Files are written straight into the serialized document (``render_bom``): the
        library keeps nested components in sorted sets whose comparisons dominated the
        time of a large tree (20 s for 20,000 files). The strict schema check covers them."""
        entries = []
        for f in sorted(pkg.files, key=lambda f: f.path):
            entry: dict[str, Any] = {
                "type": "file",
                "bom-ref": f"{pkg.ref}/{f.path}",
                "name": f.path,
            }
            if f.sha256:
                entry["hashes"] = [{"alg": "SHA-256", "content": f.sha256}]
            entry["properties"] = [{"name": NS + "file-kind", "value": f.kind.value}]
            entries.append(entry)
        if entries:
            self.files[pkg.ref] = entries
        return []

    def _external(self, pkg: Package) -> list[ExternalReference]:
        url = _uri(pkg.download_location)
        if url is None:
            return []
        return [ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=url)]

    def _base(self, pkg: Package, ancestor: bool) -> Component:
        """A base model: the top-level component, or the copy in a derivative's pedigree."""
        licenses, lprops = self.licenses(pkg, with_text=not ancestor)
        props = lprops
        if pkg.base is not None:
            relation = pkg.base.relation or "not stated"
            props = [*props, Property(name=NS + "base-model:relation", value=relation)]
            if pkg.base.license_source:
                props.append(Property(name=NS + "license:source", value=pkg.base.license_source))
        return Component(
            type=ComponentType.MACHINE_LEARNING_MODEL,
            bom_ref=None if ancestor else pkg.ref,
            name=pkg.name,
            supplier=_entity(pkg.supplier),
            description=pkg.comment or None,
            licenses=licenses,
            external_references=self._external(pkg),
            properties=props,
        )

    def _dataset(self, name: str) -> str:
        ref = dataset_ref(name)
        if ref not in self.datasets:
            org = hub_org(name)
            if org:
                url = _uri(HUB + "datasets/" + name)
            else:
                url = _uri(name) if name.startswith(("https://", "http://")) else None
            self.datasets[ref] = Component(
                type=ComponentType.DATA,
                bom_ref=ref,
                name=name,
                supplier=OrganizationalEntity(name=org) if org else None,
                description="A data set the model card names; not part of this repository.",
                external_references=(
                    [ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=url)]
                    if url
                    else []
                ),
            )
            self.data[ref] = [data_entry(name, str(url) if url else None)]
        return ref

    def component(self, pkg: Package) -> Component:
        if pkg.role == "base-model":
            return self._base(pkg, ancestor=False)
        licenses, props = self.licenses(pkg)
        pedigree = None
        tags: list[str] = []
        if pkg.role == "model":
            ancestors = [self._base(self.bom.package(r), ancestor=True) for r in pkg.descends_from]
            pedigree = Pedigree(ancestors=ancestors) if ancestors else None
            tags = self.bom.facts("tag", pkg.component)
            refs = [self._dataset(d) for d in self.bom.facts("datasets", pkg.component)]
            card = model_card(self.bom, pkg, refs)
            if card:
                self.cards[pkg.ref] = card
        elif pkg.role == "data":
            self.data[pkg.ref] = [
                data_entry(pkg.name, None, "The data files of this repository (its components).")
            ]
        return Component(
            type=TYPES[pkg.role],
            bom_ref=pkg.ref,
            name=pkg.name,
            version=pkg.version,
            supplier=_entity(pkg.supplier),
            description=pkg.comment or None,
            licenses=licenses,
            pedigree=pedigree,
            external_references=self._external(pkg),
            properties=[*props, *self._component_properties(pkg), *self._findings(pkg.ref)],
            components=self._files(pkg),
            tags=tags,
        )

    def root(self, pkg: Package) -> Component:
        # The repository's own declared license (its top-level LICENSE or README), when one
        # covers the whole; its parts carry theirs.
        licenses, props = self.licenses(pkg, with_text=False)
        props += self._findings(pkg.ref)
        props += [
            Property(name=NS + "unreadable", value=f"{s.path}: {s.reason}")
            for s in self.result.skipped
        ]
        openness = self.result.openness
        if openness is not None:
            props.append(Property(name=NS + "openness", value=openness.verdict))
            props += [Property(name=NS + "openness:reason", value=r) for r in openness.reasons]
        return Component(
            type=TYPES["repository"],
            bom_ref=pkg.ref,
            name=pkg.name,
            version=pkg.version,
            supplier=_entity(pkg.supplier),
            description=pkg.comment or None,
            external_references=self._external(pkg),
            licenses=licenses,
            properties=props,
            components=self._files(pkg),
        )

    def build(self) -> CdxBom:
        root_pkg = self.bom.package("repository")
        root = self.root(root_pkg)
        parts = {p.ref: self.component(p) for p in self.bom.packages if p.role != "repository"}
        tool = Component(
            type=ComponentType.APPLICATION,
            name=self.result.tool.name,
            version=self.result.tool.version,
        )
        cdx = CdxBom(
            serial_number=self.bom.uuid,
            version=1,
            metadata=BomMetaData(
                timestamp=self.bom.created,
                tools=ToolRepository(components=[tool]),
                component=root,
                supplier=_entity(root_pkg.supplier),
            ),
            components=[*parts.values(), *self.datasets.values()],
        )
        cdx.register_dependency(root, [parts[r] for r in root_pkg.contains])
        return cdx


def _insert(doc: dict[str, Any], key: str, values: dict[str, Any]) -> None:
    """Put ``values[bom-ref]`` under ``key`` into the components with that bom-ref."""
    found: set[str] = set()

    def walk(components: Iterable[dict[str, Any]]) -> None:
        for c in components:
            ref = c.get("bom-ref")
            if isinstance(ref, str) and ref in values:
                if key in c:
                    raise BomError(f"the CycloneDX library now writes {key!r}: drop the insertion")
                c[key] = values[ref]
                found.add(ref)
            walk(c.get("components", ()))

    walk([doc["metadata"]["component"], *doc.get("components", ())])
    missing = set(values) - found
    if missing:
        raise BomError(f"no component for {key!r} of {sorted(missing)}")


@FORMATS.register("cyclonedx-json")
class CycloneDxFormat(BomFormat):
    """CycloneDX 1.6 JSON: an ML-BOM with declared and concluded licenses and model cards."""

    suffix = ".cdx.json"
    needs_checksums = ("sha256",)

    def render_bom(self, bom: Bom) -> bytes:
        writer = _Writer(bom)
        cdx = writer.build()
        with warnings.catch_warnings():
            # The library warns when the described component has no dependencies: a
            # repository with only a base model named has none, which is right.
            warnings.filterwarnings("ignore", message="The Component this BOM is describing")
            text = make_outputter(cdx, OutputFormat.JSON, SCHEMA_VERSION).output_as_string()
        doc: dict[str, Any] = json.loads(text)
        _insert(doc, "components", writer.files)
        _insert(doc, "modelCard", writer.cards)
        _insert(doc, "data", writer.data)
        return (json.dumps(_ordered(doc), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
