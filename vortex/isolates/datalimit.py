"""A host's private writable memory capped by ``RLIMIT_DATA``, a little past its memory limit.

A native call can ask for more than the host may hold at once and write all of it before any
check of the host runs: ``'\\u1234'.repeat(2 ** 30 - 30).charCodeAt(0)`` flattens a 2 GiB string
in one memcpy, and the host's memory cgroup killed it with every run on it. Past
``RLIMIT_DATA`` such an allocation fails instead: SpiderMonkey throws its "out of memory" to
the run (``memory_limit_exceeded``, harness/logs.js) and the host goes on. The limit counts
writable private mappings only, so the engine's reservations for WebAssembly memories (no
access until used) are not charged; it counts what a mapping may hold, not what is resident,
which is why it sits a whole memory limit above what the host had after its boot.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)


def data_bytes(pid: int) -> int:
    """The process's private writable memory (``VmData``), 0 if it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def limit_data(pid: int, allowance: int) -> None:
    """Cap ``pid``'s private writable memory at what it has now plus ``allowance``."""
    now = data_bytes(pid)
    if not now or allowance <= 0:
        return
    try:
        _, hard = resource.prlimit(pid, resource.RLIMIT_DATA)
        limit = now + allowance
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.prlimit(pid, resource.RLIMIT_DATA, (limit, hard))
    except (OSError, ValueError) as exc:
        log.warning("could not limit the data of host %s: %s", pid, exc)
