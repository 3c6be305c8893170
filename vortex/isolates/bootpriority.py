"""A host boots at a low CPU priority and serves at the supervisor's.

Booting a host (SES, the web APIs, lockdown) costs about 0.9 s of CPU. Hosts are recycled under
load (``VORTEX_HOST_MAX_RUNS``), and the spare started behind a recycled host took that second
from the hosts serving: a burst of 10,000 connections that takes 1.73 s with recycling off took
2.58 s with a recycle in it (``bench/suite.py``). Booting at niceness 10 leaves it the CPU the
serving hosts do not use; once ready, the host gets the supervisor's priority back.

Raising a process's priority again needs CAP_SYS_NICE: without it (a container's non-root user)
hosts boot at the normal priority, since they could never get it back. Each host is a session
of its own (``start_new_session``), so with autogroup scheduling (Linux's default on desktops
and many servers) the niceness that counts is its session's (/proc/PID/autogroup): both are set.
"""

from __future__ import annotations

import contextlib
import os

BOOT_NICENESS = 10
"""Against a serving host at 0, a booting one gets about a tenth of a contended core."""


def _autogroup_nice(pid: int | str = "self") -> int | None:
    try:
        with open(f"/proc/{pid}/autogroup") as entry:
            return int(entry.read().rsplit("nice", 1)[1])
    except (OSError, ValueError, IndexError):
        return None


def _set_autogroup_nice(pid: int | str, nice: int) -> None:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/autogroup", "w") as entry:
        entry.write(str(nice))


class BootPriority:
    def __init__(self) -> None:
        self.enabled = os.geteuid() == 0
        """Whether the priority can be given back (root; CAP_SYS_NICE is not checked apart)."""
        self._nice = os.getpriority(os.PRIO_PROCESS, 0)
        self._autogroup = _autogroup_nice()

    def lower(self) -> None:
        """In the new host, between fork and exec (after its new session is made)."""
        if not self.enabled:
            return
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, self._nice + BOOT_NICENESS)
        if self._autogroup is not None:
            _set_autogroup_nice("self", self._autogroup + BOOT_NICENESS)

    def restore(self, pid: int) -> None:
        """The host is ready: its threads (made while it booted) and its session get the
        supervisor's priority."""
        if not self.enabled:
            return
        try:
            threads = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            return  # gone
        for tid in threads:
            with contextlib.suppress(OSError):  # a thread that ended meanwhile
                os.setpriority(os.PRIO_PROCESS, tid, self._nice)
        if self._autogroup is not None:
            _set_autogroup_nice(pid, self._autogroup)
