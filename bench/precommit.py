"""Pre-commit benchmark: what the changed-files hook (``auditor check FILES``) adds to a commit.

    .venv/bin/python bench/precommit.py [--runs N] [--scancode-runs R] [--skip-scancode]
                                        [--shards S] [--shard-mb MB] [--keep]

Target (issue 6): the changed-files hook adds under 0.5 s to a commit on a typical
model repository. Measured on a repository written at run time into a temp dir:

* the DeepSeek-shaped fixture (``fixtures/generate.py --materialize deepseek-model``:
  card, LICENSE-CODE, LICENSE-MODEL, config and tokenizer files), its two small
  shards replaced by ``--shards`` safetensors shards of ``--shard-mb`` MB each (a valid
  header, then a sparse hole: GBs of weights that take no disk), plus ~50 code files
  with SPDX headers and a ``pyproject.toml``, all committed to a git repository (git
  hashes the sparse shards once, at set-up: ~2 s per 500 MB).
* ``auditor check FILES`` as a fresh process (cold: interpreter, imports, catalog,
  git listing, audit), N runs after one untimed, with 1 and with 10 changed files
  (10 = eight code files, README.md and config.json: a README change makes every
  finding relevant, the widest case of a passing commit), and which files it read.
* For reference, in the same run: ``python -c pass`` (the floor), ``auditor scan .``
  (the whole-repo hook), a blocked commit (LICENSE-MODEL deleted from the index: the
  fast pass finds it, the confirming pass reads every file), and ``pre-commit run
  auditor-check --files ...`` through the real framework minus the same run of a
  hook that does nothing (what the hook adds to a commit, framework overhead apart).
* ScanCode on the same changed files (``scancode --license -n 1 --json ... FILES``,
  R runs after one untimed warm-up that loads its index): the ratio.

Prints one JSON line per measurement and a summary; writes everything to
bench/results/precommit-<UTC timestamp>.json. Needs no network.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "fixtures"))

TARGET_S = 0.5
CODE_FILES = 50
ENV = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}


@dataclass
class Run:
    wall_s: float
    rss_kib: int
    code: int


def spawn(argv: list[str], cwd: Path, out: Path, err: Path, ok: tuple[int, ...] = (0,)) -> Run:
    """``argv`` as a fresh process in ``cwd``: wall time, peak RSS (``wait4``), exit code."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.chdir(cwd)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
            os.dup2(os.open(out, flags, 0o644), 1)
            os.dup2(os.open(err, flags, 0o644), 2)
            os.execve(argv[0], argv, ENV)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        tail = err.read_text(errors="replace")[-2000:] + out.read_text(errors="replace")[-2000:]
        raise SystemExit(f"{shlex.join(argv)} exited {code}:\n{tail}")
    return Run(wall, int(usage.ru_maxrss), code)


def series(
    argv: list[str], cwd: Path, runs: int, logs: Path, tag: str, ok: tuple[int, ...] = (0,)
) -> dict[str, Any]:
    """One untimed run (page cache, bytecode), then ``runs`` timed ones: medians."""
    out, err = logs / f"{tag}.out", logs / f"{tag}.err"
    spawn(argv, cwd, out, err, ok)
    timed = [spawn(argv, cwd, out, err, ok) for _ in range(runs)]
    walls = [r.wall_s for r in timed]
    return {
        "runs": runs,
        "median_wall_s": round(statistics.median(walls), 4),
        "min_wall_s": round(min(walls), 4),
        "max_wall_s": round(max(walls), 4),
        "median_peak_rss_mib": round(statistics.median(r.rss_kib for r in timed) / 1024, 1),
        "exit_code": timed[-1].code,
    }


# -- the repository --------------------------------------------------------------------------


def git(repo: Path, *argv: str) -> str:
    proc = subprocess.run(
        ["git", *argv], cwd=repo, env=ENV, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(argv)}: {proc.stderr}")
    return proc.stdout


