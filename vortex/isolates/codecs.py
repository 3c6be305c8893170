"""CompressionStream and DecompressionStream on zlib, in the host.

The Compression Standard's formats are zlib's: "gzip" (RFC 1952), "deflate" (the zlib format,
RFC 1950) and "deflate-raw" (RFC 1951), and zlib says exactly where a stream ends: input cut
short, or bytes after the end, are errors, as the standard requires (fflate, tried first, let
both pass). Each stream a run opens is a zlib object here, known to JavaScript by a number;
bytes cross as binary strings one way and tagged bytearrays the other, as for WebCrypto
(webcrypto.py), and no Python object or text of Python's reaches user code.

Decompression hands its output back at most ``OUTPUT_PER_CALL`` at a time (JavaScript asks for
more), so a small bomb never makes one large Python buffer: what the run keeps is in its own
heap, where its memory limit sees it. A run's streams are dropped when it ends.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WBITS = {"gzip": 31, "deflate": 15, "deflate-raw": -15}
OUTPUT_PER_CALL = 1 << 20
STREAMS_PER_RUN = 256
"""Open streams one run may hold: each holds zlib's state (~270 KB to compress)."""

DONE = 0
"""Tag: the bytes that follow are all the output for now."""
MORE = 1
"""Tag: the bytes that follow are output, and there is more: ask again (``more``)."""
FAILED = 2
"""Tag: the stream failed; UTF-8 text follows, for a TypeError."""


@dataclass
class _Stream:
    owner: int
    compress: bool
    codec: Any


class Codecs:
    def __init__(self, owner: Callable[[], int]) -> None:
        self._owner = owner
        self._streams: dict[int, _Stream] = {}
        self._ids = itertools.count(1)
        self._per_run: dict[int, int] = {}

    def call(self, op: str, handle: float, data: object) -> bytearray:
        """One operation for JavaScript; never raises."""
        key = int(handle)
        try:
            if op in ("compress", "decompress"):
                return self._open(op == "compress", str(data))
            stream = self._streams.get(key)
            if stream is None:
                return _failed("The stream is closed (it belongs to a run that has ended)")
            if op == "push":
                return self._push(key, stream, _bytes(data))
            if op == "more":
                return self._more(key, stream)
            if op == "finish":
                return self._finish(key, stream)
            return _failed("Unknown operation")
        except zlib.error:
            self._close(key)
            return _failed("The compressed data is not valid")
        except Exception:  # the text stays here
            self._close(key)
            return _failed("The compression stream failed")

    def run_ended(self, owner: int) -> None:
        if self._per_run.pop(owner, None) is None:
            return
        for handle in [h for h, s in self._streams.items() if s.owner == owner]:
            del self._streams[handle]

    def _open(self, compress: bool, format_name: str) -> bytearray:
        wbits = WBITS.get(format_name)
        if wbits is None:
            return _failed(f"'{format_name}' is not a valid CompressionFormat")
        owner = self._owner()
        if self._per_run.get(owner, 0) >= STREAMS_PER_RUN:
            return _failed(
                f"Too many compression streams open in this run (limit {STREAMS_PER_RUN})"
            )
        codec = zlib.compressobj(wbits=wbits) if compress else zlib.decompressobj(wbits=wbits)
        handle = next(self._ids)
        self._streams[handle] = _Stream(owner, compress, codec)
        self._per_run[owner] = self._per_run.get(owner, 0) + 1
        return bytearray(bytes([DONE]) + str(handle).encode())

    def _push(self, handle: int, stream: _Stream, data: bytes) -> bytearray:
        if stream.compress:
            return _output(DONE, stream.codec.compress(data))
        if stream.codec.eof:
            if data:
                self._close(handle)
                return _failed("Data found after the end of the compressed stream")
            return _output(DONE, b"")
        return self._inflated(handle, stream, stream.codec.decompress(data, OUTPUT_PER_CALL))

    def _more(self, handle: int, stream: _Stream) -> bytearray:
        codec = stream.codec
        return self._inflated(
            handle, stream, codec.decompress(codec.unconsumed_tail, OUTPUT_PER_CALL)
        )

    def _inflated(self, handle: int, stream: _Stream, out: bytes) -> bytearray:
        codec = stream.codec
        if codec.eof and codec.unused_data:
            self._close(handle)
            return _failed("Data found after the end of the compressed stream")
        return _output(MORE if codec.unconsumed_tail else DONE, out)

    def _finish(self, handle: int, stream: _Stream) -> bytearray:
        self._close(handle)
        if stream.compress:
            return _output(DONE, stream.codec.flush())
        if not stream.codec.eof:
            return _failed("The compressed data ended before the end of its stream")
        return _output(DONE, b"")

    def _close(self, handle: int) -> None:
        stream = self._streams.pop(handle, None)
        if stream is not None:
            self._per_run[stream.owner] -= 1


def _bytes(value: object) -> bytes:
    return str(value).encode("latin-1") if isinstance(value, str) else b""


def _output(tag: int, data: bytes) -> bytearray:
    out = bytearray(1 + len(data))
    out[0] = tag
    out[1:] = data
    return out


def _failed(message: str) -> bytearray:
    return bytearray(bytes([FAILED]) + message.encode())
