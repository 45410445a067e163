"""License identification benchmark: auditor against ScanCode, same files, same run.

    .venv/bin/python bench/identify.py [--runs N] [--scancode-runs R] [--skip-scancode]
                                       [--keep] [--rev REV]

What it measures, in one run (see bench/README.md):

1. Cold scan of a realistic 20-file model repository: ``auditor scan <repo> --format json``
   as a fresh process, N times (after one untimed run that warms the page cache);
   median and min wall time, and peak RSS from the kernel's accounting of each child
   (``os.wait4``'s ``ru_maxrss``).
2. Identification throughput on a corpus of 40 license-ish files (the repo's license,
   notice and README files plus 35 license texts): auditor cold (fresh process, as
   above), auditor warm (``match_text`` over every file in one process, and the whole
   pipeline ``run_audit`` in one process), and ``scancode --license -n 1`` (after one
   untimed warm-up that loads or builds its index cache). Files per second from medians,
   and the ratios auditor / ScanCode.
3. What each tool identified in each corpus file, and where they disagree.

No license text is stored in the repository: inputs are written at run time into a
temporary directory from the installed ScanCode LicenseDB and ../shared/licenses.
Prints one JSON object per measurement, then a summary, and writes everything to
bench/results/identify-<timestamp>.json.

Peak RSS: on Linux a child's ``ru_maxrss`` also covers what the forking parent had
mapped at fork time (it is a maximum, not a sum), so this harness keeps itself small:
it never imports auditor or ScanCode, and runs the warm in-process measurements in a
child of its own. Its own peak is reported as ``harness_rss_mib``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "licenses"
RESULTS = ROOT / "bench" / "results"

#: Targets from the issue.
TARGET_COLD_S = 0.3
TARGET_RATIO = 50.0
TARGET_RSS_MIB = 200.0

#: Extra corpus texts from the ScanCode LicenseDB: (file name in the corpus, ScanCode key).
SCANCODE_TEXTS = [
    ("LICENSE-apache-2.0.txt", "apache-2.0"),
    ("LICENSE-gpl-2.0.txt", "gpl-2.0"),
    ("COPYING-gpl-3.0", "gpl-3.0"),
    ("COPYING.LESSER-lgpl-2.1", "lgpl-2.1"),
    ("LICENSE-agpl-3.0.txt", "agpl-3.0"),
    ("LICENSE-bsd-new.txt", "bsd-new"),
    ("LICENSE-bsd-simplified.txt", "bsd-simplified"),
    ("LICENSE-isc.txt", "isc"),
    ("LICENSE-mpl-2.0.txt", "mpl-2.0"),
    ("LICENSE-cc-by-4.0.md", "cc-by-4.0"),
    ("LICENSE-cc-by-sa-4.0.md", "cc-by-sa-4.0"),
    ("LICENSE-cc-by-nc-4.0.md", "cc-by-nc-4.0"),
]
#: Extra corpus texts from ../shared/licenses: (file name in the corpus, shared file).
SHARED_TEXTS = [
    ("LICENSE-llama2.txt", "llama2.txt"),
    ("LICENSE-llama3.txt", "llama3.txt"),
    ("LICENSE-llama3.1.txt", "llama3.1.txt"),
    ("LICENSE-llama3.2.txt", "llama3.2.txt"),
    ("LICENSE-llama3.3.txt", "llama3.3.txt"),
    ("LICENSE-llama4.txt", "llama4.txt"),
    ("USE_POLICY-llama3.1.md", "llama3.1-use-policy.txt"),
    ("LICENSE-qwen.txt", "qwen.txt"),
    ("LICENSE-tongyi-qianwen.txt", "tongyi-qianwen.txt"),
    ("LICENSE-gemma.txt", "gemma.txt"),
    ("PROHIBITED_USE_POLICY-gemma.md", "gemma-prohibited-use-policy.txt"),
    ("LICENSE-yi-model-1.0.zh.txt", "yi-model-1.0.zh.txt"),
    ("MODEL_LICENSE-chatglm2-6b.zh.txt", "chatglm2-6b-model.zh.txt"),
    ("LICENSE-creativeml-openrail-m.txt", "creativeml-openrail-m.txt"),
    ("LICENSE-bigscience-openrail-m.txt", "bigscience-openrail-m.txt"),
    ("LICENSE-openrail++.txt", "openrail++.txt"),
    ("LICENSE-bigcode-openrail-m.txt", "bigcode-openrail-m.txt"),
    ("LICENSE-falcon-2-11b-tii.txt", "falcon-2-11b-tii.txt"),
    ("LICENSE-stabilityai-community.md", "stabilityai-community.txt"),
    ("LICENSE-nvidia-open-model.txt", "nvidia-open-model.txt"),
    ("LICENSE-kimi-modified-mit.txt", "kimi-modified-mit.txt"),
    ("LICENSE-flux-1-dev-non-commercial.md", "flux-1-dev-non-commercial.txt"),
    ("LICENSE-tencent-hunyuan-community.txt", "tencent-hunyuan-community.txt"),
]
#: Files of the 20-file repo that go into the corpus, with the license each one holds
#: (None: not one license text; listed, not scored).
REPO_LICENSE_FILES = {
    "README.md": None,
    "LICENSE-CODE": "mit",
    "LICENSE-MODEL": "deepseek-la-1.0",
    "USE_POLICY.md": "llama3-use-policy",
    "NOTICE": None,
}

# --- inputs -------------------------------------------------------------------


def scancode_license_dir() -> Path:
    """The installed LicenseDB texts, located without importing ScanCode (keeps RSS small)."""
    spec = importlib.util.find_spec("licensedcode")
    if spec is None or spec.origin is None:
        raise SystemExit("licensedcode (scancode-toolkit) is not installed in this Python")
    return Path(spec.origin).parent / "data" / "licenses"


def scancode_text(key: str) -> str:
    """The text of a ScanCode ``<key>.LICENSE`` file, without its YAML front matter."""
    lines = (scancode_license_dir() / f"{key}.LICENSE").read_text(encoding="utf-8").split("\n")
    if lines and lines[0].strip() == "---":
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        lines = lines[end + 1 :]
    return "\n".join(lines).strip("\n") + "\n"


def shared_text(name: str) -> str:
    return (SHARED / name).read_text(encoding="utf-8")


def shared_keys() -> dict[str, str]:
    """Shared file name -> the key reports use, from ../shared/licenses/index.json."""
    index = json.loads((SHARED / "index.json").read_text(encoding="utf-8"))
    return {f["file"]: rec["key"] for rec in index for f in rec["files"]}


README = """---
license: other
license_name: deepseek
license_link: LICENSE-MODEL
library_name: transformers
pipeline_tag: text-generation
---

