"""A few bytes of shared memory through which a host tells its supervisor what it is running.

The host cannot be asked while JavaScript runs (it holds the GIL), so before every turn of its
event loop it writes when the turn began, for which invocation, and how much CPU time its thread
had used by then; the supervisor reads that from outside and kills a host whose turn has used
more CPU than the limit, and a grace more when the host interrupts its own turns (interrupt.py):
the backstop for a turn the interrupt does not end. CLOCK_MONOTONIC is the same for every process
of the machine, so wall times compare directly; CPU time is the host's main thread's
(CLOCK_THREAD_CPUTIME_ID there, ``/proc/<pid>/task/<pid>/stat`` here: the same accounting), so a
host that is descheduled in the middle of a turn is not taken for a CPU hog.

Two more words go the other way round, for memory. A run that leaks between turns (allocate,
then await a timer) is seldom the one in its turn when the supervisor finds the host too big.
Once the host is past a fraction of its limit, the supervisor asks it to *watch* its memory; the
host then measures how much each turn grew it, and names the run that grew it most: the one
the supervisor blames if it has to kill the host between turns. While runs have a memory limit,
the host also writes, before each turn, its resident size and what the run was charged so far.
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path

# turn start (monotonic seconds, 0.0 when idle), invocation id, the thread's CPU seconds then
_LAYOUT = struct.Struct("=dqd")
_WORD = struct.Struct("=q")
_WATCH_AT = _LAYOUT.size  # set by the supervisor: measure memory per turn
_GROWER_AT = _WATCH_AT + _WORD.size  # set by the host: the run that grew it most
_TURN_MEMORY = struct.Struct("=qqq")  # set by the host: invocation, resident size, charged
_TURN_MEMORY_AT = _GROWER_AT + _WORD.size
_ROUTES_AT = _TURN_MEMORY_AT + _TURN_MEMORY.size  # set by the supervisor: routes changed
_CEILING_AT = _ROUTES_AT + _WORD.size  # set by the supervisor: where the host sheds runs
_SIZE = _CEILING_AT + _WORD.size
NO_INVOCATION = -1


class TurnClock:
    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
        fd = os.open(path, flags, 0o600)
        try:
            if create:
                os.ftruncate(fd, _SIZE)
            self._map = mmap.mmap(fd, _SIZE)
        finally:
            os.close(fd)
        if create:
            _LAYOUT.pack_into(self._map, 0, 0.0, NO_INVOCATION, 0.0)
            _WORD.pack_into(self._map, _GROWER_AT, NO_INVOCATION)
            _TURN_MEMORY.pack_into(self._map, _TURN_MEMORY_AT, NO_INVOCATION, 0, 0)
            _WORD.pack_into(self._map, _ROUTES_AT, 0)
            _WORD.pack_into(self._map, _CEILING_AT, 0)

    def enter(self, started: float, invocation: int, cpu_started: float) -> None:
        _LAYOUT.pack_into(self._map, 0, started, invocation, cpu_started)

    def leave(self) -> None:
        _LAYOUT.pack_into(self._map, 0, 0.0, NO_INVOCATION, 0.0)

    def read(self) -> tuple[float, int, float]:
        """(turn start, invocation, CPU seconds at turn start); a start of 0.0 means idle."""
        started, invocation, cpu_started = _LAYOUT.unpack_from(self._map, 0)
        return float(started), int(invocation), float(cpu_started)

    def watch_memory(self, on: bool) -> None:
        _WORD.pack_into(self._map, _WATCH_AT, int(on))

    def watching_memory(self) -> bool:
        return bool(_WORD.unpack_from(self._map, _WATCH_AT)[0])

    def name_grower(self, invocation: int) -> None:
        _WORD.pack_into(self._map, _GROWER_AT, invocation)

    def grower(self) -> int:
        """The run that grew the host most since it began watching, or NO_INVOCATION."""
        return int(_WORD.unpack_from(self._map, _GROWER_AT)[0])

    def turn_memory(self, invocation: int, resident: int, charged: int) -> None:
        """Before a turn of ``invocation``: the host's resident size then, and what the run was
        charged by then, so that the supervisor can tell a run past its own memory limit in
        the middle of one turn (the host's ticks stop it first; this is the backstop)."""
        _TURN_MEMORY.pack_into(self._map, _TURN_MEMORY_AT, invocation, resident, charged)

    def read_turn_memory(self) -> tuple[int, int, int]:
        """(invocation, resident size before its turn, charged before it); a size of 0: unknown."""
        invocation, resident, charged = _TURN_MEMORY.unpack_from(self._map, _TURN_MEMORY_AT)
        return int(invocation), int(resident), int(charged)

    def routes_changed(self) -> None:
        """A deploy, rollback or delete: the host's routes are stale. Shared memory, not a
        frame: the client that deployed may call the function at once, on a connection the
        host could read before the pipe; the host reads this word before it uses a route."""
        (generation,) = _WORD.unpack_from(self._map, _ROUTES_AT)
        _WORD.pack_into(self._map, _ROUTES_AT, generation + 1)

    def routes_generation(self) -> int:
        return int(_WORD.unpack_from(self._map, _ROUTES_AT)[0])

    def set_memory_ceiling(self, size: int) -> None:
        """The resident size past which the host ends the run that grows it most, itself
        (pressure.py), before the supervisor would kill it with all its runs; 0: none."""
        _WORD.pack_into(self._map, _CEILING_AT, size)

    def memory_ceiling(self) -> int:
        return int(_WORD.unpack_from(self._map, _CEILING_AT)[0])

    def close(self) -> None:
        self._map.close()
