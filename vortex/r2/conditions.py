"""``onlyIf`` of an R2 get or put: etagMatches, etagDoesNotMatch, uploadedBefore, uploadedAfter
(the harness turns a Headers of If-Match, If-None-Match, If-Unmodified-Since and
If-Modified-Since into these, with ``secondsGranularity``, as HTTP dates have no milliseconds).

As RFC 9110 orders them, an etag condition given makes its date condition moot: If-Match
overrides If-Unmodified-Since, If-None-Match overrides If-Modified-Since.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vortex.r2.errors import R2InvalidArgument
from vortex.r2.objects import ObjectHead


def _etags(value: object) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise R2InvalidArgument("onlyIf etags are strings")
    tags = []
    for part in value.split(","):
        tag = part.strip()
        tag = tag.removeprefix("W/")
        if len(tag) >= 2 and tag[0] == tag[-1] == '"':
            tag = tag[1:-1]
        if tag:
            tags.append(tag)
    return tags


def _time(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise R2InvalidArgument("onlyIf uploadedBefore and uploadedAfter are Dates")
    return int(value)


def passes(only_if: Mapping[str, Any] | None, head: ObjectHead | None) -> bool:
    """Whether the operation goes ahead for the object as it is (``None``: absent)."""
    if not only_if:
        return True
    if not isinstance(only_if, Mapping):
        raise R2InvalidArgument("onlyIf is an object of conditions or a Headers")
    match = _etags(only_if.get("etagMatches"))
    no_match = _etags(only_if.get("etagDoesNotMatch"))
    before = _time(only_if.get("uploadedBefore"))
    after = _time(only_if.get("uploadedAfter"))
    if head is None:
        # Nothing to match: "If-Match" fails, "create only" (If-None-Match: *) goes ahead.
        return match is None
    uploaded = head.uploaded_ms
    if only_if.get("secondsGranularity"):
        uploaded -= uploaded % 1000
    if match is not None:
        if "*" not in match and head.etag not in match:
            return False
    elif before is not None and uploaded > before:
        return False
    if no_match is not None:
        if "*" in no_match or head.etag in no_match:
            return False
    elif after is not None and uploaded <= after:
        return False
    return True
