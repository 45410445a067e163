"""The real-world corpus (../shared/corpus, 35 public model repos with labels) as a ratchet.

Scored as ``make corpus`` scores it (bench/corpus.py); the floors are in
tests/corpus_ratchet.json. Skipped where ../shared is absent.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Loaded by path: putting bench/ on sys.path would shadow packages (bench/identify.py is
# not the `identify` package that pre-commit imports).
_spec = importlib.util.spec_from_file_location("auditor_bench_corpus", ROOT / "bench" / "corpus.py")
assert _spec is not None and _spec.loader is not None
corpus = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = corpus  # dataclasses look their module up by name
_spec.loader.exec_module(corpus)

pytestmark = pytest.mark.skipif(
    not (corpus.CORPUS / "labels.json").is_file(), reason="../shared/corpus is missing"
)
RATCHET = json.loads((ROOT / "tests" / "corpus_ratchet.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> list[corpus.CaseScore]:
    dest = tmp_path_factory.mktemp("corpus")
    corpus.extract(dest)
    return corpus.run_all(dest)


def test_every_case_is_scored(scores: list[corpus.CaseScore]) -> None:
    assert len(scores) == len(corpus.labels()) == 35
    assert corpus.totals(scores).scored == RATCHET["scored"]


def test_right_answers_do_not_drop(scores: list[corpus.CaseScore]) -> None:
    t = corpus.totals(scores)
    misses = [
        (a.case, a.part, a.status, a.got, a.required)
        for s in scores
        for a in s.answers
        if a.status != "right" and a.part != "data"
    ]
    assert t.right >= RATCHET["right"], misses


def test_wrong_claims_do_not_rise(scores: list[corpus.CaseScore]) -> None:
    t = corpus.totals(scores)
    wrong = [(a.case, a.part, a.wrong) for s in scores for a in s.answers if a.wrong]
    assert t.wrong_claims <= RATCHET["wrong_claims"], wrong
    assert t.data_wrong_claims <= RATCHET["data_wrong_claims"], wrong


def test_expected_findings_do_not_drop(scores: list[corpus.CaseScore]) -> None:
    t = corpus.totals(scores)
    missing = [(s.case, s.findings_missing) for s in scores if s.findings_missing]
    assert t.findings_found >= RATCHET["findings_found"], missing


def test_scoring_follows_the_corpus_rules() -> None:
    """The scorer itself: keys of AND/OR expressions, WITH exceptions dropped."""
    assert corpus.keys("mit AND (apache-2.0 OR bsd-new)") == {"mit", "apache-2.0", "bsd-new"}
    assert corpus.keys("gpl-2.0 WITH classpath-exception-2.0") == {"gpl-2.0"}
    assert corpus.keys(None) == set()
    label = {
        "repo": "o/r",
        "code": {"required": ["mit"], "allowed": ["bsd-new"]},
        "model": {"required": [], "allowed": []},
        "data": None,
        "findings": ["license-missing"],
    }
    report = {
        "components": [
            {"kind": "code", "concluded": "mit AND bsd-new"},
            {"kind": "model", "concluded": "apache-2.0"},
        ],
        "findings": [],
    }
    s = corpus.score(label, report)
    assert [(a.part, a.status, a.wrong) for a in s.answers] == [
        ("code", "right", []),
        ("model", "wrong", ["apache-2.0"]),
    ]
    assert s.findings_missing == ["license-missing"]
