"""Real ``vortex serve`` processes for tests: started on a free port, stopped and checked after."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp.abc import ResolveResult
from aiohttp.resolver import ThreadedResolver

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"


class LoopbackResolver(ThreadedResolver):
    """``localhost`` and every ``*.localhost`` name is the loopback address (RFC 6761), as curl
    and browsers resolve them; glibc does not, so tests reach the functions listener's hostnames
    (``hello.localhost:8787``) through this resolver."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host == "localhost" or host.endswith(".localhost"):
            return [
                {
                    "hostname": host,
                    "host": "127.0.0.1",
                    "port": port,
                    "family": socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            ]
        return await super().resolve(host, port, family)


@dataclass
class ServerProcess:
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    functions_port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fn_url(self, ref: str, path: str = "/") -> str:
        """A function's URL on the functions listener: ``http://{ref}.localhost:PORT/path``."""
        return f"http://{ref}.localhost:{self.functions_port}{path}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def host_pids(self) -> list[int]:
        return children_of(self.process.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def status_of(self, path: str, key: str | None = None) -> int:
        """The status of ``GET path``, with ``key`` as the bearer token when given."""
        request = urllib.request.Request(f"{self.url}{path}")
        if key is not None:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    def wait_for_keys(self, *keys: str, refused: Iterable[str] = (), timeout: float = 15.0) -> None:
        """Wait until the server's keys are in force as the test means them: a request with no
        key is refused (the server no longer believes "no keys"), every key of ``keys`` is
        accepted and every key of ``refused`` (revoked ones) is refused.

        A server trusts its last look at the key store for ``VORTEX_AUTH_CACHE_MS`` (200 ms for
        test servers, see ``start_server``), so this polls rather than sleeping for that period.
        Accepted means anything but 401: a metrics key gets 403 on ``/functions``.
        """
        refused = tuple(refused)
        deadline = time.monotonic() + timeout
        while True:
            state = {
                "no key": self.status_of("/functions") == 401,
                **{f"key {k[:12]}…": self.status_of("/functions", k) != 401 for k in keys},
                **{f"revoked {k[:12]}…": self.status_of("/functions", k) == 401 for k in refused},
            }
            if all(state.values()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"keys not in force after {timeout} s: {state}")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    tmp: Path, env: Mapping[str, str] | None = None, *, workers: int = 2, timeout: float = 60.0
) -> ServerProcess:
    port = free_port()
    functions_port = free_port()
    data_dir = tmp / "data"
    log_path = tmp / f"server-{port}.log"
    full_env = {
        **os.environ,
        "VORTEX_DATA_DIR": str(data_dir),
        "VORTEX_WORKERS": str(workers),
        "VORTEX_FUNCTIONS_PORT": str(functions_port),
        "PYTHONUNBUFFERED": "1",
        # A new or revoked key takes effect within this period; tests wait for it with
        # ServerProcess.wait_for_keys, so the shorter it is the less they wait.
        "VORTEX_AUTH_CACHE_MS": "200",
        **(env or {}),
    }
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "vortex", "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=tmp,
        )
    server = ServerProcess(
        port,
        data_dir,
        process,
        log_path,
        dict(env or {}),
        int(full_env["VORTEX_FUNCTIONS_PORT"]),
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vortex serve exited early:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=1) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"vortex serve did not become healthy:\n{server.log()}")


def stop_and_check(server: ServerProcess) -> None:
    """Stop the server and fail if any host process outlived it."""
    hosts = server.host_pids()
    server.stop()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in hosts):
        time.sleep(0.05)
    leftover = [pid for pid in hosts if alive(pid)]
    for pid in leftover:
        os.kill(pid, signal.SIGKILL)
    assert not leftover, f"host processes outlived the server: {leftover}"