# Example-MoE-Tiny

Example-MoE-Tiny is a small mixture-of-experts language model written for the auditor's
benchmarks. It has two layers, four experts per layer and a 1,024-token vocabulary, and it
answers nothing useful: it exists so that a scanner has a realistic repository to read.

## Quickstart

```python
from transformers import AutoModelForCausalLM, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("example/Example-MoE-Tiny", trust_remote_code=True)
model = AutoModelForCausalLM.from_pretrained("example/Example-MoE-Tiny", trust_remote_code=True)
```

## Evaluation

| Benchmark | Score |
|-----------|-------|
| toy-qa    | 12.5  |
| toy-math  | 3.1   |

## License

This code repository is licensed under the MIT License (see LICENSE-CODE). The use of the
Example-MoE-Tiny models is subject to the Model License (see LICENSE-MODEL) and to the
acceptable use policy in USE_POLICY.md.

## Contact

Questions go to the issue tracker of this repository.
"""

NOTICE = """Example-MoE-Tiny
Copyright (c) 2024 Example

This repository contains source code licensed under the MIT License (see LICENSE-CODE)
and model weights licensed under the DeepSeek License Agreement (see LICENSE-MODEL).
The acceptable use policy in USE_POLICY.md applies to any use of the model weights.
"""

PY_FILES = {
    "configuration_example.py": '''# SPDX-License-Identifier: MIT
# Copyright (c) 2024 Example
"""Configuration of the Example-MoE-Tiny model."""

from transformers import PretrainedConfig


class ExampleConfig(PretrainedConfig):
    model_type = "example_moe"

    def __init__(self, hidden_size: int = 64, num_experts: int = 4, **kwargs):
        self.hidden_size = hidden_size
        self.num_experts = num_experts
        super().__init__(**kwargs)
''',
    "modeling_example.py": '''# SPDX-License-Identifier: MIT
# Copyright (c) 2024 Example
"""Modeling code of the Example-MoE-Tiny model."""

import torch
from torch import nn


class ExampleMoE(nn.Module):
    def __init__(self, hidden_size: int, num_experts: int) -> None:
        super().__init__()
        self.gate = nn.Linear(hidden_size, num_experts, bias=False)
        experts = [nn.Linear(hidden_size, hidden_size) for _ in range(num_experts)]
        self.experts = nn.ModuleList(experts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.gate(x).softmax(-1)
        return sum(w.unsqueeze(-1) * e(x) for w, e in zip(weights.unbind(-1), self.experts))
''',
    "kernel.py": '''# SPDX-License-Identifier: MIT
# Copyright (c) 2024 Example
"""Reference kernels (pure PyTorch) for Example-MoE-Tiny."""

import torch


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight
''',
}


def repo_files() -> dict[str, bytes | str]:
    """The 20 files of a model repository shaped like DeepSeek's (code MIT, model custom)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from fixtures.generate import lfs_pointer, safetensors_bytes

    special = {"bos_token": "<|begin|>", "eos_token": "<|end|>", "pad_token": "<|end|>"}
    vocab = {f"tok{i}": i for i in range(256)} | {"<|begin|>": 256, "<|end|>": 257}
    files: dict[str, bytes | str] = {
        "README.md": README,
        "LICENSE-CODE": "MIT License\n\nCopyright (c) 2024 Example\n\n" + scancode_text("mit"),
        "LICENSE-MODEL": shared_text("deepseek.txt"),
        "USE_POLICY.md": shared_text("llama3-use-policy.txt"),
        "NOTICE": NOTICE,
        "config.json": json.dumps(
            {
                "architectures": ["ExampleForCausalLM"],
                "auto_map": {
                    "AutoConfig": "configuration_example.ExampleConfig",
                    "AutoModelForCausalLM": "modeling_example.ExampleForCausalLM",
                },
                "model_type": "example_moe",
                "hidden_size": 64,
                "num_hidden_layers": 2,
                "num_experts": 4,
                "vocab_size": 1024,
                "torch_dtype": "bfloat16",
            },
            indent=2,
        )
        + "\n",
        "generation_config.json": json.dumps(
            {"bos_token_id": 256, "eos_token_id": 257, "do_sample": True, "temperature": 0.6},
            indent=2,
        )
        + "\n",
        "tokenizer.json": json.dumps(
            {
                "version": "1.0",
                "added_tokens": [
                    {"id": 256, "content": "<|begin|>", "special": True},
                    {"id": 257, "content": "<|end|>", "special": True},
                ],
                "model": {"type": "BPE", "vocab": vocab, "merges": []},
            }
        )
        + "\n",
        "tokenizer_config.json": json.dumps(
            {"model_max_length": 4096, "tokenizer_class": "PreTrainedTokenizerFast", **special},
            indent=2,
        )
        + "\n",
        "special_tokens_map.json": json.dumps(special, indent=2) + "\n",
        "mtp.safetensors": safetensors_bytes({"format": "pt"}, tensors=2),
        "requirements.txt": "torch>=2.1\ntransformers>=4.46\nsafetensors>=0.4\n",
        ".gitattributes": "".join(
            f"*.{ext} filter=lfs diff=lfs merge=lfs -text\n"
            for ext in ("safetensors", "bin", "gguf", "pt", "h5", "msgpack", "onnx")
        ),
        **PY_FILES,
    }
    for n in range(1, 5):
        shard = f"model-{n:05d}-of-00004.safetensors"
        files[shard] = lfs_pointer(f"{shard} content".encode() * 4096)
    assert len(files) == 20, len(files)
    return files


