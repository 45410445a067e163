"""Which models a derivative was made from: the ``base_model`` facts of every detector, merged.

The card's front matter (``card-metadata``), the weights' headers
(``weights-metadata``), README prose, ``adapter_config.json`` and
``config.json`` (``lineage``) may each name the base model, in different
spellings: ``meta-llama/Llama-2-7b-hf``, ``https://huggingface.co/meta-llama/
Llama-2-7b-hf/tree/main``, ``Llama-2-7b-hf``. One ``BaseModel`` per model
keeps the evidence of all of them.

* Names merge case-insensitively, a space counting as a dash ("Meta Llama/Llama
  3.1 8B" from a GGUF header), once huggingface.co URLs lose their host,
  ``/tree/...`` and ``.git``; a bare name equal to the last segment of exactly
  one Hub id merges into that id. A proper Hub id names the merged model.
* The relation is the card's ``base_model_relation`` (one relation for
  several card base models applies to all of them; as many relations as base
  models pair in order), else the prose's, else ``adapter_config.json``'s
  (``adapter``), else "". A level that states two different relations for one
  model says nothing, and the next level decides.
* ``base_model_candidate`` facts (``config.json`` ``_name_or_path``) count
  only when nothing names a base model, and only when they do not name the
  repo itself (``own_names``): a model's own config often carries its own id.
  Other facts are never dropped for naming the repo: a quantization keeps its
  base's name (GGUF ``general.name``), so the names would hide the true base.

``BaseModel.license`` stays None here: the pipeline fills it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from auditor.model import BaseModel, Evidence, Fact, LicenseDetection, Method, Upstream
from auditor.signatures import is_model_license

BASE_MODEL = "base_model"
RELATION = "base_model_relation"
CANDIDATE = "base_model_candidate"
MODEL_NAME = "model_name"

RELATIONS = ("finetune", "quantized", "merge", "adapter")
_RELATION_WORDS = {
    "finetune": "finetune",
    "finetuned": "finetune",
    "finetuning": "finetune",
    "quantized": "quantized",
    "quantised": "quantized",
    "quantization": "quantized",
    "quantisation": "quantized",
    "quantize": "quantized",
    "merge": "merge",
    "merged": "merge",
    "merging": "merge",
    "adapter": "adapter",
    "adapters": "adapter",
}

# Where a relation comes from, strongest first.
_CARD, _PROSE, _ADAPTER = 0, 1, 2
# Which source's spelling a merged model keeps, best first.
_NAME_RANK = {
    Method.CARD_METADATA: 0,
    Method.WEIGHTS_METADATA: 1,
    Method.PACKAGE_METADATA: 2,
    Method.README_STATEMENT: 3,
}
_CANDIDATE_RANK = 4

_HUB_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/", re.IGNORECASE)
_HUB_SUFFIX = re.compile(r"/(?:tree|blob|resolve|commit|commits|raw)(?:/.*)?$", re.IGNORECASE)


def normalize_id(name: str) -> str:
    """A base model's name minus what does not name it: the Hub host, ``/tree/...``, ``.git``."""
    text = name.strip().strip("\"'`<>")
    if _HUB_PREFIX.match(text):
        text = _HUB_PREFIX.sub("", text)
        text = _HUB_SUFFIX.sub("", text)
    text = text.rstrip("/")
    text = text.removesuffix(".git")
    return text.rstrip("/")


def normalize_relation(value: str) -> str:
    """``finetune``, ``quantized``, ``merge``, ``adapter``, or "" for anything else."""
    return _RELATION_WORDS.get(re.sub(r"[\s_-]+", "", value.strip().lower()), "")


def _is_hub_id(name: str) -> bool:
    return (
        name.count("/") == 1
        and "://" not in name
        and not name.startswith("/")
        and not re.search(r"\s", name)
    )


def _key(name: str) -> str:
    """Case and spaces aside: a GGUF header writes "Meta Llama/Llama 3.1 8B" for meta-llama/..."""
    return re.sub(r"\s+", "-", name.strip().lower())


def _last(name: str) -> str:
    return name.rstrip("/").rsplit("/", 1)[-1]


def _loose(name: str) -> str:
    """Compare own names loosely: "Llama 3.1 8B" is "llama-3.1-8b"."""
    return re.sub(r"[\s_-]+", "-", _last(normalize_id(name)).lower())


@dataclass
class _Entry:
    name: str
    evidence: Evidence
    rank: int  # of the spelling
    level: int  # of the relation, when it carries one
    order: int  # of the fact, so evidence keeps the order the detectors found it in
    relation: str = ""


@dataclass
class _Group:
    entries: list[_Entry] = field(default_factory=list)


def _relation_level(method: Method) -> int:
    if method is Method.CARD_METADATA:
        return _CARD
    if method is Method.PACKAGE_METADATA:
        return _ADAPTER
    return _PROSE