def sparse_shard(path: Path, size: int, index: int) -> None:
    """A safetensors file of ``size`` bytes: a real header, then a hole (reads as zeros)."""
    payload = size - 4096
    header = {
        "__metadata__": {"format": "pt"},
        f"model.layers.{index}.weight": {
            "dtype": "BF16",
            "shape": [payload // 2],
            "data_offsets": [0, payload // 2 * 2],
        },
    }
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (4096 - 8 - len(raw))
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw)
        fh.truncate(8 + len(raw) + payload // 2 * 2)


def code_file(i: int) -> str:
    body = "\n".join(
        f"def step_{i}_{n}(x: float) -> float:\n    return x * {n} + {i}\n" for n in range(12)
    )
    return f"# SPDX-License-Identifier: MIT\n# Copyright (c) 2025 Example Org\n\n{body}\n"


def build_repo(dest: Path, shards: int, shard_mb: int) -> dict[str, Any]:
    from generate import materialize

    repo = materialize("deepseek-model", dest)
    for old in repo.glob("model-*.safetensors"):
        old.unlink()
    names = [f"model-{n:05d}-of-{shards:05d}.safetensors" for n in range(1, shards + 1)]
    index = {
        "metadata": {"total_size": shards * shard_mb * 10**6},
        "weight_map": {f"model.layers.{i}.weight": name for i, name in enumerate(names)},
    }
    (repo / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    for folder, count in (("inference", 20), ("src/example_moe", CODE_FILES - 20)):
        (repo / folder).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            (repo / folder / f"module_{i:02d}.py").write_text(code_file(i))
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "example-moe"\nversion = "1.0"\nlicense = "MIT"\n'
    )
    for n, name in enumerate(names):
        sparse_shard(repo / name, shard_mb * 10**6, n)
    git(repo, "init", "-q", "-b", "main")
    # Committed, as a release is: the working tree then matches the index, so neither git
    # nor pre-commit reads the weights again (zlib level 1: GBs of zeros in seconds).
    fast = ["-c", "core.compression=1", "-c", "core.looseCompression=1"]
    git(repo, *fast, "add", "-A")
    who = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    git(repo, *who, "commit", "-q", "--no-verify", "-m", "release")
    files = git(repo, "ls-files", "-z").split("\0")
    return {
        "files_in_index": len([f for f in files if f]),
        "code_files": CODE_FILES + 1,
        "shards": shards,
        "shard_mb": shard_mb,
        "weights_bytes": shards * shard_mb * 10**6,
        "disk_mib": round(
            sum(p.stat().st_blocks * 512 for p in repo.rglob("*") if p.is_file()) / 2**20, 1
        ),
    }


def change(repo: Path, files: list[str]) -> None:
    """Edit ``files`` the way a commit does and stage them."""
    for rel in files:
        path = repo / rel
        if rel.endswith(".json"):
            data = json.loads(path.read_text())
            data["use_cache"] = not data.get("use_cache", False)
            path.write_text(json.dumps(data, indent=2) + "\n")
        else:
            path.write_text(path.read_text() + ("\n# edited\n" if rel.endswith(".py") else "\n"))
    git(repo, "add", *files)


# -- measurements ------------------------------------------------------------------------------


def auditor() -> str:
    exe = Path(sys.executable).with_name("auditor")
    if not exe.exists():
        raise SystemExit(f"no auditor executable beside {sys.executable} (make install)")
    return str(exe)


def check_summary(repo: Path, files: list[str], logs: Path) -> str:
    """What ``auditor check -v`` says it listed and read."""
    err = logs / "check-v.err"
    spawn([auditor(), "check", "-v", *files], repo, logs / "check-v.out", err, ok=(0, 1))
    return err.read_text().strip().splitlines()[-1]


def precommit_added(
    repo: Path, files: list[str], runs: int, logs: Path, tmp: Path
) -> dict[str, Any] | None:
    """``pre-commit run auditor-check --files`` minus a do-nothing hook, same framework."""
    try:
        import yaml
    except ImportError:
        return None
    if shutil.which("pre-commit", path=str(Path(sys.executable).parent)) is None:
        return None
    hook = next(
        h
        for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
        if h["id"] == "auditor-check"
    )
    entry = shlex.split(hook["entry"])
    local = {
        k: hook[k] for k in ("id", "name", "pass_filenames", "types", "require_serial") if k in hook
    }
    local.update(entry=shlex.join([auditor(), *entry[1:]]), language="system")
    noop = {**local, "id": "noop", "name": "noop", "entry": "true"}
    config = tmp / "pre-commit-config.yaml"
    config.write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local, noop]}]}))
    ENV["PRE_COMMIT_HOME"] = str(tmp / "pre-commit-home")
    pc = [str(Path(sys.executable).with_name("pre-commit")), "run", "--config", str(config)]
    with_hook = series([*pc, "auditor-check", "--files", *files], repo, runs, logs, "pc-check")
    without = series([*pc, "noop", "--files", *files], repo, runs, logs, "pc-noop")
    return {
        "pre_commit_with_hook_median_s": with_hook["median_wall_s"],
        "pre_commit_noop_hook_median_s": without["median_wall_s"],
        "hook_adds_s": round(with_hook["median_wall_s"] - without["median_wall_s"], 4),
    }


def default_scancode() -> Path:
    return Path(sys.executable).with_name("scancode")


