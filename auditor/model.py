"""The data that flows through the pipeline.

Every stage takes and returns these frozen values, so a stage can be tested
alone and a format can render any result without knowing how it was made.
Problems with one file are data here (``Skipped``), never exceptions.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from enum import Enum

#: ScanCode's key for "a license is named here, but which one is not known".
UNKNOWN_KEY = "unknown-license-reference"


class FileKind(str, Enum):
    """What a file is to a license audit; decides which detectors read it."""

    CODE = "code"
    WEIGHTS = "weights"
    CONFIG = "config"
    TOKENIZER = "tokenizer"
    README = "readme"  # model card or README
    LICENSE = "license"
    NOTICE = "notice"  # NOTICE, acceptable-use policies
    DATA = "data"
    OTHER = "other"


class ComponentKind(str, Enum):
    CODE = "code"
    MODEL = "model"
    DATA = "data"


class Method(str, Enum):
    """How a license fact was found; reports keep it with every fact."""

    LICENSE_TEXT = "license-text"
    README_STATEMENT = "readme-statement"
    CARD_METADATA = "card-metadata"
    SPDX_TAG = "spdx-tag"
    PACKAGE_METADATA = "package-metadata"
    WEIGHTS_METADATA = "weights-metadata"
    LINK = "link"
    LICENSE_HEADER = "license-header"  # a license sentence in a source file's header


class Place(str, Enum):
    """Where a license fact stands in its file; with the file's role it decides the
    fact's weight (auditor.evidence)."""

    TEXT = "text"  # a license text in a license file
    THIRD_PARTY = "third-party"  # a text for bundled third-party parts (NOTICE, appended texts)
    FIELD = "field"  # a metadata field: card front matter, package metadata, weights header
    HEADER = "header"  # a source file's license header (SPDX tag or sentence)
    SECTION = "section"  # a README's License section, or a "License:" line of a card
    BADGE = "badge"  # a license badge
    TABLE = "table"  # a table row naming a license per model
    PROSE = "prose"  # README prose elsewhere
    MENTION = "mention"  # history, quotes, comparisons, other models: never concludes


class Scope(str, Enum):
    """What a license statement says it covers."""

    CODE = "code"
    MODEL = "model"
    DATA = "data"
    ALL = "all"
    UNSPECIFIED = "unspecified"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"note": 1, "warning": 2, "error": 3}[self.value]


@dataclass(frozen=True)
class FileEntry:
    """One file of the audited tree.

    ``size`` and ``sha256`` are those of the real content: for a Git LFS
    pointer they come from the pointer, not from the pointer file itself.
    ``format`` is what a bounded header read found (``safetensors``, ``gguf``,
    ``pickle``, ``zip``, ``pdf``...), or None when the bytes showed none,
    whatever the name promises.
    ``header`` holds the string key/values of a weights header worth
    reporting (GGUF ``general.*``, safetensors ``__metadata__``).
    ``sha1`` is filled only when a format needs it (SPDX 2.3 file checksums),
    by the checksum stage (auditor.checksums).
    """

    path: str
    size: int
    kind: FileKind
    sha256: str | None = None
    lfs: bool = False
    format: str | None = None
    header: tuple[tuple[str, str], ...] = ()
    sha1: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A file, or part of one, that could not be read, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Inventory:
    root: str
    revision: str | None
    files: tuple[FileEntry, ...]
    skipped: tuple[Skipped, ...] = ()
    #: Files and folders a folder walk left out as git would (``.gitignore``, virtualenvs,
    #: tool caches; auditor.ignore); a folder counts once.
    ignored: int = 0

    def by_path(self) -> dict[str, FileEntry]:
        return {f.path: f for f in self.files}


@dataclass(frozen=True)
class Evidence:
    """Where a license fact came from: a file, a 1-based line span, an excerpt."""

    path: str
    start_line: int
    end_line: int
    method: Method
    excerpt: str = ""


