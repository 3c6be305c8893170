"""Wall-clock bounds that hold on a busy machine.

A bound on elapsed time says that something was stopped *soon* (by its limit, not by a later
one). On a machine with several runnable processes per core a process gets a share of one, and
what took a second idle takes several: such bounds grow with the load per core. Which limit
stopped a run is proved by its error code and its CPU time, which load barely moves.
"""

from __future__ import annotations

import os


def load_per_core() -> float:
    return os.getloadavg()[0] / (os.cpu_count() or 1)


def scaled(seconds: float) -> float:
    """``seconds`` on an idle machine, stretched by the load per core beyond one."""
    return seconds * max(1.0, load_per_core())
