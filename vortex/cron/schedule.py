"""Standard five-field cron expressions, evaluated in UTC by ``cronsim``.

``minute hour day-of-month month day-of-week``, with lists, ranges, steps and names (``JAN``,
``MON``), and cronsim's ``L`` / ``W`` / ``#`` extensions; the macros ``@yearly``
(``@annually``), ``@monthly``, ``@weekly``, ``@daily`` (``@midnight``) and ``@hourly`` are
expanded here. A sixth (seconds) field is refused: a cron trigger is for minutes and longer, and
a schedule must mean the same thing to every node and every reader. Times are UTC, so a
schedule never fires twice or not at all on a daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cronsim import CronSim, CronSimError

from vortex.cron.errors import InvalidCron, TooManySchedules

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MAX_LENGTH = 256
MAX_SCHEDULES = 5
"""Schedules one function may have: as a paid Workers plan allows cron triggers per Worker."""
_EPSILON = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class CronSchedule:
    expression: str
    """As given (a macro stays a macro), for listings."""
    fields: str
    """The five fields cronsim evaluates."""

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        if not isinstance(expression, str) or not expression.strip():
            raise InvalidCron("a cron schedule is a string of five fields, e.g. '*/5 * * * *'")
        if len(expression) > MAX_LENGTH:
            raise InvalidCron(f"a cron schedule is at most {MAX_LENGTH} characters")
        text = " ".join(expression.split())
        fields = MACROS.get(text.lower(), text)
        if fields.startswith("@"):
            raise InvalidCron(f"unknown cron macro {text!r}; known: {', '.join(sorted(MACROS))}")
        count = len(fields.split(" "))
        if count != 5:
            raise InvalidCron(
                f"a cron schedule has five fields (minute hour day month weekday), not {count}: "
                f"{expression!r}"
            )
        try:
            next(CronSim(fields, datetime(2000, 1, 1, tzinfo=UTC)))
        except (CronSimError, StopIteration) as exc:
            raise InvalidCron(f"invalid cron schedule {expression!r}: {exc}") from None
        return cls(text, fields)

    def next_after(self, moment: datetime) -> datetime:
        """The first tick strictly after ``moment``."""
        return next(CronSim(self.fields, moment.astimezone(UTC)))

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The last tick at or before ``moment``."""
        # cronsim walks backwards from strictly before its start: start just after the moment.
        return next(CronSim(self.fields, moment.astimezone(UTC) + _EPSILON, reverse=True))


def parse_schedules(expressions: Iterable[str]) -> tuple[str, ...]:
    """Each expression checked and normalised, in the order given; one written twice (after
    normalising spaces) is kept once, as it could only fire twice in the same minute."""
    found: dict[str, None] = {}
    for expression in expressions:
        found.setdefault(CronSchedule.parse(expression).expression)
    if len(found) > MAX_SCHEDULES:
        raise TooManySchedules(
            f"a function has at most {MAX_SCHEDULES} cron schedules, not {len(found)}"
        )
    return tuple(found)
