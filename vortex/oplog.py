"""The server's own log, as an operator reads it: access lines, readable host events, and
JSON lines for machines (``vortex serve --log-format json``).

**Access lines** (logger ``vortex.access``): one per request, written once its answer is sent.
API requests (``vortex.http.accesslog``): method, path, status, milliseconds, the function the
path names and the run id, if any. Functions-listener requests are answered inside the hosts:
each host makes an access record when a request's answer ended (``vortex.isolates.access``;
its own refusals, a head that timed out, 408, and a client gone before its answer, 499,
included) and sends them with its runs' records, in batches (``Ended``); the supervisor makes
those of the first requests it refuses itself (an unknown hostname). Each becomes a line:
method, path without its query, status, milliseconds, hostname, function, run id and the
answer's error code. A host whose pipe to the server is backed up drops records rather than
wait, and says how many once it can (``N access lines dropped``). A listener request has no
other line: its run's CPU time and outcome are in the history under the run id. Only a run
that no request's line stands for gets a run line: cron's, and a listener run whose host died
under it (no host was left to make its access record).

The pool (``vortex.isolates``) logs a host's exit with its reason as the tuple the supervisor
keeps, ``(code, message, culprit)``; culprit is an invocation number of that host, which means
nothing outside it. ``HostEventWords`` writes such a reason as ``code: message`` in every line
of the ``vortex.isolates`` loggers, so the pool's own code stays as it is.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import time
from collections.abc import Sequence
from typing import Any, Literal

import orjson

from vortex.isolates.protocol import AccessRecord
from vortex.logqueue import BoundedQueueHandler, BudgetedListener, LineBudget

HOST_LOGGERS = "vortex.isolates"
ACCESS = logging.getLogger("vortex.access")
LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
FIELDS = "fields"
"""The ``extra`` attribute holding a line's structured fields (JSON keys; text ``key=value``)."""
LINES = "lines"
"""The ``extra`` attribute of a record that stands for several lines: ``(text, fields)`` each,
written as lines of their own with the record's time, level and logger."""
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


def api_request(
    method: str, path: str, status: int, ms: float, function: str | None, run_id: str | None
) -> None:
    """The access line of one API request."""
    if not ACCESS.isEnabledFor(logging.INFO):
        return
    text = f"{method} {path} {status} {ms:.1f}ms"
    if function is not None:
        text += f" fn={function}"
    if run_id is not None:
        text += f" run={run_id}"
    fields = {
        "kind": "api",
        "method": method,
        "path": path,
        "status": status,
        "ms": round(ms, 1),
        "function": function,
        "run_id": run_id,
    }
    ACCESS.info("%s", text, extra={FIELDS: fields})


def access_logged() -> bool:
    """Whether access lines are written (INFO, and not ``VORTEX_ACCESS_LOG=off``): hosts make
    no access records otherwise (``Listen.access_records``)."""
    return ACCESS.isEnabledFor(logging.INFO)


def listener_request(record: AccessRecord, function: str | None) -> None:
    """The access line of one request of the functions listener; ``function`` is its name
    (``public_name``), or its id when the server no longer has its record at hand."""
    listener_requests([(record, function)])


def listener_requests(requests: Sequence[tuple[AccessRecord, str | None]]) -> None:
    """The access lines of a host's batch of listener requests, as one log record that the
    formatters write as one line per request (``LINES``). A record per line cost the event
    loop ~100 µs a request (the record, the caller's frame, the queue's copy) and the writer
    a flush each: with access lines on, hello on the listener served 4,857 req/s against
    10,134 with them off."""
    if not requests or not ACCESS.isEnabledFor(logging.INFO):
        return
    lines = [_listener_line(record, function) for record, function in requests]
    text = lines[0][0] if len(lines) == 1 else "\n".join(line for line, _ in lines)
    ACCESS.info("%s", text, extra={FIELDS: lines[0][1], LINES: lines})


def _listener_line(record: AccessRecord, function: str | None) -> tuple[str, dict[str, Any]]:
    text = f"{record.method or '-'} {record.path or '-'} {record.status} {record.ms:.1f}ms"
    text += f" host={record.hostname or '-'}"
    if function is not None:
        text += f" fn={function}"
    if record.run_id is not None:
        text += f" run={record.run_id}"
    if record.error is not None:
        text += f" error={record.error}"
    fields = {
        "kind": "listener",
        "method": record.method or None,  # None: not known (the key is left out)
        "path": record.path,
        "status": record.status,
        "ms": round(record.ms, 1),
        "host": record.hostname or None,
        "function": function,
        "function_id": record.function_id,
        "run_id": record.run_id,
        "error": record.error,
    }
    return text, fields


