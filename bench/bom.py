"""BOM time as the tree grows: every format on generated repos of 1k, 5k and 20k files.

    .venv/bin/python bench/bom.py [--sizes 1000 5000 20000] [--runs 3] [--formats ...]

Each tree is a model repository as big projects have it: the MIT text as
``LICENSE`` and the Apache-2.0 text as ``LICENSE-MODEL`` (from the installed ScanCode
data), a model card, a small safetensors file, and N-4 source files in nested
folders, each with an SPDX-License-Identifier tag (MIT and Apache-2.0 in turn, so
every tag is evidence a BOM term carries). Each run is a fresh
``python -m auditor scan TREE --format F -o OUT --no-checksum-cache`` process (after
one untimed run per tree), so the figure includes hashing every file, as a first
BOM of a repo does. Prints one JSON line per (size, format), the growth from the
smallest to the largest size, and writes ``bench/results/bom-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("json", "sarif", "spdx-json", "spdx-tv", "spdx3-jsonld", "cyclonedx-json")


def scancode_text(key: str) -> str:
    import licensedcode

    path = Path(licensedcode.__file__).parent / "data" / "licenses" / f"{key}.LICENSE"
    return path.read_text(encoding="utf-8").split("---", 2)[2].strip() + "\n"


def make_tree(root: Path, files: int) -> Path:
    sys.path.insert(0, str(ROOT / "fixtures"))
    from generate import safetensors_bytes

    root.mkdir(parents=True)
    (root / "LICENSE").write_text("Copyright (c) 2026 Example Org\n\n" + scancode_text("mit"))
    (root / "LICENSE-MODEL").write_text(scancode_text("apache-2.0"))
    (root / "README.md").write_text("---\nlicense: apache-2.0\n---\n# big\n\nCode: MIT.\n")
    (root / "model.safetensors").write_bytes(safetensors_bytes())
    for i in range(files - 4):
        folder = root / "src" / f"pkg{i // 500:03d}" / f"mod{i // 50 % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        tag = "MIT" if i % 2 else "Apache-2.0"
        (folder / f"f{i:05d}.py").write_text(f"# SPDX-License-Identifier: {tag}\nX = {i}\n")
    return root


def one(tree: Path, fmt: str, out: Path) -> float:
    cmd = [sys.executable, "-m", "auditor", "scan", str(tree), "--format", fmt]
    cmd += ["-o", str(out), "--no-checksum-cache", "--fail-on", "never"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--formats", nargs="+", default=list(FORMATS))
    args = ap.parse_args()
    import compileall

    compileall.compile_dir(str(ROOT / "auditor"), quiet=1)  # bytecode, as pip leaves it
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for size in args.sizes:
            tree = make_tree(tmp / f"tree{size}", size)
            one(tree, "json", tmp / "warm.json")  # page cache, bytecode
            for fmt in args.formats:
                walls = [one(tree, fmt, tmp / f"out-{fmt}") for _ in range(args.runs)]
                row = {
                    "files": size,
                    "format": fmt,
                    "median_wall_s": round(statistics.median(walls), 3),
                    "min_wall_s": round(min(walls), 3),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    sizes = sorted(args.sizes)
    growth: dict[str, dict[str, float]] = {}
    for low, high in itertools.pairwise(sizes):  # linear time grows like the file count
        step = growth[f"{low} -> {high} files (x{high / low:g})"] = {}
        for fmt in args.formats:
            a = next(r["median_wall_s"] for r in rows if r["files"] == low and r["format"] == fmt)
            b = next(r["median_wall_s"] for r in rows if r["files"] == high and r["format"] == fmt)
            step[fmt] = round(b / a, 2)
    print(json.dumps({"growth": growth}))
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = results / f"bom-{stamp}.json"
    out.write_text(json.dumps({"rows": rows, "growth": growth}, indent=1) + "\n")
    print(f"results: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
