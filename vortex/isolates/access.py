"""What an access line of the functions listener says of a request, in the processes that see
it: the hosts, which answer nearly every request (httpserve.py), and the supervisor, which
answers the first request of a connection only when it refuses it (listener.py). Either makes
an ``AccessRecord`` when the answer ended; the supervisor logs it (``oplog.listener_request``).
"""

from __future__ import annotations

from collections.abc import Callable

from vortex.isolates.protocol import AccessRecord

MAX_PATH = 256
"""Characters of a path kept for its line: a line is read, not a store of whatever came."""
HEADER_TIMEOUT = 408
"""The client began a request and did not finish its head in time (nothing is answered)."""
CLIENT_CLOSED = 499
"""As nginx logs it: the client went away before the answer."""

OnAccess = Callable[[AccessRecord], None]


def hostname_of(host_header: str) -> str:
    """``Hello.localhost:8787`` → ``hello.localhost`` (the name a route is kept under);
    ``[::1]:8787`` → ``[::1]``."""
    if host_header.startswith("["):
        return host_header.split("]", 1)[0].lower() + "]"
    return host_header.rsplit(":", 1)[0].lower().rstrip(".")


def logged_path(target: bytes) -> str:
    """The path of a request target as sent, without its query (which may carry tokens), cut
    at ``MAX_PATH`` characters; bytes outside ASCII and control characters are escaped
    (``\\xe9``), so that a line holds only what a terminal shows as it is."""
    path = target.split(b"?", 1)[0]
    if not path.startswith(b"/"):
        scheme_end = path.find(b"://")
        if scheme_end != -1:  # absolute form: the path follows the authority
            slash = path.find(b"/", scheme_end + 3)
            path = b"/" if slash == -1 else path[slash:]
    text = path[:MAX_PATH].decode("ascii", "backslashreplace")
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
