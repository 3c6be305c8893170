"""Headers every answer of the API and the dashboard carries, whatever made it (a handler, an
error, a redirect, a WebSocket's handshake).

The dashboard is the target: a page that could run script in its origin could use its session.
So its origin runs only its own files (no inline script, nothing from elsewhere, no plugin, no
``<base>``), cannot be framed, starts no worker and, above all, never says
``Service-Worker-Allowed``, which would let a worker claim more of the origin than its script's
folder. API answers are JSON, never to be sniffed into something a page would run, and no other
origin may embed them (``Cross-Origin-Resource-Policy``).
"""

from __future__ import annotations

from aiohttp import web

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-src 'none'",
        "worker-src 'none'",
        "frame-ancestors 'none'",
        "form-action 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
NEVER_SENT = ("Service-Worker-Allowed",)


async def add_security_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """``on_response_prepare``: runs for every answer, just before its headers are sent."""
    response.headers.update(SECURITY_HEADERS)
    for name in NEVER_SENT:
        response.headers.popall(name, None)
