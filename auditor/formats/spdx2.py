"""SPDX 2.3 documents (JSON and tag-value), built with spdx-tools' model and writers.

The document describes the repository package, which contains one package per
component (code, each model, data) and the files of its own (README, license
files). Each component package carries its own ``licenseDeclared`` and
``licenseConcluded``; the repository package asserts none, so that code and
weights are never merged into one license. A derivative's model package is
``DESCENDANT_OF`` a package for each base model.

Every file has SHA1 and SHA256 checksums (SPDX 2.3 requires SHA1). A Git LFS
pointer whose content is not in the tree has a known SHA256 but no SHA1: its
package is then written with ``filesAnalyzed`` false and lists the file in its
comment, since SPDX 2.3 allows no file without a SHA1.

spdx-tools validates the document before writing it; a document that does
not validate is a bug, reported as a FormatError rather than written.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.jsonschema.document_converter import DocumentConverter
from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Annotation,
    AnnotationType,
    Checksum,
    ChecksumAlgorithm,
    CreationInfo,
    Document,
    ExternalPackageRef,
    ExternalPackageRefCategory,
    ExtractedLicensingInfo,
    File,
    FileType,
    Package,
    PackagePurpose,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.spdx_element_utils import calculate_package_verification_code
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from spdx_tools.spdx.writer.write_utils import convert

from auditor.errors import FormatError
from auditor.formats import FORMATS
from auditor.formats.bom import Bom, BomFormat, Term, hub_org
from auditor.model import FileEntry, FileKind, Method
from auditor.terminal import visible

_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]+")

FILE_TYPES: dict[FileKind, FileType] = {
    FileKind.CODE: FileType.SOURCE,
    FileKind.WEIGHTS: FileType.BINARY,
    FileKind.CONFIG: FileType.TEXT,
    FileKind.TOKENIZER: FileType.OTHER,
    FileKind.README: FileType.DOCUMENTATION,
    FileKind.LICENSE: FileType.TEXT,
    FileKind.NOTICE: FileType.TEXT,
    FileKind.DATA: FileType.OTHER,
    FileKind.OTHER: FileType.OTHER,
}

PURPOSES: dict[str, PackagePurpose] = {
    "repository": PackagePurpose.SOURCE,
    "code": PackagePurpose.SOURCE,
    "model": PackagePurpose.OTHER,
    "data": PackagePurpose.OTHER,
    "base-model": PackagePurpose.OTHER,
}

ROLE_WORDS = {
    "repository": "The repository",
    "code": "Code",
    "model": "Machine-learning model (weights, configuration, tokenizer)",
    "data": "Data",
    "base-model": "Base model",
}

NOT_SHIPPED = (
    "The text of this license is not shipped in the audited repository; the repository "
    "names it at {where}. See the references for its text."
)


def spdx_ref(kind: str, name: str) -> str:
    """``SPDXRef-<kind>-<name>``, made of allowed characters, unique per name."""
    clean = _ID_CHARS.sub("-", name).strip("-")
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"SPDXRef-{kind}-{clean}-{digest}" if clean != name else f"SPDXRef-{kind}-{clean}"


def _license(expression: str | None) -> Any:
    return spdx_licensing.parse(expression) if expression else SpdxNoAssertion()


def _actor(supplier: str | None) -> Actor | SpdxNoAssertion:
    if not supplier:
        return SpdxNoAssertion()
    kind, _, name = supplier.partition(":")
    actor_type = ActorType.PERSON if kind.strip().lower() == "person" else ActorType.ORGANIZATION
    return Actor(actor_type, name.strip() or supplier)


def _where(term: Term) -> str:
    places = sorted({f"{e.path}:{e.start_line}" for e in term.evidence})
    return ", ".join(places[:5]) or "no file"


def _extracted(term: Term) -> ExtractedLicensingInfo:
    if term.text:
        text = term.text
        comment = f"Text as shipped in {term.text_path}."
    else:
        text = NOT_SHIPPED.format(where=_where(term))
        comment = "Declared only: the license text is not in the repository."
    if term.note:
        comment += f" The text is {term.note}: it is not the listed license it resembles."
    return ExtractedLicensingInfo(
        license_id=term.id,
        extracted_text=text,
        license_name=term.name,
        cross_references=list(term.urls),
        comment=comment,
    )


class _Writer:
    def __init__(self, bom: Bom) -> None:
        self.bom = bom
        self.tool = Actor(ActorType.TOOL, f"{bom.result.tool.name}-{bom.result.tool.version}")
        self.package_ids = {p.ref: spdx_ref("Package", p.ref) for p in bom.packages}
        self.in_file = self._licenses_in_files()

    def _licenses_in_files(self) -> dict[str, list[str]]:
        """License ids found in each file (texts and SPDX tags) that the document defines."""
        known = {t.key: t.id for t in self.bom.terms if t.key}
        custom = {t.text_path: t.id for t in self.bom.terms if not t.key and t.text_path}
        found: dict[str, set[str]] = {}
        for d in self.bom.result.detections:
            ev = d.evidence[-1]
            if d.is_clue or ev.method not in (Method.LICENSE_TEXT, Method.SPDX_TAG):
                continue
            term_id = custom.get(ev.path) if d.modified or d.key not in known else known[d.key]
            if term_id:
                found.setdefault(ev.path, set()).add(term_id)
        return {path: sorted(ids, key=str.lower) for path, ids in found.items()}

    def file(self, entry: FileEntry) -> File:
        checksums = [Checksum(ChecksumAlgorithm.SHA1, entry.sha1)] if entry.sha1 else []
        if entry.sha256:
            checksums.append(Checksum(ChecksumAlgorithm.SHA256, entry.sha256))
        ids = self.in_file.get(entry.path)
        file = File(
            name=f"./{entry.path}",
            spdx_id=spdx_ref("File", entry.path),
            checksums=checksums,
            file_types=[FILE_TYPES[entry.kind]],
            license_concluded=SpdxNoAssertion(),
            license_info_in_file=[spdx_licensing.parse(i) for i in ids]
            if ids
            else [SpdxNoAssertion()],
            copyright_text=SpdxNoAssertion(),
        )
        if entry.lfs:
            file.comment = "Git LFS pointer: the content is not in the tree"
        return file

    def document(self) -> Document:
        bom = self.bom
        result = bom.result
        name = _ID_CHARS.sub("-", bom.name).strip("-") or "repository"
        info = CreationInfo(
            spdx_version="SPDX-2.3",
            spdx_id="SPDXRef-DOCUMENT",
            name=bom.name,
            document_namespace=f"https://spdx.org/spdxdocs/auditor-{name}-{bom.uuid}",
            creators=[self.tool],
            created=bom.created,
            creator_comment=(
                "License and AI-BOM audit: each component (code, model, data) carries its own "
                "declared and concluded license."
            ),
        )
        doc = Document(info)
        doc.relationships.append(
            Relationship(
                "SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, self.package_ids["repository"]
            )
        )
        for pkg in bom.packages:
            pid = self.package_ids[pkg.ref]
            files = [self.file(f) for f in pkg.files]
            complete = bool(files) and all(f.sha1 for f in pkg.files)
            comment = [f"{ROLE_WORDS[pkg.role]}."]
            if pkg.comment:
                comment.append(pkg.comment)
            if pkg.component is not None and pkg.component.concluded is None:
                comment.append("No license could be concluded: see the review annotations.")
            elif pkg.component is not None and pkg.component.reason:
                comment.append(f"Concluded from {pkg.component.reason}.")
            if files and not complete:
                missing = [f.path for f in pkg.files if not f.sha1]
                comment.append(
                    "Files not analyzed: no SHA1 for "
                    + ", ".join(missing[:20])
                    + (" ..." if len(missing) > 20 else "")
                    + " (content not here: a Git LFS pointer, weights not downloaded from the Hub, "
                    "or an unreadable file)."
                )
            refs = []
            if pkg.role == "base-model" and hub_org(pkg.name):
                refs.append(
                    ExternalPackageRef(
                        ExternalPackageRefCategory.PACKAGE_MANAGER,
                        "purl",
                        f"pkg:huggingface/{pkg.name}",
                    )
                )
            doc.packages.append(
                Package(
                    spdx_id=pid,
                    name=pkg.name,
                    download_location=pkg.download_location or SpdxNoAssertion(),
                    # NTIA's "known unknown": a base model the repo names without a revision.
                    version=pkg.version or "unknown",
                    supplier=_actor(pkg.supplier),
                    files_analyzed=complete,
                    verification_code=calculate_package_verification_code(files)
                    if complete
                    else None,
                    license_concluded=_license(pkg.concluded),
                    license_declared=_license(pkg.declared),
                    copyright_text=SpdxNoAssertion(),
                    comment=" ".join(comment),
                    external_references=refs,
                    primary_package_purpose=PURPOSES[pkg.role],
                )
            )
            if complete:
                doc.files.extend(files)
                for f in files:
                    doc.relationships.append(
                        Relationship(pid, RelationshipType.CONTAINS, f.spdx_id)
                    )
            for ref in pkg.contains:
                doc.relationships.append(
                    Relationship(pid, RelationshipType.CONTAINS, self.package_ids[ref])
                )
            for ref in pkg.descends_from:
                doc.relationships.append(
                    Relationship(pid, RelationshipType.DESCENDANT_OF, self.package_ids[ref])
                )
        doc.extracted_licensing_info = [_extracted(t) for t in bom.terms if not t.listed]
        for finding in result.findings:
            where = f" ({finding.path})" if finding.path else ""
            if finding.evidence:
                ev = finding.evidence[0]
                where = f" ({ev.path}:{ev.start_line})"
            doc.annotations.append(
                Annotation(
                    self.package_ids[bom.ref_of(finding)],
                    AnnotationType.REVIEW,
                    self.tool,
                    bom.created,
                    f"[{finding.rule}] {finding.severity.value}: {finding.message}{where}",
                )
            )
        for skipped in result.skipped:
            doc.annotations.append(
                Annotation(
                    self.package_ids["repository"],
                    AnnotationType.REVIEW,
                    self.tool,
                    bom.created,
                    f"[unreadable] {skipped.path}: {skipped.reason}",
                )
            )
        return doc


def build_document(bom: Bom) -> Document:
    """The SPDX 2.3 document of ``bom``, validated; raises FormatError when it does not."""
    doc = _Writer(bom).document()
    with _ids_indexed(doc):
        problems = validate_full_spdx_document(doc)
    if problems:
        shown = "; ".join(m.validation_message for m in problems[:3])
        raise FormatError(f"SPDX 2.3 document does not validate ({len(problems)}): {shown}")
    return doc


@contextmanager
def _ids_indexed(document: Document) -> Iterator[None]:
    """spdx-tools' validator lists every id of the document again for each reference it
    checks: quadratic in files (10 s for 5,000 files). Within this block, the lookups it
    makes for ``document`` use one set built once; any other document is looked up as
    spdx-tools does (the replacements fall back to the originals)."""
    from spdx_tools.spdx.validation import spdx_id_validators as ids

    ours = document
    known = frozenset(ids.get_list_of_all_spdx_ids(ours))
    our_files = frozenset(f.spdx_id for f in ours.files)
    in_document, in_files = ids.is_spdx_id_present_in_document, ids.is_spdx_id_present_in_files

    def present(spdx_id: str, document: Document) -> bool:
        return spdx_id in known if document is ours else bool(in_document(spdx_id, document))

    def present_in_files(spdx_id: str, files: list[File]) -> bool:
        return spdx_id in our_files if files is ours.files else bool(in_files(spdx_id, files))

    ids.is_spdx_id_present_in_document = present
    ids.is_spdx_id_present_in_files = present_in_files
    try:
        yield
    finally:
        ids.is_spdx_id_present_in_document = in_document
        ids.is_spdx_id_present_in_files = in_files


@FORMATS.register("spdx-json")
class SpdxJsonFormat(BomFormat):
    suffix: ClassVar[str] = ".spdx.json"
    needs_checksums: ClassVar[tuple[str, ...]] = ("sha1", "sha256")

    def render_bom(self, bom: Bom) -> bytes:
        data = convert(build_document(bom), DocumentConverter())  # type: ignore[no-untyped-call]
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@FORMATS.register("spdx-tv")
class SpdxTagValueFormat(BomFormat):
    suffix: ClassVar[str] = ".spdx"
    needs_checksums: ClassVar[tuple[str, ...]] = ("sha1", "sha256")

    def render_bom(self, bom: Bom) -> bytes:
        out = io.StringIO()
        document = build_document(bom)
        _tv_safe(document)
        _write_tag_value(document, out)
        return out.getvalue().encode("utf-8")


#: Fields tag-value writes as ``<text>...</text>`` when they hold a newline.
_TEXT_FIELDS = frozenset(
    {
        "annotation_comment",
        "attribution_texts",
        "comment",
        "copyright_text",
        "creator_comment",
        "description",
        "document_comment",
        "extracted_text",
        "license_comment",
        "notice",
        "source_info",
        "summary",
    }
)
_TV_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]|</?text>", re.IGNORECASE)


def _tv_line(value: str, text: bool) -> str:
    """``value`` as tag-value can hold it: a name on one line with its control characters
    escaped, a text (kept as it is, form feeds and all) without a ``<text>`` tag of its
    own. The JSON formats keep every value exactly."""
    value = re.sub(r"(?i)<(/?)text>", r"&lt;\1text&gt;", value)
    return value if text and "\n" in value else visible(value)  # one line: not in <text>


def _tv_safe(obj: object, text: bool = False) -> object:
    """Rewrite, in place, every string of a document that would break a tag-value line.

    A file named ``a\\nPackageName: x`` would otherwise write a line of its own, and a
    license text holding ``</text>`` would end its field early."""
    if isinstance(obj, str):
        return _tv_line(obj, text) if _TV_UNSAFE.search(obj) else obj
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            new = _tv_safe(item, text)
            if new is not item:
                obj[i] = new
        return obj
    fields = getattr(obj, "__dataclass_fields__", None)
    if fields is None:
        return obj
    for name in fields:
        value = getattr(obj, name, None)
        if isinstance(value, (str, list)) or hasattr(value, "__dataclass_fields__"):
            new = _tv_safe(value, name in _TEXT_FIELDS)
            if new is not value:
                setattr(obj, name, new)
    return obj


def _write_tag_value(document: Document, out: io.StringIO) -> None:
    """spdx-tools' tag-value layout, written with its element writers.

    Its ``write_document`` checks every file against a list of the files already written
    (4 s of 10 for 20,000 files); here the same sections, in the same order, track them
    in sets. The goldens hold the bytes equal to what ``write_document`` wrote. Our
    documents have no snippets."""
    from spdx_tools.spdx.writer.tagvalue.annotation_writer import write_annotation
    from spdx_tools.spdx.writer.tagvalue.creation_info_writer import write_creation_info
    from spdx_tools.spdx.writer.tagvalue.extracted_licensing_info_writer import (
        write_extracted_licensing_info,
    )
    from spdx_tools.spdx.writer.tagvalue.file_writer import write_file
    from spdx_tools.spdx.writer.tagvalue.package_writer import write_package
    from spdx_tools.spdx.writer.tagvalue.relationship_writer import write_relationship
    from spdx_tools.spdx.writer.tagvalue.tagvalue_writer_helper_functions import (
        scan_relationships,
        write_list_of_elements,
        write_optional_heading,
        write_separator,
    )

    if document.snippets:
        raise FormatError("the tag-value writer here writes no snippets")
    relationships, contained = scan_relationships(
        document.relationships, document.packages, document.files
    )
    out.write("## Document Information\n")
    write_creation_info(document.creation_info, out)
    write_separator(out)
    in_packages = {f.spdx_id for files in contained.values() for f in files}
    for file in document.files:
        if file.spdx_id not in in_packages:
            write_file(file, out)
            write_separator(out)
    written: set[str] = set()  # a file in two packages is written once, then related
    for package in document.packages:
        write_package(package, out)
        write_separator(out)
        for file in contained.get(package.spdx_id, []):
            if file.spdx_id in written:
                relationships.append(
                    Relationship(package.spdx_id, RelationshipType.CONTAINS, file.spdx_id)
                )
                continue
            write_file(file, out)
            write_separator(out)
            written.add(file.spdx_id)
    write_optional_heading(document.extracted_licensing_info, "## License Information\n", out)
    write_list_of_elements(
        document.extracted_licensing_info, write_extracted_licensing_info, out, with_separator=True
    )
    write_optional_heading(relationships, "## Relationships\n", out)
    write_list_of_elements(relationships, write_relationship, out)
    write_separator(out)
    write_optional_heading(document.annotations, "## Annotations\n", out)
    write_list_of_elements(document.annotations, write_annotation, out, with_separator=True)