def access_dropped(count: int, pid: int) -> None:
    """Access records a host dropped rather than wait for a supervisor that fell behind."""
    ACCESS.warning(
        "%d access lines dropped: host %d's pipe to the server was full",
        count,
        pid,
        extra={FIELDS: {"kind": "dropped", "dropped": count, "host_pid": pid}},
    )


def run_ended(
    trigger: str,
    function: str,
    version: int | None,
    function_id: str,
    run_id: str,
    error_code: str | None,
    ms: float,
    cpu_ms: float,
) -> None:
    """The line of a run no request's access line stands for: cron's, or a listener run
    whose host died before it could make the request's access record."""
    if not ACCESS.isEnabledFor(logging.INFO):
        return
    outcome = error_code or "ok"
    shown = function if version is None else f"{function} v{version}"
    text = f"{trigger} run of {shown} {outcome} {ms:.1f}ms cpu={cpu_ms:.1f}ms run={run_id}"
    fields = {
        "kind": "run",
        "trigger": trigger,
        "function": function,
        "version": version,
        "function_id": function_id,
        "run_id": run_id,
        "outcome": outcome,
        "ms": round(ms, 1),
        "cpu_ms": round(cpu_ms, 1),
    }
    ACCESS.info("%s", text, extra={FIELDS: fields})


class TextLines(logging.Formatter):
    """``time level logger: message``, each of a batch's lines (``LINES``) with its own."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        lines = getattr(record, LINES, None)
        if not isinstance(lines, list):
            return super().format(record)
        prefix = f"{self.formatTime(record)} {record.levelname} {record.name}: "
        return "\n".join(prefix + text for text, _ in lines)


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        common: dict[str, Any] = {
            "time": _iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        lines = getattr(record, LINES, None)
        if isinstance(lines, list):
            return "\n".join(self._line(record, common, text, fields) for text, fields in lines)
        return self._line(record, common, record.getMessage(), getattr(record, FIELDS, None))

    def _line(
        self, record: logging.LogRecord, common: dict[str, Any], message: str, fields: object
    ) -> str:
        entry = {**common, "message": message}
        if isinstance(fields, dict):
            entry.update((k, v) for k, v in fields.items() if v is not None)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def _iso(created: float) -> str:
    millis = int(created * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{millis:03d}Z"


def _lines_in(record: logging.LogRecord) -> int:
    lines = getattr(record, LINES, None)
    return len(lines) if isinstance(lines, list) and lines else 1


def _dropped_note(count: int) -> logging.LogRecord:
    limit = _budget.limit if _budget is not None else 0
    return logging.makeLogRecord(
        {
            "name": "vortex.oplog",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": "%d log lines dropped: the log writer fell behind (VORTEX_LOG_QUEUE_LINES=%d)",
            "args": (count, limit),
            FIELDS: {"kind": "dropped", "dropped": count},
        }
    )


def dropped_lines() -> int:
    """Log lines dropped because the writer fell ``VORTEX_LOG_QUEUE_LINES`` behind."""
    return _budget.dropped if _budget is not None else 0


def configure(
    level: str = "INFO",
    log_format: LogFormat = "text",
    *,
    access: bool = True,
    queue_lines: int = 10_000,
) -> None:
    """The server's logging: one handler on stderr, host events in words; ``access`` False
    leaves out the access and run lines (``VORTEX_ACCESS_LOG=off``); at most ``queue_lines``
    lines wait for the writer (``vortex.logqueue``)."""
    ACCESS.setLevel(logging.NOTSET if access else logging.WARNING)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if log_format == "json" else TextLines())
    handler.addFilter(HostEventWords())
    # Lines are written by a thread of their own: a burst of thousands of listener runs gives
    # thousands of run lines at once, and writing them on the event loop (stderr may be a slow
    # pipe or terminal) stalled the server: in a burst of 6,000 connections, a third round
    # lost 5,007 answers with the lines on, none with them off.
    global _writer, _budget
    if _writer is not None:
        _writer.stop()
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _budget = LineBudget(queue_lines)
    _writer = BudgetedListener(lines, handler, _budget, _lines_in)
    _writer.start()
    atexit.register(_writer.stop)
    root = logging.getLogger()
    enqueue = BoundedQueueHandler(lines, _budget, _lines_in, _dropped_note)
    enqueue.addFilter(HostEventWords())  # before the record's arguments are merged into it
    root.handlers[:] = [enqueue]
    root.setLevel(level.upper())


_writer: logging.handlers.QueueListener | None = None
_budget: LineBudget | None = None