def scancode_series(
    scancode: Path, repo: Path, files: list[str], runs: int, logs: Path, tag: str
) -> dict[str, Any]:
    out = logs / f"{tag}.json"
    argv = [str(scancode), "--license", "-n", "1", "--json", str(out), "--quiet", *files]
    return series(argv, repo, runs, logs, tag)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=11, help="timed auditor runs (default 11)")
    ap.add_argument("--scancode-runs", type=int, default=3, help="timed ScanCode runs (default 3)")
    ap.add_argument("--skip-scancode", action="store_true", help="auditor only (quick)")
    ap.add_argument("--shards", type=int, default=4, help="weight shards (default 4)")
    ap.add_argument("--shard-mb", type=int, default=500, help="MB per shard (default 500)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir; print its path")
    ap.add_argument("--scancode", type=Path, default=default_scancode(), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.runs < 1 or args.scancode_runs < 1 or args.shards < 1 or args.shard_mb < 1:
        ap.error("--runs, --scancode-runs, --shards and --shard-mb must be at least 1")
    if not args.skip_scancode and not args.scancode.exists():
        ap.error(f"no ScanCode at {args.scancode} (use --skip-scancode)")
    tmp = Path(tempfile.mkdtemp(prefix="auditor-bench-precommit-"))
    try:
        return measure(args, tmp)
    finally:
        if args.keep:
            print(f"kept: {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def measure(args: argparse.Namespace, tmp: Path) -> int:
    started = datetime.now(timezone.utc)
    load_start = os.getloadavg()
    logs = tmp / "logs"
    logs.mkdir()
    repo = tmp / "repo"
    lines: list[dict[str, Any]] = []

    def emit(line: dict[str, Any]) -> None:
        lines.append(line)
        print(json.dumps(line), flush=True)

    emit({"measure": "repo", **build_repo(repo, args.shards, args.shard_mb)})
    one = ["inference/generate.py"]
    ten = [
        *[f"inference/module_{i:02d}.py" for i in range(4)],
        *[f"src/example_moe/module_{i:02d}.py" for i in range(4)],
        "README.md",
        "config.json",
    ]
    change(repo, one + ten)
    emit(
        {
            "measure": "python_startup",
            **series([sys.executable, "-c", "pass"], repo, args.runs, logs, "python"),
        }
    )
    whole = series([auditor(), "scan", ".", "--format", "json"], repo, args.runs, logs, "scan")
    report = json.loads((logs / "scan.out").read_text())
    emit({"measure": "auditor_scan_whole_repo", **whole, "findings": len(report["findings"])})
    checks: dict[int, dict[str, Any]] = {}
    for files in (one, ten):
        s = series([auditor(), "check", *files], repo, args.runs, logs, f"check-{len(files)}")
        checks[len(files)] = s
        emit(
            {
                "measure": "auditor_check",
                "changed_files": len(files),
                **s,
                "ok": s["median_wall_s"] < TARGET_S and s["exit_code"] == 0,
                "says": check_summary(repo, files, logs),
            }
        )
    git(repo, "rm", "-q", "--cached", "LICENSE-MODEL")
    try:
        blocked = series([auditor(), "check"], repo, args.runs, logs, "check-blocked", ok=(1,))
        emit(
            {
                "measure": "auditor_check_blocked",
                "change": "LICENSE-MODEL deleted from the index (no FILES)",
                **blocked,
                "output": (logs / "check-blocked.out").read_text().strip().splitlines(),
            }
        )
    finally:
        git(repo, "add", "LICENSE-MODEL")
    added = {n: precommit_added(repo, f, args.runs, logs, tmp) for n, f in ((1, one), (10, ten))}
    for n, line in added.items():
        if line is not None:
            emit({"measure": "pre_commit_framework", "changed_files": n, **line})
    ratios: dict[int, float] = {}
    if not args.skip_scancode:
        warm = spawn(
            [
                str(args.scancode),
                "--license",
                "-n",
                "1",
                "--json",
                str(logs / "sc-warm.json"),
                "--quiet",
                *one,
            ],
            repo,
            logs / "sc-warm.out",
            logs / "sc-warm.err",
        )
        emit({"measure": "scancode_warmup", "wall_s": round(warm.wall_s, 2)})
        for files in (one, ten):
            n = len(files)
            s = scancode_series(args.scancode, repo, files, args.scancode_runs, logs, f"sc-{n}")
            ratios[n] = round(s["median_wall_s"] / checks[n]["median_wall_s"], 1)
            emit(
                {
                    "measure": "scancode_license",
                    "changed_files": n,
                    **s,
                    "ratio_scancode_over_check": ratios[n],
                }
            )
    summary = {
        "measure": "summary",
        "target_s": TARGET_S,
        "check_1_median_s": checks[1]["median_wall_s"],
        "check_10_median_s": checks[10]["median_wall_s"],
        "met": all(c["median_wall_s"] < TARGET_S for c in checks.values()),
        "ratios_scancode_over_check": ratios,
        "loadavg_1_5_15_start": [round(x, 2) for x in load_start],
        "loadavg_1_5_15_end": [round(x, 2) for x in os.getloadavg()],
    }
    emit(summary)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    result = {
        "started": started.isoformat(),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "commit": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
        "args": {k: str(v) for k, v in vars(args).items()},
        "measurements": lines,
    }
    out = RESULTS / f"precommit-{stamp}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
