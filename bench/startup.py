"""Start-up cost of the command line: what every `auditor` run and pre-commit hook pays first.

    .venv/bin/python bench/startup.py [--runs 21]

Fresh processes, medians of N after one untimed run each: ``python -c pass`` (the
floor), ``python -c "import auditor.cli"`` (the target: under 60 ms), ``auditor
--version`` and ``auditor check`` with no files (the pre-commit hook on a commit
that touches nothing it reads). Also lists the auditor modules and heavy libraries
``import auditor.cli`` loads, which should be the CLI alone.
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "import auditor.cli": [sys.executable, "-c", "import auditor.cli"],
    "auditor --version": [sys.executable, "-m", "auditor", "--version"],
    "auditor check (no files)": [sys.executable, "-m", "auditor", "check"],
}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    compileall.compile_dir(str(ROOT / "auditor"), quiet=1)  # bytecode, as pip leaves it
    rows = {}
    for name, cmd in CASES.items():
        wall(cmd)
        times = [wall(cmd) for _ in range(args.runs)]
        rows[name] = round(statistics.median(times) * 1000, 1)
        print(json.dumps({"case": name, "runs": args.runs, "median_ms": rows[name]}), flush=True)
    floor = rows["python -c pass"]
    print(
        json.dumps(
            {
                "import auditor.cli over python -c pass (ms)": round(
                    rows["import auditor.cli"] - floor, 1
                )
            }
        )
    )
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, auditor.cli; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    ours = [m for m in loaded if m.split(".")[0] == "auditor"]
    print(json.dumps({"auditor modules loaded by import auditor.cli": ours}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
