from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vortex.cron import CronSchedule, InvalidCron


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "moment", "latest", "following"),
    [
        ("*/5 * * * *", "2026-01-01T12:00:00", "2026-01-01T12:00:00", "2026-01-01T12:05:00"),
        ("*/5 * * * *", "2026-01-01T12:04:59", "2026-01-01T12:00:00", "2026-01-01T12:05:00"),
        ("0 9 * * MON-FRI", "2026-01-03T10:00:00", "2026-01-02T09:00:00", "2026-01-05T09:00:00"),
        ("@hourly", "2026-01-01T12:30:00", "2026-01-01T12:00:00", "2026-01-01T13:00:00"),
        ("@daily", "2026-01-01T12:30:00", "2026-01-01T00:00:00", "2026-01-02T00:00:00"),
        ("0 0 29 2 *", "2026-01-01T00:00:00", "2024-02-29T00:00:00", "2028-02-29T00:00:00"),
    ],
)
def test_ticks(expression: str, moment: str, latest: str, following: str) -> None:
    schedule = CronSchedule.parse(expression)
    assert schedule.latest_at_or_before(at(moment)) == at(latest)
    assert schedule.next_after(at(moment)) == at(following)


def test_whitespace_is_normalised() -> None:
    assert CronSchedule.parse("  */5   *  * * * ").expression == "*/5 * * * *"


@pytest.mark.parametrize(
    "expression",
    ["", "   ", "* * * *", "0 * * * * *", "61 * * * *", "* 25 * * *", "@reboot", "every minute"],
)
def test_invalid(expression: str) -> None:
    with pytest.raises(InvalidCron) as caught:
        CronSchedule.parse(expression)
    assert caught.value.code == "invalid_cron" and caught.value.status == 400
