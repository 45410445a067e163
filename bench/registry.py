"""Registry scan throughput (issue 7): repos/s of ``auditor registry scan`` against the local Hub.

    .venv/bin/python bench/registry.py [--repos 1000] [--jobs 4] [--changed 0.05]
                                       [--executors threads,dask] [--dask-workers 2]

The local Hub test server (tests/hub_server.py) runs in a child process of its own,
so that it does not share this process's GIL, serving ``--repos`` generated repos:
a small model card (a mix of ten licenses), ``config.json``, a tiny safetensors file,
and for a quarter of them ScanCode's MIT text as ``LICENSE`` and a ``train.py``. For
each executor, with a fresh temporary database:

1. **first**: a first scan: every repo resolved and audited;
2. **rescan**: the same scan again, nothing changed: one repo-info request per repo;
3. **changed**: ``--changed`` (5%) of the repos get a new card (a new commit), then
   the scan again: those are audited, the others unchanged.

The scans run in this process through ``auditor.registry.scan.scan`` (the CLI's
engine, without its start-up). The Dask figures use a ``LocalCluster`` of
``--dask-workers`` worker processes (2 threads each), started before the timing
(its start-up is reported apart). Prints a table; writes
``bench/results/registry-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LICENSES = (
    "apache-2.0",
    "mit",
    "cc-by-4.0",
    "cc-by-nc-4.0",
    "bigscience-openrail-m",
    "llama3",
    "gemma",
    "bsd-3-clause",
    "gpl-3.0",
    "other",
)


def repo_id(i: int) -> str:
    return f"org{i % 20:02d}/model-{i:05d}"


# -- the server (a child process) -----------------------------------------------------------


def serve(count: int) -> None:
    """Serve ``count`` repos; on stdin, ``change FRACTION ROUND`` gives that share of
    the repos a new commit and answers ``ok N``; end of input stops."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "fixtures"), str(ROOT / "fixtures" / "corpus")]
    from generate import safetensors_bytes
    from hub_server import HubRepo, HubServer
    from runner import reference

    mit = ("Copyright (c) 2026 Bench Authors\n\n" + reference("scancode:mit")[0]).encode()
    weights = safetensors_bytes({"format": "pt"})

    def repo(i: int, round_: int = 0) -> HubRepo:
        lic = LICENSES[(i + round_) % len(LICENSES)]
        files = {
            "README.md": (
                f"---\nlicense: {lic}\ntags:\n- text-generation\n---\n# Model {i}\n\n"
                f"A small model for the registry benchmark (round {round_}).\n"
            ).encode(),
            "config.json": json.dumps({"model_type": "llama", "hidden_size": 64}).encode(),
            "model.safetensors": weights,
        }
        if i % 4 == 0:
            files["LICENSE"] = mit
            files["train.py"] = b"# SPDX-License-Identifier: MIT\nprint('train')\n"
        return HubRepo(repo_id(i), files)

    hub = HubServer((repo(i) for i in range(count)), log=False).start()
    print(hub.endpoint, flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if cmd and cmd[0] == "change":
            share, round_ = float(cmd[1]), int(cmd[2])
            step = max(1, round(1 / share)) if share > 0 else count + 1
            picked = [i for i in range(count) if (i + round_) % step == 0]
            for i in picked:
                hub.put(repo(i, round_))
            print(f"ok {len(picked)}", flush=True)
    hub.stop()


class Server:
    def __init__(self, count: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.endpoint = self.proc.stdout.readline().strip()
        if not self.endpoint.startswith("http://"):
            raise SystemExit("the Hub test server did not start")
        self.round = 0

    def change(self, share: float) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.round += 1
        self.proc.stdin.write(f"change {share} {self.round}\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline().split()[1])

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


# -- the benchmark ---------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    from auditor.registry.db import RegistryDB
    from auditor.registry.scan import AuditSpec, list_repo_shas, named_shas, scan

    started = time.monotonic()
    server = Server(args.repos)
    print(f"server: {args.repos} repos at {server.endpoint} ({time.monotonic() - started:.1f} s)")
    os.environ["HF_ENDPOINT"] = server.endpoint
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    ids = [repo_id(i) for i in range(args.repos)]
    spec = AuditSpec(endpoint=server.endpoint)
    rows: list[dict[str, Any]] = []
    try:
        for executor in args.executors:
            cluster: Any = None
            scheduler = None
            extra: dict[str, Any] = {}
            if executor == "dask":
                from distributed import LocalCluster

                t = time.monotonic()
                cluster = LocalCluster(
                    n_workers=args.dask_workers,
                    threads_per_worker=2,
                    processes=True,
                    dashboard_address=None,
                )
                scheduler = cluster.scheduler_address
                extra["cluster_start_s"] = round(time.monotonic() - t, 2)
                extra["workers"] = f"{args.dask_workers} processes x 2 threads"
            try:
                for mode in args.modes:
                    with tempfile.TemporaryDirectory() as tmp, RegistryDB(Path(tmp) / "r.db") as db:
                        for phase in ("first", "rescan", "changed"):
                            changed = server.change(args.changed) if phase == "changed" else None
                            t = time.monotonic()
                            # listing: repos from the Hub's listing (as --author); ids: named,
                            # with their organizations listed; each: one request per repo.
                            known = (
                                list_repo_shas(endpoint=server.endpoint)
                                if mode == "listing"
                                else named_shas(ids, server.endpoint)
                                if mode == "ids"
                                else None
                            )
                            summary = scan(
                                db,
                                sorted(known) if mode == "listing" and known else ids,
                                {"bench": executor, "phase": phase, "mode": mode},
                                spec=spec,
                                jobs=args.jobs if executor == "threads" else None,
                                executor=executor,
                                scheduler=scheduler,
                                known=known,
                            )
                            wall = time.monotonic() - t
                            row = {
                                "executor": executor,
                                "mode": mode,
                                "phase": phase,
                                "repos": len(ids),
                                "wall_s": round(wall, 3),
                                "repos_per_s": round(len(ids) / wall, 1),
                                "counts": dict(sorted(summary.counts.items())),
                                **({"changed": changed} if changed is not None else {}),
                                **extra,
                            }
                            rows.append(row)
                            print(
                                f"{executor:8s} {mode:8s} {phase:8s} {wall:7.2f} s"
                                f" {row['repos_per_s']:8.1f} repos/s  {row['counts']}",
                                flush=True,
                            )
            finally:
                if cluster is not None:
                    cluster.close()
    finally:
        server.stop()
    return {
        "measure": "registry_scan",
        "when": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
        "settings": {
            "repos": args.repos,
            "jobs_threads": args.jobs,
            "changed_share": args.changed,
            "dask_workers": args.dask_workers,
        },
        "results": rows,
        "ratios": {
            ex: {
                "first_over_rescan_wall": round(
                    _wall(rows, ex, "first") / _wall(rows, ex, "rescan"), 1
                ),
                "first_over_changed_wall": round(
                    _wall(rows, ex, "first") / _wall(rows, ex, "changed"), 1
                ),
            }
            for ex in [f"{e}/{m}" for e in args.executors for m in args.modes]
        },
    }


def _wall(rows: list[dict[str, Any]], key: str, phase: str) -> float:
    """Wall time of one phase of the ``executor/mode`` run named by ``key``."""
    return float(
        next(
            r["wall_s"]
            for r in rows
            if f"{r['executor']}/{r['mode']}" == key and r["phase"] == phase
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=4, help="threads of the threads executor")
    parser.add_argument("--changed", type=float, default=0.05, help="share changed (0.05 = 5%%)")
    parser.add_argument("--executors", default="threads,dask")
    parser.add_argument("--dask-workers", type=int, default=2)
    parser.add_argument(
        "--modes",
        default="ids,each,listing",
        help="ids: named repos, as the CLI scans them (one listing per organization with "
        "5 or more); each: named repos, one request each; listing: from the Hub's listing",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    args.executors = [e for e in args.executors.split(",") if e]
    args.modes = [m for m in args.modes.split(",") if m]
    sys.path.insert(0, str(ROOT))
    out = run(args)
    print(
        "\n| executor | repos from | scan | wall | repos/s | statuses |\n|---|---|---|---|---|---|"
    )
    for r in out["results"]:
        print(
            f"| {r['executor']} | {r['mode']} | {r['phase']} | {r['wall_s']:.2f} s"
            f" | {r['repos_per_s']:,.1f} |"
            f" {', '.join(f'{v} {k}' for k, v in r['counts'].items())} |"
        )
    for ex, ratio in out["ratios"].items():
        print(
            f"{ex}: re-scan {ratio['first_over_rescan_wall']}x faster than the first scan "
            f"(target >= 10x), {ratio['first_over_changed_wall']}x with {args.changed:.0%} changed"
        )
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = results / f"registry-{stamp}.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
