"""The server's own log, as an operator reads it: readable lines for host events.

The pool (``vortex.isolates``) logs a host's exit with its reason as the tuple the supervisor
keeps, ``(code, message, culprit)``; culprit is an invocation number of that host, which means
nothing outside it. ``HostEventWords`` writes such a reason as ``code: message`` in every line
of the ``vortex.isolates`` loggers, so the pool's own code stays as it is.
"""

from __future__ import annotations

import logging
from typing import Any

HOST_LOGGERS = "vortex.isolates"
NO_REASON = "no reason known: it crashed or was killed from outside"


def describe_exit(reason: object) -> str:
    """A host's exit reason in words: ``cpu_time_exceeded: CPU time limit ... replaced``."""
    if reason is None:
        return NO_REASON
    if isinstance(reason, tuple) and _is_exit_reason(reason):
        code, message = str(reason[0]), str(reason[1])
        return f"{code}: {message}" if message else code
    return str(reason)


def _is_exit_reason(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 3
        and isinstance(value[0], str)
        and isinstance(value[1], str)
        and (value[2] is None or isinstance(value[2], int))
    )


class HostEventWords(logging.Filter):
    """Rewrites the exit reasons in the pool's lines into words (never drops a line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(HOST_LOGGERS) or not isinstance(record.args, tuple):
            return True
        exits = "exited (%s)" in str(record.msg) or "stopped (%s)" in str(record.msg)
        args: list[Any] = list(record.args)
        for index, value in enumerate(args):
            if _is_exit_reason(value) or (exits and value is None and index == len(args) - 1):
                args[index] = describe_exit(value)
        record.args = tuple(args)
        return True


def configure(level: str = "INFO") -> None:
    """The server's logging: one handler on stderr, host events in words."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(HostEventWords())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
