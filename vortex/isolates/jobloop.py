"""The host's event loop: pythonmonkey's promise jobs run beneath a script of muted errors.

pythonmonkey 1.4 hands every promise rejected with no handler yet to its rejection tracker,
which wraps the promise in an asyncio Future; when the reason is a Symbol, converting it to
Python fails and the tracker dereferences the null it got back (SIGSEGV: the host dies with
every run on it). The tracker returns at once when the script running at the time of the
rejection has *muted errors*, so every script of the host is compiled with them (``boot``),
and code compiled from those inherits them. A rejection can also happen with no script
running at all: inside a promise job, which pythonmonkey calls from Python. This loop runs each
such job through a one-line JavaScript trampoline compiled with muted errors, so a script is
always on the stack.

Jobs are queued with ``call_soon`` rather than ``call_soon_threadsafe`` when they come from the
loop's own thread (they always do): waking the selector for each one was wasted.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextvars import Context
from typing import Any, TypeVarTuple

JobArgs = TypeVarTuple("JobArgs")

JOB_WRAPPER = "eventLoopJobWrapper"
"""The name of pythonmonkey's callable that wraps a promise job (PyEventLoop::enqueue)."""


class MutedJobLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        import pythonmonkey as pm

        self._job_type = pm.JSFunctionProxy
        self._trampoline: Callable[[Any], None] = pm.eval(
            "(job) => { job(); }", {"mutedErrors": True}
        )
        self._thread = threading.get_ident()
        self.muted_jobs = 0
        """Promise jobs run beneath the trampoline: none means pythonmonkey changed how it
        queues them, and the protection is gone (``check_muting`` says so)."""

    def call_soon_threadsafe(
        self,
        callback: Callable[[*JobArgs], object],
        *args: *JobArgs,
        context: Context | None = None,
    ) -> asyncio.Handle:
        job = getattr(callback, "__self__", None)
        if (
            not args
            and getattr(callback, "__name__", None) == JOB_WRAPPER
            and isinstance(job, self._job_type)
            and threading.get_ident() == self._thread
        ):
            self.muted_jobs += 1
            return self.call_soon(self._trampoline, job, context=context)
        return super().call_soon_threadsafe(callback, *args, context=context)


def check_muting(loop: asyncio.AbstractEventLoop) -> str | None:
    """Queue one promise job and say what is wrong if it did not go through the trampoline."""
    import pythonmonkey as pm

    if not isinstance(loop, MutedJobLoop):
        return "the host's event loop is not a MutedJobLoop"
    before = loop.muted_jobs
    pm.eval("Promise.resolve().then(() => undefined)", {"mutedErrors": True})
    if loop.muted_jobs == before:
        return (
            "pythonmonkey's promise jobs do not reach the trampoline (did pythonmonkey change "
            f"how it queues them? {JOB_WRAPPER!r}): a promise rejected with a Symbol may crash "
            "this host"
        )
    return None
