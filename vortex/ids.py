"""Function ids: UUIDs, handed out as version 4, accepted in any case, stored lowercase."""

from __future__ import annotations

import uuid

from vortex.errors import InvalidFunctionId


def new_function_id() -> str:
    return str(uuid.uuid4())


def parse_function_id(raw: str) -> str:
    try:
        parsed = uuid.UUID(raw)
    except ValueError:
        raise InvalidFunctionId(f"{raw[:80]!r} is not a function id (a UUID)") from None
    canonical = str(parsed)
    if canonical != raw.lower():
        # uuid.UUID also takes braces, "urn:uuid:" and bare hex; ids have one spelling.
        raise InvalidFunctionId(f"{raw[:80]!r} is not a function id (a UUID)")
    return canonical
