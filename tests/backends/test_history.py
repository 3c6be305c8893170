"""The ``RunHistory`` contract, in memory and in Redis: newest first, capped, per function."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.backends.conftest import RedisServer
from vortex.errors import HistoryUnavailable
from vortex.history.base import MAX_LOG_LINES, RunEntry, RunHistory, bounded_logs
from vortex.history.memory import MemoryRunHistory
from vortex.history.redis import RedisRunHistory
from vortex.isolates.outcome import LogEntry

CAP = 5


def entry(n: int, *, ok: bool = True) -> RunEntry:
    return RunEntry(
        run_id=f"run-{n}",
        at=f"2026-01-01T00:00:{n:02d}.000Z",
        function_id="a1b2c3d4-e5f6-4890-abcd-ef1234567890",
        version=None,
        trigger="execute",
        ok=ok,
        error_code=None if ok else "function_error",
        execution_time_ms=1.5,
        cpu_time_ms=0.5,
        logs=[LogEntry(level="log", message=f"line {n}", timestamp="t")],
    )


@pytest.fixture(params=["memory", "redis"])
async def history(
    request: pytest.FixtureRequest, redis_factory: Callable[[], RedisServer]
) -> AsyncIterator[RunHistory]:
    made: RunHistory
    if request.param == "redis":
        made = RedisRunHistory(redis_factory().url, CAP)
    else:
        made = MemoryRunHistory(CAP)
    yield made
    await made.close()


async def test_newest_first_and_capped(history: RunHistory) -> None:
    for n in range(8):
        await history.record("f", entry(n, ok=n != 6))
    runs = await history.runs("f")
    assert [r.run_id for r in runs] == ["run-7", "run-6", "run-5", "run-4", "run-3"]
    assert runs[1].error_code == "function_error" and not runs[1].ok
    assert runs[0].logs == [{"level": "log", "message": "line 7", "timestamp": "t"}]
    assert [r.run_id for r in await history.runs("f", 2)] == ["run-7", "run-6"]
    last = await history.last("f")
    assert last is not None and last.run_id == "run-7"
    assert await history.runs("other") == [] and await history.last("other") is None


async def test_forget(history: RunHistory) -> None:
    await history.record("f", entry(1))
    await history.record("g", entry(2))
    await history.forget("f")
    assert await history.runs("f") == []
    assert len(await history.runs("g")) == 1


async def test_an_entry_round_trips_through_json() -> None:
    original = entry(3, ok=False)
    assert RunEntry.from_bytes(original.to_bytes()) == original
    assert "logs" not in original.summary_json()


def test_logs_kept_are_bounded() -> None:
    many = [LogEntry(level="log", message="x", timestamp="t") for _ in range(MAX_LOG_LINES + 5)]
    kept, truncated = bounded_logs(many)
    assert len(kept) == MAX_LOG_LINES and truncated
    huge = [LogEntry(level="log", message="y" * 20_000, timestamp="t")]
    assert bounded_logs(huge) == ([], True)
    assert bounded_logs(many[:3]) == (many[:3], False)


async def test_redis_down_reads_are_unavailable_and_writes_do_not_raise(
    redis_factory: Callable[[], RedisServer],
) -> None:
    server = redis_factory()
    history = RedisRunHistory(server.url, CAP)
    try:
        server.stop()
        await history.record("f", entry(1))  # logged, not raised: a run never fails for it
        with pytest.raises(HistoryUnavailable):
            await history.runs("f")
        assert not (await history.health()).ok
    finally:
        await history.close()
