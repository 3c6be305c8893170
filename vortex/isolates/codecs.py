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

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vortex.isolates.runhandles import DONE, FAILED, MORE, RunHandles, failed, tagged

WBITS = {"gzip": 31, "deflate": 15, "deflate-raw": -15}
OUTPUT_PER_CALL = 1 << 20
STREAMS_PER_RUN = 256
"""Open streams one run may hold: each holds zlib's state (~270 KB to compress)."""
__all__ = ["DONE", "FAILED", "MORE", "OUTPUT_PER_CALL", "STREAMS_PER_RUN", "WBITS", "Codecs"]


@dataclass
class _Stream:
    compress: bool
    codec: Any


class Codecs:
    def __init__(self, owner: Callable[[], int]) -> None:
        self._streams: RunHandles[_Stream] = RunHandles(owner, STREAMS_PER_RUN)

    def call(self, op: str, handle: float, data: object) -> bytearray:
        """One operation for JavaScript; never raises."""
        key = int(handle)
        try:
            if op in ("compress", "decompress"):
                return self._open(op == "compress", str(data))
            stream = self._streams.get(key)
            if stream is None:
                return failed("The stream is closed (it belongs to a run that has ended)")
            if op == "push":
                return self._push(key, stream, _bytes(data))
            if op == "more":
                return self._more(key, stream)
            if op == "finish":
                return self._finish(key, stream)
            return failed("Unknown operation")
        except zlib.error:
            self._close(key)
            return failed("The compressed data is not valid")
        except Exception:  # the text stays here
            self._close(key)
            return failed("The compression stream failed")

    def run_ended(self, owner: int) -> None:
        self._streams.run_ended(owner)

    def _open(self, compress: bool, format_name: str) -> bytearray:
        wbits = WBITS.get(format_name)
        if wbits is None:
            return failed(f"'{format_name}' is not a valid CompressionFormat")
        handle = self._streams.open(
            lambda: _Stream(
                compress,
                zlib.compressobj(wbits=wbits) if compress else zlib.decompressobj(wbits=wbits),
            )
        )
        if handle is None:
            return failed(
                f"Too many compression streams open in this run (limit {STREAMS_PER_RUN})"
            )
        return tagged(DONE, str(handle).encode())

    def _push(self, handle: int, stream: _Stream, data: bytes) -> bytearray:
        if stream.compress:
            return tagged(DONE, stream.codec.compress(data))
        if stream.codec.eof:
            if data:
                self._close(handle)
                return failed("Data found after the end of the compressed stream")
            return tagged(DONE, b"")
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
            return failed("Data found after the end of the compressed stream")
        return tagged(MORE if codec.unconsumed_tail else DONE, out)

    def _finish(self, handle: int, stream: _Stream) -> bytearray:
        self._close(handle)
        if stream.compress:
            return tagged(DONE, stream.codec.flush())
        if not stream.codec.eof:
            return failed("The compressed data ended before the end of its stream")
        return tagged(DONE, b"")

    def _close(self, handle: int) -> None:
        self._streams.close(handle)


def _bytes(value: object) -> bytes:
    return str(value).encode("latin-1") if isinstance(value, str) else b""
