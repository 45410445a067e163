"""Every hostile shape of tests/hostile_shapes.py, timed and measured, as a table.

    .venv/bin/python bench/hostile.py [--only NAME ...] [--group GROUP]

Each shape is built in a scratch folder and audited by a fresh ``python -m auditor``
process; the table gives its exit code, wall seconds, peak RSS and what it did wrong
against the rules (10 s, 500 MiB, exit 0/1 or one-line 2/3, nothing read or written
outside the repo, nothing run). Writes ``bench/results/hostile-<UTC timestamp>.json``;
exits 1 when any shape did something wrong.
"""

from __future__ import annotations

import argparse
import compileall
import json
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hostile_shapes import SHAPES, problems, run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="shape names")
    parser.add_argument("--group", default=None, help="one group of shapes")
    args = parser.parse_args()
    compileall.compile_dir(str(ROOT / "auditor"), quiet=1)
    shapes = [
        s
        for s in SHAPES
        if (args.only is None or s.name in args.only) and (args.group in (None, s.group))
    ]
    rows = []
    failed = 0
    print(f"{'shape':32} {'group':10} {'exit':>4} {'seconds':>8} {'MiB':>6}  problems")
    for shape in shapes:
        with tempfile.TemporaryDirectory(prefix="hostile-") as scratch:
            result = run(shape, Path(scratch))
        wrong = problems(result)
        failed += bool(wrong)
        code = "-" if result.code is None else str(result.code)
        print(
            f"{shape.name:32} {shape.group:10} {code:>4} {result.seconds:8.2f} "
            f"{result.rss / (1 << 20):6.0f}  {'; '.join(wrong) or 'ok'}",
            flush=True,
        )
        rows.append(
            {
                "shape": shape.name,
                "group": shape.group,
                "exit": result.code,
                "seconds": round(result.seconds, 3),
                "rss_mib": round(result.rss / (1 << 20), 1),
                "problems": wrong,
                "stderr": result.stderr.decode("utf-8", "replace")[-300:],
            }
        )
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = ROOT / "bench" / "results" / f"hostile-{stamp}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"shapes": rows, "failed": failed}, indent=1) + "\n")
    print(f"{len(shapes) - failed}/{len(shapes)} shapes ok; {out.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
