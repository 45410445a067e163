"""SPDX 3.0.1 JSON-LD with the AI and Dataset profiles, built with spdx-python-model.

The document describes the repository package (``rootElement``), which
``contains`` one package per component: ``software_Package`` for code,
``ai_AIPackage`` for each model, ``dataset_DatasetPackage`` for data; each
package ``contains`` its files (``software_File`` with their sha256). A model
package is ``descendantOf`` an ``ai_AIPackage`` for each base model, and
``trainedOn`` a ``dataset_DatasetPackage`` for each data set its card names.

Licenses: every package has exactly one ``hasDeclaredLicense`` and one
``hasConcludedLicense`` relationship (what the AI and Dataset profiles ask of
their packages), to a ``simplelicensing_LicenseExpression`` of SPDX ids, or to
``NoAssertionLicense`` when nothing can be said. The repository package asserts
none: code and weights keep their own licenses, never one merged expression. A
license outside the SPDX License List is an ``expandedlicensing_CustomLicense``
(with the text of the repo's own license file where it ships one), mapped from
its ``LicenseRef-`` id by the expression's ``customIdToUri``.

Findings are ``review`` annotations on the package they are about; a file that
could not be read is a ``review`` annotation on that file.

Byte-stable: every id is ``<document IRI>#<fragment>`` with fragments derived
from package refs, paths, license ids and finding fingerprints; the only blank
node (the CreationInfo) is named by the serializer in a fixed order; elements
are sorted by id.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

from spdx_python_model import v3_0_1 as spdx3

from auditor.formats import FORMATS
from auditor.formats.bom import (
    HUB,
    Bom,
    BomError,
    BomFormat,
    Package,
    Term,
    energies,
    expression_ids,
    hub_org,
    metrics,
)
from auditor.model import FileEntry, FileKind, Finding, LicenseDetection, fingerprint

SPEC_VERSION = "3.0.1"
CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
DOC_NAMESPACE = "https://spdx.org/spdxdocs/"
DATA_LICENSE = "CC0-1.0"

P = spdx3.software_SoftwarePurpose
R = spdx3.RelationshipType
NO_ASSERTION_LICENSE = spdx3.expandedlicensing_IndividualLicensingInfo.NoAssertionLicense

PROFILES = (
    spdx3.ProfileIdentifierType.core,
    spdx3.ProfileIdentifierType.software,
    spdx3.ProfileIdentifierType.simpleLicensing,
    spdx3.ProfileIdentifierType.expandedLicensing,
    spdx3.ProfileIdentifierType.ai,
    spdx3.ProfileIdentifierType.dataset,
)

FILE_PURPOSES: dict[FileKind, str] = {
    FileKind.CODE: P.source,
    FileKind.WEIGHTS: P.model,
    FileKind.CONFIG: P.configuration,
    FileKind.TOKENIZER: P.data,
    FileKind.README: P.documentation,
    FileKind.LICENSE: P.other,
    FileKind.NOTICE: P.other,
    FileKind.DATA: P.data,
    FileKind.OTHER: P.other,
}

#: Energy units a card states, as SPDX units and the factor to them.
SPDX3_ENERGY_UNITS: dict[str, str] = {
    "kWh": spdx3.ai_EnergyUnitType.kilowattHour,
    "MJ": spdx3.ai_EnergyUnitType.megajoule,
}
_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")
_FRAGMENT = re.compile(r"[^A-Za-z0-9.+-]+")
#: Keys shown first in every object of the document, in this order.
FIRST_KEYS = ("@context", "@graph", "type", "@id", "spdxId", "name")

NOT_SHIPPED = "Text not shipped in this repository; see seeAlso."
NOT_SHIPPED_NO_URL = "Text not shipped in this repository, and no reference URL is known."

T = TypeVar("T", bound=spdx3.Element)


def _fragment(text: str) -> str:
    return _FRAGMENT.sub("-", text).strip("-") or "unnamed"


def _release_date(values: list[str]) -> datetime | None:
    """The first ``YYYY-MM-DD`` fact that is a real date, as midnight UTC."""
    for v in values:
        m = _DATE.match(v)
        if m:
            try:
                return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=timezone.utc)
            except ValueError:
                continue
    return None


def _pairs(values: list[str]) -> list[tuple[str, str | None]]:
    """``name=value`` facts as (name, value); a fact without ``=`` is a key alone."""
    out: list[tuple[str, str | None]] = []
    for v in values:
        key, sep, value = v.partition("=")
        key, value = key.strip(), value.strip()
        if key:
            out.append((key, value if sep and value else None))
    return out


def _ordered(value: Any) -> Any:
    """JSON with each object's keys in reading order: type, id, name, then the rest sorted."""
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (FIRST_KEYS.index(k) if k in FIRST_KEYS else 99, k))
        return {k: _ordered(value[k]) for k in keys}
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


