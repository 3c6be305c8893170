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
from collections.abc import Callable
from typing import Any

from vortex.isolates.runhandles import DONE, FAILED, RunHandles, failed, tagged

ALGORITHMS = {"SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
ALGORITHMS["MD5"] = "md5"  # as in Workers, for DigestStream only (not crypto.subtle)
STREAMS_PER_RUN = 1024
"""Open streams one run may hold: each holds a hash's state (a few hundred bytes)."""
__all__ = ["ALGORITHMS", "DONE", "FAILED", "STREAMS_PER_RUN", "Digests"]


class Digests:
    def __init__(self, owner: Callable[[], int]) -> None:
        self._streams: RunHandles[Any] = RunHandles(owner, STREAMS_PER_RUN)

    def call(self, op: str, handle: float, data: object) -> bytearray:
        """One operation for JavaScript; never raises."""
        key = int(handle)
        try:
            if op == "open":
                return self._open(str(data))
            digest = self._streams.get(key)
            if digest is None:
                return failed("The stream is closed (it belongs to a run that has ended)")
            if op == "update":
                if not isinstance(data, memoryview):
                    return failed("The chunk is not bytes")
                digest.update(data)
                return tagged(DONE, b"")
            if op == "finish":
                self._streams.close(key)
                return tagged(DONE, digest.digest())
            return failed("Unknown operation")
        except Exception:  # the text stays here
            self._streams.close(key)
            return failed("The digest stream failed")

    def run_ended(self, owner: int) -> None:
        self._streams.run_ended(owner)

    def _open(self, algorithm: str) -> bytearray:
        name = ALGORITHMS.get(algorithm)
        if name is None:
            return failed(f"Unsupported digest algorithm: {algorithm}")
        handle = self._streams.open(lambda: hashlib.new(name))
        if handle is None:
            return failed(f"Too many digest streams open in this run (limit {STREAMS_PER_RUN})")
        return tagged(DONE, str(handle).encode())
