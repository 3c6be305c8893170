"""Liveness: a host that stops answering is replaced.

A host whose event loop turns answers a ``Ping`` between two turns. One that was stopped
(SIGSTOP), or whose loop is stuck outside any turn, answers nothing while the turn clock shows
it idle: the backstop (backstop.py), which watches turns, never sees it, and every run sent to
it would wait out its wall limit (with dedicated hosts, every run of its namespace). So the
watchdog pings each host every ``interval`` seconds, and one that has not answered for
``deadline`` seconds is killed and replaced; its runs end with ``host_restarted``.

A host in a long turn cannot answer either, and that is no sign of death: the backstop stops a
turn past its CPU limit, and a legitimate one under it must go on. So time spent in a turn
(the turn clock says when one runs) does not count against the deadline, unless the process
is stopped in the middle of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vortex.isolates.host_process import HostProcess
from vortex.isolates.outcome import HOST_RESTARTED

log = logging.getLogger(__name__)


def process_stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped by a signal (SIGSTOP, SIGTSTP) or a tracer."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in (b"T", b"t")


@dataclass(frozen=True, slots=True)
class Liveness:
    interval: float
    """Seconds between a host's answer and the next ping; 0: no pings."""
    deadline: float
    """Seconds a host may leave a ping unanswered, time in its turns aside."""

    def check(self, host: HostProcess, now: float, turn_started: float) -> bool:
        """Ping ``host`` when it is time; replace it if it has not answered in time.
        ``turn_started`` is the turn clock's (0.0: no turn running). True if it was killed."""
        if not self.interval or not host.listening_to_frames:
            return False
        if host.ping_sent is None:
            if now - host.answered_at >= self.interval:
                host.ping(now)
            return False
        if turn_started and not (now - turn_started > self.deadline and process_stopped(host.pid)):
            host.busy_seen = now
            host.ping_overdue = False
            return False
        if now - max(host.ping_sent, host.busy_seen) <= self.deadline:
            return False
        if not host.ping_overdue:
            # Seen late once: the answer may be in the pipe already, unread while this loop was
            # busy. It is read before the next tick; still none then, and the host goes.
            host.ping_overdue = True
            return False
        log.warning(
            "host %s did not answer a ping within %.0f ms; replacing it",
            host.pid,
            self.deadline * 1000,
        )
        host.kill(
            HOST_RESTARTED,
            "The host process running this invocation stopped answering (no answer to a "
            f"liveness ping within {self.deadline * 1000:.0f} ms) and was replaced; nothing of "
            "this run was kept",
        )
        return True
