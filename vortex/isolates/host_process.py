"""The supervisor's handle on one host process: spawn it, talk frames, watch it, kill it."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import itertools
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from vortex.isolates import protocol
from vortex.isolates.bootpriority import BootPriority
from vortex.isolates.cgroups import HostCgroup
from vortex.isolates.exchange import ResponseHead
from vortex.isolates.handoff import Handoffs
from vortex.isolates.invocation import Invocation
from vortex.isolates.outcome import (
    HOST_CRASHED,
    HOST_RESTARTED,
    MEMORY_LIMIT_EXCEEDED,
    PAYLOAD_TOO_LARGE,
    RunOutcome,
    platform_error,
)
from vortex.isolates.protocol import (
    AccessRecord,
    Adopt,
    Answered,
    AssetRead,
    BodyEnd,
    Call,
    Checked,
    Chunk,
    Done,
    Ended,
    ErrorBody,
    Failed,
    Fetch,
    FetchAbort,
    FetchPull,
    Log,
    Ping,
    Pong,
    Ready,
    Resolve,
    Response,
    RunRecord,
    ToHost,
    ToSupervisor,
)
from vortex.isolates.turnclock import NO_INVOCATION, TurnClock

FetchHandler = Callable[["HostProcess", Invocation, Fetch], None]
"""Handles a run's ``Fetch`` frame; answers with a ``Fetched`` frame."""
CallHandler = Callable[["HostProcess", Invocation, Call], None]
"""Handles a run's ``Call`` frame (a binding such as KV); answers with an ``Answered`` frame."""


def _no_bindings(host: HostProcess, invocation: Invocation, message: Call) -> None:
    error = ErrorBody("binding_unavailable", "no binding is available")
    host.send(Answered(invocation.id, message.cid, error=error))


class Listening(Protocol):
    """What a host's listener runs need of the supervisor (the run service, runs.py)."""

    def resolve(self, host: HostProcess, message: Resolve) -> None:
        """Answer a ``Resolve`` frame with a ``Routed`` frame."""

    def read_asset(self, host: HostProcess, message: AssetRead) -> None:
        """Answer an ``AssetRead`` frame with an ``AssetData`` frame."""

    def adopt(self, host: HostProcess, message: Adopt) -> Invocation | None:
        """The supervisor's handle on a run the host started, from its ``Adopt`` frame."""

    def ended_unannounced(
        self,
        host: HostProcess,
        records: list[RunRecord],
        access: list[AccessRecord],
        dropped: int,
    ) -> None:
        """An ``Ended`` frame: whole listener runs the supervisor never heard of, the access
        records of listener requests, and how many of those the host dropped."""


log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1
_clock_numbers = itertools.count()


class HostStartError(Exception):
    """A host process died or said nothing sensible before it was ready."""


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: the kernel kills the host if the server dies,
    # even by SIGKILL, so no host ever outlives its server.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _BOOT_PRIORITY.lower()


_BOOT_PRIORITY = BootPriority()


