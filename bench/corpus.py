"""The real-world corpus: auditor's answers against the labels, and its cold scan time.

    .venv/bin/python bench/corpus.py                 # score every case (make corpus)
    .venv/bin/python bench/corpus.py --time [--runs 5] [--rev REV]

``../shared/corpus`` holds 35 public model repositories at pinned commits with labels
(its README says how they are scored). Each case is unpacked (``extract.py``) into
``build/corpus`` and audited in this process; per case and part (code, model, data)
the answer is

- ``right``: every required key concluded, no key outside required + allowed;
- ``wrong``: a key concluded that is neither required nor allowed (a wrong claim);
- ``unknown``: nothing concluded where a key is required;
- ``partial``: some required keys concluded, none wrong, some missing.

Parts labelled ``null`` are not scored. Expected findings (``findings`` in the labels)
are counted as found or missing. The totals end the output, and go to
``bench/results/corpus-<UTC timestamp>.json`` with every answer.

``--time`` measures what a user waits: each case's cold ``python -m auditor scan CASE
--format json`` as a fresh process, ``--runs`` times after one untimed run, median per
case and the median of those medians over the corpus. With ``--rev REV`` the same runs
are made, interleaved case by case, with auditor as committed at REV (a ``git archive``
snapshot), so that both are measured on the same machine in the same minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
DEST = ROOT / "build" / "corpus"
PARTS = ("code", "model", "data")


def keys(expression: str | None) -> set[str]:
    """The keys of a concluded expression: operands of AND/OR, exceptions after WITH left out
    (the corpus README's rule)."""
    out, skip = set(), False
    for token in re.findall(r"[()]|[^\s()]+", expression or ""):
        if token in "()" or token.upper() in ("AND", "OR"):
            continue
        if token.upper() == "WITH":
            skip = True
            continue
        if not skip:
            out.add(token)
        skip = False
    return out


@dataclass
class Answer:
    case: str
    part: str
    status: str  # right, wrong, unknown, partial
    got: list[str]
    required: list[str]
    wrong: list[str]


@dataclass
class CaseScore:
    case: str
    answers: list[Answer] = field(default_factory=list)
    findings_expected: list[str] = field(default_factory=list)
    findings_missing: list[str] = field(default_factory=list)


def score(label: dict[str, Any], report: dict[str, Any]) -> CaseScore:
    """One case's answers against its label (``model`` and each ``model:FOLDER`` count as
    ``model``)."""
    name = label["repo"]
    out = CaseScore(name)
    for part in PARTS:
        expected = label[part]
        if expected is None:
            continue
        got: set[str] = set()
        for comp in report["components"]:
            if comp["kind"] == part:
                got |= keys(comp.get("concluded"))
        need = set(expected["required"])
        ok = need | set(expected["allowed"])
        wrong = sorted(got - ok)
        if wrong:
            status = "wrong"
        elif need <= got:
            status = "right"
        elif not got:
            status = "unknown"
        else:
            status = "partial"
        out.answers.append(Answer(name, part, status, sorted(got), sorted(need), wrong))
    found = {f["rule"] for f in report.get("findings", [])}
    out.findings_expected = list(label["findings"])
    out.findings_missing = sorted(set(label["findings"]) - found)
    return out


@dataclass
class Totals:
    scored: int = 0
    right: int = 0
    wrong_claims: int = 0
    unknown: int = 0
    partial: int = 0
    data_scored: int = 0
    data_right: int = 0
    data_wrong_claims: int = 0
    findings_expected: int = 0
    findings_found: int = 0


def totals(scores: list[CaseScore]) -> Totals:
    """Code and model parts are the headline; data parts are counted apart."""
    t = Totals()
    for s in scores:
        for a in s.answers:
            if a.part == "data":
                t.data_scored += 1
                t.data_right += a.status == "right"
                t.data_wrong_claims += len(a.wrong)
                continue
            t.scored += 1
            t.right += a.status == "right"
            t.wrong_claims += len(a.wrong)
            t.unknown += a.status == "unknown"
            t.partial += a.status == "partial"
        t.findings_expected += len(s.findings_expected)
        t.findings_found += len(s.findings_expected) - len(s.findings_missing)
    return t


def labels() -> list[dict[str, Any]]:
    data = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))
    cases: list[dict[str, Any]] = data["cases"]
    return cases


def case_dir(dest: Path, label: dict[str, Any]) -> Path:
    return dest / label["repo"].replace("/", "+")


