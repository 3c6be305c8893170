"""What a run's results say against the expectations, and the summary file."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.server import REPO
from tests.wpt import expectations, summary
from tests.wpt.runner import UnitResult

SUMMARY = REPO / "test-output" / "wpt-summary.md"
# The improvements of a pytest run, for its terminal summary (conftest.py).
IMPROVEMENTS = pytest.StashKey[list[str]]()


def judge(
    results: Sequence[UnitResult], expected: dict[str, expectations.Entry]
) -> tuple[list[str], list[str]]:
    """Every regression and improvement of ``results``, each line naming its unit."""
    regressions: list[str] = []
    improvements: list[str] = []
    for result in results:
        verdict = expectations.compare(result, expected.get(result.unit.id))
        regressions += (f"{result.unit.id}: {line}" for line in verdict.regressions)
        improvements += (f"{result.unit.id}: {line}" for line in verdict.improvements)
    return regressions, improvements


def write_summary(
    results: Sequence[UnitResult],
    seconds: float,
    concurrency: int,
    regressions: Sequence[str] = (),
    improvements: Sequence[str] = (),
) -> None:
    SUMMARY.parent.mkdir(exist_ok=True)
    text = summary.render(results, seconds, concurrency, regressions, improvements)
    SUMMARY.write_text(text)
