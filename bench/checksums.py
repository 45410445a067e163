"""Checksum stage benchmark (issue 5, "Checksums without waste").

    .venv/bin/python bench/checksums.py [--size-gib G] [--shards N] [--shard-gib S]
                                        [--runs R] [--dir DIR] [--keep]
                                        [--buffer-kib K ...]

Two measurements, on files written at run time into a temp dir (``--dir``, default
the system temp dir; the same disk as the repository on the machines this runs on):

1. **Throughput.** sha256 of one ``--size-gib`` file (default 2 GiB, written from
   os.urandom blocks with a counter, so no page is zeros and nothing is sparse):
   ``stream_digests(path, ["sha256"])``, ``fill`` on a folder holding only that file
   (cache off), and ``sha256sum`` as a subprocess, alternately ``--runs`` times after
   one untimed read that puts the file in the page cache (dropping it needs root, so
   every run reads from memory, the same for each tool). Medians in MB/s (10^6
   bytes/s) and our figure over sha256sum's (target >= 0.9). The sha1 + sha256 single
   pass is measured too, for reference, and with ``--buffer-kib 256 1024 8192`` the
   stream at other read sizes (how ``checksums.BUFFER`` was chosen).
2. **Re-audit.** A model folder: the bundled example (card, config, tokenizer, MIT
   ``LICENSE``, Apache-2.0 ``LICENSE-MODEL``) plus ``--shards`` safetensors shards of
   ``--shard-gib`` each (default 2 x 1 GiB, valid headers). ``run_audit(dir,
   Options(checksums=("sha1", "sha256")))`` in this process with an empty checksum
   cache (cold, a fresh cache dir per run) and then with the cache it filled (warm,
   target < 1 s); the same call in a fresh ``python -c`` process (imports included);
   and as a user runs it, ``auditor scan DIR`` as a fresh process with
   ``AUDITOR_CACHE_DIR`` set, using a BOM format when the CLI has one (otherwise
   ``--format json``, which asks for no checksums: the result says which).

Prints one JSON line per measurement and a summary table, and writes everything to
bench/results/checksums-<timestamp>.json. The big files are deleted at the end
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))

from auditor import checksums  # noqa: E402
from auditor.checksums import stream_digests  # noqa: E402
from auditor.pipeline import Options, run_audit  # noqa: E402
from auditor.sources.local import LocalSource  # noqa: E402

GIB = 1 << 30
MIB = 1 << 20
#: Targets from the issue.
TARGET_RATIO = 0.9
TARGET_WARM_S = 1.0
BOTH = ("sha1", "sha256")


def write_bulk(path: Path, size: int, header: bytes = b"") -> None:
    """``header`` then bytes up to ``size``: 1 MiB random blocks, each with its own counter."""
    block = bytearray(os.urandom(MIB))
    with open(path, "wb") as fh:
        fh.write(header)
        left, i = size - len(header), 0
        while left > 0:
            block[:8] = i.to_bytes(8, "little")
            fh.write(block[: min(left, MIB)])
            left -= MIB
            i += 1


def safetensors_header(data_bytes: int, name: str) -> bytes:
    """A valid safetensors header for one F32 tensor of ``data_bytes`` bytes."""
    header = {
        "__metadata__": {"format": "pt"},
        name: {"dtype": "F32", "shape": [data_bytes // 4], "data_offsets": [0, data_bytes]},
    }
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw


def read_once(path: Path) -> None:
    """Read a file through, to put it in the page cache."""
    with open(path, "rb", buffering=0) as fh:
        buf = bytearray(8 * MIB)
        while fh.readinto(buf):
            pass


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def sha256sum(path: Path) -> str:
    proc = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True)
    return proc.stdout.split()[0]


def throughput(work: Path, size: int, runs: int, buffers: list[int]) -> dict[str, Any]:
    folder = work / "one"
    folder.mkdir()
    big = folder / "big.bin"
    write_bulk(big, size)
    read_once(big)  # warm the page cache for everyone
    source = LocalSource(str(folder))
    inv = source.inventory()

    def ours() -> str:
        return stream_digests(big, ["sha256"])["sha256"]

    def via_fill() -> str:
        out = checksums.fill(source, inv, ("sha256",), cache=False)
        return out.files[0].sha256 or ""

    def both() -> dict[str, str]:
        return stream_digests(big, BOTH)

    tools: dict[str, Callable[[], Any]] = {
        "stream_digests_sha256": ours,
        "fill_sha256": via_fill,
        "sha256sum": lambda: sha256sum(big),
        "stream_digests_sha1_sha256": both,
    }
    for kib in buffers:
        tools[f"stream_digests_sha256_{kib}k"] = lambda kib=kib: stream_digests(
            big, ["sha256"], buffer_size=kib << 10
        )["sha256"]
    walls: dict[str, list[float]] = {name: [] for name in tools}
    answers: dict[str, Any] = {}
    for _ in range(runs):
        for name, fn in tools.items():  # alternate, so drifts hit every tool alike
            wall, answers[name] = timed(fn)
            walls[name].append(wall)
    agree = answers["stream_digests_sha1_sha256"]["sha256"] == answers["sha256sum"] and all(
        answer == answers["sha256sum"]
        for name, answer in answers.items()
        if name != "stream_digests_sha1_sha256"
    )
    rows = {
        name: {
            "median_s": round(statistics.median(w), 3),
            "min_s": round(min(w), 3),
            "median_mb_s": round(size / 1e6 / statistics.median(w), 1),
        }
        for name, w in walls.items()
    }
    ratio = rows["stream_digests_sha256"]["median_mb_s"] / rows["sha256sum"]["median_mb_s"]
    ratio_fill = rows["fill_sha256"]["median_mb_s"] / rows["sha256sum"]["median_mb_s"]
    big.unlink()
    return {
        "measure": "throughput",
        "bytes": size,
        "runs": runs,
        "digests_agree": agree,
        "tools": rows,
        "ratio_ours_over_sha256sum": round(ratio, 2),
        "ratio_fill_over_sha256sum": round(ratio_fill, 2),
        "target_ratio": TARGET_RATIO,
        "met": ratio >= TARGET_RATIO and ratio_fill >= TARGET_RATIO,
    }


def bom_format() -> str | None:
    """A format the CLI offers that asks for checksums, if there is one yet."""
    from auditor.formats import FORMATS

    for name in FORMATS.names():
        if FORMATS.get(name).needs_checksums:
            return name
    return None


def cached_rows(cache: Path) -> int:
    db = cache / checksums.CACHE_FILE
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        return int(con.execute("SELECT count(*) FROM digests").fetchone()[0])
    finally:
        con.close()


def reaudit(work: Path, shards: int, shard_size: int, runs: int) -> dict[str, Any]:
    from generate import materialize

    model = materialize("example-model", work / "model")
    for i in range(shards):
        name = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        header = safetensors_header(shard_size, f"layers.{i}.weight")
        write_bulk(model / name, len(header) + shard_size, header)
    total = sum(p.stat().st_size for p in model.rglob("*") if p.is_file())
    files = sum(1 for p in model.rglob("*") if p.is_file())
    for p in model.glob("*.safetensors"):
        read_once(p)
    # A file changed less than RACY_NS before it is hashed is not cached (auditor.checksums):
    # wait that out, as any real download would have.
    newest = max(p.stat().st_ctime_ns for p in model.rglob("*"))
    time.sleep(max(0.0, (newest + checksums.RACY_NS - time.time_ns()) / 1e9))

    options = Options(checksums=BOTH)
    caches = work / "caches"
    cold: list[float] = []
    for i in range(runs):
        os.environ["AUDITOR_CACHE_DIR"] = str(caches / f"cold-{i}")
        wall, result = timed(lambda: run_audit(str(model), options))
        cold.append(wall)
    warm_cache = caches / f"cold-{runs - 1}"
    os.environ["AUDITOR_CACHE_DIR"] = str(warm_cache)
    warm = [timed(lambda: run_audit(str(model), options))[0] for _ in range(runs)]
    hashed = {f.path: (f.sha1, f.sha256) for f in result.inventory.files}
    complete = all(s1 and s256 for s1, s256 in hashed.values())

    fmt = bom_format()
    cmd = [str(ROOT / ".venv" / "bin" / "auditor"), "scan", str(model), "--format", fmt or "json"]
    cmd += ["--fail-on", "never"]

    def scan(cache: Path) -> float:
        env = {**os.environ, "AUDITOR_CACHE_DIR": str(cache)}
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()}")
        return wall

    # The pipeline with checksums in a fresh process, whatever the CLI offers yet.
    snippet = (
        "import sys; from auditor.pipeline import Options, run_audit; "
        "run_audit(sys.argv[1], Options(checksums=('sha1', 'sha256')))"
    )
    process = [sys.executable, "-c", snippet, str(model)]

    def in_process(cache: Path) -> float:
        env = {**os.environ, "AUDITOR_CACHE_DIR": str(cache)}
        return timed(lambda: subprocess.run(process, env=env, check=True))[0]

    proc_cold = [in_process(caches / f"proc-cold-{i}") for i in range(runs)]
    proc_warm = [in_process(caches / f"proc-cold-{runs - 1}") for _ in range(runs)]
    cli_cold = [scan(caches / f"cli-cold-{i}") for i in range(runs)]
    cli_cache = caches / f"cli-cold-{runs - 1}"
    cli_hashed = cached_rows(cli_cache) > 0
    cli_warm = [scan(cli_cache) for _ in range(runs)]
    med_warm = statistics.median(warm)
    med_cli_warm = statistics.median(cli_warm)
    return {
        "measure": "reaudit",
        "files": files,
        "bytes": total,
        "shards": shards,
        "shard_bytes": shard_size,
        "runs": runs,
        "all_files_hashed": complete,
        "cache_rows": cached_rows(warm_cache),
        "run_audit_cold_s": [round(w, 3) for w in cold],
        "run_audit_cold_median_s": round(statistics.median(cold), 3),
        "run_audit_warm_s": [round(w, 3) for w in warm],
        "run_audit_warm_median_s": round(med_warm, 3),
        "process_cold_median_s": round(statistics.median(proc_cold), 3),
        "process_warm_s": [round(w, 3) for w in proc_warm],
        "process_warm_median_s": round(statistics.median(proc_warm), 3),
        "cli_command": " ".join(cmd[1:]),
        "cli_hashes": cli_hashed,
        "cli_cold_median_s": round(statistics.median(cli_cold), 3),
        "cli_warm_s": [round(w, 3) for w in cli_warm],
        "cli_warm_median_s": round(med_cli_warm, 3),
        "target_warm_s": TARGET_WARM_S,
        "met": max(med_warm, med_cli_warm, statistics.median(proc_warm)) < TARGET_WARM_S,
    }


def machine() -> dict[str, Any]:
    version = subprocess.run(["sha256sum", "--version"], capture_output=True, text=True)
    return {
        "measure": "machine",
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
        "sha256sum": version.stdout.splitlines()[0] if version.stdout else "?",
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "workers": checksums.WORKERS,
        "buffer_bytes": checksums.BUFFER,
    }


def summary(rows: list[dict[str, Any]]) -> str:
    m, t, r = rows
    out = [
        f"Machine: {m['cpus']} CPUs, Python {m['python']}, {m['openssl']}, {m['sha256sum']}",
        "",
        f"1. sha256 of one {t['bytes'] / GIB:g} GiB file (page cache warm), median of {t['runs']}",
        f"   {'':30} {'median s':>9} {'MB/s':>9}",
    ]
    for name, row in t["tools"].items():
        out.append(f"   {name:30} {row['median_s']:>9.3f} {row['median_mb_s']:>9.1f}")
    verdict = "met" if t["met"] else "NOT met"
    out += [
        f"   ours / sha256sum: {t['ratio_ours_over_sha256sum']:.2f} (fill: "
        f"{t['ratio_fill_over_sha256sum']:.2f}); target >= {TARGET_RATIO}: {verdict}"
        f"; digests agree: {t['digests_agree']}",
        "",
        f"2. re-audit of a {r['bytes'] / GIB:.2f} GiB model folder ({r['files']} files, "
        f"{r['shards']} x {r['shard_bytes'] / GIB:g} GiB shards), sha1 + sha256, median of "
        f"{r['runs']}",
        f"   run_audit, empty cache (cold):   {r['run_audit_cold_median_s']:.3f} s",
        f"   run_audit, warm cache:           {r['run_audit_warm_median_s']:.3f} s",
        f"   fresh python process, run_audit: cold {r['process_cold_median_s']:.3f} s, "
        f"warm {r['process_warm_median_s']:.3f} s",
        f"   `{r['cli_command']}`"
        + ("" if r["cli_hashes"] else " (asks for no checksums: no BOM format in the CLI yet)"),
        f"     cold {r['cli_cold_median_s']:.3f} s, warm {r['cli_warm_median_s']:.3f} s",
        f"   warm target < {TARGET_WARM_S:g} s: {'met' if r['met'] else 'NOT met'}",
    ]
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size-gib", type=float, default=2.0, help="throughput file size")
    ap.add_argument("--shards", type=int, default=2, help="safetensors shards in the model")
    ap.add_argument("--shard-gib", type=float, default=1.0, help="size of each shard")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None, help="where to write the inputs")
    ap.add_argument("--keep", action="store_true", help="keep the inputs")
    ap.add_argument(
        "--buffer-kib",
        type=int,
        nargs="*",
        default=[],
        help="also time stream_digests with these read sizes (KiB)",
    )
    args = ap.parse_args()
    size, shard = int(args.size_gib * GIB), int(args.shard_gib * GIB) // 4 * 4
    need = max(size, args.shards * shard) + 64 * MIB
    work = Path(tempfile.mkdtemp(prefix="auditor-checksums-", dir=args.dir))
    free = shutil.disk_usage(work).free
    if free < 2 * need:
        shutil.rmtree(work)
        raise SystemExit(f"{work.parent}: {free / GIB:.1f} GiB free, want {2 * need / GIB:.1f}")
    old_env = os.environ.get("AUDITOR_CACHE_DIR")
    rows: list[dict[str, Any]] = [machine()]
    try:
        for measure in (
            lambda: throughput(work, size, args.runs, args.buffer_kib),
            lambda: reaudit(work, args.shards, shard, args.runs),
        ):
            rows.append(measure())
            print(json.dumps(rows[-1]), flush=True)
    finally:
        if old_env is None:
            os.environ.pop("AUDITOR_CACHE_DIR", None)
        else:
            os.environ["AUDITOR_CACHE_DIR"] = old_env
        if args.keep:
            print(f"inputs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work)
    rows[0]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print()
    print(summary(rows))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"checksums-{stamp}.json"
    out.write_text(json.dumps({"argv": sys.argv[1:], "results": rows}, indent=2) + "\n")
    print(f"\nresults: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
