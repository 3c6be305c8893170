"""Typed keys for what ``create_app`` puts on the application."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from vortex.auth import ApiKeys, Principal
from vortex.auth.sessions import Session, Sessions
from vortex.config import Settings
from vortex.dataplane import DataPlane
from vortex.functions import FunctionRegistry
from vortex.history.base import RunHistory
from vortex.isolates.pool import IsolatePool
from vortex.kv import KV
from vortex.logbus.base import LogBus
from vortex.metrics import Metrics
from vortex.rollups.recorder import RollupRecorder
from vortex.runs import RunService

if TYPE_CHECKING:
    # vortex.http.cron imports these keys; at run time the key needs no class.
    from vortex.http.cron import CronTriggers

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", IsolatePool)
REGISTRY = web.AppKey("registry", FunctionRegistry)
LOGBUS = web.AppKey("logbus", LogBus)
HISTORY = web.AppKey("history", RunHistory)
ROLLUPS = web.AppKey("rollups", RollupRecorder)
"""Per-minute counts of each function's runs, for its charts."""
PENDING_RECORDS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("pending_records")
"""Runs being written to the history: awaited at shutdown so none is lost."""
WEBSOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("websockets")
API_KEYS = web.AppKey("api_keys", ApiKeys)
SESSIONS = web.AppKey("sessions", Sessions)
"""The dashboard's login sessions (``vortex.http.session``)."""
AUTH_OPEN_WITHOUT_KEYS = web.AppKey("auth_open_without_keys", bool)
"""With no API key in the store: serve everyone (loopback, or allowed) or refuse everyone."""
HEALTH_ERRORS: web.AppKey[dict[str, str]] = web.AppKey("health_errors")
"""The last error /health saw of each backend, so that a change is logged once."""
KV_STORE = web.AppKey("kv", KV)
RUNS = web.AppKey("runs", RunService)
DATA_PLANE = web.AppKey("data_plane", DataPlane)
"""Where functions answer (their URLs); with ``functions_port`` 0 nothing listens there."""
METRICS = web.AppKey("metrics", Metrics)
CRON: web.AppKey[CronTriggers] = web.AppKey("cron")
"""Set by ``vortex.http.cron.cron_ctx``."""
PRINCIPAL = web.RequestKey("principal", Principal)
"""Who is asking, set by ``vortex.http.auth.require_api_key`` on every protected route."""
SESSION = web.RequestKey("session", Session)
"""The dashboard session a request was authenticated with, when it was (not a bearer key)."""
