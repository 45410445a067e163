"""`auditor scan .` on this project's own working tree, with and without ignores.

    .venv/bin/python bench/selfscan.py [--runs 5] [--no-ignore-runs 3] [PATH]

The tree a pre-commit hook or a release audit sees: the repository plus its built
``.venv`` (tens of thousands of files), ``build/``, tool caches and benchmark results.
Each run is a fresh ``python -m auditor scan PATH --format json`` process (after one
untimed run); the report's file count is compared with what git itself lists
(``git ls-files --cached --others --exclude-standard``, global excludes off), which
is what the walk must keep. Prints one JSON line per mode and writes
``bench/results/selfscan-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def scan(path: Path, out: Path, *extra: str) -> tuple[float, int, dict[str, int]]:
    """Wall seconds, peak RSS (KiB) and the report's summary of one scan process."""
    cmd = [sys.executable, "-m", "auditor", "scan", str(path), "--format", "json"]
    cmd += ["-o", str(out), "--fail-on", "never", *extra]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.execv(sys.executable, cmd)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({status})")
    summary = json.loads(out.read_text(encoding="utf-8"))["summary"]
    return wall, int(usage.ru_maxrss), summary


def git_listed(path: Path) -> int | None:
    git = ["git", "-C", str(path), "-c", "core.excludesFile=/dev/null"]
    proc = subprocess.run(
        [*git, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        return None
    return sum(1 for p in proc.stdout.split(b"\0") if p and (path / p.decode()).is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("path", nargs="?", type=Path, default=ROOT)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-ignore-runs", type=int, default=3)
    args = ap.parse_args()
    compileall.compile_dir(str(ROOT / "auditor"), quiet=1)  # bytecode, as pip leaves it
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        out = Path(tmp_name) / "report.json"
        for mode, extra, runs in (
            ("ignore", (), args.runs),
            ("no-ignore", ("--no-ignore",), args.no_ignore_runs),
        ):
            scan(args.path, out, *extra)  # untimed: page cache
            measured = [scan(args.path, out, *extra) for _ in range(runs)]
            summary = measured[-1][2]
            rows.append(
                {
                    "mode": mode,
                    "runs": runs,
                    "median_wall_s": round(statistics.median(m[0] for m in measured), 3),
                    "min_wall_s": round(min(m[0] for m in measured), 3),
                    "peak_rss_mib": round(statistics.median(m[1] for m in measured) / 1024, 1),
                    "files": summary["files"],
                    "ignored": summary.get("ignored", 0),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    listed = git_listed(args.path)
    agree = {"git_lists": listed, "auditor_keeps": rows[0]["files"]}
    print(json.dumps(agree))
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dest = results / f"selfscan-{stamp}.json"
    dest.write_text(json.dumps({"path": str(args.path), "rows": rows, **agree}, indent=1) + "\n")
    print(f"results: {dest.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
