"""The pool supervisor: keeps warm host processes, dispatches invocations, enforces limits.

It lives in the server process and never imports pythonmonkey. Limits a host cannot enforce on
itself (a synchronous turn that never yields, memory) are enforced here by killing the host and
promoting a warm spare in its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vortex.errors import PoolUnavailable
from vortex.isolates.host_process import HostProcess, HostStartError
from vortex.isolates.limits import Limits
from vortex.isolates.outcome import (
    CPU_TIME_EXCEEDED,
    MEMORY_LIMIT_EXCEEDED,
    WALL_TIME_EXCEEDED,
    LogEntry,
    RunOutcome,
    platform_error,
)
from vortex.isolates.turnclock import NO_INVOCATION

log = logging.getLogger(__name__)

WATCH_INTERVAL = 0.05
MEMORY_CHECK_EVERY = 5  # watchdog ticks
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
JS_DIR = Path(__file__).with_name("js")


def default_ses_path() -> Path:
    configured = os.environ.get("VORTEX_SES_PATH")
    if configured:
        return Path(configured)
    return JS_DIR / "node_modules" / "ses" / "dist" / "ses.umd.js"


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


@dataclass(frozen=True, slots=True)
class PoolStats:
    active_workers: int
    max_workers: int
    spare_workers: int
    running: int
    host_restarts: int


class IsolatePool:
    def __init__(
        self,
        size: int,
        *,
        spares: int = 1,
        limits: Limits | None = None,
        host_memory_bytes: int = 1 << 30,
        ses_path: Path | None = None,
    ) -> None:
        self.size = size
        self.spares = spares
        self.limits = limits or Limits()
        self.host_memory_bytes = host_memory_bytes
        self.ses_path = ses_path or default_ses_path()
        self._active: list[HostProcess] = []
        self._spare: list[HostProcess] = []
        self._ids = itertools.count(1)
        self._workdir: Path | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._host_joined = asyncio.Event()
        self._starting = 0
        self._closing = False
        self._restarts = 0

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if not self.ses_path.is_file():
            raise HostStartError(
                f"SES was not found at {self.ses_path}: run script/bootstrap "
                "(it installs the JavaScript dependencies with npm)"
            )
        self._workdir = Path(tempfile.mkdtemp(prefix="vortex-hosts-"))
        hosts = await asyncio.gather(
            *(self._spawn() for _ in range(self.size + self.spares)), return_exceptions=True
        )
        for host in hosts:
            if isinstance(host, BaseException):
                await self.close()
                raise host
            self._adopt(host)
        self._spawn_task(self._watchdog())

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        hosts = self._active + self._spare
        self._active, self._spare = [], []
        await asyncio.gather(*(host.close() for host in hosts))
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def stats(self) -> PoolStats:
        return PoolStats(
            active_workers=sum(1 for h in self._active if h.alive),
            max_workers=self.size,
            spare_workers=sum(1 for h in self._spare if h.alive),
            running=sum(h.load for h in self._active),
            host_restarts=self._restarts,
        )

    def host_pids(self) -> list[int]:
        return [h.pid for h in self._active + self._spare]

    # -- work -----------------------------------------------------------------------------------
    async def invoke(
        self,
        code: str,
        *,
        on_log: Callable[[LogEntry], None],
        limits: Limits | None = None,
        filename: str = "index.js",
    ) -> RunOutcome:
        limits = limits or self.limits
        host = await self._pick_host()
        invocation = next(self._ids)
        started = time.perf_counter()
        future = host.run(
            invocation,
            {
                "t": "run",
                "id": invocation,
                "code": code,
                "limits": limits.to_json(),
                "filename": filename,
            },
            on_log,
            limits.cpu_ms,
        )
        # The host enforces the wall limit itself; this backstop only fires if it cannot.
        backstop = limits.wall_ms / 1000 + 2.0
        try:
            outcome = await asyncio.wait_for(asyncio.shield(future), backstop)
        except TimeoutError:
            logs = host.runs[invocation].logs if invocation in host.runs else []
            host.forget(invocation)
            outcome = RunOutcome(
                None,
                platform_error(
                    WALL_TIME_EXCEEDED, f"Wall time limit of {limits.wall_ms} ms exceeded"
                ),
                logs,
            )
        outcome.duration_ms = (time.perf_counter() - started) * 1000
        return outcome

    async def check(self, code: str) -> dict[str, Any] | None:
        """None if ``code`` compiles, else ``{"message", "line", "column"}``."""
        host = await self._pick_host()
        return await host.check(next(self._ids), code)

    # -- hosts ----------------------------------------------------------------------------------
    async def _spawn(self) -> HostProcess:
        assert self._workdir is not None
        self._starting += 1
        try:
            return await HostProcess.start(self.ses_path, self._workdir)
        finally:
            self._starting -= 1

    def _adopt(self, host: HostProcess) -> None:
        if len(self._active) < self.size:
            self._active.append(host)
            self._host_joined.set()
        else:
            self._spare.append(host)
        self._spawn_task(self._watch_exit(host))

    async def _pick_host(self) -> HostProcess:
        deadline = time.monotonic() + 30.0
        while True:
            candidates = [h for h in self._active if h.alive]
            if candidates:
                return min(candidates, key=lambda h: h.load)
            if self._closing:
                raise PoolUnavailable("the isolate pool is shutting down")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PoolUnavailable("no host process is available to run the function")
            self._host_joined.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._host_joined.wait(), remaining)

    async def _watch_exit(self, host: HostProcess) -> None:
        await host.exited.wait()
        if self._closing:
            return
        self._restarts += 1
        if host in self._active:
            self._active.remove(host)
            while self._spare and len(self._active) < self.size:
                spare = self._spare.pop(0)
                if spare.alive:
                    self._active.append(spare)
                    self._host_joined.set()
        elif host in self._spare:
            self._spare.remove(host)
        log.warning("host %s exited (%s); pool refilling", host.pid, host.exit_reason)
        self._spawn_task(self._refill())

    async def _refill(self) -> None:
        while not self._closing:
            missing = self.size + self.spares - len(self._active) - len(self._spare)
            if missing - self._starting <= 0:
                return
            try:
                host = await self._spawn()
            except HostStartError as exc:
                log.error("could not start a host process: %s", exc)
                await asyncio.sleep(1.0)
                continue
            if self._closing:
                await host.close()
                return
            self._adopt(host)

    async def _watchdog(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            tick += 1
            now = time.monotonic()
            for host in list(self._active):
                if not host.alive:
                    continue
                started, invocation = host.clock.read()
                if started:
                    pending = host.runs.get(invocation)
                    limit_ms = pending.cpu_limit_ms if pending else self.limits.cpu_ms
                    if (now - started) * 1000 > limit_ms:
                        host.kill(
                            CPU_TIME_EXCEEDED,
                            f"CPU time limit of {limit_ms} ms exceeded by one synchronous turn; "
                            "the host process running it was replaced",
                            None if invocation == NO_INVOCATION else invocation,
                        )
                        continue
                if tick % MEMORY_CHECK_EVERY == 0:
                    rss = _rss_bytes(host.pid)
                    if rss > self.host_memory_bytes:
                        culprit = invocation if started and invocation != NO_INVOCATION else None
                        host.kill(
                            MEMORY_LIMIT_EXCEEDED,
                            f"memory limit exceeded: the host reached {rss >> 20} MiB "
                            f"(limit {self.host_memory_bytes >> 20} MiB) and was replaced",
                            culprit,
                        )

    def _spawn_task(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
