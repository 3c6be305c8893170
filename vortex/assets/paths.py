"""What an asset's path may be: the key a request is matched against, never a file's name.

A path is absolute, normalised and plain: ``/``-separated segments with no empty, ``.`` or
``..`` segment, no NUL or other control character and no backslash. Request paths are looked up
in the version's own manifest (a dict), so no request can name a file of the store: this check
keeps manifests readable and unambiguous, and refuses uploads that mean a traversal.
"""

from __future__ import annotations

import re

from vortex.errors import InvalidAssetPath

MAX_PATH_CHARS = 1024
MAX_SEGMENT_CHARS = 255
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def check_path(path: object) -> str:
    """``path`` if it is a valid asset path; else ``InvalidAssetPath`` saying why."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidAssetPath(f"asset path {str(path)[:80]!r} must start with /")
    shown = repr(path[:80])
    if len(path) > MAX_PATH_CHARS:
        raise InvalidAssetPath(f"asset path {shown}... is over {MAX_PATH_CHARS} characters")
    if _FORBIDDEN.search(path):
        raise InvalidAssetPath(
            f"asset path {shown} holds a control character (NUL...) or a backslash"
        )
    for segment in path[1:].split("/"):
        if segment in ("", ".", ".."):
            raise InvalidAssetPath(
                f"asset path {shown} is not normalised: no empty, '.' or '..' segment "
                "(nor a trailing /)"
            )
        if len(segment) > MAX_SEGMENT_CHARS:
            raise InvalidAssetPath(f"asset path {shown} has a segment over {MAX_SEGMENT_CHARS}")
    return path


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and SHA256_HEX.fullmatch(value) is not None
