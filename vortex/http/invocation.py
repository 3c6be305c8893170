"""What the HTTP routes share about runs: the run id a client may choose.

Starting runs is the run service's business (``vortex.runs``), which ``POST /execute``, cron and
the functions listener all use.
"""

from __future__ import annotations

import uuid

from aiohttp import web


def run_id_of(request: web.Request) -> str:
    # A client that tails the WebSocket names its run up front to tell its lines from others'.
    return (request.headers.get("X-Vortex-Run-Id") or str(uuid.uuid4()))[:64]