def _entries(facts: tuple[Fact, ...]) -> list[_Entry]:
    """One entry per ``base_model`` fact, with the relation stated with it."""
    by_evidence: dict[Evidence, set[str]] = {}
    for f in facts:
        if f.name == RELATION:
            by_evidence.setdefault(f.evidence, set()).add(normalize_relation(f.value))
    entries: list[_Entry] = []
    card_bases: dict[str, list[_Entry]] = {}
    card_relations: dict[str, list[str]] = {}
    for i, f in enumerate(facts):
        method = f.evidence.method
        if f.name == RELATION and method is Method.CARD_METADATA:
            rel = normalize_relation(f.value)
            if rel:
                card_relations.setdefault(f.evidence.path, []).append(rel)
        if f.name != BASE_MODEL:
            continue
        name = normalize_id(f.value)
        if not name:
            continue
        rank = _NAME_RANK.get(method, 3)
        entry = _Entry(name, f.evidence, rank, _relation_level(method), i)
        entries.append(entry)
        if method is Method.CARD_METADATA:
            card_bases.setdefault(f.evidence.path, []).append(entry)
            continue
        # Detectors emit a base_model fact followed by its relation, with the same evidence.
        nxt = facts[i + 1] if i + 1 < len(facts) else None
        if nxt is not None and nxt.name == RELATION and nxt.evidence == f.evidence:
            entry.relation = normalize_relation(nxt.value)
        else:
            stated = by_evidence.get(f.evidence, set())
            entry.relation = next(iter(stated)) if len(stated) == 1 else ""
    for path, bases in card_bases.items():
        relations = card_relations.get(path, [])
        if len(set(relations)) == 1:
            for entry in bases:
                entry.relation = relations[0]
        elif len(relations) == len(bases):
            for entry, rel in zip(bases, relations, strict=True):
                entry.relation = rel
    return entries


def _candidates(facts: tuple[Fact, ...], own: set[str]) -> list[_Entry]:
    out: list[_Entry] = []
    for f in facts:
        if f.name != CANDIDATE:
            continue
        name = normalize_id(f.value)
        if name and _loose(name) not in own:
            out.append(_Entry(name, f.evidence, _CANDIDATE_RANK, _PROSE, len(out)))
    return out


def _group(entries: list[_Entry]) -> list[_Group]:
    groups: dict[str, _Group] = {}
    for entry in entries:
        if "/" in entry.name:
            groups.setdefault(_key(entry.name), _Group()).entries.append(entry)
    hub_keys = list(groups)
    for entry in entries:
        if "/" in entry.name:
            continue
        last = _key(entry.name)
        matches = [k for k in hub_keys if _last(k) == last]
        key = matches[0] if len(matches) == 1 else last
        groups.setdefault(key, _Group()).entries.append(entry)
    return list(groups.values())


def _relation(group: _Group) -> str:
    for level in (_CARD, _PROSE, _ADAPTER):
        stated = {e.relation for e in group.entries if e.level == level and e.relation}
        if len(stated) == 1:
            return stated.pop()
    return ""


def _name(group: _Group) -> str:
    best = min(group.entries, key=lambda e: (not _is_hub_id(e.name), e.rank, e.order))
    return best.name


def _evidence(group: _Group) -> tuple[Evidence, ...]:
    ordered = sorted(group.entries, key=lambda e: e.order)
    return tuple(dict.fromkeys(e.evidence for e in ordered))


def base_models(facts: tuple[Fact, ...], own_names: tuple[str, ...] = ()) -> tuple[BaseModel, ...]:
    """The models this repo was made from, merged across detectors, sorted by name."""
    own = {_loose(n) for n in own_names if n.strip()}
    entries = _entries(facts)
    if not entries:
        entries = _candidates(facts, own)
    found = []
    for group in _group(entries):
        found.append(BaseModel(_name(group), _relation(group), _evidence(group)))
    return tuple(sorted(found, key=lambda b: (b.name.lower(), b.name)))


def own_names(root_name: str, facts: Iterable[Fact]) -> tuple[str, ...]:
    """The repo's own names: its folder (or Hub repo) name and the ``model_name`` facts."""
    names: list[str] = []
    root = normalize_id(root_name.replace("\\", "/"))
    last = _last(root).split("@", 1)[0] if root else ""  # "org/name@revision"
    if last and last not in (".", ".."):
        names.append(last)
    names.extend(f.value.strip() for f in facts if f.name == MODEL_NAME and f.value.strip())
    return tuple(dict.fromkeys(names))


def base_licenses(
    bases: tuple[BaseModel, ...],
    detections: tuple[LicenseDetection, ...],
    upstream: Upstream | None,
) -> tuple[BaseModel, ...]:
    """Fill each base model's license from what is in reach, strongest first: the
    upstream's concluded model license, a model license text shipped here (the base's
    LICENSE carried along), the card's license field when it names a model license."""
    if not bases:
        return bases
    shipped: dict[str, str] = {}  # model license key -> the file holding its text
    card: set[str] = set()
    for d in detections:
        if d.is_clue or not is_model_license(d.key):
            continue
        if d.evidence[-1].method is Method.LICENSE_TEXT:
            shipped.setdefault(d.key, d.evidence[-1].path)
        elif d.evidence[0].method is Method.CARD_METADATA:
            card.add(d.key)
    found: tuple[str | None, str] = (None, "")
    if upstream is not None and dict(upstream.licenses).get("model"):
        found = (dict(upstream.licenses)["model"], f"--upstream {upstream.target}")
    elif len(shipped) == 1:
        ((key, path),) = shipped.items()
        found = (key, f"license file {path}")
    elif len(card) == 1:
        found = (next(iter(card)), "the model card's license field")
    if found[0] is None or " " in found[0]:
        return bases  # an expression or nothing: no single license to apply
    return tuple(replace(b, license=found[0], license_source=found[1]) for b in bases)
