"""A few bytes of shared memory through which a host tells its supervisor what it is running.

The host cannot be asked while JavaScript runs (it holds the GIL and cannot be interrupted), so
before every turn of its event loop it writes when the turn began, for which invocation, and how
much CPU time its thread had used by then; the supervisor reads that from outside and kills a
host whose turn has used more CPU than the limit. CLOCK_MONOTONIC is the same for every process
of the machine, so wall times compare directly; CPU time is the host's main thread's
(CLOCK_THREAD_CPUTIME_ID there, ``/proc/<pid>/task/<pid>/stat`` here: the same accounting), so a
host that is descheduled in the middle of a turn is not taken for a CPU hog.
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path

# turn start (monotonic seconds, 0.0 when idle), invocation id, the thread's CPU seconds then
_LAYOUT = struct.Struct("=dqd")
NO_INVOCATION = -1


class TurnClock:
    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
        fd = os.open(path, flags, 0o600)
        try:
            if create:
                os.ftruncate(fd, _LAYOUT.size)
            self._map = mmap.mmap(fd, _LAYOUT.size)
        finally:
            os.close(fd)
        if create:
            _LAYOUT.pack_into(self._map, 0, 0.0, NO_INVOCATION, 0.0)

    def enter(self, started: float, invocation: int, cpu_started: float) -> None:
        _LAYOUT.pack_into(self._map, 0, started, invocation, cpu_started)

    def leave(self) -> None:
        _LAYOUT.pack_into(self._map, 0, 0.0, NO_INVOCATION, 0.0)

    def read(self) -> tuple[float, int, float]:
        """(turn start, invocation, CPU seconds at turn start); a start of 0.0 means idle."""
        started, invocation, cpu_started = _LAYOUT.unpack_from(self._map, 0)
        return float(started), int(invocation), float(cpu_started)

    def close(self) -> None:
        self._map.close()
