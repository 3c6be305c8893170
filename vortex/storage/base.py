"""Where deployed code lives: the ``FunctionStore`` protocol and the record it keeps.

Code is stored content-addressed (by SHA-256) and never changed in place; a function record
points at it. A store writes the code before the record, so a record never points at nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

import orjson

from vortex.assets.manifest import AssetsRef
from vortex.d1.declaration import d1_databases_json, d1_databases_of
from vortex.health import BackendHealth
from vortex.r2.declaration import r2_buckets_json, r2_buckets_of
from vortex.services.targets import ServiceTarget, services_json, services_of
from vortex.storage.keyindex import KeyIndex
from vortex.storage.names import NamePointer

FunctionKind = Literal["script", "module", "service-worker"]
"""What a function is, as the API shows it."""


@dataclass(frozen=True, slots=True)
class FunctionRecord:
    id: str
    code_sha256: str
    size: int
    created_at: str
    filename: str = "index.js"
    kind: FunctionKind = "script"
    """A module's code blob is a ``vortex.modules.bundle`` (its files and built script);
    ``"service-worker"`` is a script in Workers' service-worker syntax (``vortex.serviceworker``),
    stored as any script is."""
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    """Stored with the record (the data directory or bucket must be protected accordingly) and
    never returned by the API: ``public_json`` names them only."""
    allow_hosts: tuple[str, ...] = ()
    """Hosts the function may ``fetch()`` ("api.example.com", "*.example.org")."""
    namespace: str = "default"
    """The namespace of the API key that deployed it (docs/auth.md)."""
    name: str | None = None
    """Set for a version of a named function (``vortex.storage.names``); its id stays its own."""
    version: int | None = None
    schedules: tuple[str, ...] = ()
    """Five-field cron expressions (UTC): the function also runs on each (docs/cron.md)."""
    routes: tuple[str, ...] = ()
    """Custom-domain routes a named function claims while this version is active
    (``api.example.com/v1/*``: ``vortex.domainroutes``)."""
    services: dict[str, ServiceTarget] = field(default_factory=dict)
    """Service bindings: ``env`` name → the name of the function of this namespace it calls,
    and which of its entrypoints (``vortex.services``)."""
    assets: AssetsRef | None = None
    """The version's static assets (``vortex.assets``): its manifest's hash and settings."""
    r2_buckets: dict[str, str] = field(default_factory=dict)
    """R2 buckets bound in ``env``: binding name → bucket name, of the namespace (docs/r2.md)."""
    d1_databases: dict[str, str] = field(default_factory=dict)
    """D1 databases bound in ``env``: binding name → database name, of the namespace
    (docs/d1.md)."""
    secrets_error: str | None = field(default=None, compare=False, repr=False)
    """Why the secrets' values could not be read (sealed with another key: see
    ``vortex.storage.sealing``); ``secrets`` then holds their names only, and runs refuse."""

    @property
    def schedule(self) -> str | None:
        """The first schedule: what a record held before several were allowed, still written
        and shown so that older nodes and clients read what they always did."""
        return self.schedules[0] if self.schedules else None

    def to_json(self) -> dict[str, Any]:
        """Everything, secrets included: this is what stores write."""
        return self._with_schedule(asdict(self))

    def public_json(self) -> dict[str, Any]:
        """What the API shows: secret names, never their values."""
        data = self._with_schedule(asdict(self))
        data["secrets"] = sorted(self.secrets)
        del data["secrets_error"]
        return data

    def _with_schedule(self, data: dict[str, Any]) -> dict[str, Any]:
        # As the deploy body and wrangler write them.
        data["services"] = services_json(self.services)
        data["schedules"] = list(self.schedules)
        data["schedule"] = self.schedule
        data["r2_buckets"] = r2_buckets_json(self.r2_buckets)
        data["d1_databases"] = d1_databases_json(self.d1_databases)
        return data

    @classmethod
    def from_json(cls, data: bytes) -> FunctionRecord:
        fields = orjson.loads(data)
        # Records written before module functions existed lack the newer fields.
        return cls(
            id=fields["id"],
            code_sha256=fields["code_sha256"],
            size=fields["size"],
            created_at=fields["created_at"],
            filename=fields.get("filename", "index.js"),
            kind=_kind_of(fields),
            env=dict(fields.get("env") or {}),
            secrets=dict(fields.get("secrets") or {}),
            allow_hosts=tuple(fields.get("allow_hosts") or ()),
            namespace=fields.get("namespace") or "default",
            name=fields.get("name"),
            version=fields.get("version"),
            schedules=_schedules_of(fields),
            routes=tuple(fields.get("routes") or ()),
            services=services_of(fields.get("services")),
            assets=AssetsRef.from_json(fields.get("assets")),
            r2_buckets=r2_buckets_of(fields.get("r2_buckets")),
            d1_databases=d1_databases_of(fields.get("d1_databases")),
        )


def _kind_of(fields: dict[str, Any]) -> FunctionKind:
    # Older nodes wrote "script" for service workers too; they read "service-worker" as one.
    match fields.get("kind"):
        case "module":
            return "module"
        case "service-worker":
            return "service-worker"
        case _:
            return "script"


def _schedules_of(fields: dict[str, Any]) -> tuple[str, ...]:
    # Records written before several schedules were allowed hold "schedule" alone.
    if "schedules" in fields:
        return tuple(fields["schedules"] or ())
    single = fields.get("schedule")
    return (single,) if single else ()


log = logging.getLogger(__name__)
MAX_CORRUPT_SHOWN = 20


class CorruptRecords:
    """Records of a store that could not be read (a truncated or hand-edited file): skipped
    by listings so that one of them does not break the listing for every namespace, logged
    once, and counted in ``/health`` until they read well again or are deleted."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def parse(
        self, where: str, data: bytes, read: Callable[[bytes], FunctionRecord]
    ) -> FunctionRecord | None:
        try:
            record = read(data)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            reason = f"{type(exc).__name__}: {str(exc)[:200]}"
            if self._seen.get(where) != reason:
                log.warning("storage: skipping the corrupt function record %s (%s)", where, reason)
            self._seen[where] = reason
            return None
        self._seen.pop(where, None)
        return record

    def forget(self, where: str) -> None:
        self._seen.pop(where, None)

    def details(self) -> dict[str, Any]:
        """For the store's ``health()``: how many, and which (shown to single-tenant callers)."""
        if not self._seen:
            return {}
        return {
            "corrupt_records": len(self._seen),
            "corrupt_record_paths": sorted(self._seen)[:MAX_CORRUPT_SHOWN],
        }


def sha256_hex(code: bytes) -> str:
    return hashlib.sha256(code).hexdigest()


class FunctionStore(Protocol):
    """Raises ``FunctionNotFound`` for unknown ids and ``StorageUnavailable`` when unreachable.

    Besides records and code it keeps the pointers of names (``vortex.storage.names``), and
    the keys of the function index (``vortex.storage.index``) in ``index``.
    """

    index: KeyIndex

    async def put(self, record: FunctionRecord, code: bytes) -> None: ...

    async def get_record(self, function_id: str) -> FunctionRecord: ...

    async def get_code(self, code_sha256: str) -> bytes: ...

    async def list_records(self) -> list[FunctionRecord]:
        """Every record: a full listing, which only index rebuilds need."""
        ...

    async def delete(self, function_id: str) -> None: ...

    async def has_asset(self, namespace: str, sha256: str) -> bool:
        """Whether the namespace's static assets hold content of that hash (``vortex.assets``).
        Assets are kept per namespace: no tenant learns of, or serves, another's files."""
        ...

    async def put_asset(self, namespace: str, sha256: str, data: bytes) -> None:
        """Written once under its hash (checked by the caller), never changed."""
        ...

    async def get_asset(self, namespace: str, sha256: str) -> bytes | None:
        """The content, or None when the namespace holds none of that hash."""
        ...

    async def put_object(self, namespace: str, bucket: str, name: str, blob: bytes) -> None:
        """An R2 object's blob (``vortex.r2.objects``) under its storage name
        (``vortex.r2.names``: hex, safe as a path part and an S3 key), replaced whole and
        atomically. Buckets are per namespace: no tenant reaches another's."""
        ...

    async def get_object(
        self, namespace: str, bucket: str, name: str, first_bytes: int | None = None
    ) -> bytes | None:
        """The blob, or its first ``first_bytes`` bytes (a head or a listing), or ``None``."""
        ...

    async def delete_object(self, namespace: str, bucket: str, name: str) -> None:
        """Deleting an absent object is not an error."""
        ...

    async def list_objects(
        self, namespace: str, bucket: str, prefix: str, after: str | None, limit: int
    ) -> list[str]:
        """Up to ``limit`` storage names that start with ``prefix`` and sort after ``after``,
        sorted (as their keys sort: byte order of the UTF-8)."""
        ...

    async def get_pointer(self, namespace: str, name: str) -> NamePointer | None:
        """The name's pointer to its active version, or ``None`` for an unknown name."""
        ...

    async def put_pointer(self, pointer: NamePointer) -> None:
        """Written whole and atomically, after the version records it lists."""
        ...

    async def delete_pointer(self, namespace: str, name: str) -> None: ...

    async def health(self) -> BackendHealth:
        """Cheap enough for a load balancer to call every few seconds; never raises."""
        ...

    async def close(self) -> None: ...