def _places(detections: Iterable[LicenseDetection], limit: int = 8) -> str:
    """Where detections were found (``LICENSE:1, README.md:2``), at most ``limit`` of them."""
    places = sorted({f"{e.path}:{e.start_line}" for d in detections for e in d.evidence})
    if len(places) > limit:
        return ", ".join(places[:limit]) + f" and {len(places) - limit} more"
    return ", ".join(places)


def _finding_statement(f: Finding) -> str:
    path = f.path or (f.evidence[0].path if f.evidence else None)
    where = ""
    if path is not None:
        ev = next((e for e in f.evidence if e.path == path), None)
        where = f" ({path}:{ev.start_line})" if ev is not None else f" ({path})"
    return f"[{f.rule}] {f.severity.value}: {f.message}{where}"


class _Document:
    """Builds the elements of one document; every id is ``self.base + '#' + fragment``."""

    def __init__(self, bom: Bom) -> None:
        self.bom = bom
        self.base = f"{DOC_NAMESPACE}auditor-{_fragment(bom.name)}-{bom.uuid}"
        self.elements: dict[str, spdx3.Element] = {}
        tool = bom.result.tool
        self.creation = spdx3.CreationInfo(specVersion=SPEC_VERSION, created=bom.created)
        agent = self.add(spdx3.SoftwareAgent, "agent-auditor", name=tool.name)
        self.creation.createdBy = [agent]
        tool_element = self.add(spdx3.Tool, "tool-auditor", name=f"{tool.name} {tool.version}")
        self.creation.createdUsing = [tool_element]
        self.agents: dict[tuple[str, str], spdx3.Agent] = {}
        self.licenses: dict[str, str] = {}
        self.packages: dict[str, spdx3.software_Package] = {}
        self.datasets: dict[str, spdx3.dataset_DatasetPackage] = {}
        self.files: dict[str, spdx3.software_File] = {}

    def iri(self, fragment: str) -> str:
        return f"{self.base}#{fragment}"

    def free(self, fragment: str, key: str) -> str:
        """``fragment``, or with a digest of ``key`` when another element already has it."""
        if self.iri(fragment) in self.elements:
            return f"{fragment}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
        return fragment

    def add(self, cls: type[T], fragment: str, **props: Any) -> T:
        spdx_id = self.iri(fragment)
        if spdx_id in self.elements:
            raise ValueError(f"duplicate SPDX id {spdx_id}")
        given = {k: v for k, v in props.items() if v is not None}
        element = cls(spdxId=spdx_id, creationInfo=self.creation, **given)
        self.elements[spdx_id] = element
        return element

    def relate(
        self,
        source: spdx3.Element,
        kind: str,
        targets: Iterable[spdx3.Element | str],
        comment: str | None = None,
    ) -> None:
        """One relationship of ``kind`` from ``source`` to every target (in the given order)."""
        to = list(targets)
        if not to:
            return
        assert source.spdxId is not None
        # Relationship types hold no "-": "rel-<ref>-<type>" is unique per source and type.
        name = kind.rsplit("/", 1)[-1]
        fragment = f"rel-{source.spdxId.partition('#')[2]}-{name}"
        self.add(
            spdx3.Relationship,
            fragment,
            from_=source,
            relationshipType=kind,
            to=to,
            comment=comment,
        )

    # -- agents --------------------------------------------------------------

    def agent(self, who: str | None) -> spdx3.Agent | None:
        """``Organization: X`` / ``Person: X`` as an element (one per name); None for None."""
        if not who:
            return None
        kind, sep, name = who.partition(":")
        if not sep or kind.strip() not in ("Organization", "Person"):
            kind, name = "Organization", who  # a bare name (``model_creator``)
        kind, name = kind.strip(), name.strip()
        cls: type[spdx3.Agent] = spdx3.Person if kind == "Person" else spdx3.Organization
        prefix = "person" if cls is spdx3.Person else "org"
        if (prefix, name) not in self.agents:
            fragment = self.free(f"{prefix}-{_fragment(name)}", name)
            self.agents[prefix, name] = self.add(cls, fragment, name=name)
        return self.agents[prefix, name]

    # -- licenses ------------------------------------------------------------

    def custom_license(self, term: Term) -> str:
        """The CustomLicense element of a term outside the SPDX License List, by id."""
        spdx_id = self.iri(term.id)
        if spdx_id in self.elements:
            return spdx_id
        if term.text is not None:
            text = term.text
        else:
            text = NOT_SHIPPED if term.urls else NOT_SHIPPED_NO_URL
        notes = []
        if term.text_path is not None:
            notes.append(f"Text quoted from {term.text_path} in this repository.")
        if term.note:
            notes.append(f"auditor: {term.note}.")
        self.add(
            spdx3.expandedlicensing_CustomLicense,
            term.id,
            name=term.name,
            simplelicensing_licenseText=text,
            expandedlicensing_seeAlso=list(term.urls),
            comment=" ".join(notes) or None,
        )
        return spdx_id

    def license(self, expression: str | None) -> str:
        """The element an expression of term ids stands for (NoAssertionLicense for None)."""
        if expression is None:
            return NO_ASSERTION_LICENSE
        if expression in self.licenses:
            return self.licenses[expression]
        fragment = f"license-{_fragment(expression)}"
        if "(" in expression:  # keep "(A AND B) OR C" and "A AND (B OR C)" apart
            fragment += "-" + hashlib.sha256(expression.encode()).hexdigest()[:8]
        fragment = self.free(fragment, expression)
        custom = []
        for term_id in sorted(set(expression_ids(expression))):
            if term_id.startswith("LicenseRef-"):
                try:
                    term = self.bom.term(term_id)
                except KeyError as exc:
                    raise BomError(f"license {term_id} is not among the BOM's terms") from exc
                custom.append(spdx3.DictionaryEntry(key=term_id, value=self.custom_license(term)))
        self.add(
            spdx3.simplelicensing_LicenseExpression,
            fragment,
            simplelicensing_licenseExpression=expression,
            simplelicensing_customIdToUri=custom,
        )
        self.licenses[expression] = self.iri(fragment)
        return self.licenses[expression]

    def attach_licenses(self, element: spdx3.Element, package: Package) -> None:
        """Exactly one hasDeclaredLicense and one hasConcludedLicense for the package."""
        declared_comment = None
        concluded_comment = None
        comp = package.component
        if package.role == "repository":
            declared_comment = concluded_comment = (
                "No license is asserted for the repository as a whole: each package it "
                "contains carries its own."
            )
        elif comp is not None:
            stated = [d for d in comp.declared if not d.is_clue]
            if package.declared is None:
                declared_comment = "No license is declared for this component."
            elif stated:
                declared_comment = f"Declared in {_places(stated)}."
            if package.concluded is None:
                parts = ["Unknown, review needed."]
                if comp.basis:
                    parts.append(f"Strongest sources: {_places(comp.basis)} ({comp.reason}).")
                parts += [
                    f"{d.evidence[0].path}:{d.evidence[0].start_line} says {d.key}."
                    for d in comp.disagreeing[:8]
                ]
                concluded_comment = " ".join(parts)
            elif comp.basis:
                concluded_comment = f"Concluded from {_places(comp.basis)}: {comp.reason}."
            elif comp.reason:
                concluded_comment = f"Concluded: {comp.reason}."
        elif package.base is not None and package.concluded is None:
            concluded_comment = "Not concluded: the base model was not audited here."
        self.relate(
            element, R.hasDeclaredLicense, [self.license(package.declared)], declared_comment
        )
        self.relate(
            element, R.hasConcludedLicense, [self.license(package.concluded)], concluded_comment
        )

    # -- files ---------------------------------------------------------------

    def file(self, entry: FileEntry, reasons: dict[str, str]) -> spdx3.software_File:
        if entry.path in self.files:
            return self.files[entry.path]
        notes = []
        if entry.lfs:
            notes.append("A Git LFS pointer: its sha256 is that of the content it points to.")
        if entry.sha256 is None:
            reason = reasons.get(entry.path)
            notes.append(f"sha256 not known: {reason}." if reason else "sha256 not known.")
        element = self.add(
            spdx3.software_File,
            "file-" + quote(entry.path, safe="/-._~"),
            name=entry.path,
            software_fileKind=spdx3.software_FileKindType.file,
            software_primaryPurpose=FILE_PURPOSES[entry.kind],
            verifiedUsing=(
                [spdx3.Hash(algorithm=spdx3.HashAlgorithm.sha256, hashValue=entry.sha256)]
                if entry.sha256
                else []
            ),
            comment=" ".join(notes) or None,
        )
        self.files[entry.path] = element
        return element

    # -- packages ------------------------------------------------------------

    def package(self, package: Package) -> spdx3.software_Package:
        comment = package.comment
        if package.role == "base-model":
            comment += " Its version and release time are not known here."
        common: dict[str, Any] = {
            "name": package.name,
            "software_packageVersion": package.version,
            "software_downloadLocation": package.download_location,
            "suppliedBy": self.agent(package.supplier),
            "comment": comment or None,
        }
        element: spdx3.software_Package
        if package.role in ("model", "base-model"):
            element = self.add(
                spdx3.ai_AIPackage,
                package.ref,
                software_primaryPurpose=P.model,
                **common,
                **self.model_info(package),
            )
        elif package.role == "data":
            element = self.add(
                spdx3.dataset_DatasetPackage,
                package.ref,
                software_primaryPurpose=P.data,
                dataset_datasetType=[spdx3.dataset_DatasetType.noAssertion],
                releaseTime=self.bom.created,
                **common,
            )
        else:
            extra = []
            if package.role == "repository":
                roles = {self.bom.package(ref).role for ref in package.contains}
                extra = [p for role, p in (("model", P.model), ("data", P.data)) if role in roles]
            element = self.add(
                spdx3.software_Package,
                package.ref,
                software_primaryPurpose=P.source,
                software_additionalPurpose=extra,
                **common,
            )
        self.packages[package.ref] = element
        return element

    def model_info(self, package: Package) -> dict[str, Any]:
        """The AI profile's properties from the card and config facts of a model component."""
        comp = package.component
        if comp is None:  # a base model: only its name is known here
            return {}

        def facts(name: str) -> list[str]:
            return self.bom.facts(name, comp)

        info: dict[str, Any] = {
            "releaseTime": _release_date(facts("release_date")) or self.bom.created,
            "ai_typeOfModel": facts("model_type") + facts("architecture"),
            "ai_domain": facts("pipeline_tag"),
            "ai_hyperparameter": [
                spdx3.DictionaryEntry(key=k, value=v) for k, v in _pairs(facts("hyperparameter"))
            ],
            "ai_metric": [
                spdx3.DictionaryEntry(
                    key=f"{m.type} ({m.dataset})" if m.dataset else m.type, value=m.value
                )
                for m in metrics(facts("metric"))
            ],
        }
        if facts("limitation"):
            info["ai_limitation"] = "\n\n".join(facts("limitation"))
        if facts("intended_use"):
            info["ai_informationAboutApplication"] = "\n\n".join(facts("intended_use"))
        training = list(facts("training_info"))
        for label, name in (
            ("Training type", "training_type"),
            ("Training hardware", "training_hardware"),
            ("CO2-eq emissions", "co2_eq_emissions"),
        ):
            training += [f"{label}: {v}" for v in facts(name)]
        if training:
            info["ai_informationAboutTraining"] = "\n\n".join(training)
        energy = [
            (float(q), SPDX3_ENERGY_UNITS[unit])
            for q, unit in energies(facts("energy_consumption"))
        ]
        if energy:
            info["ai_energyConsumption"] = spdx3.ai_EnergyConsumption(
                ai_trainingEnergyConsumption=[
                    spdx3.ai_EnergyConsumptionDescription(ai_energyQuantity=q, ai_energyUnit=u)
                    for q, u in energy
                ]
            )
        creators = [a for a in (self.agent(c) for c in facts("model_creator")) if a is not None]
        if creators:
            info["originatedBy"] = creators
        return info

    def dataset(self, name: str) -> spdx3.dataset_DatasetPackage:
        """The package of a data set a model card names (``org/name`` on the Hub, or a name)."""
        if name in self.datasets:
            return self.datasets[name]
        org = hub_org(name)
        element = self.add(
            spdx3.dataset_DatasetPackage,
            self.free(f"dataset-{_fragment(name)}", name),
            name=name,
            software_primaryPurpose=P.data,
            dataset_datasetType=[spdx3.dataset_DatasetType.noAssertion],
            software_downloadLocation=f"{HUB}datasets/{name}" if org else None,
            suppliedBy=self.agent(f"Organization: {org}" if org else None),
            comment=(
                "A data set the model card names (training data); not part of this "
                "repository. Its license, version and release time are not known here."
            ),
        )
        self.datasets[name] = element
        self.relate(element, R.hasDeclaredLicense, [NO_ASSERTION_LICENSE])
        self.relate(
            element,
            R.hasConcludedLicense,
            [NO_ASSERTION_LICENSE],
            "The data set was not audited here.",
        )
        return element

    # -- the document --------------------------------------------------------

    def build(self) -> spdx3.SHACLObjectSet:
        bom = self.bom
        reasons = {
            s.path: s.reason for s in bom.result.skipped if s.reason.startswith("cannot hash")
        }
        for package in bom.packages:
            element = self.package(package)
            self.attach_licenses(element, package)
        for package in bom.packages:
            element = self.packages[package.ref]
            files = [self.file(f, reasons) for f in sorted(package.files, key=lambda f: f.path)]
            parts = [self.packages[ref] for ref in sorted(package.contains)]
            self.relate(element, R.contains, [*files, *parts])
            self.relate(
                element,
                R.descendantOf,
                [self.packages[ref] for ref in sorted(package.descends_from)],
            )
            if package.role == "model" and package.component is not None:
                names = bom.facts("datasets", package.component)
                self.relate(element, R.trainedOn, [self.dataset(n) for n in sorted(names)])
        self._annotations()
        document = spdx3.SpdxDocument(
            spdxId=self.iri("document"),
            creationInfo=self.creation,
            name=f"AI-BOM of {bom.name}",
            comment=(
                f"Written by {bom.result.tool.name} {bom.result.tool.version} from an audit "
                f"of {bom.name} (content sha256 {bom.digest})."
            ),
            profileConformance=list(PROFILES),
            dataLicense=self.license(DATA_LICENSE),
            rootElement=[self.packages["repository"]],
            element=[self.elements[k] for k in sorted(self.elements)],
        )
        return spdx3.SHACLObjectSet([*self.elements.values(), document])

    def _annotations(self) -> None:
        """Findings (review annotations on their package) and the files not read."""
        used: set[str] = set()
        findings = [(f, False) for f in self.bom.result.findings]
        findings += [(f, True) for f in self.bom.result.accepted]
        for f, accepted in findings:
            fragment = f"finding-{fingerprint(f)}"
            n = 2
            while fragment in used:
                fragment = f"finding-{fingerprint(f)}-{n}"
                n += 1
            used.add(fragment)
            notes = []
            if f.fix:
                notes.append(f"fix: {f.fix}")
            if accepted:
                notes.append("accepted by the baseline")
            self.add(
                spdx3.Annotation,
                fragment,
                annotationType=spdx3.AnnotationType.review,
                subject=self.packages[self.bom.ref_of(f)],
                statement=_finding_statement(f),
                comment="; ".join(notes) or None,
            )
        # Files (or parts of them) that could not be read: on the file, else the repository.
        for skipped in self.bom.result.skipped:
            key = f"{skipped.path}\0{skipped.reason}"
            subject = self.files.get(skipped.path) or self.packages["repository"]
            self.add(
                spdx3.Annotation,
                f"unreadable-{hashlib.sha256(key.encode()).hexdigest()[:16]}",
                annotationType=spdx3.AnnotationType.review,
                subject=subject,
                statement=f"[unreadable] {skipped.path}: {skipped.reason}",
            )


@FORMATS.register("spdx3-jsonld")
class Spdx3Format(BomFormat):
    suffix = ".spdx3.json"
    needs_checksums: ClassVar[tuple[str, ...]] = ("sha256",)

    def render_bom(self, bom: Bom) -> bytes:
        objects = _Document(bom).build()
        data = spdx3.JSONLDSerializer().serialize_data(objects, force_at_graph=True)
        if data.get("@context") != CONTEXT:  # bindings of another SPDX version
            raise BomError(f"unexpected JSON-LD context {data.get('@context')!r}")
        return (json.dumps(_ordered(data), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
