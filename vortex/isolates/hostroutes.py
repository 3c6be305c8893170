"""The host's table of routes: which function a hostname reaches, asked of the supervisor.

A host's listener gets a request for ``hello.localhost``; the first one (and the first after
``ROUTE_FRESH_FOR`` or a change on this node) waits for one ``resolve`` frame to the supervisor
and its ``route`` answer. Concurrent requests for one hostname share that wait.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from vortex.isolates.route import Route

MAX_ROUTES = 4096


class RouteError(Exception):
    """The supervisor found no function for the hostname (or could not look: storage down)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class RouteTable:
    def __init__(self, send: Callable[[dict[str, Any]], None], same: Callable[[str], str]) -> None:
        self._send = send
        self._same = same
        self._routes: dict[str, Route] = {}
        self._asked: dict[str, asyncio.Future[Route]] = {}
        self._by_id: dict[int, str] = {}
        self._ids = itertools.count(1)

    def lookup(self, hostname: str) -> Route | None:
        """The route of ``hostname`` if it is fresh; else the caller must ``resolve`` it."""
        route = self._routes.get(hostname)
        return route if route is not None and route.fresh else None

    def resolve(self, hostname: str) -> asyncio.Future[Route]:
        asked = self._asked.get(hostname)
        if asked is not None:
            return asked
        future: asyncio.Future[Route] = asyncio.get_running_loop().create_future()
        rid = next(self._ids)
        self._asked[hostname] = future
        self._by_id[rid] = hostname
        stale = self._routes.get(hostname)
        self._send(
            {
                "t": "resolve",
                "rid": rid,
                "hostname": hostname,
                # The function whose code this host has for the hostname: not sent again.
                "known": stale.function_id if stale is not None else None,
            }
        )
        return future

    def answered(self, frame: dict[str, Any]) -> None:
        hostname = self._by_id.pop(int(frame["rid"]), None)
        if hostname is None:
            return
        future = self._asked.pop(hostname)
        error = frame.get("error")
        if error is not None:
            self._routes.pop(hostname, None)
            future.set_exception(
                RouteError(int(frame.get("status") or 404), str(error["code"]), error["message"])
            )
            # Nobody may be waiting (the connection closed): retrieving it keeps asyncio quiet.
            future.exception()
            return
        route_frame: dict[str, Any] = frame["route"]
        code = route_frame.get("code")
        if code is None:
            stale = self._routes[hostname]
            code = stale.code
        route = Route.from_frame(route_frame, str(code), self._same)
        if len(self._routes) >= MAX_ROUTES:
            self._routes.clear()
        self._routes[hostname] = route
        future.set_result(route)

    def changed(self) -> None:
        """A deploy, rollback or delete on this node: every hostname is asked again."""
        for route in self._routes.values():
            route.fetched_at = 0.0
