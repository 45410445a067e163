"""Model card YAML front matter: ``license``, ``license_name``, ``license_link``, ``base_model``.

The Hub shows these fields as the model's license, so they speak for the
model (scope ``model``). Hub ids map to keys through the catalog; an id that
names a family ("gpl", "bsd") or several licenses ("gemma" has two terms of
use) stays unknown rather than becoming a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from auditor.detectors import DETECTORS, Detected, Detector, detection, unknown
from auditor.model import (
    Evidence,
    Fact,
    FileEntry,
    FileKind,
    LicenseDetection,
    Method,
    Place,
    Scope,
    Skipped,
)
from auditor.names import family_of, hub_candidates

FACT_FIELDS = (
    "license_name",
    "license_link",
    "base_model",
    "base_model_relation",
    "datasets",
    "pipeline_tag",
    "library_name",
    "model_name",
)


class FrontMatterError(ValueError):
    pass


#: Nesting no model card comes near; the guard against crafted front matter.
MAX_DEPTH = 100
#: Values a front matter may expand to through aliases; real cards have a few hundred.
MAX_NODES = 100_000
#: Values read from one list field ("license:", "base_model:"); real cards list a few.
MAX_ITEMS = 32
#: Characters read from one value.
MAX_VALUE = 1000


def _too_deep(block: list[str]) -> bool:
    """Whether the YAML could nest past ``MAX_DEPTH`` levels (an over-estimate: brackets
    in quoted strings count too, so a card far below the limit is never refused).

    Nesting comes from flow brackets, from ``- `` or ``key:`` items on one line, and
    from indentation."""
    flow = 0
    for line in block:
        stripped = line.lstrip(" ")
        if len(line) - len(stripped) > 4 * MAX_DEPTH:
            return True
        if stripped.count("- ") + stripped.count(": ") > MAX_DEPTH:
            return True
        for ch in line:
            if ch in "[{":
                flow += 1
                if flow > MAX_DEPTH:
                    return True
            elif ch in "]}":
                flow = max(0, flow - 1)
    return False


@dataclass(frozen=True)
class FrontMatter:
    data: dict[str, object]
    lines: list[str]  # the YAML lines, for locating keys
    first_line: int  # 1-based line number of the first YAML line


def parse_front_matter(text: str) -> FrontMatter | None:
    """The card's YAML block between leading ``---`` lines; None when there is none."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise FrontMatterError("YAML front matter has no closing '---' line")
    block = lines[1:end]
    if _too_deep(block):
        # libyaml's composer recurses in C: a few thousand nested levels crash the process.
        raise FrontMatterError(f"YAML front matter is nested more than {MAX_DEPTH} levels deep")
    import yaml  # only for READMEs that have front matter (~15 ms to import)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    source = "\n".join(block)
    try:
        if "&" in source and "*" in source:  # anchors and aliases: count what they expand to
            _check_expansion(yaml, source, loader)
        data = yaml.load(source, Loader=loader)  # a safe loader
    except FrontMatterError:
        raise
    except (ValueError, RecursionError) as exc:  # a date like 2024-02-30, deep nesting
        raise FrontMatterError(f"YAML front matter is not valid ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 2}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FrontMatterError(f"YAML front matter is not valid ({where}{problem})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError("YAML front matter is not a mapping of keys to values")
    return FrontMatter({str(k): v for k, v in data.items()}, block, 2)


def _check_expansion(yaml: Any, source: str, loader: Any) -> None:
    """Refuse YAML whose aliases expand past ``MAX_NODES`` nodes, before loading it.

    Ten anchors, each a list of nine aliases of the one before, are 54 lines that load
    as 3.5 billion strings (a "billion laughs" bomb): the loader would build it all.
    Counting on the event stream is linear in the text.
    """
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]  # [anchor, nodes so far] of each open collection
    for event in yaml.parse(source, Loader=loader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            stack.append([event.anchor, 0])
            continue
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            anchor, count = stack.pop()
            size = count + 1
        elif isinstance(event, yaml.ScalarEvent):
            anchor, size = event.anchor, 1
        elif isinstance(event, yaml.AliasEvent):
            anchor, size = None, sizes.get(event.anchor, 1)
        else:
            continue
        if anchor is not None:
            sizes[anchor] = size
        stack[-1][1] += size
        if stack[-1][1] > MAX_NODES:
            raise FrontMatterError(
                f"YAML front matter expands to more than {MAX_NODES} values through its "
                "aliases (*name): not read"
            )


def _key_line(fm: FrontMatter, key: str) -> tuple[int, str]:
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    for i, line in enumerate(fm.lines):
        if pattern.match(line):
            return fm.first_line + i, line.strip()
    return fm.first_line, f"{key}: ..."


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v)[:MAX_VALUE] for v in value[:MAX_ITEMS] if v is not None]
    return [str(value)[:MAX_VALUE]]


@DETECTORS.register("card-metadata")
class CardMetadataDetector(Detector):
    text_limit = 256 * 1024

    def applies_to(self, entry: FileEntry) -> bool:
        return entry.kind is FileKind.README and entry.path.lower().endswith((".md", ".markdown"))

    def detect(self, entry: FileEntry, text: str) -> Detected:
        try:
            fm = parse_front_matter(text)
        except FrontMatterError as exc:
            return Detected(problems=(Skipped(entry.path, str(exc)),))
        if fm is None:
            return Detected()
        facts: list[Fact] = []
        cut = [
            Skipped(
                entry.path,
                f"YAML front matter: {key!r} lists {len(value)} values; the first {MAX_ITEMS} read",
            )
            for key, value in fm.data.items()
            if isinstance(value, list) and len(value) > MAX_ITEMS
        ]
        for field in FACT_FIELDS:
            values = _as_list(fm.data.get(field))
            if not values:
                continue
            line, excerpt = _key_line(fm, field)
            for value in values:
                facts.append(
                    Fact(
                        field,
                        value,
                        Evidence(entry.path, line, line, Method.CARD_METADATA, excerpt),
                    )
                )
        index = fm.data.get("model-index")
        if isinstance(index, list):  # the Hub's evaluation results name the model too
            line, excerpt = _key_line(fm, "model-index")
            for item in index[:MAX_ITEMS]:
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    ev = Evidence(entry.path, line, line, Method.CARD_METADATA, excerpt)
                    facts.append(Fact("model_name", item["name"], ev))
        detections: list[LicenseDetection] = []
        line, excerpt = _key_line(fm, "license")
        ev = Evidence(entry.path, line, line, Method.CARD_METADATA, excerpt)
        names = _as_list(fm.data.get("license_name"))
        for hub_id in _as_list(fm.data.get("license")):
            detections.extend(self._resolve(hub_id, names, ev))
        return Detected(tuple(detections), tuple(facts), problems=tuple(cut))

    def _resolve(self, hub_id: str, names: list[str], ev: Evidence) -> list[LicenseDetection]:
        keys = hub_candidates(hub_id, names)
        if len(keys) == 1:
            return [detection(keys[0], ev, scope=Scope.MODEL, place=Place.FIELD)]
        # None known, or several (two dated texts of one terms of use): unknown, not a
        # guess; it agrees with a candidate, or a member of the family it names, shipped
        # beside it ("openrail++" and the Open RAIL++-M text in LICENSE).
        stated = ", ".join([hub_id, *names]) if names else hub_id
        family = tuple(keys) or family_of(hub_id)
        return [unknown(ev, Scope.MODEL, Place.FIELD, stated=stated, family=family)]
