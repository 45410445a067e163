"""Derive ``signatures/`` from the installed ScanCode LicenseDB and ../shared/licenses.

Run as ``make signatures`` (``python -m auditor.signatures.build``). The
output is facts only (keys, names, ids, URLs, obligations): license texts
are read here and never written out. Output is sorted and byte-stable, so a
rebuild that changes nothing changes no committed byte.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from auditor.matcher import FINGERPRINTS
from auditor.signatures import CATALOG_FILE, HUB_IDS

FACT_FIELDS = (
    "requires_license_copy",
    "requires_copyright_notice",
    "requires_modification_notice",
    "use_restrictions_must_propagate",
    "commercial_use",
    "commercial_threshold",
    "naming_requirement",
    "attribution_text",
    "acceptable_use_policy",
    "governing_law",
)


def scancode_license_dir() -> Path:
    try:
        import licensedcode  # the data ships inside scancode-toolkit
    except ImportError:
        raise SystemExit(
            "build: the signatures are derived from ScanCode's LicenseDB: "
            "pip install 'auditor[deep]' (make install does)"
        ) from None

    return Path(licensedcode.__file__).parent / "data" / "licenses"


def default_shared_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "shared" / "licenses"


def _front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    _, fm, _ = text.split("---", 2)
    data = yaml.safe_load(fm)
    assert isinstance(data, dict), path
    return data


def read_scancode(lic_dir: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(lic_dir.glob("*.LICENSE")):
        fm = _front_matter(path)
        key = str(fm["key"])
        spdx = fm.get("spdx_license_key") or f"LicenseRef-scancode-{key}"
        urls = [
            fm.get("homepage_url"),
            *(fm.get("text_urls") or []),
            *(fm.get("other_urls") or []),
            fm.get("osi_url"),
            fm.get("faq_url"),
        ]
        rec: dict[str, Any] = {
            "name": fm.get("name") or key,
            "short_name": fm.get("short_name") or fm.get("name") or key,
            "spdx_id": spdx,
            "category": fm.get("category"),
            "owner": fm.get("owner"),
            "origin": ["scancode"],
        }
        extra = {
            "other_spdx_ids": sorted(fm.get("other_spdx_license_keys") or []),
            "urls": sorted({u for u in urls if u}),
            "is_exception": bool(fm.get("is_exception")),
            "deprecated": bool(fm.get("is_deprecated")),
            "replaced_by": sorted(fm.get("replaced_by") or []),
            "generic": bool(fm.get("is_generic")),
            "unknown": bool(fm.get("is_unknown")),
            "osi_approved": bool(fm.get("osi_license_key") or fm.get("osi_url")),
            "standard_notice": fm.get("standard_notice"),
        }
        rec.update({k: v for k, v in extra.items() if v})
        out[key] = rec
    return out


def merge_shared(catalog: dict[str, dict[str, Any]], index: list[dict[str, Any]]) -> None:
    """Add the model licenses ScanCode lacks and the obligations ScanCode does not record."""
    for rec in index:
        key = rec["key"]
        entry = catalog.get(key)
        if entry is None:
            entry = catalog[key] = {
                "name": rec["name"],
                "short_name": rec["name"],
                "spdx_id": rec["report_spdx_id"],
                "category": None,
                "owner": None,
                "origin": [],
            }
        if "shared" in entry["origin"]:
            # Several reference files can share one key (the DeepSeek LICENSE-CODE is MIT):
            # the first record keeps the facts, later ones only add their ids.
            entry.setdefault("shared_ids", []).append(rec["id"])
            continue
        entry["origin"] = sorted(set(entry["origin"]) | {"shared"})
        entry["shared_ids"] = [rec["id"]]
        entry["family"] = rec.get("family")
        entry["version"] = rec.get("version")
        entry["language"] = rec.get("language")
        entry["facts"] = {f: rec.get(f) for f in FACT_FIELDS}


def hub_maps(
    catalog: dict[str, dict[str, Any]], index: list[dict[str, Any]]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Hub ``license`` ids and ``license_name`` values -> candidate keys."""
    ids: dict[str, set[str]] = {}
    names: dict[str, set[str]] = {}
    for rec in index:
        hid, hname = rec.get("hf_license_id"), rec.get("hf_license_name")
        if hid and hid != "other":
            ids.setdefault(hid, set()).add(rec["key"])
        if hname:
            names.setdefault(hname, set()).add(rec["key"])
    for hid, keys in HUB_IDS.items():
        for key in keys:
            if key not in catalog:
                raise SystemExit(f"HUB_IDS maps {hid!r} to {key!r}, which is not in the catalog")
        ids.setdefault(hid, set()).update(keys)
    return (
        {k: sorted(v) for k, v in sorted(ids.items())},
        {k: sorted(v) for k, v in sorted(names.items())},
    )


