"""A burst of concurrent connections, one request each, sent together: when do the answers come?

``bench/suite.py`` starts several of these processes (``burst`` below), each opening its share of
the connections, so that the load generator is not the bottleneck: plain asyncio protocols on raw
sockets (no HTTP client library), the soft ``RLIMIT_NOFILE`` raised to the hard limit, and the
requests written only once every process has all its connections open (a line ``go`` on stdin
after each printed ``ready``). Each process writes what it saw as JSON to ``--out``: when it sent,
when each answer completed (``time.monotonic``, one clock for every process on the machine), and
its errors. Answers are ``Connection: close`` responses with a ``Content-Length``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


def raise_nofile(want: int = 65536) -> int:
    """The limit of open files raised to ``want`` where allowed (root), else the soft limit to
    the hard one; returns the new soft limit. (workerd holds two descriptors per connection: at
    10,000 connections it fails its accepts under a limit of 20,000.)"""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            pass
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Exchange(asyncio.Protocol):
    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.status = 0
        self.answered_at = 0.0
        self.error = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.done.done():
            return
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = bytes(self.buffer[:head_end]).decode("latin-1").split("\r\n")
        length = None
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is not None and len(self.buffer) - head_end - 4 >= length:
            self.finish(int(head[0].split()[1]))

    def finish(self, status: int) -> None:
        self.answered_at = time.monotonic()
        self.status = status
        if not self.done.done():
            self.done.set_result(None)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end >= 0 and exc is None:  # an answer without Content-Length, ended by close
            self.finish(int(bytes(self.buffer[: self.buffer.find(b" ", 9)]).split()[1]))
            return
        self.error = f"closed before an answer: {exc!r}" if exc else "closed before an answer"
        self.done.set_result(None)


async def run(args: argparse.Namespace) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    request = (
        f"GET {args.path} HTTP/1.1\r\nHost: {args.hostname}\r\nConnection: close\r\n\r\n"
    ).encode()
    gate = asyncio.Semaphore(args.connecting)
    exchanges: list[Exchange] = []
    errors: list[str] = []

    async def connect() -> None:
        async with gate:
            try:
                _, exchange = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: Exchange(loop.create_future()), args.host, args.port
                    ),
                    args.timeout,
                )
            except (TimeoutError, OSError) as exc:
                errors.append(f"connect: {exc!r}")
                return
        exchanges.append(exchange)

    started = time.monotonic()
    await asyncio.gather(*(connect() for _ in range(args.n)))
    connect_s = time.monotonic() - started
    print(f"ready {len(exchanges)}", flush=True)
    sys.stdin.readline()  # the go: blocking is fine, nothing is in flight yet
    sent_at = time.monotonic()
    for exchange in exchanges:
        assert exchange.transport is not None
        exchange.transport.write(request)
    sent_s = time.monotonic() - sent_at
    await asyncio.wait(
        [exchange.done for exchange in exchanges] or [loop.create_future()],
        timeout=args.timeout,
    )
    answers, statuses = [], {}
    for exchange in exchanges:
        if exchange.status == 200:
            answers.append(exchange.answered_at)
        elif exchange.status:
            statuses[exchange.status] = statuses.get(exchange.status, 0) + 1
        elif exchange.error:
            errors.append(exchange.error)
        else:
            errors.append("no answer in time")
            if exchange.transport is not None:
                exchange.transport.abort()
    for status, count in statuses.items():
        errors.extend([f"status {status}"] * count)
    return {
        "connected": len(exchanges),
        "connect_s": connect_s,
        "sent_at": sent_at,
        "send_s": sent_s,
        "answers": answers,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hostname", default="localhost", help="the Host header")
    parser.add_argument("--path", default="/")
    parser.add_argument("-n", type=int, required=True, help="connections of this process")
    parser.add_argument("--connecting", type=int, default=1024, help="connects in flight")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    raise_nofile()
    result = asyncio.run(run(args))
    args.out.write_text(json.dumps(result))


# -- the parent's side -------------------------------------------------------------------------
@dataclass
class Burst:
    """What a burst of n connections saw, all processes together."""

    n: int
    processes: int
    connected: int = 0
    answered: int = 0
    errors: list[str] = field(default_factory=list)
    connect_s: float = 0.0
    """The longest time a process took to open its share of the connections."""
    send_s: float = 0.0
    """The longest time a process took to write its requests (the generator's own cost)."""
    first_to_last_s: float = float("nan")
    """From the first answer to the last."""
    go_to_last_s: float = float("nan")
    """From the first request written to the last answer."""
    peak_kib: int = 0
    """Peak RSS of the server's processes during the burst, less before it (after connecting)."""


def burst(
    port: int,
    n: int,
    *,
    hostname: str,
    path: str = "/",
    processes: int = 2,
    timeout: float = 30.0,
    rss: object = None,
) -> Burst:
    """n concurrent connections to 127.0.0.1:port from ``processes`` processes, one request each,
    all written once every connection is open. ``rss``, when given, is a callable returning the
    server's RSS in KiB, sampled throughout."""
    result = Burst(n, processes)
    shares = [n // processes + (1 if i < n % processes else 0) for i in range(processes)]
    with tempfile.TemporaryDirectory(prefix="vortex-burst-") as tmp:
        children = []
        try:
            for i, share in enumerate(shares):
                children.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            __file__,
                            "--port",
                            str(port),
                            "--hostname",
                            hostname,
                            "--path",
                            path,
                            "-n",
                            str(share),
                            "--timeout",
                            str(timeout),
                            "--out",
                            str(Path(tmp) / f"{i}.json"),
                        ],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        text=True,
                    )
                )
            deadline = time.monotonic() + timeout
            for child in children:
                assert child.stdout is not None
                ready, _, _ = select.select([child.stdout], [], [], deadline - time.monotonic())
                if not ready or not child.stdout.readline().startswith("ready"):
                    raise RuntimeError("a burst process did not get ready")
            before = rss() if callable(rss) else 0
            peak = before
            for child in children:
                assert child.stdin is not None
                child.stdin.write("go\n")
                child.stdin.flush()
            while any(child.poll() is None for child in children):
                if callable(rss):
                    peak = max(peak, rss())
                time.sleep(0.01)
            result.peak_kib = peak - before
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                child.wait()
                for pipe in (child.stdin, child.stdout):
                    if pipe is not None:
                        pipe.close()
        answers: list[float] = []
        sent: list[float] = []
        for i in range(processes):
            path_i = Path(tmp) / f"{i}.json"
            if not path_i.exists():
                result.errors.append(f"burst process {i} wrote no result")
                continue
            seen = json.loads(path_i.read_text())
            result.connected += seen["connected"]
            result.errors.extend(seen["errors"])
            result.connect_s = max(result.connect_s, seen["connect_s"])
            result.send_s = max(result.send_s, seen["send_s"])
            answers.extend(seen["answers"])
            sent.append(seen["sent_at"])
    result.answered = len(answers)
    if answers:
        result.first_to_last_s = max(answers) - min(answers)
        result.go_to_last_s = max(answers) - min(sent)
    return result


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
