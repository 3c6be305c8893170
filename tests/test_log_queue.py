"""The server's log lines wait for their writer in a bounded queue (vortex/logqueue.py).

A real server whose stderr is a pipe nobody reads (a stalled log shipper): its lines are dropped
past ``VORTEX_LOG_QUEUE_LINES`` and counted, it keeps answering, and once its stderr is read
again one line says how many were lost.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import aiohttp

from tests.server import ServerProcess, free_port, stop_and_check
from vortex.logqueue import LineBudget


def test_the_budget_counts_lines_and_the_note() -> None:
    budget = LineBudget(5)
    assert budget.take(3) == 0
    assert budget.take(3) is None  # 6 > 5: dropped
    assert budget.dropped == 3
    assert budget.take(2) is None  # 3 + 2 and the note of the drop > 5
    budget.give_back(3)
    assert budget.take(2) == 5  # room again: the 5 dropped lines are said once
    assert budget.take(1) == 0
    assert budget.dropped == 5


def start_unread(tmp_path: Path, queue_lines: int) -> ServerProcess:
    port = free_port()
    env = {
        **os.environ,
        "VORTEX_DATA_DIR": str(tmp_path / "data"),
        "VORTEX_WORKERS": "1",
        "VORTEX_FUNCTIONS_PORT": "0",
        "VORTEX_LOG_QUEUE_LINES": str(queue_lines),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "vortex", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    server = ServerProcess(port, tmp_path / "data", process, tmp_path / "unused.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    stop_and_check(server)
    raise AssertionError("vortex serve did not become healthy")


async def dropped(http: aiohttp.ClientSession) -> float:
    async with http.get("/metrics") as response:
        text = await response.text()
    for line in text.splitlines():
        if line.startswith("vortex_log_lines_dropped_total "):
            return float(line.split()[1])
    raise AssertionError("no vortex_log_lines_dropped_total in /metrics")


async def test_lines_past_the_limit_are_dropped_and_counted(tmp_path: Path) -> None:
    server = start_unread(tmp_path, queue_lines=50)
    read: list[bytes] = []
    reader: threading.Thread | None = None
    try:
        async with aiohttp.ClientSession(base_url=server.url) as http:
            assert await dropped(http) == 0
            # ~100 bytes a line: the pipe (64 KiB) and the queue hold under a thousand.
            gate = asyncio.Semaphore(16)

            async def ask(i: int) -> int:
                async with gate, http.get(f"/functions/nope-{i}") as response:
                    return response.status

            statuses = await asyncio.gather(*(ask(i) for i in range(3000)))
            assert set(statuses) == {404}  # the server kept answering
            lost = await dropped(http)
            assert lost >= 1500, lost

            assert server.process.stderr is not None
            stderr = server.process.stderr
            reader = threading.Thread(target=lambda: read.extend(iter(stderr.readline, b"")))
            reader.start()
            deadline = time.monotonic() + 15
            # Until the notes say all of it: under load a few lines may be dropped and noted
            # early, while the pipe still had room, and that note is read first (CI once
            # stopped the server there, with 2 of 2,236 said).
            while _said(read) < lost:
                assert time.monotonic() < deadline, b"".join(read[-5:])
                await ask(-1)  # a line once there is room: the note goes first
                await asyncio.sleep(0.2)
    finally:
        stop_and_check(server)
        if reader is not None:
            reader.join(10)
        if server.process.stderr is not None:
            server.process.stderr.close()
    notes = [line.decode() for line in read if b"log lines dropped" in line]
    assert _said(read) >= lost, notes
    assert "(VORTEX_LOG_QUEUE_LINES=50)" in notes[0]


def _said(read: list[bytes]) -> int:
    """How many dropped lines the notes among ``read`` say, in all."""
    notes = [line.decode() for line in read if b"log lines dropped" in line]
    return sum(int(note.split(" log lines dropped")[0].rsplit(" ", 1)[1]) for note in notes)
