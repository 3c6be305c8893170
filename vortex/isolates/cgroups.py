"""A memory cgroup per host, where the machine lets the server make them (cgroup v1 memory).

The watchdog reads each host's RSS every 250 ms and replaces a host past its limit; an allocation
faster than that can take much more memory in between. A cgroup is the kernel's hard stop: a host
that reaches the cgroup's limit is killed by the kernel's OOM killer at once, and the supervisor
reports its runs as ``memory_limit_exceeded``. The host's boot memory stays charged to the
server's own cgroup (v1 does not move charges), so the limit applies to what the host allocates
once it runs code. Where cgroups are not writable (containers without the privilege, cgroup v2
without a delegated subtree) hosts run without one and the watchdog alone enforces the limit.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from vortex.isolates.pids import process_alive

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup/memory")
_numbers = itertools.count()


@dataclass(frozen=True, slots=True)
class HostCgroup:
    path: Path
    host_limit_bytes: int = 0
    """The host's whole memory limit, for messages (the cgroup's own is that less boot memory)."""

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of this cgroup for its memory limit."""
        try:
            text = (self.path / "memory.oom_control").read_text()
        except OSError:
            return False
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill" and value.strip().isdigit():
                return int(value) > 0
        return False

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.rmdir()


class HostCgroups:
    """Makes the cgroups of one server's hosts under the server's own memory cgroup."""

    def __init__(self, parent: Path) -> None:
        self.parent = parent

    @classmethod
    def detect(cls, root: Path = CGROUP_ROOT) -> HostCgroups | None:
        own = _own_memory_cgroup()
        if own is None:
            return None
        parent = root / own.lstrip("/")
        probe = parent / f"vortex-probe-{os.getpid()}"
        try:
            probe.mkdir()
            probe.rmdir()
        except OSError as exc:
            log.info("hosts run without a memory cgroup (%s is not writable: %s)", parent, exc)
            return None
        cgroups = cls(parent)
        cgroups.remove_stale()
        return cgroups

    def remove_stale(self) -> None:
        """Remove the cgroups of hosts of servers that died without cleaning up (SIGKILL)."""
        for path in self.parent.glob("vortex-*-*"):
            pid = path.name.split("-")[1]
            if pid.isdigit() and not process_alive(int(pid)):
                HostCgroup(path).remove()

    def create(self, limit_bytes: int, host_limit_bytes: int = 0) -> HostCgroup | None:
        path = self.parent / f"vortex-{os.getpid()}-{next(_numbers)}"
        try:
            path.mkdir()
            (path / "memory.limit_in_bytes").write_text(str(limit_bytes))
        except OSError as exc:
            log.warning("could not make a memory cgroup for a host: %s", exc)
            HostCgroup(path).remove()
            return None
        return HostCgroup(path, host_limit_bytes)


def _own_memory_cgroup() -> str | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return path
    return None
