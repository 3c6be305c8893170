"""Errors of cron triggers, with their stable codes."""

from __future__ import annotations

from vortex.errors import BadRequest


class InvalidCron(BadRequest):
    """A schedule that is not standard five-field cron (given at deploy: 400)."""

    code = "invalid_cron"


class TooManySchedules(BadRequest):
    """More schedules than a function may have (``MAX_SCHEDULES``: 400)."""

    code = "too_many_schedules"


class LockUnavailable(Exception):
    """The shared lock store (Redis) cannot say whether a tick is taken: the tick waits."""