def reference_texts(lic_dir: Path, shared_dir: Path) -> list[tuple[str, str, str]]:
    """(key, origin, text) of every text the matcher learns; read here, never written out.

    ScanCode's deprecated entries (their replacements carry the same text) and its
    generic/unknown placeholders (short statements that would match anything) are left out.
    """
    refs: list[tuple[str, str, str]] = []
    for path in sorted(lic_dir.glob("*.LICENSE")):
        raw = path.read_text(encoding="utf-8")
        _, fm_text, text = raw.split("---", 2)
        fm = yaml.safe_load(fm_text)
        if fm.get("is_deprecated") or fm.get("is_generic") or fm.get("is_unknown"):
            continue
        if text.strip():
            refs.append((str(fm["key"]), "scancode", text))
    index = json.loads((shared_dir / "index.json").read_text(encoding="utf-8"))
    for rec in index:
        for f in rec.get("files", []):
            data = (shared_dir / f["file"]).read_bytes()
            if f["file"].endswith(".pdf"):
                from auditor.textio import extract_pdf

                text = extract_pdf(data).text
            else:
                from auditor.textio import decode

                text = decode(data).text
            refs.append((rec["key"], f"shared:{f['file']}", text))
    return refs


#: References sharing this much of the larger one's sample are near relatives: only
#: such pairs can score within the matcher's RELATIVE_MARGIN of each other on one span.
RELATIVE_CONTAINMENT = 0.6
#: A difference larger than this is no near relative's (a long license containing a short one).
MAX_DIFF = 4000
#: Differences up to this size are stored whole; larger ones as their 1-in-4 sample.
FULL_DIFF = 400


def near_relatives(
    samples: list[set[int]], full: list[set[int]], keys: list[str]
) -> list[tuple[int, int, list[int]]]:
    """For every pair of different keys whose texts largely overlap: what each has alone."""
    index: dict[int, list[int]] = {}
    for ref_id, s in enumerate(samples):
        for h in s:
            index.setdefault(h, []).append(ref_id)
    out: list[tuple[int, int, list[int]]] = []
    for a, sa in enumerate(samples):
        shared: dict[int, int] = {}
        for h in sa:
            for b in index[h]:
                if b > a:
                    shared[b] = shared.get(b, 0) + 1
        for b, n in shared.items():
            if keys[a] == keys[b] or n < RELATIVE_CONTAINMENT * max(len(sa), len(samples[b])):
                continue
            only_a, only_b = full[a] - full[b], full[b] - full[a]
            if len(only_a) <= MAX_DIFF and len(only_b) <= MAX_DIFF:
                out.append((a, b, _thin(only_a)))
                out.append((b, a, _thin(only_b)))
    return out


def _thin(only: set[int]) -> list[int]:
    """Keep every shingle of a small difference (one changed word must count); of a
    large one, its sample, which says the same about which text is present."""
    from auditor.matcher import sampled

    return sorted(only if len(only) <= FULL_DIFF else {h for h in only if sampled(h)})


#: Licenses stored whole (every shingle), so that a one-word change to one of them is
#: seen: every model license of ../shared/licenses, and the open-source licenses model
#: repos ship most. The rest are stored as their 1-in-4 sample.
COMMON_KEYS = frozenset(
    """mit apache-2.0 bsd-new bsd-simplified bsd-original isc unlicense zlib
    gpl-2.0 gpl-2.0-plus gpl-3.0 gpl-3.0-plus lgpl-2.1 lgpl-2.1-plus lgpl-3.0 lgpl-3.0-plus
    agpl-3.0 agpl-3.0-plus mpl-2.0 epl-2.0 boost-1.0 wtfpl-2.0 cc0-1.0 cc-by-4.0 cc-by-sa-4.0
    cc-by-nc-4.0 cc-by-nc-sa-4.0 cc-by-nc-nd-4.0 cc-by-nd-4.0 odc-by-1.0 odbl-1.0
    cdla-permissive-2.0
    openrail-m openrail llama-2-license-2023 llama-3.1-license-2024 llama-3.2-license-2024
    llama-3.3-license-2024 llama-4-cla-2025""".split()
)


#: Texts whose terms end here; what follows ("How to apply ...") is an appendix that copies
#: often leave out. Learnt twice: whole, and up to this line.
END_OF_TERMS = "END OF TERMS AND CONDITIONS"
#: Only where the appendix is boilerplate that changes nothing. The GPLs' appendix holds the
#: "or (at your option) any later version" notice that tells GPL-2.0 from GPL-2.0-or-later,
#: so a GPL text without it is not cut the same way.
OPTIONAL_APPENDIX = frozenset({"apache-2.0"})


