"""Stopping a turn of JavaScript from inside the host: its run's CPU budget, its memory.

JavaScript holds the GIL while it runs, so nothing written in Python can stop it from another
thread. SpiderMonkey can be asked to, from any thread: ``JS_RequestInterruptCallback(cx)`` makes
the engine call its interrupt callback at the next loop edge or function entry, on the JS
thread; the callback returning false ends the running script with an error no ``try`` catches
(pythonmonkey then raises ``SpiderMonkeyError`` from the call that entered JavaScript). What
asks is a POSIX timer on the JS thread's own CPU clock (``CLOCK_THREAD_CPUTIME_ID``), whose
``SIGEV_THREAD`` notification calls ``JS_RequestInterruptCallback`` itself on a native thread:
no Python, no GIL. A host descheduled mid-turn uses no CPU, so it is not stopped for it.

The turn clock arms the timer before each turn of a run with what is left of the run's CPU
budget, and disarms it after. The timer is set on the absolute CPU clock and only when it would
fire too late: a timer left from an earlier turn that fires early costs one interrupt that sets
it right, and arming and disarming a turn cost ~0.7 µs (1.2 µs with a memory limit) instead of
~4 µs with a system call each. When the run has a memory limit, the
timer also fires every ``TICK`` of CPU in a long turn, and the callback measures what the turn
added to the host: the place to stop a run that allocates past its limit without ever
yielding, with its host kept.

A tick is not free for a regular expression: SpiderMonkey restarts a match that was interrupted
from its beginning, and after ``4`` restarts of one match throws ``InternalError: too much
recursion`` (``RegExpShared::execute``), which the function may catch or report as its own
error. A tick that sees no growth therefore doubles the next one, and after ``QUIET_TICKS`` of
them the turn gets no more ticks: one match is interrupted at most four times by ticks and the
fifth interrupt is the deadline, which ends the run anyway. The price: a turn that first spins
without allocating and then allocates fast is left to the supervisor's backstop.

The symbols (``GLOBAL_CX`` in pythonmonkey.so, the two functions in libmozjs) are pythonmonkey
1.4's; when they are missing the host runs without interrupts and says so to its supervisor,
which then kills a host whose turn overruns, as before.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import time
from collections.abc import Callable

CPU = "cpu"
MEMORY = "memory"
HOST_MEMORY = "host_memory"
"""The turn grew the host past its ceiling (pressure.py), whatever its run's own limit."""
TICK = 0.05
"""CPU seconds between two measures of memory in a long turn of a run with a memory limit."""
QUIET_TICKS = 3
NEAR_CEILING_TICKS = 10
"""Ticks per ``TICK`` for a turn that could take the host past its ceiling (pressure.py)."""
"""Ticks in a row that see the turn grow less than ``quiet_bytes`` before the turn gets no more."""
RETRY = 0.01
"""CPU seconds after which a stop is asked for again, should the engine not have ended the
turn (a stop inside JavaScript called from Python called from JavaScript surfaces as a
catchable error in the outer script)."""
_SLACK = 0.0005
"""The CPU clock passes a timer's expiry before its callback runs; float sums may not."""

_CLOCK_THREAD_CPUTIME_ID = 3
_TIMER_ABSTIME = 1
_SIGEV_THREAD = 2
_ADD_CALLBACK = "_Z23JS_AddInterruptCallbackP9JSContextPFbS0_E"
_REQUEST_INTERRUPT = "_Z27JS_RequestInterruptCallbackP9JSContext"
_Callback = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p)


class _SigVal(ctypes.Union):
    _fields_ = [("sival_int", ctypes.c_int), ("sival_ptr", ctypes.c_void_p)]


class _SigEvent(ctypes.Structure):
    # glibc's struct sigevent (64 bytes on 64-bit Linux), SIGEV_THREAD member of its union.
    _fields_ = [
        ("sigev_value", _SigVal),
        ("sigev_signo", ctypes.c_int),
        ("sigev_notify", ctypes.c_int),
        ("sigev_notify_function", ctypes.c_void_p),
        ("sigev_notify_attributes", ctypes.c_void_p),
        ("_pad", ctypes.c_byte * 32),
    ]


class _TimeSpec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _ITimerSpec(ctypes.Structure):
    _fields_ = [("it_interval", _TimeSpec), ("it_value", _TimeSpec)]


class InterruptUnavailable(Exception):
    """This process cannot interrupt its JavaScript (symbols missing, no timer)."""


def _timer_library() -> ctypes.CDLL:
    # timer_create lives in libc since glibc 2.34, in librt before.
    for name in ("librt.so.1", ctypes.util.find_library("rt"), None):
        try:
            library = ctypes.CDLL(name, use_errno=True)
            library.timer_create  # noqa: B018 - raises AttributeError when absent
            return library
        except (OSError, AttributeError):
            continue
    raise InterruptUnavailable("no timer_create in this C library")


