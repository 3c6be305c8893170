"""The functions listener's front door alone (isolates/listener.py), with a stand-in for hosts.

What the real hosts do with a connection is tested in test_listener.py; here, how a connection
reaches one: a hostname seen before goes to its host without a lookup, a head that comes in
pieces is put together, and what names no function, or is not HTTP, is answered here.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, cast

import orjson

from vortex.isolates.host_process import HostProcess
from vortex.isolates.listener import FunctionsListener, Refusal


class StandInHost:
    """Keeps the connections handed to it, with the bytes read from them."""

    def __init__(self) -> None:
        self.handed: asyncio.Queue[tuple[socket.socket, bytes]] = asyncio.Queue()

    def hand_off(self, connection: socket.socket, data: bytes) -> None:
        self.handed.put_nowait((connection, data))


class Directory:
    """The data plane's two answers: ``now`` for hostnames it knows, ``lookup`` for the rest."""

    def __init__(self, host: StandInHost) -> None:
        self.host = host
        self.known: set[str] = set()
        self.lookups: list[str] = []

    def now(self, hostname: str) -> HostProcess | None:
        return cast(HostProcess, self.host) if hostname in self.known else None

    async def lookup(self, hostname: str) -> HostProcess:
        self.lookups.append(hostname)
        if hostname != "hello.localhost":
            raise Refusal(404, "function_not_found", f"no function answers at {hostname}")
        self.known.add(hostname)
        return cast(HostProcess, self.host)


async def started(directory: Directory, head_timeout: float = 5.0) -> FunctionsListener:
    listener = FunctionsListener(
        "127.0.0.1", 0, directory.lookup, head_timeout, pick_host_now=directory.now
    )
    await listener.start()
    return listener


async def send(port: int, *pieces: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for piece in pieces:
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0)
    return reader, writer


HEAD = b"GET /x?y=1 HTTP/1.1\r\nHost: Hello.localhost:8787\r\nUser-Agent: t\r\n\r\n"


async def test_a_known_hostname_goes_to_its_host_without_a_lookup() -> None:
    host = StandInHost()
    directory = Directory(host)
    listener = await started(directory)
    try:
        _, first = await send(listener.port, HEAD)
        connection, data = await asyncio.wait_for(host.handed.get(), 10)
        assert data == HEAD and directory.lookups == ["hello.localhost"]
        connection.close()
        first.close()
        # Seen once, the hostname needs no lookup.
        _, second = await send(listener.port, HEAD)
        connection, data = await asyncio.wait_for(host.handed.get(), 10)
        assert data == HEAD and directory.lookups == ["hello.localhost"]
        connection.close()
        second.close()
        assert listener.pending == 0
    finally:
        await listener.close()


async def test_a_head_in_pieces_is_put_together_with_the_body_it_brought() -> None:
    host = StandInHost()
    directory = Directory(host)
    directory.known.add("hello.localhost")
    listener = await started(directory)
    try:
        post = b"POST / HTTP/1.1\r\nHost: hello.localhost\r\nContent-Length: 4\r\n\r\nbody"
        _, writer = await send(listener.port, post[:7], post[7:30], post[30:])
        connection, data = await asyncio.wait_for(host.handed.get(), 10)
        # What came with the head's last piece (here the body) is handed over with it.
        assert data == post
        connection.close()
        writer.close()
    finally:
        await listener.close()


async def answer_of(reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
    raw = await asyncio.wait_for(reader.read(), 10)
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), orjson.loads(body)


async def test_what_names_no_function_or_is_not_http_is_answered_here() -> None:
    directory = Directory(StandInHost())
    listener = await started(directory)
    try:
        reader, writer = await send(listener.port, HEAD.replace(b"Hello", b"nobody"))
        status, body = await answer_of(reader)
        assert (status, body["error"]["code"]) == (404, "function_not_found")
        writer.close()
        reader, writer = await send(listener.port, b"GET / HTTP/1.1\r\nX: y\r\n\r\n")
        status, body = await answer_of(reader)
        assert (status, body["error"]["code"]) == (400, "bad_request")
        writer.close()
        reader, writer = await send(listener.port, b"\x16\x03\x01 not http\r\n\r\n")
        status, body = await answer_of(reader)
        assert (status, body["error"]["code"]) == (400, "bad_request")
        writer.close()
    finally:
        await listener.close()


async def test_the_host_is_read_as_the_hosts_read_it() -> None:
    """Two Host headers, or one that is not a host, are refused here as the hosts refuse them
    (hostheader.py); an absolute-form target names its host, whatever the Host header says."""
    host = StandInHost()
    directory = Directory(host)
    listener = await started(directory)
    try:
        for head, message in (
            (
                b"GET / HTTP/1.1\r\nHost: nobody.localhost\r\nHost: hello.localhost\r\n\r\n",
                "more than one Host header",
            ),
            (b"GET / HTTP/1.1\r\nHost: hello.localhost/x\r\n\r\n", "not a host name"),
            (b"GET / HTTP/1.1\r\nHost: me@hello.localhost\r\n\r\n", "not a host name"),
        ):
            reader, writer = await send(listener.port, head)
            status, body = await answer_of(reader)
            assert (status, body["error"]["code"]) == (400, "bad_request")
            assert message in body["error"]["message"]
            writer.close()
        absolute = b"GET http://hello.localhost:8787/x HTTP/1.1\r\nHost: nobody.localhost\r\n\r\n"
        _, writer = await send(listener.port, absolute)
        connection, data = await asyncio.wait_for(host.handed.get(), 10)
        assert data == absolute and directory.lookups == ["hello.localhost"]
        connection.close()
        writer.close()
    finally:
        await listener.close()


async def test_a_head_that_never_ends_is_cut_at_the_timeout() -> None:
    directory = Directory(StandInHost())
    listener = await started(directory, head_timeout=0.3)
    try:
        reader, writer = await send(listener.port, b"GET / HTTP/1.1\r\nHost: hel")
        assert await asyncio.wait_for(reader.read(), 10) == b""
        assert listener.pending == 0
        writer.close()
    finally:
        await listener.close()
