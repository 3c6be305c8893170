"""How a unit's results are judged against its entry, and how an update writes entries (no
server: results made by hand)."""

from __future__ import annotations

from tests.wpt.catalog import Unit
from tests.wpt.expectations import Entry, compare, entry_for
from tests.wpt.runner import UnitResult

UNIT = Unit("url/example.any.js", "", (), False)


def result(error: str | None = None, **subtests: str | None) -> UnitResult:
    return UnitResult(UNIT, dict(subtests), error)


def test_listed_failures() -> None:
    entry: Entry = {"subtests": 3, "fail": {"b": "SES: frozen"}}
    assert compare(result(a=None, b="FAIL: x", c=None), entry).regressions == []
    verdict = compare(result(a="FAIL: broke", b=None, c=None), entry)
    assert verdict.regressions == ["now fails: a: FAIL: broke"]
    assert verdict.improvements == ["now passes: b"]
    assert compare(result(a=None, b="FAIL: x"), entry).regressions == ["2 subtests ran, 3 expected"]


def test_listed_passes() -> None:
    entry: Entry = {"subtests": 3, "pass_only": ["a"], "reason": "not implemented"}
    assert compare(result(a=None, b="FAIL: x", c="FAIL: y"), entry).regressions == []
    assert compare(result(a=None, b=None, c="FAIL: y"), entry).improvements == ["now passes: b"]
    gone = compare(result(b="FAIL: x", c="FAIL: y", d="FAIL: z"), entry)
    assert gone.regressions == ["gone (it passed): a"]


def test_counted_passes() -> None:
    entry: Entry = {"subtests": 3, "passed": 2, "reason": "many"}
    assert compare(result(a=None, b=None, c="FAIL: x"), entry).regressions == []
    fewer = compare(result(a=None, b="FAIL: x", c="FAIL: x"), entry)
    assert fewer.regressions == ["1 subtests passed, 2 expected"]
    assert compare(result(a=None, b=None, c=None), entry).improvements == [
        "3 subtests passed, 2 before"
    ]


def test_unit_errors() -> None:
    assert compare(result("function_error: boom", a=None), {"subtests": 1}).regressions == [
        "the unit ends badly: function_error: boom"
    ]
    fixed = compare(result(a=None), {"subtests": 1, "error": "Vortex: timers"})
    assert fixed.improvements == ["the unit ends well now (was: Vortex: timers)"]
    assert compare(result(), None).regressions == [
        "no expectations for this unit (run with --update)"
    ]


def test_update_keeps_reasons_written_by_hand() -> None:
    old: Entry = {"subtests": 4, "fail": {"a": "SES: frozen", "b": "FAIL: old message"}}
    new = entry_for(result(a="FAIL: x", b="FAIL: new message", c=None, d=None), old)
    assert new == {"subtests": 4, "fail": {"a": "SES: frozen", "b": "FAIL: new message"}}
    assert entry_for(result(a=None, b=None, c=None), old) == {"subtests": 3}


def test_update_names_the_fewer_subtests() -> None:
    mostly_failing = result(a=None, **{f"f{i}": "FAIL: no" for i in range(5)})
    assert entry_for(mostly_failing, None) == {
        "subtests": 6,
        "pass_only": ["a"],
        "reason": "FAIL: no",
    }
    many = result(
        **{f"p{i}": None for i in range(150)}, **{f"f{i}": "FAIL: no" for i in range(200)}
    )
    assert entry_for(many, {"reason": "not implemented"}) == {
        "subtests": 350,
        "passed": 150,
        "reason": "not implemented",
    }
    assert entry_for(result("harness ERROR: x"), {"error": "harness ERROR: y"}) == {
        "subtests": 0,
        "error": "harness ERROR: x",
    }
