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

Promise jobs do not each take a turn of asyncio's loop. They wait in a queue of their own, each
with the run of the turn that queued it, and the turn clock (host.py) runs those of
the turn's own run at the end of the turn, inside the turn: the microtask checkpoint that
browsers and workerd perform after each task. An async handler with one await then answers in the
turn that called it, as a synchronous one does; a turn of the loop, with the turn clock's
bookkeeping around it, cost ~10–20 µs per promise job before. Jobs queued outside a turn, or
left behind one (another run's, next in the queue), get a turn of their own (``drain``).

pythonmonkey 1.4 wraps each job in a Python callable (``eventLoopJobWrapper``, whose
``__self__`` is the job) and never releases its own reference to that wrapper, so the wrapper,
the job and the JavaScript function the job holds through a persistent root outlived the job:
every promise job a host ever ran stayed, and each minor collection of the engine traced them
all (``JSRuntime::tracePersistentRoots``). A run's cost grew with the promise jobs run on its
host before it: a WPT unit of 1056 subtests took 0.44 s of CPU on a new host, 2.1 s nine runs
later (timers leaked alike: ``Host.set_timer``). The loop keeps the job, not the wrapper, so
it releases pythonmonkey's reference itself, once ``check_job_wrappers`` has seen at boot that
the reference is indeed left over.
"""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import functools
import gc
import sys
import weakref
from collections import deque
from collections.abc import Callable, Container
from contextvars import Context
from typing import Any, TypeVarTuple

JobArgs = TypeVarTuple("JobArgs")


JOB_WRAPPER = "eventLoopJobWrapper"
"""The name of pythonmonkey's callable that wraps a promise job (PyEventLoop::enqueue)."""


_NO_OWNER = -(2**63)
"""No run's id: the owner a checkpoint goes on for once its run ended, so it runs no more."""

JOBS_PER_CHECKPOINT = 64
"""Jobs run at the end of one turn at most; the rest get turns of their own. A request needs a
few; a run that chains promise jobs without end (``for (;;) await null``) is then accounted,
measured and stopped turn by turn, as before the checkpoint: stopped by an interrupt in the
middle of a job instead, a run that had grown the host kept 50 MiB of it alive after it ended
(the engine held the interrupted job's frame through the collection that followed)."""


def _one_owner() -> int:
    return 0


class _NoJob:
    pass


class _Everyone:
    def __contains__(self, owner: object) -> bool:
        return True


class MutedJobLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        import pythonmonkey as pm

        self._job_type = pm.JSFunctionProxy
        self._trampoline: Callable[[Any], None] = pm.eval(
            "(job) => { job(); }", {"mutedErrors": True}
        )
        self._jobs: deque[tuple[int, Any]] = deque()
        self._queued_by: dict[int, int] = {}
        """Jobs waiting, per run: a timer of a run waits for them (``has_jobs_of``)."""
        self._context_of: dict[int, Context] = {}
        """The context of the turn that queued the first job waiting of each run: a turn of
        its own for them (``drain``) runs there. Kept per run, not per job: every job costs
        this loop a little, and two jobs of one run see the same run."""
        self.turns_end_with_jobs = False
        """Set by the turn clock (host.py), which runs a turn's jobs at its end and calls
        ``after_turn``: jobs then need no turn scheduled as they are queued."""
        self._drain_pending = False
        self._drain_turn: asyncio.Handle | None = None
        self._queued = asyncio.Handle(lambda: None, (), self)
        self.current_owner: Callable[[], int] = _one_owner
        """The run a job belongs to: that of the turn queueing it (host.py)."""
        self.always_alive = 0
        """A job of this owner runs whatever ``alive`` holds: work of no run (host.py)."""
        self.alive: Container[int] = _Everyone()
        """The runs still going: an ended run's jobs are dropped, never run."""
        self.release_wrappers = False
        """Set by ``check_job_wrappers`` once it has seen pythonmonkey keep each wrapper."""
        self._probe: list[tuple[weakref.ref[Any], str]] | None = None

    def call_soon_threadsafe(
        self,
        callback: Callable[[*JobArgs], object],
        *args: *JobArgs,
        context: Context | None = None,
    ) -> asyncio.Handle:
        # Twice per async request, so each check here is one every such request pays for. The
        # wrapper's name is checked once, at boot (``check_muting``); the thread never: a
        # promise job is queued by the engine's context, which lives on this thread only.
        job = getattr(callback, "__self__", None)
        if type(job) is self._job_type and not args:
            owner = self.current_owner()
            self._jobs.append((owner, job))
            queued_by = self._queued_by
            waiting = queued_by.get(owner, 0)
            queued_by[owner] = waiting + 1
            if not waiting:
                self._context_of[owner] = contextvars.copy_context() if context is None else context
            if self._probe is not None:
                self._probe.append((weakref.ref(callback), getattr(callback, "__name__", "")))
            if self.release_wrappers:
                # The wrapper goes when this call returns; the job stays, held by the queue.
                _release(callback)
            if not self.turns_end_with_jobs and not self._drain_pending:
                self._schedule_drain()
            return self._queued
        return super().call_soon_threadsafe(callback, *args, context=context)

    def use_trampoline(self, trampoline: Callable[[Any], None]) -> None:
        """The harness's trampoline instead of the boot's one: compiled with muted errors as
        well, it also starts a new async-context epoch for each job (asynccontext.js), so no
        frame of node:async_hooks set before a job is current in it."""
        self._trampoline = trampoline

    def after_turn(self) -> None:
        """Called by the turn clock after each turn (and its checkpoint): jobs left waiting get
        a turn of their own. Scheduled here rather than when the first job is queued, where
        nearly every turn's checkpoint then cancelled the turn (a Handle made and dropped per
        async request, and a ready queue that kept the next select from sleeping)."""
        if self._jobs and not self._drain_pending:
            self._schedule_drain()

    def _schedule_drain(self) -> None:
        self._drain_pending = True
        owner = self._jobs[0][0]
        self._drain_turn = self.call_soon(self.drain, owner, context=self._context_of[owner])

    def _is_alive(self, owner: int) -> bool:
        return owner == self.always_alive or owner in self.alive

    def drain(self, owner: int) -> None:
        """A turn for the jobs at the head of the queue, in the context of the first (whose
        run may have ended meanwhile: the turn clock lets this turn run all the same)."""
        self._drain_pending = False
        self._drain_turn = None
        jobs = self._jobs
        while jobs and not self._is_alive(jobs[0][0]):
            self._pop()  # an ended run's job: nothing of it runs any more
        if not jobs:
            return
        if jobs[0][0] == owner:
            self.run_jobs_of(owner)
        else:
            self._schedule_drain()

    def run_jobs_of(self, owner: int) -> None:
        """Run queued jobs while the next one is ``owner``'s, the jobs they queue included;
        called in the context of a turn of ``owner``, a run still going. A job that raises (an
        interrupt that ended the turn, say) stops the checkpoint: the rest of its run must not
        go on in this turn."""
        # Twice per async request: the pops and checks are written out, not called.
        jobs = self._jobs
        counts = self._queued_by
        alive = self.alive
        always_alive = self.always_alive
        trampoline = self._trampoline
        budget = JOBS_PER_CHECKPOINT
        try:
            while jobs and budget:
                budget -= 1
                queued_by, job = jobs[0]
                if queued_by != owner:
                    if self._is_alive(queued_by):
                        return
                    self._pop()  # an ended run's
                    continue
                jobs.popleft()
                left = counts[owner] - 1
                if left:
                    counts[owner] = left
                else:
                    del counts[owner]
                    del self._context_of[owner]
                try:
                    trampoline(job)
                except Exception as exc:
                    self.call_exception_handler(
                        {"message": "Exception in a promise job", "exception": exc}
                    )
                    return
                if owner != always_alive and owner not in alive:
                    # The job ended its run: what the run queued is dropped as it comes up.
                    owner = _NO_OWNER
        finally:
            if jobs:
                if not self._drain_pending:
                    self._schedule_drain()
            elif self._drain_turn is not None:
                # Every job ran in this checkpoint: the turn scheduled for them would find
                # none, and a turn costs the turn clock's bookkeeping.
                self._drain_turn.cancel()
                self._drain_turn = None
                self._drain_pending = False

    def _pop(self) -> None:
        owner = self._jobs.popleft()[0]
        queued_by = self._queued_by
        left = queued_by[owner] - 1
        if left:
            queued_by[owner] = left
        else:
            del queued_by[owner]
            del self._context_of[owner]

    def has_jobs_of(self, owner: int) -> bool:
        return owner in self._queued_by

    @property
    def jobs_waiting(self) -> int:
        return len(self._jobs)


_release: Callable[[object], None] = ctypes.PYFUNCTYPE(None, ctypes.py_object)(
    ("Py_DecRef", ctypes.pythonapi)
)
"""Drops one reference to an object that no Python code holds (pythonmonkey's); a prototype
bound once, as a call of ``ctypes.pythonapi`` converted its argument each time (0.4 µs)."""


def _queue_one_job(loop: MutedJobLoop) -> list[tuple[weakref.ref[Any], str]]:
    """Queue one promise job as user code would; what reached the loop's
    ``call_soon_threadsafe`` as a job: each wrapper (weakly) and its name."""
    import pythonmonkey as pm

    probe: list[tuple[weakref.ref[Any], str]] = []
    loop._probe = probe
    try:
        pm.eval("Promise.resolve().then(() => undefined)", {"mutedErrors": True})
    finally:
        loop._probe = None
    return probe


def check_job_wrappers(loop: asyncio.AbstractEventLoop) -> str | None:
    """Queue one promise job and see whether pythonmonkey kept a reference to its wrapper; if
    it did, and nothing else refers to the wrapper, the loop releases that reference of every
    job from now on. Says what is wrong if the wrapper is held in some other way."""
    if not isinstance(loop, MutedJobLoop):
        return "the host's event loop is not a MutedJobLoop"
    probe = _queue_one_job(loop)
    if len(probe) != 1:
        return f"queueing one promise job passed {len(probe)} wrappers through the job loop"
    wrapper = probe[0][0]()
    if wrapper is None:
        return None  # released by pythonmonkey: nothing to do
    # Ours (the local name and getrefcount's argument) and one more: pythonmonkey's, since the
    # job loop keeps none and the job has not run.
    if sys.getrefcount(wrapper) != 3:
        return "pythonmonkey holds the wrappers of promise jobs in a way the job loop does not know"
    _release(wrapper)
    del wrapper
    if probe[0][0]() is not None:
        return "the wrapper of a promise job outlived the release of pythonmonkey's reference"
    loop.release_wrappers = True
    return None


def check_muting(loop: asyncio.AbstractEventLoop) -> str | None:
    """Queue one promise job and say what is wrong if it did not reach the job loop as
    pythonmonkey's job wrapper (then it does not run beneath the trampoline)."""
    if not isinstance(loop, MutedJobLoop):
        return "the host's event loop is not a MutedJobLoop"
    if [name for _, name in _queue_one_job(loop)] != [JOB_WRAPPER]:
        loop._job_type = _NoJob  # type: ignore[assignment]  # all to asyncio's loop, which calls the wrappers as given
        return (
            "pythonmonkey's promise jobs do not reach the trampoline (did pythonmonkey change "
            f"how it queues them? {JOB_WRAPPER!r}): a promise rejected with a Symbol may crash "
            "this host"
        )
    return None


def quiet_job_counter(loop: asyncio.AbstractEventLoop) -> str | None:
    """pythonmonkey counts the promise jobs it queues, for ``pm.wait()``, and clears an
    ``asyncio.Event`` of its own for each, with a Python method call (``PyEventLoop::Lock``):
    ~2,000 instructions a job, a twentieth of what a job costs. A host never calls
    ``pm.wait()``, and the wrappers that would count jobs down are never called (the loop runs
    the jobs), so that event's ``clear`` becomes a call that does nothing. It is found as the
    one event that queueing a job clears; says what is wrong if there is not exactly one."""
    if not isinstance(loop, MutedJobLoop):
        return "the host's event loop is not a MutedJobLoop"
    events = [o for o in gc.get_objects() if type(o) is asyncio.Event]
    cleared: list[asyncio.Event] = []
    for event in events:
        event.clear = functools.partial(cleared.append, event)  # type: ignore[method-assign]
    try:
        _queue_one_job(loop)
    finally:
        for event in events:
            del event.clear
    if len(cleared) != 1:
        return f"queueing a promise job cleared {len(cleared)} events, not pythonmonkey's one"
    cleared[0].clear = tuple  # type: ignore[method-assign,assignment]  # in C, doing nothing
    return None
