from __future__ import annotations

import pytest

from tests.wpt.report import IMPROVEMENTS, SUMMARY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Improvements do not fail a run; they are listed here, to be recorded."""
    improvements = terminalreporter.config.stash.get(IMPROVEMENTS, [])
    if not improvements:
        return
    terminalreporter.write_sep("-", f"WPT: {len(improvements)} improvements")
    for line in improvements[:40]:
        terminalreporter.write_line(line)
    if len(improvements) > 40:
        terminalreporter.write_line(f"... and {len(improvements) - 40} more in {SUMMARY}")
    terminalreporter.write_line(
        "record them: pytest tests/wpt --update-wpt-expectations (or python -m tests.wpt --update)"
    )
