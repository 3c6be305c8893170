"""Which connections the API's port takes: at most so many open at once per client address, and
in all, decided at ``accept()`` before aiohttp spends anything on them.

Slow clients (a slowloris: connections that trickle header bytes, or send none) each hold a file
descriptor until aiohttp's first-request timeout. From one address, 700 of them at a limit of 600
open files made ``/health`` time out with EMFILE in the log (issue 15, item 4). A listening
socket whose ``accept()`` closes at once what is over the caps leaves the others, ``/health``
included, their descriptors; the idle timeout (``VORTEX_API_IDLE_TIMEOUT_MS``) ends the ones
that were let in.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
from collections import Counter
from collections.abc import Callable

from vortex.isolates.listener import pending_limit

log = logging.getLogger(__name__)

MIN_PER_ADDRESS = 8
ACCEPTS_PER_WAKEUP = 1024
"""Connections refused in one ``accept()`` call before it yields to the loop (a flood)."""


class Admission:
    """Counts the open connections of each client address."""

    def __init__(self, per_address: int, total: int) -> None:
        self.per_address = per_address
        """0: no cap per address."""
        self.total = total
        self.open: Counter[str] = Counter()
        self.count = 0
        self.shed = 0

    @classmethod
    def for_open_files(cls, per_address: int) -> Admission:
        """The caps for the server's limit of open files: in all, what the functions listener
        may hold too (the limit less a reserve for storage, Redis and the hosts' pipes); per
        address, at most a quarter of that, so that one address never takes them all."""
        total = pending_limit()
        if per_address:
            per_address = max(MIN_PER_ADDRESS, min(per_address, total // 4))
        return cls(per_address, total)

    def admit(self, address: str) -> bool:
        count = self.open[address]
        if self.count >= self.total or (self.per_address and count >= self.per_address):
            self.shed += 1
            if self.shed == 1 or self.shed % 1000 == 0:
                log.warning(
                    "API port: %d connections open from %s, %d in all; %d shed",
                    count,
                    address,
                    self.count,
                    self.shed,
                )
            return False
        self.open[address] = count + 1
        self.count += 1
        return True

    def release(self, address: str) -> None:
        self.count -= 1
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]


class _Connection(socket.socket):
    """An accepted connection that gives its place back when the transport closes it."""

    release: Callable[[], None] | None = None

    def close(self) -> None:
        release, self.release = self.release, None
        if release is not None:
            release()
        super().close()


class AdmittingSocket(socket.socket):
    """A listening socket for ``web.run_app(sock=...)``: asyncio calls its ``accept()``."""

    admission: Admission

    def accept(self) -> tuple[socket.socket, object]:
        for _ in range(ACCEPTS_PER_WAKEUP):
            fd, address = self._accept()  # type: ignore[attr-defined]
            connection = _Connection(self.family, self.type, self.proto, fileno=fd)
            host = str(address[0]) if isinstance(address, tuple) else ""
            if self.admission.admit(host):
                connection.release = lambda host=host: self.admission.release(host)
                return connection, address
            with contextlib.suppress(OSError):  # a reset: no TIME_WAIT kept for a refusal
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()
        raise BlockingIOError  # the loop calls again when more are waiting


def listening_sockets(
    host: str, port: int, backlog: int, admission: Admission
) -> list[socket.socket]:
    """What ``loop.create_server(host=..., port=...)`` would bind (every address of ``host``,
    IPv6 ones v6-only), as sockets that admit connections."""
    sockets: list[socket.socket] = []
    seen = set()
    try:
        for family, kind, proto, _, address in socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = AdmittingSocket(family, kind, proto)
            sockets.append(sock)
            sock.admission = admission
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(backlog)
    except OSError:
        for made in sockets:
            made.close()
        raise
    return sockets
