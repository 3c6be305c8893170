"""A response body put into the Content-Encoding its headers name, as workerd does.

On Workers a Response whose headers say ``Content-Encoding: gzip`` holds the body as it reads,
not compressed: the runtime compresses it on the way out (``encodeBody: "automatic"``, the
default), and a body ``fetch`` got from a compressing origin is decompressed for the code, its
``Content-Encoding`` kept. So ``return fetch(origin)`` and ``new Response(text, {headers:
{"content-encoding": "gzip"}})`` answer with gzip bytes. Sent as they were, both reach the client
as plain bytes labelled gzip: a browser shows ``ERR_CONTENT_DECODING_FAILED`` and ``curl
--compressed`` fails. ``encodeBody: "manual"`` says the body is already encoded.

gzip and deflate come from zlib, br from Google's ``brotli``. An encoding named that is none of
these, or a list of several, is sent as it is: the body is taken to be in it already. Streamed
bodies are flushed chunk by chunk (a server-sent event is not held back in the compressor).
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli

GZIP_LEVEL = 5
"""Cloudflare's edge and nginx's defaults compress dynamic responses at a middling level: most
of the size, a fraction of level 9's CPU."""
BROTLI_QUALITY = 4


class BodyEncoder(Protocol):
    def encode(self, data: bytes) -> bytes:
        """``data`` encoded, flushed so that the client can decode everything sent so far."""
        ...

    def end(self, data: bytes = b"") -> bytes:
        """The last of the body, ``data``, encoded with the encoding's end."""
        ...


class _Zlib:
    __slots__ = ("_stream",)

    def __init__(self, wbits: int) -> None:
        self._stream = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, wbits)

    def encode(self, data: bytes) -> bytes:
        return self._stream.compress(data) + self._stream.flush(zlib.Z_SYNC_FLUSH)

    def end(self, data: bytes = b"") -> bytes:
        return self._stream.compress(data) + self._stream.flush(zlib.Z_FINISH)


class _Brotli:
    __slots__ = ("_stream",)

    def __init__(self) -> None:
        self._stream = brotli.Compressor(quality=BROTLI_QUALITY)

    def encode(self, data: bytes) -> bytes:
        return bytes(self._stream.process(data)) + bytes(self._stream.flush())

    def end(self, data: bytes = b"") -> bytes:
        return bytes(self._stream.process(data)) + bytes(self._stream.finish())


def encoder_for(headers: list[list[str]] | list[tuple[str, str]]) -> BodyEncoder | None:
    """The encoder the response's ``Content-Encoding`` asks for, or None: send as it is."""
    named = [value for name, value in headers if name.lower() == "content-encoding"]
    if len(named) != 1:
        return None
    encoding = named[0].strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return _Zlib(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return _Zlib(zlib.MAX_WBITS)  # HTTP's "deflate" is the zlib format (RFC 9110 8.4.1.2)
    if encoding == "br":
        return _Brotli()
    return None
