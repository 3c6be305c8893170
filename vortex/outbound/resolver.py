"""A DNS resolver that drops the addresses a function may not reach.

aiohttp connects to exactly the addresses its resolver returns, so filtering here (rather than
checking a name before the request) leaves no window for DNS rebinding between check and use.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from vortex.outbound.policy import address_problem


class AddressRefused(OSError):
    """Every address of a host is off limits; the message says which and why."""


class GuardedResolver(AbstractResolver):
    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        kept = []
        problem = None
        for result in results:
            why = address_problem(ipaddress.ip_address(result["host"]), self.allow_private)
            if why is None:
                kept.append(result)
            elif problem is None:
                problem = f"it resolves to {result['host']}, {why}"
        if not kept:
            raise AddressRefused(problem or "it resolves to no address")
        return kept

    async def close(self) -> None:
        await self._inner.close()