class Interrupter:
    """The JS thread's CPU timer and interrupt callback. Create it on the thread that runs
    JavaScript (the timer counts the CPU time of the thread that creates it)."""

    def __init__(
        self,
        resident: Callable[[], int],
        collect: Callable[[], object] | None = None,
        *,
        tick: float = TICK,
        quiet_ticks: int = QUIET_TICKS,
    ) -> None:
        """``resident`` gives the host's resident size; ``collect`` collects the engine's
        garbage (and hands it back to the system), before a run is stopped for its memory."""
        import pythonmonkey

        self._resident = resident
        self._collect = collect
        self._tick_every = tick
        self._quiet_ticks = quiet_ticks
        where = os.path.dirname(pythonmonkey.__file__)
        try:
            bridge = ctypes.CDLL(os.path.join(where, "pythonmonkey.so"))
            engine = ctypes.CDLL(os.path.join(where, "libmozjs-136a1.so"))
            cx = ctypes.c_void_p.in_dll(bridge, "GLOBAL_CX").value
            add_callback = getattr(engine, _ADD_CALLBACK)
            request = getattr(engine, _REQUEST_INTERRUPT)
        except (OSError, AttributeError, ValueError) as exc:
            raise InterruptUnavailable(f"pythonmonkey's engine symbols are missing: {exc}") from exc
        if not cx:
            raise InterruptUnavailable("pythonmonkey has no JS context yet")
        timers = _timer_library()
        self._settime = timers.timer_settime
        self._settime.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.POINTER(_ITimerSpec),
            ctypes.c_void_p,
        ]
        self._settime.restype = ctypes.c_int
        self._delete = timers.timer_delete
        self._delete.argtypes = [ctypes.c_void_p]
        self._delete.restype = ctypes.c_int
        event = _SigEvent()
        event.sigev_notify = _SIGEV_THREAD
        event.sigev_value.sival_ptr = cx
        event.sigev_notify_function = ctypes.cast(request, ctypes.c_void_p).value
        self._timer = ctypes.c_void_p()
        created = timers.timer_create(
            _CLOCK_THREAD_CPUTIME_ID, ctypes.byref(event), ctypes.byref(self._timer)
        )
        if created:
            raise InterruptUnavailable(f"timer_create failed: {os.strerror(ctypes.get_errno())}")
        self._spec = _ITimerSpec()
        self._spec_ref = ctypes.byref(self._spec)
        # Kept referenced: the engine holds only the bare function pointer.
        self._callback = _Callback(self._on_interrupt)
        add_callback.argtypes = [ctypes.c_void_p, _Callback]
        add_callback.restype = ctypes.c_bool
        if not add_callback(cx, self._callback):
            raise InterruptUnavailable("JS_AddInterruptCallback failed")
        request.argtypes = [ctypes.c_void_p]
        request.restype = None
        self._request = request
        self._cx = cx
        self._armed = False
        self._programmed = math.inf
        """When the timer fires next, on the thread's CPU clock (infinity: not set)."""
        self._deadline = 0.0
        self._stopped: str | None = None
        self._memory_limit = 0
        self._ceiling = 0
        self._resident_before = 0
        self._charged_before = 0
        self._quiet_bytes = 0
        self._next_tick = math.inf
        self._interval = TICK
        self._busy_interval = TICK
        self._quiet = 0
        self._tick_resident = 0
        self.charged = 0
        """What the stopped turn's run had added to the host, when it was stopped for memory."""
        self.host_resident = 0
        """The host's resident size when a turn was stopped for ``HOST_MEMORY``."""

    def arm(
        self,
        cpu_now: float,
        budget: float,
        memory_limit: int = 0,
        resident_before: int = 0,
        charged_before: int = 0,
        ceiling: int = 0,
    ) -> None:
        """Before a turn: stop it once the thread has used ``budget`` more CPU seconds than
        ``cpu_now`` (its ``time.thread_time()``), or, with a ``memory_limit`` and the host's
        resident size and the run's charge before the turn, once it is past that limit, or
        once the host is past its ``ceiling`` (0: none)."""
        self._armed = True
        self._stopped = None
        self._deadline = cpu_now + budget
        if memory_limit and resident_before:
            self._memory_limit = memory_limit
            self._ceiling = ceiling
            self._resident_before = self._tick_resident = resident_before
            self._charged_before = charged_before
            self._quiet_bytes = max(1 << 20, memory_limit >> 6)
            # Near the ceiling, a turn that allocates at full speed (1-3 GB/s) would pass the
            # host's limit itself between two ticks: it is measured ten times as often.
            near = ceiling and resident_before + memory_limit > ceiling
            self._busy_interval = (
                self._tick_every / NEAR_CEILING_TICKS if near else self._tick_every
            )
            self._interval = self._busy_interval
            self._quiet = 0
            self._next_tick = cpu_now + self._interval
        else:
            self._memory_limit = 0
            self._next_tick = math.inf
        # A timer set for a previous turn that fires before this one's first event is left
        # as it is: it makes one early interrupt, which sets it right (``_on_interrupt``).
        # Most turns are short, and the system call is most of what arming costs.
        if not cpu_now < self._programmed <= min(self._deadline, self._next_tick):
            self._program(min(self._deadline, self._next_tick))

    def expire(self) -> None:
        """End the armed turn at the engine's next check, as if its CPU budget had run out.
        Called on the JS thread (from a call JavaScript made into the host), so the request is
        in place before any more of the turn's code runs."""
        if self._armed:
            self._deadline = 0.0
            self._request(self._cx)

    def disarm(self) -> str | None:
        """After the turn: ``CPU`` or ``MEMORY`` if it was stopped, else None. The timer may
        stay set: an interrupt between turns is answered "go on"."""
        self._armed = False
        if self._stopped is not None:
            self._program(math.inf)
        return self._stopped

    def close(self) -> None:
        """Delete the timer: it may be left set after a turn (``disarm``), and must not fire
        once the engine is gone."""
        self._armed = False
        self._delete(self._timer)

    def _program(self, at: float, every: float = 0.0) -> None:
        """Fire when the thread's CPU clock reads ``at`` (never, for infinity), then every
        ``every`` seconds."""
        self._programmed = at
        spec = self._spec
        # A zero expiry disarms the timer; one in the past fires at once.
        at = 0.0 if at == math.inf else max(at, 1e-9)
        seconds, fraction = divmod(at, 1.0)
        spec.it_value.tv_sec = int(seconds)
        spec.it_value.tv_nsec = int(fraction * 1e9)
        seconds, fraction = divmod(every, 1.0)
        spec.it_interval.tv_sec = int(seconds)
        spec.it_interval.tv_nsec = int(fraction * 1e9)
        self._settime(self._timer, _TIMER_ABSTIME, self._spec_ref, None)

    def _on_interrupt(self, _cx: int) -> bool:
        # On the JS thread, inside the running script. Any interrupt request lands here (one
        # timed for an earlier turn too), so the clock decides, not the call.
        if not self._armed:
            return True
        if self._stopped is not None:
            return False
        now = time.thread_time()
        if now >= self._deadline - _SLACK:
            return self._stop(CPU)
        # Every interrupt of a run with a memory limit is a tick, early ones too: a match of a
        # regular expression counts interrupts, not ticks (see the module's docstring).
        if self._memory_limit:
            stop = self._tick(now)
            if stop is not None:
                return self._stop(stop)
        self._program(min(self._deadline, self._next_tick))
        return True

    def _tick(self, now: float) -> str | None:
        """Measure the turn's growth: ``MEMORY`` if its run is past its memory limit,
        ``HOST_MEMORY`` if the host is past its ceiling, else None."""
        resident = self._resident()
        charged = self._charged_before + resident - self._resident_before
        over_ceiling = self._ceiling and resident > self._ceiling
        if (over_ceiling or charged > self._memory_limit) and self._collect is not None:
            # Garbage first, as after a turn (bridge.py) and as V8 does at its heap limit: a
            # turn that allocates and drops big buffers holds far less than it grew the host.
            # An interrupt is a point where the engine itself collects, so it may here.
            self._collect()
            resident = self._resident()
            charged = self._charged_before + resident - self._resident_before
        grew = resident - self._resident_before
        if self._ceiling and resident > self._ceiling and grew >= self._ceiling >> 5:
            # Past the ceiling, and this very turn grew the host by a thirty-second of it: the
            # run to end is this one, not the others, which have not run meanwhile (nor one
            # that took a few pages of a host that others, or leftovers, filled).
            self.charged, self.host_resident = charged, resident
            return HOST_MEMORY
        if charged > self._memory_limit:
            self.charged = charged
            return MEMORY
        if resident - self._tick_resident >= self._quiet_bytes:
            self._quiet, self._interval = 0, self._busy_interval
        else:
            self._quiet += 1
            self._interval *= 2
        self._tick_resident = resident
        self._next_tick = math.inf if self._quiet >= self._quiet_ticks else now + self._interval
        return None

    def _stop(self, why: str) -> bool:
        self._stopped = why
        self._program(time.thread_time() + RETRY, RETRY)
        return False
