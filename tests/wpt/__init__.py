"""web-platform-tests in the suite: each ``*.any.js`` of ``upstream/`` runs as a function.

    catalog.py        the test files, their META lines and variants (the units that run)
    compose.py        a unit as one script: our prelude, testharness.js, its scripts, the test
    js/               our JavaScript around the tests (prelude, reporter, two small shims)
    runner.py         deploys and runs units concurrently on one real server
    expectations.py   expectations.json: what is known to fail; regressions and improvements
    summary.py        passed/total per directory, as Markdown
    report.py         a run against the expectations; test-output/wpt-summary.md
    __main__.py       ``python -m tests.wpt``: run outside pytest, ``--update`` the expectations
    test_wpt.py       the pytest side: one test per unit, against expectations.json

docs/wpt.md says how to run it and what the figures are.
"""
