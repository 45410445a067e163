"""Identification accuracy on the labeled corpus (fixtures/corpus) and on every reference text.

    .venv/bin/python bench/accuracy.py [--self-test]

Prints identified / wrong / unknown counts; --self-test also matches each of the
~2,500 reference texts (ScanCode LicenseDB + ../shared/licenses) against the index.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "fixtures" / "corpus"), str(ROOT / "fixtures"), str(ROOT)]

import runner  # noqa: E402


def corpus() -> dict[str, object]:
    start = time.perf_counter()
    outcomes = runner.run_all()
    counts = Counter(o.status for o in outcomes)
    fmt = [o for o in outcomes if o.id.endswith(runner.FORMATTING) and o.status == "identified"]
    altered = [o for o in outcomes if o.modified_expected and o.status == "identified"]
    return {
        "measure": "corpus",
        "cases": len(outcomes),
        "identified": counts["identified"],
        "wrong": counts["wrong"],
        "unknown": counts["unknown"],
        "identified_pct": round(100 * counts["identified"] / len(outcomes), 1),
        "altered_flagged": f"{sum(1 for o in altered if o.modified_found)}/{len(altered)}",
        "formatting_flagged_modified": f"{sum(1 for o in fmt if o.modified_found)}/{len(fmt)}",
        "not_identified": [o.id for o in outcomes if o.status != "identified"],
        "seconds": round(time.perf_counter() - start, 2),
    }


def self_test() -> dict[str, object]:
    from auditor.matcher import match_text
    from auditor.signatures.build import reference_texts, scancode_license_dir

    start = time.perf_counter()
    refs = reference_texts(scancode_license_dir(), runner.SHARED)
    ok = wrong = unknown = 0
    wrongs = []
    for key, origin, text in refs:
        keys = [m.key for m in match_text(text).matches]
        if key in keys:
            ok += 1
        elif keys:
            wrong += 1
            wrongs.append((key, origin, keys))
        else:
            unknown += 1
    return {
        "measure": "self-test",
        "references": len(refs),
        "identified": ok,
        "wrong": wrong,
        "unknown": unknown,
        "wrong_cases": wrongs,
        "seconds": round(time.perf_counter() - start, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    print(json.dumps(corpus()))
    if args.self_test:
        print(json.dumps(self_test()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