@dataclass(frozen=True)
class LicenseDetection:
    """One license found in one place.

    A matched text or an explicit statement is a detection; a mere mention
    ("see the Apache license") is a clue (``is_clue``) and never concludes a
    license on its own. A text that matches a known license only in part is
    still reported as that license, with ``modified`` set and the differing
    lines kept, never as a clean match.
    """

    key: str
    spdx_id: str
    name: str
    score: float
    evidence: tuple[Evidence, ...]
    scope: Scope = Scope.UNSPECIFIED
    is_clue: bool = False
    #: A license text that differs from its reference: clauses added, changed or removed.
    modified: bool = False
    #: Share of the reference text found (1.0 for a whole copy); None for statements.
    coverage: float | None = None
    #: Lines of the repo's text that the reference does not have.
    differences: tuple[Evidence, ...] = ()
    place: Place = Place.TEXT
    #: For an unknown license that names a family ("the Apache License", a versionless
    #: classifier): SPDX id prefixes of its members, to tell agreement from disagreement.
    family: tuple[str, ...] = ()
    #: For an unknown license: the name the repo gives it ("Baichuan-7B 模型许可协议").
    stated: str = ""
    #: ``or`` when the statement offers a choice among the licenses it names with this one
    #: ("dual-licensed under MIT or Apache-2.0"), ``and`` when all of them apply ("under
    #: both ..."); "" for a license stated alone.
    joint: str = ""


@dataclass(frozen=True)
class LicenseReference:
    """A statement that points at a license file or page ("see [Model License](LICENSE-MODEL)").

    ``target`` is a repo-relative path or a URL; the pipeline resolves it to
    the licenses detected in that file, or records it as broken.
    """

    target: str
    scope: Scope
    evidence: Evidence
    name: str = ""  # the link text or badge message, for reports
    #: The link states which license applies (a badge, "licensed under [X](...)"), not a mention.
    states: bool = True
    #: A file named in plain prose ("see LICENSE-MODEL"), not a link: kept only if it exists.
    mention: bool = False
    #: No target, only a vague name ("the Model License"): the repo's own license file for
    #: the scope, when there is exactly one.
    vague: bool = False
    place: Place = Place.PROSE


@dataclass(frozen=True)
class ResolvedReference:
    reference: LicenseReference
    resolved: bool
    keys: tuple[str, ...] = ()
    #: The repo-relative path the link names; None for a page outside the repo.
    path: str | None = None


@dataclass(frozen=True)
class Fact:
    """A statement a detector found that is not a license: ``base_model``, ``license_link``..."""

    name: str
    value: str
    evidence: Evidence


@dataclass(frozen=True)
class Finding:
    """A problem for a person to act on; ``rule`` is a stable documented id."""

    rule: str
    severity: Severity
    message: str
    path: str | None = None
    component: str | None = None
    evidence: tuple[Evidence, ...] = ()
    fix: str | None = None


def fingerprint(finding: Finding) -> str:
    """A finding's identity across runs and machines: 16 hex digits of a sha256.

    Hashed: the rule, the component, the repo-relative path and the message with
    every run of digits replaced by ``#`` and whitespace collapsed, joined by NUL.
    Severity, evidence line numbers and the fix are left out, so that changing a
    severity in the policy, or editing lines above a finding, keeps it accepted.
    """
    message = " ".join(re.sub(r"\d+", "#", finding.message).split())
    parts = (finding.rule, finding.component or "", finding.path or "", message)
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]


class ObligationKind(str, Enum):
    """What a license asks of a redistributor; stable ids used in reports and rules."""

    LICENSE_COPY = "license-copy"  # ship a copy of the license
    COPYRIGHT_NOTICE = "copyright-notice"  # keep copyright and attribution notices
    NOTICE_FILE = "notice-file"  # carry the upstream NOTICE file (Apache-2.0 4(d))
    MODIFICATION_NOTICE = "modification-notice"  # state changes prominently
    USE_RESTRICTIONS = "use-restrictions"  # carry use-based restrictions into derivatives
    ATTRIBUTION = "attribution"  # a required attribution text ("Built with Llama")
    NAMING = "naming"  # derivative names must begin with ...
    COMMERCIAL = "commercial"  # limits on commercial use, with their figures
    ACCEPTABLE_USE_POLICY = "acceptable-use-policy"  # a policy to pass on
    SHARE_ALIKE = "share-alike"  # derivatives under the same license
    REVIEW = "review"  # obligations not catalogued: a person must read the license


@dataclass(frozen=True)
class Obligation:
    """One thing a concluded license asks, with the license's own words where known."""

    license: str
    kind: ObligationKind
    summary: str
    #: The figure or text the obligation carries ("700 million monthly active users").
    value: str = ""
    quote: str = ""


