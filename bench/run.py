"""Cold-scan benchmark: wall time and peak RSS of `auditor scan` as a user runs it.

Each run is a fresh process (cold: imports, catalog load, inventory, detect),
so the figure is what a pre-commit hook or CI step pays. Prints medians.

    .venv/bin/python bench/run.py [--runs N] [PATH ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TARGETS = [ROOT / "fixtures" / "example-model", ROOT / "fixtures" / "kinds"]


def scan_command(target: Path) -> list[str]:
    """What a user runs: a fresh `auditor scan` process, JSON to standard output."""
    return [
        sys.executable,
        "-m",
        "auditor",
        "scan",
        str(target),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]


def one_run(target: Path) -> float:
    """Wall seconds of one `auditor scan` child process."""
    start = time.perf_counter()
    proc = subprocess.run(
        scan_command(target),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"scan of {target} failed: {proc.stderr.decode()}")
    return wall


def peak_rss_kib(target: Path) -> int:
    """Peak RSS of one scan, from the kernel's accounting of that one child (wait4)."""
    import os

    pid = os.fork()
    if pid == 0:
        # Discard the report on the child's stdout. Never `-o /dev/null`: `-o` writes
        # atomically (temp file + rename), which as root replaces the /dev/null device.
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.execv(sys.executable, scan_command(target))
    _, _, usage = os.wait4(pid, 0)
    return int(usage.ru_maxrss)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("targets", nargs="*", type=Path, default=DEFAULT_TARGETS)
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    import compileall

    # .pyc files as `pip install` writes them: PYTHONDONTWRITEBYTECODE would otherwise make
    # every cold run compile the sources, and "warm bytecode" below would warm nothing.
    compileall.compile_dir(str(ROOT / "auditor"), quiet=1)
    rows = []
    for target in args.targets:
        files = sum(1 for p in target.rglob("*") if p.is_file())
        one_run(target)  # warm the OS page cache and bytecode, as a second commit would
        walls = [one_run(target) for _ in range(args.runs)]
        rss = statistics.median(peak_rss_kib(target) for _ in range(3))
        rows.append(
            {
                "target": str(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target),
                "files": files,
                "runs": args.runs,
                "median_wall_s": round(statistics.median(walls), 3),
                "min_wall_s": round(min(walls), 3),
                "peak_rss_mib": round(rss / 1024, 1),
            }
        )
    for row in rows:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
