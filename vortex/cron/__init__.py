"""Cron triggers: five-field schedules, fired once per tick across every node.

``Scheduler`` (``vortex.cron.scheduler``) reads a ``ScheduleSource``, claims each due tick
through a ``TickLock`` (Redis with several nodes; none with the embedded default, chosen in
``vortex.backends.make_tick_lock``) and calls ``run(function_id, scheduled_time)``. docs/cron.md
says what is and is not guaranteed.
"""

from vortex.cron.errors import InvalidCron, LockUnavailable
from vortex.cron.lock import LocalTickLock, TickLock
from vortex.cron.schedule import CronSchedule
from vortex.cron.scheduler import RunCallback, Scheduler
from vortex.cron.source import MemorySchedules, ScheduleSource

__all__ = [
    "CronSchedule",
    "InvalidCron",
    "LocalTickLock",
    "LockUnavailable",
    "MemorySchedules",
    "RunCallback",
    "ScheduleSource",
    "Scheduler",
    "TickLock",
]
