"""``WS /ws/{function_id}``: every log line of every run of one function, as it happens."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import WSCloseCode, WSMsgType, web

from vortex.http.keys import LOGBUS, REGISTRY, WEBSOCKETS
from vortex.ids import parse_function_id

routes = web.RouteTableDef()

CLOSE_SLOW_CONSUMER = 4008
"""The client read too slowly and its queue filled; it may reconnect."""
SEND_TIMEOUT = 10.0


@routes.get("/ws/{function_id:[^/]+}")
async def tail(request: web.Request) -> web.WebSocketResponse:
    function_id = parse_function_id(request.match_info["function_id"])
    await request.app[REGISTRY].record(function_id)  # unknown ids get a 404 before upgrading
    ws = web.WebSocketResponse(heartbeat=30.0)
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
                await asyncio.wait_for(ws.send_str(line.decode()), SEND_TIMEOUT)
        except TimeoutError:
            await subscription.close()
            subscription.closed_reason = "slow_consumer"
        if subscription.closed_reason == "slow_consumer":
            await ws.close(code=CLOSE_SLOW_CONSUMER, message=b"slow consumer: queue full")
        elif not ws.closed:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"log bus closed")

    forwarder = asyncio.create_task(forward())
    try:
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break
    finally:
        forwarder.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
            await forwarder
        await subscription.close()
        request.app[WEBSOCKETS].discard(ws)
    return ws
