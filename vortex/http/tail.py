"""``WS /ws/{id-or-name}``: every log line of every run of one function, as it happens."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import WSCloseCode, WSMsgType, web

from vortex.auth.errors import AuthUnavailable
from vortex.errors import VortexError
from vortex.functions import history_key
from vortex.http.auth import authorize
from vortex.http.keys import API_KEYS, LOGBUS, PRINCIPAL, WEBSOCKETS
from vortex.http.lookup import resolve
from vortex.storage.names import parse_ref

routes = web.RouteTableDef()

CLOSE_SLOW_CONSUMER = 4008
"""The client read too slowly and its queue filled; it may reconnect."""
CLOSE_REVOKED = 4401
"""The key that opened the socket was revoked (or keys are now needed and it had none): as a
new request would get 401. Reconnecting with that key fails."""
RECHECK_SECONDS = 2.0
"""How often the key of an open socket is checked again, at most: the key cache's period."""
SEND_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
"""How long a dropped client has to take its close frame before its connection is cut."""


def _by_name(request: web.Request) -> bool:
    return parse_ref(request.match_info["function_id"])[0] == "name"


@routes.get("/ws/{function_id:[^/]+}")
async def tail(request: web.Request) -> web.WebSocketResponse:
    # Unknown ids, and other namespaces' functions, get a 404 before upgrading. A name tails
    # every version (runs publish to the name's channel too); an id tails that version only.
    record = await resolve(request)
    function_id = history_key(record) if _by_name(request) else record.id
    # Browsers offer ["vortex", "bearer.<key>"]: answering "vortex" is what lets them connect.
    ws = web.WebSocketResponse(heartbeat=30.0, protocols=("vortex",))
    # Subscribed before the handshake completes: a client that starts a run once the socket is
    # open sees all its lines, even on a bus (Redis) where subscribing takes a round trip.
    subscription = await request.app[LOGBUS].subscribe(function_id)
    try:
        await ws.prepare(request)
    except BaseException:
        await subscription.close()
        raise
    request.app[WEBSOCKETS].add(ws)

    async def forward() -> None:
        try:
            async for line in subscription:
                # No task per line (as wait_for would make): while the socket takes data, the
                # whole queue is sent in one go, so a client that reads keeps up with a run
                # that logs thousands of lines at once.
                async with asyncio.timeout(SEND_TIMEOUT):
                    await ws.send_str(line.decode())
        except TimeoutError:
            await subscription.close()
            subscription.closed_reason = "slow_consumer"
            # It read nothing for SEND_TIMEOUT: it would not read a close frame either (and
            # aiohttp cannot drain again after a cancelled drain).
            abort()
            return
        if subscription.closed_reason == "slow_consumer":
            await close_or_abort(CLOSE_SLOW_CONSUMER, b"slow consumer: queue full")
        elif not ws.closed:
            await close_or_abort(WSCloseCode.GOING_AWAY, b"log bus closed")

    async def close_or_abort(code: int, message: bytes) -> None:
        closing.set()
        # A client that does not read cannot receive a close frame either: sending it would wait
        # for buffer space forever, and a transport closed gracefully keeps the connection until
        # its buffer is flushed. Such a client is cut off.
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await ws.close(code=code, message=message)
        except TimeoutError:
            abort()

    def abort() -> None:
        if request.transport is not None:
            request.transport.abort()

    async def watch_key() -> None:
        """Close the socket once the request that opened it would be refused (a revoked key)."""
        opened_as = request.get(PRINCIPAL)
        period = min(RECHECK_SECONDS, request.app[API_KEYS].cache_seconds) or RECHECK_SECONDS
        while True:
            await asyncio.sleep(period)
            try:
                allowed = await authorize(request) == opened_as
            except AuthUnavailable:
                continue  # the store cannot say: the key was good, ask again later
            except VortexError:
                allowed = False
            if not allowed:
                break
        if closing.is_set():
            return
        revoked.set()
        forwarder.cancel()
        await close_or_abort(CLOSE_REVOKED, b"API key revoked")

    revoked = asyncio.Event()
    closing = asyncio.Event()
    """Set once the forwarder or the key watcher closes the socket itself: it must then finish
    (it is bounded by CLOSE_TIMEOUT), or a client that never reads would keep its connection
    forever."""
    forwarder = asyncio.create_task(forward())
    watcher = asyncio.create_task(watch_key())
    try:
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break
    finally:
        if not closing.is_set():
            forwarder.cancel()
        if not revoked.is_set():
            watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
            await forwarder
        with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
            await watcher
        await subscription.close()
        request.app[WEBSOCKETS].discard(ws)
    return ws
