"""Typed keys for what ``create_app`` puts on the application."""

from __future__ import annotations

from aiohttp import web

from vortex.config import Settings
from vortex.functions import FunctionRegistry
from vortex.isolates.pool import IsolatePool
from vortex.logbus.base import LogBus
from vortex.runs import RunLedger

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", IsolatePool)
REGISTRY = web.AppKey("registry", FunctionRegistry)
LOGBUS = web.AppKey("logbus", LogBus)
RUNS = web.AppKey("runs", RunLedger)
WEBSOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("websockets")
