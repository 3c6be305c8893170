"""The body of a fetched response as it arrives, read only as fast as the run reads it.

What the run has not asked for stays in the origin's socket: aiohttp stops reading the
connection once its own buffer is full, so the origin's writes block, as they would for a slow
client. Time and size are limited per body: ``timeout_ms`` between two reads that bring bytes
(a stream that keeps sending keeps going, as on Workers), ``limit`` for all its bytes.
"""

from __future__ import annotations

import asyncio

import aiohttp

from vortex.isolates.subrequests import SubrequestRefused


class StreamedBody:
    """``subrequests.ResponseBody`` over an aiohttp response, which it owns from then on."""

    def __init__(
        self, response: aiohttp.ClientResponse, host: str, limit: int, timeout_ms: int, read: int
    ) -> None:
        self._response = response
        self._host = host
        self._limit = limit
        self._timeout_ms = timeout_ms
        self._total = read
        """Bytes read so far, those sent with the head included."""

    async def read(self, most: int) -> bytes:
        try:
            async with asyncio.timeout(self._timeout_ms / 1000):
                data = await self._response.content.read(most)
        except TimeoutError:
            raise SubrequestRefused(
                f"fetch to {self._host} timed out after {self._timeout_ms} ms"
            ) from None
        except aiohttp.ClientError as exc:
            raise SubrequestRefused(f"fetch to {self._host} failed: {exc}") from None
        self._total += len(data)
        if self._total > self._limit:
            raise SubrequestRefused(too_large(self._host, self._limit))
        return data

    def close(self) -> None:
        # A connection whose body was not read to its end cannot be reused: closed. One read
        # whole went back to the pool already (aiohttp releases it at the body's end).
        self._response.close()


def too_large(host: str, limit: int) -> str:
    return f"fetch to {host}: the response body is larger than {limit} bytes"
