"""Whether a process still exists: what is left behind by a server that died is named by pid."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: it exists, and is not ours to judge
    return True


def left_by_dead_process(name: str, prefix: str) -> bool:
    """Whether ``name`` is ``<prefix><pid>-...`` for a process that no longer exists."""
    if not name.startswith(prefix):
        return False
    pid = name[len(prefix) :].split("-", 1)[0]
    return pid.isdigit() and not process_alive(int(pid))