@dataclass(frozen=True)
class Component:
    """A part of the repo that a license covers: its code, a model, a data set.

    ``declared`` holds what the repo says (each with its evidence);
    ``concluded`` is the auditor's answer as a license expression of keys
    (``mit``, ``apache-2.0 AND mit``), or None when it cannot conclude.
    ``basis`` holds the detections the conclusion rests on and ``reason``
    the precedence rule that chose them (docs/identification.md);
    ``disagreeing`` the declared licenses that say otherwise.
    """

    name: str
    kind: ComponentKind
    files: tuple[str, ...]
    declared: tuple[LicenseDetection, ...] = ()
    concluded: str | None = None
    #: The folder a model component lives in ("" for the repo root).
    path: str = ""
    basis: tuple[LicenseDetection, ...] = ()
    reason: str = ""
    disagreeing: tuple[LicenseDetection, ...] = ()
    obligations: tuple[Obligation, ...] = ()


@dataclass(frozen=True)
class RepositoryLicense:
    """The license of the repository as a whole: what its root license file or README
    says of everything in it, else the licenses of its parts together."""

    concluded: str | None
    reason: str
    basis: tuple[LicenseDetection, ...] = ()


@dataclass(frozen=True)
class BaseModel:
    """The model a derivative was made from, as the repo names it.

    ``license`` is the base model's license key when something in reach says
    it (the card, a license file of the base shipped here, ``--upstream``),
    with ``license_source`` naming which.
    """

    name: str
    relation: str  # finetune, quantized, merge, adapter, or "" when not stated
    evidence: tuple[Evidence, ...]
    license: str | None = None
    license_source: str = ""


@dataclass(frozen=True)
class FileChange:
    """A file that differs from the upstream copy: ``modified``, ``added`` or ``removed``."""

    path: str
    change: str
    kind: FileKind
    #: Where the derivative says this file was changed (a header in the file, a
    #: NOTICE/CHANGELOG/README line naming it, or a card stating the weights were
    #: fine-tuned/quantized/merged); None when nothing says so.
    statement: Evidence | None = None


@dataclass(frozen=True)
class DroppedNotice:
    """A notice the upstream carries that the derivative does not."""

    #: ``notice-file``, ``license-file`` or ``copyright``.
    what: str
    path: str  # where the upstream has it
    text: str  # the copyright line, or the file name
    evidence: Evidence


@dataclass(frozen=True)
class Upstream:
    """What ``--upstream`` found comparing this repo with the repo it derives from."""

    target: str
    revision: str | None
    changes: tuple[FileChange, ...]
    dropped: tuple[DroppedNotice, ...]
    #: The upstream's concluded license per component (``model`` -> ``llama-3.1-license-2024``).
    licenses: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Openness:
    """One-line openness verdict in the spirit of the OSI OSAID and the Model Openness Framework."""

    verdict: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Tool:
    name: str
    version: str


@dataclass(frozen=True)
class AuditResult:
    """The one neutral document that every format renders."""

    tool: Tool
    target: str
    inventory: Inventory
    detections: tuple[LicenseDetection, ...]
    components: tuple[Component, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...] = field(default=())
    facts: tuple[Fact, ...] = field(default=())
    #: Links to license files or pages; ``resolved`` False when the target is not there.
    references: tuple[ResolvedReference, ...] = field(default=())
    base_models: tuple[BaseModel, ...] = field(default=())
    upstream: Upstream | None = None
    openness: Openness | None = None
    #: Findings a baseline file accepted: kept for the record, never counted for --fail-on.
    accepted: tuple[Finding, ...] = field(default=())
    #: The text of each license file read, by path: BOM formats quote a license
    #: outside the SPDX list from the repo's own copy.
    license_texts: tuple[tuple[str, str], ...] = field(default=())
    #: The repo's own name (``tiny-chat`` for ``hf://acme/tiny-chat@v1``); "" when unknown.
    name: str = ""
    #: Where others get the repo: its Hub page, or its git ``origin`` (``git+https://...``).
    download_location: str | None = None
    repository: RepositoryLicense | None = None

    def fails(self, fail_on: str) -> bool:
        """Is a finding at or above ``fail_on`` (a severity, or ``never``) here? (Exit 1.)"""
        if fail_on == "never":
            return False
        threshold = Severity(fail_on).rank
        return any(f.severity.rank >= threshold for f in self.findings)

    def worst_severity(self) -> Severity | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: s.rank)
