"""The built-in dashboard: static files served from the same port as the API.

Plain HTML, CSS and JavaScript modules, no build step. Every file is revalidated on each load
(``no-cache`` with an ETag), so a new version of Vortex never meets a stale page, and the page
carries a Content-Security-Policy that allows nothing but this origin (``vortex.http.headers``,
on every answer): the dashboard works offline and cannot be made to load anything from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

_PACKAGED = Path(__file__).resolve().parent.parent / "_static"
_SOURCE_TREE = Path(__file__).resolve().parent.parent.parent / "static"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}


def static_dir() -> Path:
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE_TREE


def _file_response(path: Path) -> web.FileResponse:
    content_type = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
    headers = {"Content-Type": content_type, "Cache-Control": "no-cache"}
    return web.FileResponse(path, headers=headers)


async def index(request: web.Request) -> web.FileResponse:
    return _file_response(static_dir() / "index.html")


async def static_file(request: web.Request) -> web.FileResponse:
    root = static_dir().resolve()
    relative = request.match_info["path"]
    try:
        path = (root / relative).resolve()
        found = path.is_relative_to(root) and path.is_file()
    except (ValueError, OSError):  # a NUL byte or a name the filesystem refuses
        found = False
    if not found:
        raise web.HTTPNotFound()
    if any(part.startswith(".") for part in path.relative_to(root).parts):
        raise web.HTTPNotFound()
    return _file_response(path)


def add_routes(app: web.Application) -> None:
    directory = static_dir()
    if not (directory / "index.html").is_file():
        return
    app.router.add_get("/", index)
    app.router.add_get("/static/{path:.+}", static_file)