def _host_environment() -> dict[str, str]:
    # Nothing of the server's environment (credentials above all) is inherited by a host.
    env = {"PATH": os.defpath, "LANG": "C.UTF-8"}
    for name in ("PYTHONPATH", "VORTEX_HOST_INTERRUPT"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class HostProcess:
    def __init__(
        self,
        process: asyncio.subprocess.Process,
        clock: TurnClock,
        on_fetch: FetchHandler,
        on_call: CallHandler = _no_bindings,
    ) -> None:
        self.process = process
        self.clock = clock
        self.on_fetch = on_fetch
        self.on_call = on_call
        self.pid = process.pid
        self.runs: dict[int, Invocation] = {}
        self.checks: dict[int, asyncio.Future[dict[str, Any] | None]] = {}
        self.exit_reason: tuple[str, str, int | None] | None = None
        self.exited = asyncio.Event()
        self._reader_task: asyncio.Task[None] | None = None
        self._outbox = protocol.Outbox()
        self._pings = 0
        self.ping_sent: float | None = None
        """When the ping not answered yet was sent (monotonic seconds), if one is out."""
        self.answered_at = time.monotonic()
        """When the host last answered a ping (or was ready)."""
        self.busy_seen = 0.0
        """When the watchdog last saw the host in a turn while a ping was out (liveness.py)."""
        self.ping_overdue = False
        """Whether the watchdog found the ping unanswered past its deadline once already."""
        self.cgroup: HostCgroup | None = None
        self.handoffs: Handoffs | None = None
        """Where connections of the functions listener are handed over (SCM_RIGHTS)."""
        self.listening: Listening | None = None
        self.interrupts = False
        """Whether the host stops its own runs' turns at their limits (interrupt.py): the
        watchdog then gives it a grace before it kills it (``limits.backstop_*``)."""
        self.memory_over_since: tuple[float, float] | None = None
        """The turn (its start) the watchdog last saw past its run's memory backstop, and when
        it first did (``backstop.run_past_its_memory_in_a_turn``)."""

    @classmethod
    async def start(
        cls,
        ses_path: Path,
        webapi_path: Path,
        workdir: Path,
        on_fetch: FetchHandler,
        *,
        on_call: CallHandler = _no_bindings,
        start_timeout: float = 60.0,
    ) -> HostProcess:
        clock_path = workdir / f"clock-{os.getpid()}-{next(_clock_numbers)}"
        clock = TurnClock(clock_path, create=True)
        # Message boundaries hold on a SEQPACKET pair: one connection and its first bytes each.
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "vortex.isolates.host",
                str(clock_path),
                str(ses_path),
                str(webapi_path),
                str(theirs.fileno()),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=_host_environment(),
                cwd=workdir,
                preexec_fn=_die_with_parent,
                start_new_session=True,
                pass_fds=(theirs.fileno(),),
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        host = cls(process, clock, on_fetch, on_call)
        host.handoffs = Handoffs(ours)
        assert process.stdout is not None
        try:
            reading = protocol.read(process.stdout, protocol.FOR_SUPERVISOR)
            hello = await asyncio.wait_for(reading, start_timeout)
        except (TimeoutError, protocol.FrameError) as exc:
            host.kill()
            await process.wait()
            clock.close()
            raise HostStartError(f"host process did not start: {exc!r}") from exc
        if not isinstance(hello, Ready):
            host.kill()
            await process.wait()
            clock.close()
            raise HostStartError(f"host process did not start (exit code {process.returncode})")
        _BOOT_PRIORITY.restore(process.pid)
        host.interrupts = hello.interrupts
        host.answered_at = time.monotonic()
        host._reader_task = asyncio.create_task(host._read_loop())
        return host

    @property
    def load(self) -> int:
        return len(self.runs)

    @property
    def alive(self) -> bool:
        return not self.exited.is_set() and self.exit_reason is None

    def send(self, message: ToHost) -> None:
        # The frames of one loop iteration (the runs of a burst of requests) leave in one
        # write: a write to the pipe is a system call, 9% of the server's time under load.
        if not self._outbox:
            asyncio.get_running_loop().call_soon(self.flush)
        try:
            self._outbox.add(message)
        except protocol.FrameTooLarge as exc:
            # Over what the host reads (an operator's response or asset limit above 64 MiB):
            # the host would take the pipe for broken and end. The run's request fails instead.
            refused = _refused(message, exc)
            if refused is None:
                raise
            self._outbox.add(refused)

    def flush(self) -> None:
        if not self._outbox:
            return
        data = self._outbox.take()
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.write(data)

    @property
    def listening_to_frames(self) -> bool:
        """Whether frames still reach the host (not once it was told to finish and exit)."""
        stdin = self.process.stdin
        return self.alive and stdin is not None and not stdin.is_closing()

    def ping(self, now: float) -> None:
        """Ask the host whether it is there (liveness.py); ``Pong`` answers it."""
        self._pings += 1
        self.ping_sent = now
        self.send(Ping(self._pings))

    def hand_off(self, connection: socket.socket, data: bytes) -> None:
        """Give the host a client's connection (owned by the host from now on), with the bytes
        already read from it."""
        if self.handoffs is None or not self.alive:
            connection.close()
            raise ConnectionError("the host is gone")
        if data:
            self.handoffs.send(connection, data)
        else:
            self.handoffs.send_unread(connection)

    def run(self, invocation: Invocation, message: protocol.Run) -> None:
        self.runs[invocation.id] = invocation
        invocation.pull_body = functools.partial(self._body_read, invocation.id)
        invocation.cancel_body = functools.partial(self._body_read, invocation.id, None)
        self.send(message)

    def _body_read(self, invocation: int, size: int | None) -> None:
        """The reader of a run's streamed body took ``size`` bytes, or gave up (None)."""
        if self.alive and invocation in self.runs:
            if size is None:
                self.send(protocol.BodyCancel(invocation))
            else:
                self.send(protocol.BodyPull(invocation, size))

    def check(self, invocation: int, code: str) -> asyncio.Future[dict[str, Any] | None]:
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self.checks[invocation] = future
        self.send(protocol.Check(invocation, code))
        return future

    def forget(self, invocation: int) -> None:
        self.runs.pop(invocation, None)

    def memory_culprit(self, started: float, invocation: int) -> int | None:
        """The run to blame for the host's memory: the one in its turn, else the one that grew
        the host most while it was watching (turnclock.py), else nobody."""
        if started and invocation != NO_INVOCATION:
            return invocation
        grower = self.clock.grower()
        return grower if grower in self.runs else None

    def kill(self, code: str = HOST_CRASHED, message: str = "", culprit: int | None = None) -> None:
        """Kill the process; its runs fail with ``code`` (culprit) or host_restarted (others)."""
        if self.exit_reason is None:
            self.exit_reason = (code, message, culprit)
        if self.process.returncode is None:
            self.process.kill()

    async def close(self, grace: float = 2.0) -> None:
        self.ping_sent = None  # it finishes its listener runs now: no more pings
        self.flush()
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            self.kill()
            await self.process.wait()
        if self._reader_task is not None:
            await self._reader_task

    async def _read_loop(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                message = await protocol.read(stdout, protocol.FOR_SUPERVISOR)
                if message is None:
                    break
                self._dispatch(message)
        except protocol.FrameError as exc:
            # Handled as a host that died: its runs fail with host_crashed, and it is replaced.
            self.kill(HOST_CRASHED, f"the host process sent a malformed frame ({exc})")
        except Exception:
            # A frame of the right shape that the supervisor could not act on: the pipe's state
            # is unknown from here on, so the host goes the same way.
            log.exception("host %s: a frame could not be handled", self.pid)
            self.kill(HOST_CRASHED, "the host process sent a frame the supervisor could not handle")
        await self.process.wait()
        if self.cgroup is not None:
            if self.exit_reason is None and self.cgroup.oom_killed():
                # Killed mid-turn, as a fast allocation is: that turn's run is the culprit.
                started, invocation, _ = self.clock.read()
                self.exit_reason = (
                    MEMORY_LIMIT_EXCEEDED,
                    f"memory limit exceeded: the host reached its limit "
                    f"({self.cgroup.host_limit_bytes >> 20} MiB, its memory cgroup) and the kernel "
                    "stopped it",
                    self.memory_culprit(started, invocation),
                )
            self.cgroup.remove()
        self._fail_everything()
        if self.handoffs is not None:
            self.handoffs.close()
        self.clock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.clock.path)
        self.exited.set()

    def _dispatch(self, message: ToSupervisor) -> None:
        match message:
            case Log():
                invocation = self.runs.get(message.id)
                if invocation is not None:
                    invocation.log(
                        {
                            "level": message.level,
                            "message": message.message,
                            "timestamp": message.timestamp,
                        }
                    )
            case Response():
                invocation = self.runs.get(message.id)
                if invocation is not None:
                    invocation.responded(
                        ResponseHead(
                            message.status,
                            message.status_text,
                            message.headers,
                            message.body,
                            message.stream,
                        )
                    )
            case Done():
                invocation = self.runs.pop(message.id, None)
                if invocation is not None:
                    invocation.finish(
                        RunOutcome(message.output, message.error, cpu_ms=message.cpu_ms),
                        # A listener run began in the host, before the supervisor heard of it.
                        duration_ms=message.wall_ms,
                    )
            case Chunk():
                invocation = self.runs.get(message.id)
                if invocation is not None:
                    invocation.chunk(message.data)
            case BodyEnd():
                invocation = self.runs.get(message.id)
                if invocation is not None:
                    invocation.body_ended(message.error)
            case Failed():
                invocation = self.runs.get(message.id)
                if invocation is not None:
                    invocation.failed(message.error, message.cpu_ms)
            case Fetch():
                invocation = self.runs.get(message.id)
                if invocation is not None:
                    self.on_fetch(self, invocation, message)
            case Call():
                invocation = self.runs.get(message.id)
                if invocation is not None:
                    self.on_call(self, invocation, message)
            case FetchAbort():
                invocation = self.runs.get(message.id)
                task = None if invocation is None else invocation.fetches.pop(message.fid, None)
                if task is not None:
                    task.cancel()
            case FetchPull():
                invocation = self.runs.get(message.id)
                window = None if invocation is None else invocation.fetch_windows.get(message.fid)
                if window is not None:
                    window.pulled(message.size)
            case Checked():
                future = self.checks.pop(message.id, None)
                if future is not None and not future.done():
                    future.set_result(message.problem)
            case Ended():
                if self.listening is not None:
                    self.listening.ended_unannounced(
                        self, message.runs, message.access, message.dropped
                    )
            case Resolve():
                if self.listening is not None:
                    self.listening.resolve(self, message)
            case AssetRead():
                if self.listening is not None:
                    self.listening.read_asset(self, message)
            case Adopt():
                adopted = None if self.listening is None else self.listening.adopt(self, message)
                if adopted is not None:
                    adopted.id = message.id
                    adopted.host_pid = self.pid
                    self.runs[adopted.id] = adopted
            case Pong():
                if message.seq == self._pings:
                    self.ping_sent = None
                    self.ping_overdue = False
                    self.answered_at = time.monotonic()
            case Ready():
                pass  # said once, at the start

    def _fail_everything(self) -> None:
        code, message, culprit = self.exit_reason or (
            HOST_CRASHED,
            f"the host process exited unexpectedly (exit code {self.process.returncode})",
            None,
        )
        runs, self.runs = self.runs, {}
        for invocation_id, invocation in runs.items():
            if culprit is None or invocation_id == culprit:
                error = platform_error(code, message)
            else:
                error = platform_error(
                    HOST_RESTARTED,
                    "The host process running this invocation was replaced because another "
                    f"invocation on it failed ({code}); nothing of this run was kept",
                )
            invocation.finish(
                RunOutcome(None, error, cpu_ms=invocation.cpu_ms_at_kill, host_gone=True)
            )
        for future in self.checks.values():
            if not future.done():
                future.set_exception(HostStartError(message or "host process exited"))
        self.checks.clear()


def _refused(message: ToHost, exc: protocol.FrameTooLarge) -> ToHost | None:
    """The error answer to send in place of ``message``, too large to cross; None for a frame
    that answers nothing."""
    too_large = f"the answer is {exc}"
    match message:
        case protocol.Fetched():
            return protocol.Fetched(message.id, message.fid, error=f"fetch failed: {too_large}")
        case protocol.Answered():
            error = protocol.ErrorBody(PAYLOAD_TOO_LARGE, too_large)
            return protocol.Answered(message.id, message.cid, error=error)
        case protocol.AssetData():
            error = protocol.ErrorBody(PAYLOAD_TOO_LARGE, too_large)
            return protocol.AssetData(message.rid, error=error)
    return None
