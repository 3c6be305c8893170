"""The built-in dashboard: static files served from the same port as the API."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

_PACKAGED = Path(__file__).resolve().parent.parent / "_static"
_SOURCE_TREE = Path(__file__).resolve().parent.parent.parent / "static"


def static_dir() -> Path:
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE_TREE


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(static_dir() / "index.html")


def add_routes(app: web.Application) -> None:
    directory = static_dir()
    if not (directory / "index.html").is_file():
        return
    app.router.add_get("/", index)
    app.router.add_static("/static/", directory)
