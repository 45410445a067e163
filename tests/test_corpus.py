"""The labeled corpus (fixtures/corpus/cases.yaml) against the issue's targets.

Texts come at test time from the installed ScanCode LicenseDB and ../shared/licenses.
Targets: no wrong answer at all, >= 98% identified, every altered text flagged.
"""

from __future__ import annotations

import sys
from collections import Counter

import pytest
from conftest import FIXTURES

sys.path.insert(0, str(FIXTURES / "corpus"))
import runner

pytestmark = pytest.mark.skipif(not runner.SHARED.is_dir(), reason="../shared/licenses is missing")


@pytest.fixture(scope="module")
def outcomes() -> list[runner.Outcome]:
    return runner.run_all()


def test_corpus_is_large_enough(outcomes: list[runner.Outcome]) -> None:
    assert len(outcomes) >= 150


def test_never_wrong(outcomes: list[runner.Outcome]) -> None:
    wrong = [(o.id, o.expected, o.found) for o in outcomes if o.status == "wrong"]
    assert wrong == []


def test_identified_at_least_98_percent(outcomes: list[runner.Outcome]) -> None:
    counts = Counter(o.status for o in outcomes)
    missed = [(o.id, o.found) for o in outcomes if o.status != "identified"]
    assert counts["identified"] >= 0.98 * len(outcomes), missed


def test_altered_texts_are_never_clean_matches(outcomes: list[runner.Outcome]) -> None:
    clean = [
        o.id
        for o in outcomes
        if o.modified_expected and o.status == "identified" and o.modified_found is not True
    ]
    assert clean == []


def test_formatting_alone_is_no_modification(outcomes: list[runner.Outcome]) -> None:
    """A false "modified" warning costs a reviewer's time; keep them under 5%.

    Known residue (5 of 147 on 2026-11-23): a copyright statement a re-wrap splits over
    two lines, HTML paragraph edges around GPL's copyright placeholders, a Markdown
    bullet replacing a marker the reference keeps.
    """
    cases = [o for o in outcomes if o.id.endswith(runner.FORMATTING) and o.status == "identified"]
    flagged = [o.id for o in cases if o.modified_found]
    assert len(cases) > 100
    assert len(flagged) <= 0.05 * len(cases), flagged
