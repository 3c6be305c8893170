"""The queue between the server's loggers and the thread that writes its lines, bounded.

Lines are written by a thread of their own (``vortex.oplog.configure``), so a slow stderr never
stalls the event loop. But a writer that cannot write at all (stderr a pipe nobody reads, a
stalled log shipper) let the queue grow without end: 40,000 API requests grew the server by
53 MiB. Past ``limit`` lines waiting, new ones are dropped and counted; once there is room again,
one line (``note``) says how many were lost.

A record may stand for several lines (a batch of listener access lines): ``weigh`` says how many.
"""

from __future__ import annotations

import logging
import logging.handlers
import queue
import threading
from collections.abc import Callable

Weigh = Callable[[logging.LogRecord], int]


class LineBudget:
    """How many lines are waiting, against the limit; shared by the two threads."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.dropped = 0
        """Every line dropped since the server started (``vortex_log_lines_dropped_total``)."""
        self._queued = 0
        self._unreported = 0
        self._lock = threading.Lock()

    def take(self, lines: int) -> int | None:
        """Room for ``lines`` (plus the note of earlier drops, whose count is answered: 0 for
        none), or None: they are dropped."""
        with self._lock:
            note = 1 if self._unreported else 0
            if self._queued + lines + note > self.limit:
                self.dropped += lines
                self._unreported += lines
                return None
            self._queued += lines + note
            unreported, self._unreported = self._unreported, 0
            return unreported

    def give_back(self, lines: int) -> None:
        with self._lock:
            self._queued -= lines


class BoundedQueueHandler(logging.handlers.QueueHandler):
    def __init__(
        self,
        lines: queue.SimpleQueue[logging.LogRecord],
        budget: LineBudget,
        weigh: Weigh,
        note: Callable[[int], logging.LogRecord],
    ) -> None:
        super().__init__(lines)
        self.budget = budget
        self.weigh = weigh
        self.note = note

    def emit(self, record: logging.LogRecord) -> None:
        # Decided before prepare(), which formats the message: a dropped line costs nothing more.
        unreported = self.budget.take(self.weigh(record))
        if unreported is None:
            return
        if unreported:
            super().emit(self.note(unreported))
        super().emit(record)


class BudgetedListener(logging.handlers.QueueListener):
    def __init__(
        self,
        lines: queue.SimpleQueue[logging.LogRecord],
        handler: logging.Handler,
        budget: LineBudget,
        weigh: Weigh,
    ) -> None:
        super().__init__(lines, handler, respect_handler_level=True)
        self.budget = budget
        self.weigh = weigh

    def dequeue(self, block: bool) -> logging.LogRecord:
        record: logging.LogRecord = super().dequeue(block)
        if record is not self._sentinel:  # type: ignore[attr-defined]
            self.budget.give_back(self.weigh(record))
        return record
