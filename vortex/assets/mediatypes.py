"""The ``Content-Type`` of an asset, from its extension, the same on every machine.

Python's ``mimetypes`` reads the system's ``/etc/mime.types`` when it has one, so a table of
its own keeps a site's answers independent of the machine (``.js`` was ``text/javascript`` on
one and ``application/javascript`` on another). Text types say ``charset=utf-8``, as Workers'.
"""

from __future__ import annotations

import functools

TYPES = {
    "html": "text/html",
    "htm": "text/html",
    "css": "text/css",
    "js": "text/javascript",
    "mjs": "text/javascript",
    "cjs": "text/javascript",
    "json": "application/json",
    "map": "application/json",
    "webmanifest": "application/manifest+json",
    "txt": "text/plain",
    "md": "text/markdown",
    "csv": "text/csv",
    "xml": "application/xml",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "ico": "image/x-icon",
    "bmp": "image/bmp",
    "woff": "font/woff",
    "woff2": "font/woff2",
    "ttf": "font/ttf",
    "otf": "font/otf",
    "eot": "application/vnd.ms-fontobject",
    "wasm": "application/wasm",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "gz": "application/gzip",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "yaml": "text/yaml",
    "yml": "text/yaml",
}
DEFAULT = "application/octet-stream"
_TEXT_LIKE = ("text/", "application/json", "application/manifest+json", "application/xml")


@functools.lru_cache(maxsize=1024)
def content_type(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    found = TYPES.get(extension, DEFAULT)
    if found.startswith(_TEXT_LIKE) or found == "image/svg+xml":
        return f"{found}; charset=utf-8"
    return found
