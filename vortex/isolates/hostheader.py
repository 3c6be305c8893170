"""Which host a request names: its one Host header, or the authority of an absolute-form target.

As RFC 9112 (3.2) has it: a request with more than one Host field line, or with a Host that is
not a host (``a.localhost/x``, ``user@a.localhost``, spaces), is answered 400; an HTTP/1.1
request with none, too. A target in absolute form (``GET http://a.localhost/x``, as proxies
send) names the host itself, and the Host header is ignored.

The supervisor's front door (listener.py, with dedicated hosts) and the hosts (httpserve.py)
read the name by these same rules. Read two ways (the first Host there, the last here, as
they did), one head could be handed to one namespace's host and asked of another's function;
and a front proxy that routed by the other Host header than ours would have sent a request to
a function its operator did not mean.
"""

from __future__ import annotations

import re

NO_HOST = "The request has no Host header: it names the function"
TWO_HOSTS = "The request has more than one Host header"
NOT_A_HOST = "The Host header is not a host name (name or address, and a port)"

# RFC 3986's host (an IP literal, or a reg-name: unreserved, sub-delims, percent-encoded), then
# an optional port (at most 65535). No userinfo, path, query or blank.
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::([0-9]*))?")


def authority_of(target: bytes) -> str | None:
    """The authority of an absolute-form target (``http://a.localhost:8787/x`` →
    ``a.localhost:8787``), None for any other form."""
    scheme, separator, rest = target.partition(b"://")
    if not separator or scheme.lower() not in (b"http", b"https"):
        return None
    end = len(rest)
    for mark in (b"/", b"?", b"#"):
        at = rest.find(mark)
        if at != -1:
            end = min(end, at)
    return rest[:end].decode("latin-1")


def host_problem(host: str, count: int, required: bool) -> str | None:
    """What is wrong with a request's host: ``host`` as named (by the target's authority or
    the Host header), ``count`` Host field lines; ``required``: HTTP/1.1, where a Host header
    must be sent even with an absolute-form target."""
    if count > 1:
        return TWO_HOSTS
    if not host or (required and count == 0):
        return NO_HOST
    matched = _HOST.fullmatch(host)
    if not matched:
        return NOT_A_HOST
    port = matched.group(1)
    if port and int(port) > 65535:
        # The URL parser refuses it: a run would fail making the request's url, blamed on the
        # function (a 500 ``function_error``) for what the client sent.
        return NOT_A_HOST
    return None
