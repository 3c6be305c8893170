"""Objects the host keeps for a run's streams (compression, digests), known to JavaScript by a
number, and the tagged answers those streams give.

A run may hold only so many (each holds native state: zlib's, a hash's), and all of a run's are
dropped when it ends, so a run that never closes its streams leaves nothing behind. Answers
cross as bytearrays whose first byte says what follows (``DONE``, ``MORE``, ``FAILED``), so no
Python object or text of Python's reaches user code.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Generic, TypeVar

DONE = 0
"""Tag: the bytes that follow are the answer (all the output for now, a handle, a digest)."""
MORE = 1
"""Tag: the bytes that follow are output, and there is more: ask again."""
FAILED = 2
"""Tag: the operation failed; UTF-8 text follows, for a TypeError."""

T = TypeVar("T")


def tagged(tag: int, data: bytes) -> bytearray:
    out = bytearray(1 + len(data))
    out[0] = tag
    out[1:] = data
    return out


def failed(message: str) -> bytearray:
    return tagged(FAILED, message.encode())


class RunHandles(Generic[T]):
    """Values by handle, each owned by the run that opened it (``owner`` says which is current),
    at most ``per_run`` open per run."""

    def __init__(self, owner: Callable[[], int], per_run: int) -> None:
        self._owner = owner
        self.per_run = per_run
        self._values: dict[int, tuple[int, T]] = {}
        self._ids = itertools.count(1)
        self._open_by: dict[int, int] = {}

    def open(self, make: Callable[[], T]) -> int | None:
        """The handle of a new value (``make`` makes it), or None when the current run holds
        its maximum (nothing is made then: zlib's state alone is ~270 KB)."""
        owner = self._owner()
        held = self._open_by.get(owner, 0)
        if held >= self.per_run:
            return None
        handle = next(self._ids)
        self._values[handle] = (owner, make())
        self._open_by[owner] = held + 1
        return handle

    def get(self, handle: int) -> T | None:
        entry = self._values.get(handle)
        return None if entry is None else entry[1]

    def close(self, handle: int) -> None:
        entry = self._values.pop(handle, None)
        if entry is not None:
            self._open_by[entry[0]] -= 1

    def run_ended(self, owner: int) -> None:
        # Called at the end of every run: one dict pop for the runs that opened none.
        if self._open_by.pop(owner, None) is None:
            return
        for handle in [h for h, (o, _) in self._values.items() if o == owner]:
            del self._values[handle]
