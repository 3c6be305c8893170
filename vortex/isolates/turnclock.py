"""A few bytes of shared memory through which a host tells its supervisor what it is running.

The host cannot be asked while JavaScript runs (it holds the GIL and cannot be interrupted), so
before every turn of its event loop it writes when the turn began and for which invocation; the
supervisor reads that from outside and kills a host whose turn outlives the CPU limit.
CLOCK_MONOTONIC is the same for every process of the machine, so the times compare directly.
"""

from __future__ import annotations

import mmap
import os
import struct
from pathlib import Path

_LAYOUT = struct.Struct("=dq")  # turn start (monotonic seconds, 0.0 when idle), invocation id
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
            _LAYOUT.pack_into(self._map, 0, 0.0, NO_INVOCATION)

    def enter(self, started: float, invocation: int) -> None:
        _LAYOUT.pack_into(self._map, 0, started, invocation)

    def leave(self) -> None:
        _LAYOUT.pack_into(self._map, 0, 0.0, NO_INVOCATION)

    def read(self) -> tuple[float, int]:
        started, invocation = _LAYOUT.unpack_from(self._map, 0)
        return float(started), int(invocation)

    def close(self) -> None:
        self._map.close()
