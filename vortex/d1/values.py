"""How values cross between a run and a database.

A statement's parameters come as JSON: ``null``, numbers, strings, and ``{"blob": [offset,
length]}`` for bytes, which travel as the call's body beside the JSON, never inside it (the
harness turns booleans into 1 and 0, as D1 does, and refuses ``undefined``). Rows go back as
JSON: a BLOB as an array of byte values, as D1 gives it.
"""

from __future__ import annotations

from typing import Any

from vortex.d1.errors import D1TypeError

SqlValue = None | int | float | str | bytes
INT64 = (-(1 << 63), (1 << 63) - 1)


def _value(raw: object, body: bytes) -> SqlValue:
    if raw is None or isinstance(raw, str | float):
        return raw
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, int):
        # A JavaScript number past 64 bits arrives as a huge integer: SQLite takes it as REAL.
        return raw if INT64[0] <= raw <= INT64[1] else float(raw)
    if isinstance(raw, dict) and set(raw) == {"blob"}:
        span = raw["blob"]
        if (
            isinstance(span, list)
            and len(span) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in span)
            and span[0] + span[1] <= len(body)
        ):
            return body[span[0] : span[0] + span[1]]
    kind = type(raw).__name__
    raise D1TypeError(f"D1_TYPE_ERROR: Type '{kind}' not supported for value '{str(raw)[:60]}'")


def parameters(raw: object, body: bytes | None) -> list[SqlValue]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise D1TypeError("D1_TYPE_ERROR: the parameters of a statement must be a list")
    return [_value(item, body or b"") for item in raw]


def cell(value: Any) -> Any:
    if isinstance(value, bytes):
        return list(value)
    return value
