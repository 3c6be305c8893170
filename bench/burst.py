"""A burst of concurrent connections, one request each, sent together: when do the answers come?

``bench/suite.py`` starts several of these processes (``burst`` below), each opening its share of
the connections, so that the load generator is not the bottleneck: raw non-blocking sockets on
one ``epoll`` per process (no event loop, no HTTP client library), the soft ``RLIMIT_NOFILE``
raised to the hard limit, and the requests written only once every process has all its
connections open (a line ``go`` on stdin after each printed ``ready``). For 10,000 connections
that costs the generator 0.7 s of CPU from the go to the last answer, most of it the kernel's
loopback work done in its sends, receives and closes; asyncio protocols cost 1.3 s, and took
2.1 s instead of 0.45 s to open the connections (bench/burstcpu.py).

Each process writes what it saw as JSON to ``--out``: when it sent, when each answer completed
(``time.monotonic``, one clock for every process on the machine), and its errors. Answers are
``Connection: close`` responses with a ``Content-Length``.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import resource
import select
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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


_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


@dataclass(slots=True)
class Exchange:
    """One connection of the burst and what came back on it."""

    sock: socket.socket
    buffer: bytearray = field(default_factory=bytearray)
    status: int = 0
    answered_at: float = 0.0
    error: str = ""

    def received(self, data: bytes, now: float) -> bool:
        """Take ``data`` (b"" at the end of the stream); True once the answer is whole."""
        if data:
            self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            if not data:
                self.error = "closed before an answer"
                return True
            return False
        length = _LENGTH.search(self.buffer, 0, head_end + 2)
        if length is not None and len(self.buffer) - head_end - 4 < int(length[1]) and data:
            return False
        if length is None and data:  # no Content-Length: the answer ends with the stream
            return False
        self.answered_at = now
        self.status = int(bytes(self.buffer[9:12]))
        return True


def open_connections(args: argparse.Namespace, errors: list[str]) -> list[Exchange]:
    """``args.n`` connections to the server, at most ``args.connecting`` in progress at once."""
    poller = select.epoll()
    connecting: dict[int, socket.socket] = {}
    opened: list[Exchange] = []
    left = args.n
    deadline = time.monotonic() + args.timeout
    try:
        while left or connecting:
            while left and len(connecting) < args.connecting:
                left -= 1
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                code = sock.connect_ex((args.host, args.port))
                if code not in (0, errno.EINPROGRESS):
                    errors.append(f"connect: {os.strerror(code)}")
                    sock.close()
                    continue
                connecting[sock.fileno()] = sock
                poller.register(sock.fileno(), select.EPOLLOUT)
            wait = deadline - time.monotonic()
            if wait <= 0:
                errors.extend(["connect: timed out"] * (len(connecting) + left))
                for sock in connecting.values():
                    sock.close()
                break
            for fd, _event in poller.poll(wait):
                sock = connecting.pop(fd)
                poller.unregister(fd)
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    errors.append(f"connect: {os.strerror(code)}")
                    sock.close()
                else:
                    opened.append(Exchange(sock))
    finally:
        poller.close()
    return opened


def exchange_all(exchanges: list[Exchange], request: bytes, timeout: float) -> tuple[float, float]:
    """Write the request on every connection, then read every answer as it comes: (when the
    first was written, how long writing them all took)."""
    poller = select.epoll()
    waiting: dict[int, Exchange] = {}
    sent_at = time.monotonic()
    for exchange in exchanges:
        fd = exchange.sock.fileno()
        try:
            exchange.sock.send(request)
        except OSError as exc:
            exchange.error = f"send: {exc!r}"
            continue
        waiting[fd] = exchange
        poller.register(fd, select.EPOLLIN)
    sent_s = time.monotonic() - sent_at
    deadline = sent_at + timeout
    try:
        while waiting:
            wait = deadline - time.monotonic()
            if wait <= 0:
                break
            events = poller.poll(wait)
            now = time.monotonic()
            for fd, _event in events:
                exchange = waiting[fd]
                try:
                    data = exchange.sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    exchange.error = f"closed before an answer: {exc!r}"
                    data = None
                if data is None or exchange.received(data, now):
                    del waiting[fd]
                    poller.unregister(fd)
                    exchange.sock.close()
    finally:
        poller.close()
        for exchange in waiting.values():
            exchange.error = "no answer in time"
            exchange.sock.close()
    return sent_at, sent_s


def run(args: argparse.Namespace) -> dict[str, object]:
    request = (
        f"GET {args.path} HTTP/1.1\r\nHost: {args.hostname}\r\nConnection: close\r\n\r\n"
    ).encode()
    errors: list[str] = []
    started = time.monotonic()
    exchanges = open_connections(args, errors)
    connect_s = time.monotonic() - started
    print(f"ready {len(exchanges)}", flush=True)
    sys.stdin.readline()  # the go
    cpu_at = time.process_time()
    sent_at, sent_s = exchange_all(exchanges, request, args.timeout)
    cpu_s = time.process_time() - cpu_at
    answers, statuses = [], {}
    for exchange in exchanges:
        if exchange.status == 200:
            answers.append(exchange.answered_at)
        elif exchange.status:
            statuses[exchange.status] = statuses.get(exchange.status, 0) + 1
        else:
            errors.append(exchange.error or "no answer")
    for status, count in statuses.items():
        errors.extend([f"status {status}"] * count)
    return {
        "connected": len(exchanges),
        "connect_s": connect_s,
        "sent_at": sent_at,
        "send_s": sent_s,
        "answers": answers,
        "cpu_s": cpu_s,
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
    result = run(args)
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
    generator_cpu_s: float = 0.0
    """CPU time the generator's processes spent from the go to their last answer, together."""
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
    on_ready: Callable[[], object] | None = None,
) -> Burst:
    """n concurrent connections to 127.0.0.1:port from ``processes`` processes, one request each,
    all written once every connection is open. ``rss``, when given, is a callable returning the
    server's RSS in KiB, sampled throughout; ``on_ready`` is called once every connection is
    open, just before the requests are written."""
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
            if on_ready is not None:
                on_ready()
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
            result.generator_cpu_s += seen["cpu_s"]
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
