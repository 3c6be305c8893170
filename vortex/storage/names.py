"""Names and versions: a name points at the active one of its immutable versions.

Each deploy under a name stores a new ``FunctionRecord`` (a version, with its own function id)
and then rewrites the name's pointer, one small document per name and namespace::

    {"namespace": "default", "name": "hello", "active": 3,
     "versions": [{"version": 1, "function_id": "…", "created_at": "…"}, …]}

The pointer lives in the ``FunctionStore`` (a file written atomically; an S3 object written after
the version's record), so every node sees the same active version; nodes cache it briefly
(``vortex.functions.POINTER_FRESH_FOR``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from typing import Any

import orjson

from vortex.errors import InvalidFunctionId, InvalidRequest
from vortex.ids import parse_function_id

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
TRIGGER_SEPARATOR = "."
"""``/fn/hello.acme/`` is the function ``hello`` of the namespace ``acme`` (neither holds a dot)."""


def looks_like_id(raw: str) -> bool:
    try:
        uuid.UUID(raw)
    except ValueError:
        return False
    return True


def check_name(raw: object) -> str:
    """A deploy's ``"name"``: a slug that cannot be mistaken for a function id."""
    if not isinstance(raw, str) or not NAME.fullmatch(raw) or looks_like_id(raw):
        raise InvalidRequest(
            '"name" must be 1-63 lowercase letters, digits and hyphens, starting with a letter '
            "or digit (and not a function id)"
        )
    return raw


def parse_ref(raw: str) -> tuple[str, str]:
    """What a path names: ``("id", canonical id)`` or ``("name", name)``."""
    if NAME.fullmatch(raw) and not looks_like_id(raw):
        return "name", raw
    try:
        return "id", parse_function_id(raw)
    except InvalidFunctionId:
        raise InvalidFunctionId(
            f"{raw[:80]!r} is neither a function id (a UUID) nor a function name"
        ) from None


@dataclass(frozen=True, slots=True)
class VersionRef:
    version: int
    function_id: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "function_id": self.function_id,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class NamePointer:
    namespace: str
    name: str
    active: int
    versions: tuple[VersionRef, ...]

    @property
    def latest(self) -> int:
        return max((v.version for v in self.versions), default=0)

    def version(self, number: int) -> VersionRef | None:
        return next((v for v in self.versions if v.version == number), None)

    @property
    def active_ref(self) -> VersionRef:
        ref = self.version(self.active)
        if ref is None:  # never written so: every writer activates a version it lists
            raise ValueError(f"{self.name}: active version {self.active} is not listed")
        return ref

    def with_version(self, ref: VersionRef) -> NamePointer:
        return replace(self, active=ref.version, versions=(*self.versions, ref))

    def activate(self, number: int) -> NamePointer:
        return replace(self, active=number)

    def to_bytes(self) -> bytes:
        return orjson.dumps(
            {
                "namespace": self.namespace,
                "name": self.name,
                "active": self.active,
                "versions": [v.to_json() for v in self.versions],
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> NamePointer:
        fields = orjson.loads(data)
        return cls(
            namespace=fields["namespace"],
            name=fields["name"],
            active=int(fields["active"]),
            versions=tuple(
                VersionRef(int(v["version"]), v["function_id"], v["created_at"])
                for v in fields["versions"]
            ),
        )
