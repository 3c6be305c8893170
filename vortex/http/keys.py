"""Typed keys for what ``create_app`` puts on the application."""

from __future__ import annotations

from aiohttp import web

from vortex.auth import ApiKeys, Principal
from vortex.config import Settings
from vortex.functions import FunctionRegistry
from vortex.isolates.pool import IsolatePool
from vortex.kv import KV
from vortex.logbus.base import LogBus
from vortex.metrics import Metrics
from vortex.runs import RunLedger

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", IsolatePool)
REGISTRY = web.AppKey("registry", FunctionRegistry)
LOGBUS = web.AppKey("logbus", LogBus)
RUNS = web.AppKey("runs", RunLedger)
WEBSOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("websockets")
API_KEYS = web.AppKey("api_keys", ApiKeys)
AUTH_OPEN_WITHOUT_KEYS = web.AppKey("auth_open_without_keys", bool)
"""With no API key in the store: serve everyone (loopback, or allowed) or refuse everyone."""
KV_STORE = web.AppKey("kv", KV)
METRICS = web.AppKey("metrics", Metrics)
PRINCIPAL = web.RequestKey("principal", Principal)
"""Who is asking, set by ``vortex.http.auth.require_api_key`` on every protected route."""
