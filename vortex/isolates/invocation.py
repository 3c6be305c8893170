"""One invocation as the supervisor follows it, from the run frame to the done frame.

A script run has one event that matters, its end (``outcome``). A module run has two: its
response is ready (``response``; its body may follow in chunks) and, possibly later, the run ends
once the work given to ``ctx.waitUntil`` is over. The HTTP trigger answers on the first and
records the run on the second. A module run whose handler throws while its ``waitUntil`` work
goes on has no response: ``response`` is None and ``caller_outcome`` has the failure at once,
as workerd answers; ``outcome`` (and the history) come when that work settles. Every caller
(``POST /execute``, a service binding) answers from these two, so none waits for the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vortex.isolates.bindings import Binding, Subrequests
from vortex.isolates.exchange import BODY_PULL_EVERY, BodyBroken, ResponseHead
from vortex.isolates.limits import Limits
from vortex.isolates.outcome import LogEntry, RunOutcome

if TYPE_CHECKING:
    from vortex.isolates.fetchbodies import Window


@dataclass(slots=True)
class _BodyEnd:
    error: str | None


@dataclass(eq=False, slots=True)
class Invocation:
    id: int
    limits: Limits
    on_log: Callable[[LogEntry], None]
    allow_hosts: tuple[str, ...] = ()
    map_error: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    """Applied to the run's error before anyone sees it (module functions map positions)."""
    bindings: Mapping[str, Binding] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    logs: list[LogEntry] = field(default_factory=list)
    response: asyncio.Future[ResponseHead | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    outcome: asyncio.Future[RunOutcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    caller_outcome: asyncio.Future[RunOutcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    """What the run's caller is answered with: its ``outcome``, or sooner, when its handler
    failed while its waitUntil work goes on (``failed``), that failure with the logs and times
    so far (``running`` set)."""
    subrequests: Subrequests = field(default_factory=Subrequests)
    """Its fetches and service calls, and those of the runs its service calls started."""
    host_pid: int = 0
    """The host process the run was sent to (shown only with ``VORTEX_DEBUG_HOST_HEADER``)."""
    fetches: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    """Its fetches under way, until the head is in or, for a body that streams, its end."""
    fetch_windows: dict[int, Window] = field(default_factory=dict)
    """The flow of each fetched body that streams (``fetchbodies``)."""
    binding_calls: int = 0
    cpu_ms_at_kill: float = 0.0
    """The CPU time of the turn for which the supervisor killed the host, if it did."""
    calls: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    pull_body: Callable[[int], None] | None = None
    """Tells the run's host how many bytes of its streamed body were read (``BodyPull``)."""
    cancel_body: Callable[[], None] | None = None
    """Tells the run's host that nobody reads its streamed body any more (``BodyCancel``)."""
    _unpulled: int = 0
    _body: asyncio.Queue[bytes | _BodyEnd] = field(default_factory=asyncio.Queue)
    _body_open: bool = False

    # -- fed by the host's frames ---------------------------------------------------------------
    def log(self, entry: LogEntry) -> None:
        self.logs.append(entry)
        self.on_log(entry)

    def responded(self, head: ResponseHead) -> None:
        if self.response.done():
            return
        self._body_open = head.streaming
        self.response.set_result(head)

    def failed(self, error: dict[str, Any], cpu_ms: float) -> None:
        """Its handler threw while its waitUntil work goes on: no response will come, and the
        caller is answered with ``error`` now; the run ends (``finish``) when that work does."""
        if self.caller_outcome.done():
            return
        if self.map_error is not None:
            error = self.map_error(error)
        duration_ms = (time.perf_counter() - self.started) * 1000
        self.caller_outcome.set_result(
            RunOutcome(
                None,
                error,
                logs=list(self.logs),
                cpu_ms=cpu_ms,
                duration_ms=duration_ms,
                running=True,
            )
        )
        if not self.response.done():
            self.response.set_result(None)

    def chunk(self, data: bytes) -> None:
        if self._body_open:
            self._body.put_nowait(data)

    def body_ended(self, error: str | None) -> None:
        if self._body_open:
            self._body_open = False
            self._body.put_nowait(_BodyEnd(error))

    def finish(self, outcome: RunOutcome, duration_ms: float | None = None) -> None:
        """The run is over, however it ended; nothing more comes for it."""
        if not self.response.done():
            self.response.set_result(None)
        if self._body_open:
            reason = "the run ended before its response body was complete"
            if outcome.error is not None:
                reason = f"{reason} ({outcome.error['code']}: {outcome.error['message']})"
            self.body_ended(reason)
        for tasks in (self.fetches, self.calls):
            for task in tasks.values():
                task.cancel()
            tasks.clear()
        self.fetch_windows.clear()
        if not self.outcome.done():
            outcome.logs = self.logs
            outcome.duration_ms = (
                (time.perf_counter() - self.started) * 1000 if duration_ms is None else duration_ms
            )
            if outcome.error is not None and self.map_error is not None:
                outcome.error = self.map_error(outcome.error)
            self.outcome.set_result(outcome)
        if not self.caller_outcome.done():
            self.caller_outcome.set_result(self.outcome.result())

    # -- read by the HTTP side ------------------------------------------------------------------
    async def body_chunks(self) -> AsyncGenerator[bytes]:
        """The chunks of a streamed body; raises ``BodyBroken`` if it ended in an error. Left
        before its end (its reader gave up, or was cancelled: close it, ``aclosing``), the run's
        body stream is cancelled, as when a listener's client leaves. The run sends no more
        than ``BODY_WINDOW`` bytes ahead of what was taken from here."""
        try:
            while True:
                item = await self._body.get()
                if isinstance(item, _BodyEnd):
                    if item.error is not None:
                        raise BodyBroken(item.error)
                    return
                self._unpulled += len(item)
                if self._unpulled >= BODY_PULL_EVERY and self.pull_body is not None:
                    self.pull_body(self._unpulled)
                    self._unpulled = 0
                yield item
        finally:
            self.abandon_body()

    def abandon_body(self) -> None:
        """Nobody will read the rest of the streamed body: the run's body stream is cancelled
        (what ``body_chunks`` does when left before the end; called directly when it was never
        iterated, whose ``aclose`` runs nothing)."""
        if self._body_open:
            self._body_open = False
            self._body = asyncio.Queue()
            if self.cancel_body is not None:
                self.cancel_body()

    async def read_body(self, head: ResponseHead) -> bytes:
        if not head.streaming:
            return head.body or b""
        async with contextlib.aclosing(self.body_chunks()) as chunks:
            return b"".join([chunk async for chunk in chunks])