def with_optional_appendix(refs: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Each reference, and for texts whose appendix is optional, the terms alone."""
    out = []
    for key, origin, text in refs:
        out.append((key, origin, text))
        end = text.find(END_OF_TERMS)
        if key in OPTIONAL_APPENDIX and end > 0 and len(text) - end > 200:
            out.append((key, origin + "#terms", text[: end + len(END_OF_TERMS)]))
    return out


def build_fingerprints(lic_dir: Path, shared_dir: Path, out: Path) -> int:
    from auditor.matcher import sampled, shingle_hashes, tokenize, write_fingerprints

    shared_keys = {r["key"] for r in json.loads((shared_dir / "index.json").read_text("utf-8"))}
    refs = []
    full: list[set[int]] = []
    for key, origin, text in with_optional_appendix(reference_texts(lic_dir, shared_dir)):
        hashes = shingle_hashes(tokenize(text).words)
        sample = [h for h in hashes if sampled(h)]
        if sample:
            refs.append((key, origin, sample))
            full.append(set(hashes))
    relatives = near_relatives([set(r[2]) for r in refs], full, [r[0] for r in refs])
    whole = {i: sorted(full[i]) for i, r in enumerate(refs) if r[0] in COMMON_KEYS | shared_keys}
    write_fingerprints(out, refs, relatives, whole)
    return len(refs)


OWN_FACTS = Path(__file__).with_name("obligations.yaml")


def own_facts() -> dict[str, Any]:
    """``obligations.yaml``, reviewed by hand, carried into the catalog so that a scan reads
    one JSON file and no YAML."""
    data = yaml.safe_load(OWN_FACTS.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SystemExit(f"{OWN_FACTS.name}: expected a mapping of license keys")
    return dict(sorted(data.items()))


def build(lic_dir: Path, shared_dir: Path) -> dict[str, Any]:
    index = json.loads((shared_dir / "index.json").read_text(encoding="utf-8"))
    catalog = read_scancode(lic_dir)
    merge_shared(catalog, index)
    hub_ids, hub_names = hub_maps(catalog, index)
    import scancode_config

    return {
        "format": 1,
        "own_facts": own_facts(),
        "sources": {
            "scancode_toolkit": getattr(scancode_config, "__version__", "unknown"),
            "scancode_licenses": len(list(lic_dir.glob("*.LICENSE"))),
            "shared_index_records": len(index),
        },
        "hub_ids": hub_ids,
        "hub_names": hub_names,
        "licenses": dict(sorted(catalog.items())),
    }


def dump(data: dict[str, Any]) -> str:
    """One license per line: diffs of the committed file stay readable."""
    lines = ["{"]
    top = [k for k in data if k not in ("licenses", "name_index", "url_index")]
    for k in top:
        lines.append(f"{json.dumps(k)}: {json.dumps(data[k], sort_keys=True, ensure_ascii=False)},")
    lines.append('"licenses": {')
    items = list(data["licenses"].items())
    for i, (key, rec) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(
            f"{json.dumps(key)}: {json.dumps(rec, sort_keys=True, ensure_ascii=False)}{comma}"
        )
    lines.append("},")
    for name in ("name_index", "url_index"):
        comma = "," if name == "name_index" else ""
        lines.append(f"{json.dumps(name)}: {json.dumps(data[name], ensure_ascii=False)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def with_indexes(data: dict[str, Any]) -> dict[str, Any]:
    """Add the name and URL indexes, derived from the catalog itself."""
    from auditor.names import build_name_index, build_url_index
    from auditor.signatures import Catalog

    cat = Catalog(data)
    data["name_index"] = build_name_index(cat)
    data["url_index"] = build_url_index(cat)
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=default_shared_dir())
    ap.add_argument("--scancode", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=CATALOG_FILE)
    ap.add_argument("--fingerprints", type=Path, default=FINGERPRINTS)
    ap.add_argument("--check", action="store_true", help="fail if the committed file is stale")
    args = ap.parse_args(argv)
    if not (args.shared / "index.json").is_file():
        print(f"build: no index.json under {args.shared}", file=sys.stderr)
        return 2
    lic_dir = args.scancode or scancode_license_dir()
    text = dump(with_indexes(build(lic_dir, args.shared)))
    if args.check:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "fingerprints.bin"
            build_fingerprints(lic_dir, args.shared, fresh)
            stale = [
                p
                for p, new in ((args.out, text.encode()), (args.fingerprints, fresh.read_bytes()))
                if not p.exists() or p.read_bytes() != new
            ]
        for p in stale:
            print(f"build: {p} is stale; run `make signatures`", file=sys.stderr)
        return 1 if stale else 0
    args.out.write_text(text, encoding="utf-8")
    n = build_fingerprints(lic_dir, args.shared, args.fingerprints)
    print(f"wrote {args.out} ({len(text)} bytes) and {args.fingerprints} ({n} reference texts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
