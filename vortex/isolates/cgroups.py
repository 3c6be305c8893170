"""A memory cgroup per host, where the machine lets the server make them (cgroup v1 or v2).

The watchdog reads each host's RSS every 250 ms and replaces a host past its limit; an allocation
faster than that can take much more memory in between. A cgroup is the kernel's hard stop: a host
that reaches the cgroup's limit is killed by the kernel's OOM killer at once, and the supervisor
reports its runs as ``memory_limit_exceeded``. The host's boot memory stays charged to the
server's own cgroup (neither version moves charges with a process), so the limit applies to what
the host allocates once it runs code.

Host cgroups are children of the server's own memory cgroup. v1 needs that directory to be
writable. v2 also needs the memory controller handed down to children, which the kernel allows
only while the cgroup holds no process itself: a server alone in its cgroup (a systemd service
with ``Delegate=yes``, a container's only process) moves into a leaf of its own first. Where none
of this is possible, hosts run without a cgroup and the watchdog alone enforces the limit.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from vortex.isolates.cgroupfs import (
    PROC_SELF,
    V1,
    V2,
    MemoryCgroupVersion,
    memory_cgroup_dir,
    read_words,
)
from vortex.isolates.pids import left_by_dead_process

log = logging.getLogger(__name__)

_numbers = itertools.count()


@dataclass(frozen=True, slots=True)
class HostCgroup:
    path: Path
    version: MemoryCgroupVersion = V1
    host_limit_bytes: int = 0
    """The host's whole memory limit, for messages (the cgroup's own is that less boot memory)."""

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of this cgroup for its memory limit."""
        try:
            text = (self.path / self.version.events_file).read_text()
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

    def __init__(self, parent: Path, version: MemoryCgroupVersion = V1) -> None:
        self.parent = parent
        self.version = version

    @classmethod
    def detect(cls, proc: Path = PROC_SELF) -> HostCgroups | None:
        found = memory_cgroup_dir(proc)
        if found is None:
            log.info("hosts run without a memory cgroup (this process is in none it can see)")
            return None
        version, parent = found
        if version is V2 and not _hand_memory_down(parent):
            return None
        probe = parent / f"vortex-probe-{os.getpid()}"
        try:
            probe.mkdir()
            probe.rmdir()
        except OSError as exc:
            log.info("hosts run without a memory cgroup (%s is not writable: %s)", parent, exc)
            return None
        cgroups = cls(parent, version)
        cgroups.remove_stale()
        return cgroups

    def remove_stale(self) -> None:
        """Remove the cgroups of hosts of servers that died without cleaning up (SIGKILL)."""
        for path in self.parent.glob("vortex-*-*"):
            if left_by_dead_process(path.name, "vortex-"):
                HostCgroup(path).remove()

    def create(self, limit_bytes: int, host_limit_bytes: int = 0) -> HostCgroup | None:
        path = self.parent / f"vortex-{os.getpid()}-{next(_numbers)}"
        try:
            path.mkdir()
            (path / self.version.limit_file).write_text(str(limit_bytes))
        except OSError as exc:
            log.warning("could not make a memory cgroup for a host: %s", exc)
            HostCgroup(path).remove()
            return None
        if self.version is V2:
            # At its limit a v2 cgroup swaps before the OOM killer acts: a bomb would crawl
            # through swap instead of being stopped.
            with contextlib.suppress(OSError):
                (path / "memory.swap.max").write_text("0")
        return HostCgroup(path, self.version, host_limit_bytes)


def _hand_memory_down(own: Path) -> bool:
    """Enable the memory controller for the children of ``own`` (v2), moving this process into
    a leaf of ``own`` first if it is alone there."""
    subtree = own / "cgroup.subtree_control"
    if "memory" in read_words(subtree):
        return True
    me = str(os.getpid())
    procs = read_words(own / "cgroup.procs")
    if any(pid != me for pid in procs):
        log.info(
            "hosts run without a memory cgroup: other processes share the server's cgroup %s "
            "(with cgroup v2 the server must be alone in it, as a systemd service with "
            "Delegate=yes or a container's only process is)",
            own,
        )
        return False
    try:
        if procs:
            leaf = own / f"vortex-{me}-server"
            leaf.mkdir(exist_ok=True)
            (leaf / "cgroup.procs").write_text(me)
        subtree.write_text("+memory")
    except OSError as exc:
        log.info("hosts run without a memory cgroup (%s cannot hand memory down: %s)", own, exc)
        return False
    return True
