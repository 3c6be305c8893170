"""The server's log as an operator reads it (vortex/oplog.py), one module at a time."""

from __future__ import annotations

import logging

from vortex.oplog import HostEventWords


def formatted(name: str, msg: str, *args: object) -> str:
    record = logging.LogRecord(name, logging.WARNING, __file__, 1, msg, args, None)
    assert HostEventWords().filter(record)
    return record.getMessage()


def test_a_host_kill_is_a_readable_line() -> None:
    reason = (
        "cpu_time_exceeded",
        "CPU time limit of 30 ms exceeded by one synchronous turn; the host process running it "
        "was replaced",
        30,
    )
    line = formatted("vortex.isolates.pool", "host %s exited (%s); pool refilling", 16039, reason)
    assert line == (
        "host 16039 exited (cpu_time_exceeded: CPU time limit of 30 ms exceeded by one "
        "synchronous turn; the host process running it was replaced); pool refilling"
    )
    assert "(" not in line.split("exited (", 1)[1].split(";")[0]
    line = formatted("vortex.isolates.pool", "host %s exited (%s); pool refilling", 7, None)
    assert line == (
        "host 7 exited (no reason known: it crashed or was killed from outside); pool refilling"
    )
    line = formatted("vortex.isolates.pool", "draining host %s was stopped (%s)", 8, reason)
    assert line.startswith("draining host 8 was stopped (cpu_time_exceeded: CPU time limit")


def test_other_lines_are_left_as_they_are() -> None:
    assert formatted("vortex.http", "a %s b", ("x", "y", 1)) == "a ('x', 'y', 1) b"
    assert formatted("vortex.isolates.pool", "spare %s ready", None) == "spare None ready"
