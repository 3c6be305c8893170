"""crypto.DigestStream's hashing on hashlib, in the host.

Hashing in JavaScript ran at ~40 MB/s for SHA-256; hashlib's OpenSSL does the same work at well
over ten times that. Each stream a run writes to is a hashlib object here, known to JavaScript
by a number, as the compression streams are (codecs.py). Bytes come as a fresh Uint8Array made
by the web APIs (a memoryview here, read at once and not kept), the digest goes back as a tagged
bytearray, and no Python object or text of Python's reaches user code. A run's streams are
dropped when it ends.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ALGORITHMS = {"SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
ALGORITHMS["MD5"] = "md5"  # as in Workers, for DigestStream only (not crypto.subtle)
STREAMS_PER_RUN = 1024
"""Open streams one run may hold: each holds a hash's state (a few hundred bytes)."""

DONE = 0
"""Tag: the bytes that follow are the answer (a handle's digits, or a digest)."""
FAILED = 2
"""Tag: the operation failed; UTF-8 text follows, for a TypeError."""


@dataclass
class _Stream:
    owner: int
    hash: Any


class Digests:
    def __init__(self, owner: Callable[[], int]) -> None:
        self._owner = owner
        self._streams: dict[int, _Stream] = {}
        self._ids = itertools.count(1)
        self._per_run: dict[int, int] = {}

    def call(self, op: str, handle: float, data: object) -> bytearray:
        """One operation for JavaScript; never raises."""
        key = int(handle)
        try:
            if op == "open":
                return self._open(str(data))
            stream = self._streams.get(key)
            if stream is None:
                return _failed("The stream is closed (it belongs to a run that has ended)")
            if op == "update":
                if not isinstance(data, memoryview):
                    return _failed("The chunk is not bytes")
                stream.hash.update(data)
                return bytearray(1)
            if op == "finish":
                self._close(key)
                return _answer(stream.hash.digest())
            return _failed("Unknown operation")
        except Exception:  # the text stays here
            self._close(key)
            return _failed("The digest stream failed")

    def run_ended(self, owner: int) -> None:
        if self._per_run.pop(owner, None) is None:
            return
        for handle in [h for h, s in self._streams.items() if s.owner == owner]:
            del self._streams[handle]

    def _open(self, algorithm: str) -> bytearray:
        name = ALGORITHMS.get(algorithm)
        if name is None:
            return _failed(f"Unsupported digest algorithm: {algorithm}")
        owner = self._owner()
        if self._per_run.get(owner, 0) >= STREAMS_PER_RUN:
            return _failed(f"Too many digest streams open in this run (limit {STREAMS_PER_RUN})")
        handle = next(self._ids)
        self._streams[handle] = _Stream(owner, hashlib.new(name))
        self._per_run[owner] = self._per_run.get(owner, 0) + 1
        return _answer(str(handle).encode())

    def _close(self, handle: int) -> None:
        stream = self._streams.pop(handle, None)
        if stream is not None:
            self._per_run[stream.owner] -= 1


def _answer(data: bytes) -> bytearray:
    out = bytearray(1 + len(data))
    out[1:] = data
    return out


def _failed(message: str) -> bytearray:
    return bytearray(bytes([FAILED]) + message.encode())
