"""``python -m tests.wpt [--update] [-j N] [FILTER ...]``: run the WPT units on a server of
their own (those whose id contains a FILTER, else all), write test-output/wpt-summary.md, and
compare with expectations.json; ``--update`` rewrites the expectations of the units that ran.
Exits 1 on a regression (without ``--update``)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.wpt import expectations
from tests.wpt.catalog import all_units
from tests.wpt.report import SUMMARY, judge, write_summary
from tests.wpt.runner import CONCURRENCY, run_on_own_server


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.wpt", description=__doc__)
    parser.add_argument("filters", nargs="*", help="run only units whose id contains one")
    parser.add_argument("--update", action="store_true", help="rewrite expectations.json")
    parser.add_argument("-j", "--concurrency", type=int, default=CONCURRENCY)
    args = parser.parse_args()
    units = [u for u in all_units() if not args.filters or any(f in u.id for f in args.filters)]
    if not units:
        parser.error("no unit matches")
    with tempfile.TemporaryDirectory(prefix="vortex-wpt-") as directory:
        results, seconds = run_on_own_server(units, Path(directory), args.concurrency)
    expected = expectations.load()
    regressions, improvements = judge(results, expected)
    write_summary(results, seconds, args.concurrency, regressions, improvements)
    for line in regressions:
        print(f"REGRESSION {line}")
    for line in improvements:
        print(f"improvement {line}")
    print(f"{SUMMARY}: {len(results)} units in {seconds:.0f} s")
    if args.update:
        known = [unit.id for unit in all_units()]
        expectations.save(expectations.updated(expected, results, known))
        print(f"{expectations.PATH} rewritten for {len(results)} units")
        return 0
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