def extract(dest: Path) -> None:
    """Unpack every case (the corpus's own extract.py: member names checked, links kept)."""
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, str(CORPUS / "extract.py"), str(dest)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run_all(dest: Path) -> list[CaseScore]:
    """Audit every unpacked case in this process and score it."""
    from auditor.formats.json_report import report_dict
    from auditor.pipeline import run_audit

    out = []
    for label in labels():
        report = report_dict(run_audit(str(case_dir(dest, label))))
        out.append(score(label, report))
    return out


# --- timing --------------------------------------------------------------------


def snapshot(rev: str, tmp: Path) -> tuple[str, Path]:
    """``git archive REV auditor`` into TMP/src; (commit, src)."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not sha:
        raise SystemExit(f"no such revision: {rev}")
    src = tmp / "src"
    src.mkdir()
    cmd = ["git", "-C", str(ROOT), "archive", "--format=tar", sha, "auditor"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            tar.extractall(src, filter="data")
    compile_bytecode(src / "auditor")
    return sha, src


def compile_bytecode(package: Path) -> None:
    """Write the package's .pyc files, as ``pip install`` does, so that both sides of a
    comparison start from bytecode (PYTHONDONTWRITEBYTECODE would otherwise make every
    cold run compile the sources)."""
    import compileall

    compileall.compile_dir(str(package), quiet=1)


def cold(case: Path, pythonpath: Path, cwd: Path) -> float:
    """Wall seconds of one fresh ``python -m auditor scan`` child."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    cmd = [sys.executable, "-m", "auditor", "scan", str(case), "--format", "json"]
    cmd += ["--fail-on", "never"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"scan of {case} failed: {proc.stderr.decode()[-500:]}")
    return wall


def timing(dest: Path, runs: int, rev: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sides: dict[str, Path] = {"working tree": ROOT}
        compile_bytecode(ROOT / "auditor")
        commit = ""
        if rev:
            commit, src = snapshot(rev, tmp)
            sides[f"{rev} ({commit[:7]})"] = src
        per_case: dict[str, dict[str, float]] = {}
        for label in labels():
            case = case_dir(dest, label)
            walls: dict[str, list[float]] = {side: [] for side in sides}
            for path in sides.values():
                cold(case, path, tmp)  # untimed: page cache and bytecode
            for _ in range(runs):
                for side, path in sides.items():  # interleaved: load moves both alike
                    walls[side].append(cold(case, path, tmp))
            per_case[label["repo"]] = {side: statistics.median(w) for side, w in walls.items()}
            shown = ", ".join(f"{side} {m:.3f} s" for side, m in per_case[label["repo"]].items())
            print(f"  {label['repo']:<40} {shown}", flush=True)
        medians = {
            side: round(statistics.median(c[side] for c in per_case.values()), 3) for side in sides
        }
        return {"runs": runs, "commit": commit, "per_case": per_case, "median_of_medians": medians}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dest", type=Path, default=DEST, help="where cases are unpacked")
    ap.add_argument("--time", action="store_true", help="also time cold scans")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per case (with --time)")
    ap.add_argument("--rev", help="with --time: also time auditor as committed at REV")
    args = ap.parse_args()
    if not (CORPUS / "labels.json").is_file():
        print(f"corpus: {CORPUS} is missing (it lives beside the repository)", file=sys.stderr)
        return 2
    extract(args.dest)
    scores = run_all(args.dest)
    for s in scores:
        parts = "  ".join(
            f"{a.part}:{a.status}" + (f"(+{','.join(a.wrong)})" if a.wrong else "")
            for a in s.answers
        )
        missing = (
            f"  missing findings: {', '.join(s.findings_missing)}" if s.findings_missing else ""
        )
        print(f"{s.case:<40} {parts}{missing}")
    t = totals(scores)
    print(
        f"\ncode+model: {t.right}/{t.scored} right, {t.wrong_claims} wrong claims, "
        f"{t.unknown} unknown, {t.partial} partial; data: {t.data_right}/{t.data_scored} right, "
        f"{t.data_wrong_claims} wrong claims; expected findings found: "
        f"{t.findings_found}/{t.findings_expected}"
    )
    record: dict[str, Any] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "totals": asdict(t),
        "cases": [asdict(s) for s in scores],
    }
    if args.time:
        print(f"\ncold scan, median of {args.runs} runs per case:")
        record["timing"] = timing(args.dest, args.runs, args.rev)
        print(f"median over the corpus: {record['timing']['median_of_medians']}")
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = results / f"corpus-{stamp}.json"
    out.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"results: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
