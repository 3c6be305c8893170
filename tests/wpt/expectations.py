"""expectations.json: per unit, what is known not to pass, and why.

An entry is one of three shapes, whichever names fewer subtests:

    {"subtests": 7, "fail": {"name": "why", ...}}        these fail, every other one passes
    {"subtests": 836, "pass_only": ["name", ...], "reason": "why"}
                                                         these pass, every other one fails
    {"subtests": 8878, "passed": 5524, "reason": "why"}  so many pass (when either list would
                                                         name more than 100: a bulk of work
                                                         not done yet, WebCrypto's today)

plus ``"error": "why"`` when the unit is known not to end well (the run fails, or the harness
reports ERROR or TIMEOUT). ``subtests`` is how many the unit ran.

A regression fails the suite: an expected pass that fails or is gone, fewer subtests, or an
error where none was expected. An improvement (an expected failure that passes, an expected
error that is gone, new subtests) is reported; ``--update`` rewrites the file from a run. A
reason written by hand (the cost of SES's frozen intrinsics, say) is kept while its failure
remains; one the update wrote, which starts with the status or error code ("FAIL: …"), is
written afresh from each run.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.wpt.runner import UnitResult

PATH = Path(__file__).resolve().parent / "expectations.json"
# A unit names at most this many subtests; past it, it counts its passes.
_NAMES_AT_MOST = 100
_REASON_CHARS = 100
_GENERATED = re.compile(
    r"(?:PASS|FAIL|TIMEOUT|NOTRUN|PRECONDITION_FAILED|harness [A-Z_]+|[a-z_]+):( |$)"
)

Entry = dict[str, Any]


@dataclass
class Verdict:
    regressions: list[str] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)


def load(path: Path = PATH) -> dict[str, Entry]:
    if not path.exists():
        return {}
    units: dict[str, Entry] = json.loads(path.read_text())["units"]
    return units


def save(units: dict[str, Entry], path: Path = PATH) -> None:
    document = {
        "about": (
            "Expected results of tests/wpt/upstream on Vortex; see tests/wpt/expectations.py "
            "for the shapes, docs/wpt.md for how to update"
        ),
        "units": dict(sorted(units.items())),
    }
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")


def _expected_failing(entry: Entry, names: Iterable[str]) -> set[str]:
    if "pass_only" in entry:
        passes = set(entry["pass_only"])
        return {name for name in names if name not in passes}
    return set(entry.get("fail", {}))


def compare(result: UnitResult, entry: Entry | None) -> Verdict:
    verdict = Verdict()
    if entry is None:
        verdict.regressions.append("no expectations for this unit (run with --update)")
        return verdict
    if "passed" in entry:
        _compare_count(result, entry["passed"], verdict)
    else:
        _compare_names(result, entry, verdict)
    expected_count = entry.get("subtests", 0)
    if len(result.subtests) < expected_count:
        verdict.regressions.append(
            f"{len(result.subtests)} subtests ran, {expected_count} expected"
        )
    elif len(result.subtests) > expected_count:
        verdict.improvements.append(f"{len(result.subtests)} subtests ran, {expected_count} before")
    if result.error is not None and "error" not in entry:
        verdict.regressions.append(f"the unit ends badly: {result.error}")
    elif result.error is None and "error" in entry:
        verdict.improvements.append(f"the unit ends well now (was: {entry['error']})")
    return verdict


def _compare_count(result: UnitResult, expected: int, verdict: Verdict) -> None:
    if result.passed < expected:
        verdict.regressions.append(f"{result.passed} subtests passed, {expected} expected")
    elif result.passed > expected:
        verdict.improvements.append(f"{result.passed} subtests passed, {expected} before")


def _compare_names(result: UnitResult, entry: Entry, verdict: Verdict) -> None:
    failing = {name for name, failure in result.subtests.items() if failure is not None}
    expected_failing = _expected_failing(entry, result.subtests)
    for name in sorted(failing - expected_failing):
        verdict.regressions.append(f"now fails: {name}: {result.subtests[name]}")
    for name in sorted(expected_failing - failing):
        if name in result.subtests:
            verdict.improvements.append(f"now passes: {name}")
    for name in sorted(set(entry.get("pass_only", ())) - set(result.subtests)):
        verdict.regressions.append(f"gone (it passed): {name}")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


def _kept(reason: str | None) -> str | None:
    """``reason`` if a person wrote it; None if an update wrote it from a failure, which
    starts with the status or the error code ("FAIL: …", "harness ERROR: …",
    "function_error: …"), so that it is written afresh from each run."""
    if reason is None or _GENERATED.match(reason):
        return None
    return reason


def entry_for(result: UnitResult, old: Entry | None) -> Entry:
    """The entry that expects ``result``, keeping ``old``'s hand-written reasons where they
    still apply."""
    old = old or {}
    old_reasons: dict[str, str] = old.get("fail", {})
    failing = {name: failure for name, failure in result.subtests.items() if failure is not None}
    passing = [name for name, failure in result.subtests.items() if failure is None]
    entry: Entry = {"subtests": len(result.subtests)}
    if result.error is not None:
        entry["error"] = _kept(old.get("error")) or _short(result.error)
    if not failing:
        return entry
    if len(passing) < len(failing) or len(failing) > _NAMES_AT_MOST:
        if len(passing) < len(failing) and len(passing) <= _NAMES_AT_MOST:
            entry["pass_only"] = sorted(passing)
        else:
            entry["passed"] = len(passing)
        common = Counter(_short(failure) for failure in failing.values()).most_common(1)
        entry["reason"] = _kept(old.get("reason")) or common[0][0]
    else:
        entry["fail"] = {
            name: _kept(old_reasons.get(name)) or _short(failure)
            for name, failure in sorted(failing.items())
        }
    return entry


def updated(
    units: dict[str, Entry], results: Iterable[UnitResult], known: Iterable[str]
) -> dict[str, Entry]:
    """``units`` with the entries of ``results`` rewritten, without units no longer ``known``."""
    known = set(known)
    new = {unit: entry for unit, entry in units.items() if unit in known}
    for result in results:
        new[result.unit.id] = entry_for(result, units.get(result.unit.id))
    return new
