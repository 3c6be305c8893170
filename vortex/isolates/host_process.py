"""The supervisor's handle on one host process: spawn it, talk frames, watch it, kill it."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from vortex.isolates import frames
from vortex.isolates.cgroups import HostCgroup
from vortex.isolates.exchange import ResponseHead, b64decode
from vortex.isolates.handoff import Handoffs
from vortex.isolates.invocation import Invocation
from vortex.isolates.outcome import (
    HOST_CRASHED,
    HOST_RESTARTED,
    MEMORY_LIMIT_EXCEEDED,
    RunOutcome,
    platform_error,
)
from vortex.isolates.turnclock import NO_INVOCATION, TurnClock

FetchHandler = Callable[["HostProcess", Invocation, dict[str, Any]], None]
CallHandler = FetchHandler
"""Handles a run's ``call`` frame (a binding such as KV); answers with an ``answered`` frame."""


def _no_bindings(host: HostProcess, invocation: Invocation, message: dict[str, Any]) -> None:
    host.send(
        {
            "t": "answered",
            "id": invocation.id,
            "cid": message["cid"],
            "error": {"code": "binding_unavailable", "message": "no binding is available"},
        }
    )


class Listening(Protocol):
    """What a host's listener runs need of the supervisor (the run service, runs.py)."""

    def resolve(self, host: HostProcess, message: dict[str, Any]) -> None:
        """Answer a ``resolve`` frame with a ``route`` frame."""

    def adopt(self, host: HostProcess, message: dict[str, Any]) -> Invocation | None:
        """The supervisor's handle on a run the host started, from its ``adopt`` frame."""

    def ended_unannounced(self, host: HostProcess, records: list[dict[str, Any]]) -> None:
        """An ``ended`` frame: whole listener runs the supervisor never heard of."""


_PR_SET_PDEATHSIG = 1
_clock_numbers = itertools.count()


class HostStartError(Exception):
    """A host process died or said nothing sensible before it was ready."""


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: the kernel kills the host if the server dies,
    # even by SIGKILL, so no host ever outlives its server.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


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
        self._outgoing: list[bytes] = []
        self.cgroup: HostCgroup | None = None
        self.handoffs: Handoffs | None = None
        """Where connections of the functions listener are handed over (SCM_RIGHTS)."""
        self.listening: Listening | None = None
        self.interrupts = False
        """Whether the host stops its own runs' turns at their limits (interrupt.py): the
        watchdog then gives it a grace before it kills it (``limits.backstop_*``)."""

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
            hello = await asyncio.wait_for(frames.read(process.stdout), start_timeout)
        except (TimeoutError, frames.FrameError) as exc:
            host.kill()
            await process.wait()
            clock.close()
            raise HostStartError(f"host process did not start: {exc!r}") from exc
        if hello is None or hello.get("t") != "ready":
            host.kill()
            await process.wait()
            clock.close()
            raise HostStartError(f"host process did not start (exit code {process.returncode})")
        host.interrupts = hello.get("interrupts") is True
        host._reader_task = asyncio.create_task(host._read_loop())
        return host

    @property
    def load(self) -> int:
        return len(self.runs)

    @property
    def alive(self) -> bool:
        return not self.exited.is_set() and self.exit_reason is None

    def send(self, message: dict[str, Any]) -> None:
        # The frames of one loop iteration (the runs of a burst of requests) leave in one
        # write: a write to the pipe is a system call, 9% of the server's time under load.
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self.flush)
        self._outgoing.append(frames.encode(message))

    def flush(self) -> None:
        if not self._outgoing:
            return
        data = b"".join(self._outgoing)
        self._outgoing.clear()
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.write(data)

    def hand_off(self, connection: socket.socket, data: bytes) -> None:
        """Give the host a client's connection (owned by the host from now on), with the bytes
        already read from it."""
        if self.handoffs is None or not self.alive:
            connection.close()
            raise ConnectionError("the host is gone")
        self.handoffs.send(connection, data)

    def run(self, invocation: Invocation, message: dict[str, Any]) -> None:
        self.runs[invocation.id] = invocation
        self.send(message)

    def check(self, invocation: int, code: str) -> asyncio.Future[dict[str, Any] | None]:
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self.checks[invocation] = future
        self.send({"t": "check", "id": invocation, "code": code})
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
                message = await frames.read(stdout)
                if message is None:
                    break
                self._dispatch(message)
        except (frames.FrameError, ValueError) as exc:
            self.kill(HOST_CRASHED, f"host sent a malformed frame: {exc}")
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

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("t")
        if kind == "checked":
            future = self.checks.pop(message["id"], None)
            if future is not None and not future.done():
                future.set_result(message["problem"])
            return
        if kind == "ended":
            if self.listening is not None:
                self.listening.ended_unannounced(self, message["runs"])
            return
        if kind == "resolve" or kind == "adopt":
            if self.listening is None:
                return
            if kind == "resolve":
                self.listening.resolve(self, message)
            else:
                adopted = self.listening.adopt(self, message)
                if adopted is not None:
                    adopted.id = int(message["id"])
                    adopted.host_pid = self.pid
                    self.runs[adopted.id] = adopted
            return
        invocation = self.runs.get(message["id"])
        if invocation is None:
            return
        if kind == "log":
            invocation.log(
                {
                    "level": message["level"],
                    "message": message["message"],
                    "timestamp": message["timestamp"],
                }
            )
        elif kind == "response":
            invocation.responded(ResponseHead.from_frame(message))
        elif kind == "chunk":
            invocation.chunk(b64decode(message["data"]))
        elif kind == "body_end":
            invocation.body_ended(message["error"])
        elif kind == "fetch":
            self.on_fetch(self, invocation, message)
        elif kind == "call":
            self.on_call(self, invocation, message)
        elif kind == "fetch_abort":
            task = invocation.fetches.pop(message["fid"], None)
            if task is not None:
                task.cancel()
        elif kind == "done":
            del self.runs[message["id"]]
            invocation.finish(
                RunOutcome(
                    output_json=message["output"],
                    error=message["error"],
                    cpu_ms=message["cpu_ms"],
                ),
                # A listener run began in the host, before the supervisor heard of it.
                duration_ms=message.get("wall_ms"),
            )

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
            invocation.finish(RunOutcome(None, error, cpu_ms=invocation.cpu_ms_at_kill))
        for future in self.checks.values():
            if not future.done():
                future.set_exception(HostStartError(message or "host process exited"))
        self.checks.clear()