@dataclass(frozen=True)
class CorpusFile:
    name: str
    source: str  # "repo", "scancode:<key>" or "shared:<file>"
    expected: str | None  # the key the text is; None when the file is not one license text
    in_scancode_db: bool  # whether ScanCode's LicenseDB has that key at all


def write_tree(root: Path, files: dict[str, bytes | str]) -> None:
    root.mkdir(parents=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


def build_inputs(tmp: Path) -> tuple[Path, Path, list[CorpusFile]]:
    repo, corpus = tmp / "repo", tmp / "corpus"
    files = repo_files()
    write_tree(repo, files)
    lic_dir = scancode_license_dir()
    keys = shared_keys()
    corpus_files: dict[str, bytes | str] = {}
    meta: list[CorpusFile] = []
    for name, expected in REPO_LICENSE_FILES.items():
        corpus_files[name] = files[name]
        known = expected is not None and (lic_dir / f"{expected}.LICENSE").is_file()
        meta.append(CorpusFile(name, "repo", expected, known))
    for name, key in SCANCODE_TEXTS:
        corpus_files[name] = scancode_text(key)
        meta.append(CorpusFile(name, f"scancode:{key}", key, True))
    for name, shared in SHARED_TEXTS:
        key = keys[shared]
        corpus_files[name] = shared_text(shared)
        known = (lic_dir / f"{key}.LICENSE").is_file()
        meta.append(CorpusFile(name, f"shared:{shared}", key, known))
    write_tree(corpus, corpus_files)
    return repo, corpus, meta


# --- child processes ----------------------------------------------------------


@dataclass(frozen=True)
class Run:
    wall_s: float
    rss_kib: int


def spawn(argv: list[str], stdout: Path, stderr: Path) -> Run:
    """Run ``argv`` as a fresh process; its wall time and peak RSS (``wait4``'s ru_maxrss).

    Output goes to files, never to ``-o /dev/null``: auditor writes ``-o`` atomically
    (temp file + rename), which as root would replace the /dev/null device.
    """
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
            os.dup2(os.open(stdout, flags, 0o644), 1)
            os.dup2(os.open(stderr, flags, 0o644), 2)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        err = stderr.read_text(errors="replace")[-2000:]
        raise SystemExit(f"{' '.join(argv)} exited {code}:\n{err}")
    return Run(wall, int(usage.ru_maxrss))


def auditor_argv(target: Path) -> list[str]:
    scan = ["scan", str(target), "--format", "json", "--fail-on", "never"]
    return [sys.executable, "-m", "auditor", *scan]


def scancode_argv(scancode: Path, target: Path, out: Path) -> list[str]:
    # -n 1: one worker process, as auditor has one. --timing adds per-file license
    # detection times (scan_timings), used for the warm comparison.
    opts = ["--license", "--timing", "--json", str(out), "-n", "1", "--quiet"]
    return [str(scancode), *opts, str(target)]


def mib(kib: float) -> float:
    return round(kib / 1024, 1)


@dataclass
class Series:
    """Timed runs of one command."""

    runs: list[Run] = field(default_factory=list)

    @property
    def walls(self) -> list[float]:
        return [r.wall_s for r in self.runs]

    def summary(self) -> dict[str, Any]:
        rss = [r.rss_kib for r in self.runs]
        return {
            "runs": len(self.runs),
            "median_wall_s": round(statistics.median(self.walls), 4),
            "min_wall_s": round(min(self.walls), 4),
            "max_wall_s": round(max(self.walls), 4),
            "median_peak_rss_mib": mib(statistics.median(rss)),
            "max_peak_rss_mib": mib(max(rss)),
        }


def timed(argv: list[str], runs: int, logs: Path, tag: str, warmup: int = 1) -> Series:
    """``warmup`` untimed runs (page cache, bytecode), then ``runs`` timed ones."""
    for i in range(warmup):
        spawn(argv, logs / f"{tag}-warmup{i}.out", logs / f"{tag}-warmup{i}.err")
    series = Series()
    for _ in range(runs):
        series.runs.append(spawn(argv, logs / f"{tag}.out", logs / f"{tag}.err"))
    return series


# --- warm, in-process (run in a child: see the module docstring) ----------------


def warm_worker(corpus: Path, runs: int) -> int:
    """Time match_text over every corpus file, and run_audit over the corpus, in-process."""
    from auditor.matcher import match_text
    from auditor.pipeline import run_audit

    paths = sorted(p for p in corpus.iterdir() if p.is_file())
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
    found = [match_text(t) for t in texts]  # loads the fingerprints; not timed
    match_times: list[float] = []
    per_file_s: list[list[float]] = [[] for _ in texts]
    for _ in range(runs):
        start = time.perf_counter()
        for i, t in enumerate(texts):
            t0 = time.perf_counter()
            match_text(t)
            per_file_s[i].append(time.perf_counter() - t0)
        match_times.append(time.perf_counter() - start)
    run_audit(str(corpus))  # not timed
    audit_times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        run_audit(str(corpus))
        audit_times.append(time.perf_counter() - start)
    per_file = {
        p.name: {
            "matches": [m.key for m in f.matches],
            "ambiguous": [keys for _, _, keys in f.ambiguous],
            "median_ms": round(1000 * statistics.median(ts), 2),
        }
        for p, f, ts in zip(paths, found, per_file_s, strict=True)
    }
    out = {
        "files": len(paths),
        "match_text_s": match_times,
        "run_audit_s": audit_times,
        "per_file": per_file,
        "rss_mib": mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
    }
    print(json.dumps(out))
    return 0


# --- answers ------------------------------------------------------------------

_EXPR_WORD = re.compile(r"[^\s()]+")


def expression_keys(expr: str | None) -> list[str]:
    if not expr:
        return []
    return sorted({w for w in _EXPR_WORD.findall(expr) if w.upper() not in ("AND", "OR", "WITH")})


def auditor_answers(report: dict[str, Any]) -> dict[str, list[str]]:
    """Report path -> keys of every detection with evidence in that file."""
    out: dict[str, set[str]] = {}
    for det in report["licenses"]:
        for ev in det["evidence"]:
            out.setdefault(ev["path"], set()).add(det["key"])
    for skip in report["skipped"]:
        out.setdefault(skip["path"], set()).add(f"(skipped: {skip['reason']})")
    return {path: sorted(keys) for path, keys in out.items()}


def auditor_evidence(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Report path -> each detection there: key, method, lines, excerpt (to explain answers)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for det in report["licenses"]:
        for ev in det["evidence"]:
            out.setdefault(ev["path"], []).append(
                {
                    "key": det["key"],
                    "method": ev["method"],
                    "lines": [ev["start_line"], ev["end_line"]],
                    "modified": det["modified"],
                    "excerpt": ev["excerpt"],
                }
            )
    return out


def scancode_answers(report: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in report["files"]:
        if f["type"] != "file":
            continue
        rel = f["path"].split("/", 1)[1] if "/" in f["path"] else f["path"]
        out[rel] = expression_keys(f.get("detected_license_expression"))
    return out


def scancode_file_ms(reports: list[dict[str, Any]]) -> dict[str, float]:
    """Corpus file -> median of ScanCode's license detection time for it, in ms."""
    times: dict[str, list[float]] = {}
    for report in reports:
        for f in report["files"]:
            if f["type"] == "file":
                rel = f["path"].split("/", 1)[-1]
                times.setdefault(rel, []).append((f.get("scan_timings") or {}).get("licenses", 0))
    return {rel: round(1000 * statistics.median(ts), 1) for rel, ts in times.items()}


def scancode_detect_s(report: dict[str, Any]) -> float:
    """Sum of ScanCode's per-file license detection times (index already loaded)."""
    return float(sum((f.get("scan_timings") or {}).get("licenses", 0.0) for f in report["files"]))


def compare(
    meta: list[CorpusFile],
    report: dict[str, Any],
    warm: dict[str, Any],
    theirs: dict[str, list[str]] | None,
    their_ms: dict[str, float],
) -> list[dict[str, Any]]:
    ours, evidence = auditor_answers(report), auditor_evidence(report)
    rows = []
    for cf in meta:
        a = ours.get(cf.name, [])
        row: dict[str, Any] = {
            "file": cf.name,
            "source": cf.source,
            "expected": cf.expected,
            "in_scancode_db": cf.in_scancode_db,
            "auditor": a,
            "auditor_ok": None if cf.expected is None else a == [cf.expected],
            "auditor_evidence": evidence.get(cf.name, []),
            "auditor_ms": warm["per_file"][cf.name]["median_ms"],
        }
        if theirs is not None:
            s = theirs.get(cf.name, [])
            row["scancode"] = s
            row["scancode_ms"] = their_ms.get(cf.name)
            row["scancode_ok"] = None if cf.expected is None else s == [cf.expected]
            row["agree"] = a == s
        rows.append(row)
    return rows


# --- main -----------------------------------------------------------------------


def default_scancode() -> Path:
    beside = Path(sys.executable).with_name("scancode")
    return beside if beside.exists() else ROOT / ".venv" / "bin" / "scancode"


def fps(files: int, seconds: float) -> float:
    return round(files / seconds, 2)


def table(rows: list[dict[str, Any]], with_scancode: bool) -> str:
    def cell(keys: list[str]) -> str:
        return ", ".join(keys) if keys else "-"

    head = ["file", "expected", "auditor", "ms"]
    head += ["scancode", "ms", ""] if with_scancode else [""]
    body = []
    for r in rows:
        marks = []
        if with_scancode and not r["agree"]:
            marks.append("DIFFER")
        if r["auditor_ok"] is False:
            marks.append("auditor wrong")
        if with_scancode and r["scancode_ok"] is False:
            marks.append("scancode wrong")
        mark = ", ".join(marks)
        exp = r["expected"] or "(not scored)"
        if r["expected"] and not r["in_scancode_db"]:
            exp += " *"
        line = [r["file"], exp, cell(r["auditor"]), f"{r['auditor_ms']:.1f}"]
        if with_scancode:
            line += [cell(r["scancode"]), f"{r['scancode_ms'] or 0:.0f}"]
        line.append(mark)
        body.append(line)
    widths = [min(48, max(len(x[i]) for x in [head, *body])) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*line) for line in body]
    lines.append("* no such key in ScanCode's LicenseDB: ScanCode cannot name it")
    lines.append(
        "ms: median time to identify the file, index loaded (auditor: match_text in-process;"
        " ScanCode: its per-file scan_timings)"
    )
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=11, help="timed auditor runs (default 11)")
    ap.add_argument("--scancode-runs", type=int, default=3, help="timed ScanCode runs (default 3)")
    ap.add_argument("--skip-scancode", action="store_true", help="auditor only (quick)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs; print their paths")
    ap.add_argument(
        "--rev",
        help="measure auditor as committed at this git revision (a snapshot via git archive)"
        " instead of the working tree",
    )
    ap.add_argument("--scancode", type=Path, default=default_scancode(), help=argparse.SUPPRESS)
    ap.add_argument("--warm-worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.warm_worker is not None:
        return warm_worker(args.warm_worker, args.runs)
    if args.runs < 1 or args.scancode_runs < 1:
        ap.error("--runs and --scancode-runs must be at least 1")
    if not args.skip_scancode and not args.scancode.exists():
        ap.error(f"no ScanCode at {args.scancode} (use --skip-scancode)")

    tmp = Path(tempfile.mkdtemp(prefix="auditor-bench-identify-"))
    try:
        return measure(args, tmp)
    finally:
        if args.keep:
            print(f"kept: {tmp} (repo/, corpus/, logs/)", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def git(*argv: str) -> str:
    proc = subprocess.run(["git", "-C", str(ROOT), *argv], capture_output=True, check=False)
    return proc.stdout.decode().strip() if proc.returncode == 0 else ""


def use_snapshot(rev: str, tmp: Path) -> str:
    """Run every auditor child from ``git archive rev auditor``: a tree nobody edits mid-run.

    Children get the snapshot first on PYTHONPATH and a working directory outside the
    repository (``python -m`` puts the working directory first on sys.path).
    """
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    if not sha:
        raise SystemExit(f"no such revision: {rev}")
    src = tmp / "src"
    src.mkdir()
    # Streamed, not read whole: the harness must stay small (see the module docstring).
    cmd = ["git", "-C", str(ROOT), "archive", "--format=tar", sha, "auditor"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            tar.extractall(src, filter="data")
    if proc.returncode != 0:
        raise SystemExit(f"git archive {sha} failed")
    os.environ["PYTHONPATH"] = str(src)
    os.chdir(tmp)
    compile_bytecode(src / "auditor")
    return sha


def compile_bytecode(package: Path) -> None:
    """Write the package's .pyc files, as ``pip install`` does: cold figures are then those
    of an installed auditor, also where PYTHONDONTWRITEBYTECODE keeps the children from
    writing them (compiling the sources would otherwise add ~75 ms to every run)."""
    import compileall

    compileall.compile_dir(str(package), quiet=1)


def measure(args: argparse.Namespace, tmp: Path) -> int:
    started = datetime.now(timezone.utc)
    load_start = os.getloadavg()
    if args.rev:
        source: dict[str, Any] = {"rev": args.rev, "commit": use_snapshot(args.rev, tmp)}
    else:
        dirty = bool(git("status", "--porcelain", "--", "auditor"))
        source = {"rev": "working tree", "commit": git("rev-parse", "HEAD"), "dirty": dirty}
        compile_bytecode(ROOT / "auditor")
    where = subprocess.run(
        [sys.executable, "-c", "import auditor; print(auditor.__file__)"],
        capture_output=True,
        check=True,
    )
    source["imported_from"] = str(Path(where.stdout.decode().strip()).parent)
    repo, corpus, meta = build_inputs(tmp)
    logs = tmp / "logs"
    logs.mkdir()
    n_repo = sum(1 for p in repo.rglob("*") if p.is_file())
    n_corpus = len(meta)
    lines: list[dict[str, Any]] = []

    def emit(line: dict[str, Any]) -> None:
        lines.append(line)
        print(json.dumps(line), flush=True)

    emit({"measure": "auditor_source", **source})
    # The interpreter alone: the floor under every cold figure.
    base = timed([sys.executable, "-c", "pass"], args.runs, logs, "python")
    emit({"measure": "python_startup", **base.summary()})

    # 1. Cold scan of the 20-file repo.
    cold_repo = timed(auditor_argv(repo), args.runs, logs, "auditor-repo")
    s = cold_repo.summary()
    emit(
        {
            "measure": "auditor_cold_scan",
            "target": "repo",
            "files": n_repo,
            **s,
            "ok_wall": s["median_wall_s"] <= TARGET_COLD_S,
            "ok_rss": s["max_peak_rss_mib"] <= TARGET_RSS_MIB,
        }
    )

    # 2a. auditor on the corpus: cold (fresh process) and warm (in-process).
    cold_corpus = timed(auditor_argv(corpus), args.runs, logs, "auditor-corpus")
    s = cold_corpus.summary()
    a_cold_fps = fps(n_corpus, s["median_wall_s"])
    emit(
        {
            "measure": "auditor_identify_cold",
            "target": "corpus",
            "files": n_corpus,
            **s,
            "files_per_s": a_cold_fps,
        }
    )
    worker_out = logs / "warm-worker.out"
    worker = [sys.executable, str(Path(__file__).resolve()), "--warm-worker", str(corpus)]
    spawn([*worker, "--runs", str(args.runs)], worker_out, logs / "warm-worker.err")
    warm = json.loads(worker_out.read_text())
    m_med = statistics.median(warm["match_text_s"])
    p_med = statistics.median(warm["run_audit_s"])
    a_warm_fps = fps(n_corpus, m_med)
    a_pipe_fps = fps(n_corpus, p_med)
    emit(
        {
            "measure": "auditor_identify_warm",
            "target": "corpus",
            "files": n_corpus,
            "runs": args.runs,
            "match_text_median_s": round(m_med, 5),
            "match_text_min_s": round(min(warm["match_text_s"]), 5),
            "files_per_s": a_warm_fps,
            "run_audit_median_s": round(p_med, 5),
            "run_audit_files_per_s": a_pipe_fps,
            "worker_peak_rss_mib": warm["rss_mib"],
        }
    )

    # 2b. ScanCode on the same corpus (and on the repo), one process each.
    sc_reports: list[dict[str, Any]] = []
    sc_line: dict[str, Any] | None = None
    sc_repo_wall = float("nan")
    if not args.skip_scancode:
        warm_out = logs / "scancode-warmup.json"
        warmup = spawn(
            scancode_argv(args.scancode, corpus, warm_out),
            logs / "scancode-warmup.out",
            logs / "scancode-warmup.err",
        )
        emit(
            {
                "measure": "scancode_warmup",
                "target": "corpus",
                "wall_s": round(warmup.wall_s, 2),
                "peak_rss_mib": mib(warmup.rss_kib),
                "note": "untimed; loads (or first builds) ScanCode's license index cache",
            }
        )
        sc = Series()
        for i in range(args.scancode_runs):
            out = logs / f"scancode-corpus-{i}.json"
            sc.runs.append(
                spawn(
                    scancode_argv(args.scancode, corpus, out),
                    logs / "scancode-corpus.out",
                    logs / "scancode-corpus.err",
                )
            )
            sc_reports.append(json.loads(out.read_text(encoding="utf-8")))
        s = sc.summary()
        detect = statistics.median(scancode_detect_s(r) for r in sc_reports)
        sc_line = {
            "measure": "scancode_identify",
            "target": "corpus",
            "files": n_corpus,
            **s,
            "files_per_s": fps(n_corpus, s["median_wall_s"]),
            "detect_only_median_s": round(detect, 3),
            "detect_only_files_per_s": fps(n_corpus, detect),
        }
        emit(sc_line)
        sc_repo = Series()
        for i in range(args.scancode_runs):
            out = logs / f"scancode-repo-{i}.json"
            sc_repo.runs.append(
                spawn(
                    scancode_argv(args.scancode, repo, out),
                    logs / "scancode-repo.out",
                    logs / "scancode-repo.err",
                )
            )
        sc_repo_line = {
            "measure": "scancode_cold_scan",
            "target": "repo",
            "files": n_repo,
            **sc_repo.summary(),
        }
        emit(sc_repo_line)
        sc_repo_wall = sc_repo_line["median_wall_s"]

    # 2c. Ratios.
    ratios: dict[str, Any] | None = None
    if sc_line is not None:
        ratios = {
            "measure": "ratio_auditor_over_scancode",
            "cold": round(a_cold_fps / sc_line["files_per_s"], 1),
            "warm": round(a_warm_fps / sc_line["detect_only_files_per_s"], 1),
            "warm_pipeline": round(a_pipe_fps / sc_line["detect_only_files_per_s"], 1),
            # The 20-file repo, whole processes: ScanCode's wall over auditor's.
            "cold_repo": round(sc_repo_wall / cold_repo.summary()["median_wall_s"], 1),
            "target": TARGET_RATIO,
        }
        ratios["ok"] = ratios["cold"] >= TARGET_RATIO
        emit(ratios)

    # 3. Who found what.
    report = json.loads((logs / "auditor-corpus.out").read_text(encoding="utf-8"))
    theirs = scancode_answers(sc_reports[-1]) if sc_reports else None
    rows = compare(meta, report, warm, theirs, scancode_file_ms(sc_reports))
    scored = [r for r in rows if r["expected"] is not None]
    agreement: dict[str, Any] = {
        "measure": "answers",
        "files": len(rows),
        "scored": len(scored),
        "auditor_correct": sum(1 for r in scored if r["auditor_ok"]),
    }
    if theirs is not None:
        agreement["scancode_correct"] = sum(1 for r in scored if r["scancode_ok"])
        agreement["scancode_correct_where_it_has_the_key"] = sum(
            1 for r in scored if r["scancode_ok"] and r["in_scancode_db"]
        )
        agreement["has_key_in_scancode_db"] = sum(1 for r in scored if r["in_scancode_db"])
        agreement["disagreements"] = sum(1 for r in rows if not r["agree"])
    emit(agreement)

    # The interpreter again: a host that changed speed during the run shows here.
    base_end = timed([sys.executable, "-c", "pass"], args.runs, logs, "python")
    drift = base_end.summary()["median_wall_s"] / base.summary()["median_wall_s"]
    emit({"measure": "python_startup_end", **base_end.summary(), "vs_start": round(drift, 2)})
    harness = mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    emit({"measure": "harness", "harness_rss_mib": harness})

    cold = next(x for x in lines if x["measure"] == "auditor_cold_scan")
    print()
    print(
        f"cold scan, {n_repo}-file repo: median {cold['median_wall_s']:.3f} s, "
        f"min {cold['min_wall_s']:.3f} s (target <= {TARGET_COLD_S} s: "
        f"{'ok' if cold['ok_wall'] else 'MISSED'}); peak RSS {cold['max_peak_rss_mib']} MiB "
        f"(target <= {TARGET_RSS_MIB:.0f}: {'ok' if cold['ok_rss'] else 'MISSED'}); "
        f"python -c pass alone: {base.summary()['median_wall_s']:.3f} s"
    )
    print(
        f"identification, {n_corpus} files: auditor cold {a_cold_fps} files/s, "
        f"warm match_text {a_warm_fps} files/s, warm run_audit {a_pipe_fps} files/s"
    )
    if sc_line is not None and ratios is not None:
        print(
            f"ScanCode -n 1: {sc_line['files_per_s']} files/s whole process "
            f"(median {sc_line['median_wall_s']:.2f} s, peak RSS "
            f"{sc_line['max_peak_rss_mib']} MiB), {sc_line['detect_only_files_per_s']} "
            f"files/s detection only"
        )
        print(
            f"ratio auditor/ScanCode: cold {ratios['cold']}x (target >= {TARGET_RATIO:.0f}x: "
            f"{'ok' if ratios['ok'] else 'MISSED'}), warm {ratios['warm']}x, "
            f"warm pipeline {ratios['warm_pipeline']}x; on the 20-file repo, "
            f"whole processes: {ratios['cold_repo']}x"
        )
    print(
        f"answers: auditor {agreement['auditor_correct']}/{len(scored)} scored files right"
        + (
            f", ScanCode {agreement['scancode_correct']}/{len(scored)} "
            f"({agreement['has_key_in_scancode_db']} of them are in its LicenseDB), "
            f"{agreement['disagreements']} of {len(rows)} files differ"
            if theirs is not None
            else ""
        )
    )
    print()
    print(table(rows, theirs is not None))
    if not 0.8 <= drift <= 1.25:
        print(
            f"\nwarning: `python -c pass` took {drift:.2f}x as long at the end as at the start:"
            " the machine's speed changed during the run; figures are not comparable"
        )

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    result_path = RESULTS / f"identify-{stamp}.json"
    result = {
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            # Other work on the machine skews every figure: compare with the CPU count.
            "loadavg_1_5_15_start": [round(x, 2) for x in load_start],
            "loadavg_1_5_15_end": [round(x, 2) for x in os.getloadavg()],
        },
        "targets": {
            "cold_scan_s": TARGET_COLD_S,
            "ratio": TARGET_RATIO,
            "peak_rss_mib": TARGET_RSS_MIB,
        },
        "auditor_source": source,
        "measurements": lines,
        "runs": {
            "auditor_repo_wall_s": cold_repo.walls,
            "auditor_corpus_wall_s": cold_corpus.walls,
            "match_text_s": warm["match_text_s"],
            "run_audit_s": warm["run_audit_s"],
        },
        "repo_files": sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file()),
        "per_file": rows,
        "auditor_match_text_per_file": warm["per_file"],
    }
    result_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {result_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
