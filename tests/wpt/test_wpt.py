"""web-platform-tests: every unit of tests/wpt/upstream deployed as a function on one real server,
its results held to expectations.json. A regression fails the unit's test; improvements are
listed at the end of the run and in test-output/wpt-summary.md, and
``--update-wpt-expectations`` rewrites the expectations of the units that ran."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.wpt import expectations
from tests.wpt.catalog import UPSTREAM, all_units
from tests.wpt.report import IMPROVEMENTS, judge, write_summary
from tests.wpt.runner import CONCURRENCY, UnitResult, run_on_own_server

UNITS = all_units()


def _selected_units(session: pytest.Session) -> list[str]:
    """The units this session runs (all, or those ``-k`` left)."""
    return [
        str(item.callspec.params["unit"])
        for item in session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_wpt"
        and item.path == Path(__file__)
    ]


@pytest.fixture(scope="module")
def wpt_results(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, UnitResult]:
    """Run the selected units at once, write the summary, and update the expectations when
    asked; each unit's test then reads its result."""
    by_id = {unit.id: unit for unit in UNITS}
    units = [by_id[unit_id] for unit_id in _selected_units(request.session)]
    results, seconds = run_on_own_server(units, tmp_path_factory.mktemp("wpt"))
    expected = expectations.load()
    regressions, improvements = judge(results, expected)
    write_summary(results, seconds, CONCURRENCY, regressions, improvements)
    if request.config.getoption("--update-wpt-expectations"):
        expectations.save(expectations.updated(expected, results, by_id))
    else:
        request.config.stash[IMPROVEMENTS] = improvements
    return {result.unit.id: result for result in results}


@pytest.fixture(scope="module")
def expected() -> dict[str, expectations.Entry]:
    return expectations.load()


@pytest.mark.timeout(1800)  # the first unit's test runs them all (wpt_results)
@pytest.mark.parametrize("unit", [unit.id for unit in UNITS])
def test_wpt(
    unit: str,
    wpt_results: dict[str, UnitResult],
    expected: dict[str, expectations.Entry],
    request: pytest.FixtureRequest,
) -> None:
    if request.config.getoption("--update-wpt-expectations"):
        return
    verdict = expectations.compare(wpt_results[unit], expected.get(unit))
    assert not verdict.regressions, "\n".join(["regressions:", *verdict.regressions])


def test_expectations_name_known_units(expected: dict[str, expectations.Entry]) -> None:
    """Every entry is for a unit of upstream/ (an update drops the others)."""
    known = {unit.id for unit in UNITS}
    assert sorted(set(expected) - known) == []


def test_upstream_carries_its_license() -> None:
    assert "3-Clause BSD" in (UPSTREAM / "LICENSE.md").read_text()
