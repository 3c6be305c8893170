"""Deployed functions: storing, finding and caching them. Warm runs are served from memory.

A function is reached by id (any version, named or not) or, within its namespace, by name (its
active version). Records and code are immutable and cached without expiry; a name's pointer
changes on deploy and rollback, possibly on another node, so it is cached only
``POINTER_FRESH_FOR`` seconds: warm runs by name read no storage, and a rollback anywhere takes
effect everywhere within that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from vortex.assets.manifest import AssetsRef
from vortex.assets.reader import AssetReader
from vortex.cache import BoundedCache
from vortex.deploysettings import KEEP, Keep, Resolved, SettingsChange
from vortex.domainroutes import RouteMap
from vortex.errors import (
    CorruptRecord,
    FunctionNotFound,
    InvalidCursor,
    InvalidRequest,
    InvalidRoute,
    StorageUnavailable,
    VersionNotFound,
    VortexError,
)
from vortex.ids import new_function_id
from vortex.modules.bundle import ModuleBundle
from vortex.modules.script import BuiltScript, is_built_script
from vortex.services.targets import ServiceTarget
from vortex.serviceworker import kind_of
from vortex.storage.base import FunctionRecord, FunctionStore, sha256_hex
from vortex.storage.index import Entry, FunctionIndex, entry_of
from vortex.storage.names import NAME, TRIGGER_SEPARATOR, NamePointer, VersionRef, parse_ref

Code = str | BuiltScript | ModuleBundle
"""A script's source text, a TypeScript script with its built JavaScript, or a module
function's bundle (its files and built script)."""

POINTER_FRESH_FOR = 1.5
"""Seconds a node trusts its copy of a name's pointer (docs/versions.md)."""
DEFAULT_PAGE = 100
MAX_PAGE = 1000
FILTER_BATCH = 100
FILTER_SCAN = 1000
"""Functions a filtered page reads at most (``page(keep=...)``): its cost stays bounded."""
PAGE_READS = 16
"""Records and pointers a page reads at once (S3 requests in flight)."""
ALL_NAMESPACES = None
"""The operator in single-tenant mode sees every namespace's functions by id."""


def iso_utc(now: float) -> str:
    return f"{_utc_second(int(now))}.{int(now * 1000) % 1000:03d}Z"


@functools.lru_cache(maxsize=64)
def _utc_second(second: int) -> str:
    # Once per second, not per run: strftime was a tenth of the server's CPU under load.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def history_key(record: FunctionRecord) -> str:
    """What runs are kept and tailed under: a named function's versions share one history."""
    if record.name is None:
        return record.id
    return name_key(record.namespace, record.name)


def public_name(record: FunctionRecord) -> str:
    """What a function is called in one list of every namespace (metrics' ``name`` label): its
    name, ``name.namespace`` outside ``default`` (as its hostname says), or its id."""
    if record.name is None:
        return record.id
    if record.namespace == "default":
        return record.name
    return f"{record.name}{TRIGGER_SEPARATOR}{record.namespace}"


def name_key(namespace: str, name: str) -> str:
    return f"name:{namespace}:{name}"


def _first_created(pointer: NamePointer) -> str:
    """When a name was first deployed: its place in the list, for the name's whole life."""
    return min(v.created_at for v in pointer.versions)


async def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Deleted:
    function_ids: tuple[str, ...]
    """Every version's id (one for an unnamed function)."""
    history_key: str


class FunctionRegistry:
    def __init__(
        self, store: FunctionStore, cache_entries: int = 1024, asset_cache_bytes: int = 64 << 20
    ) -> None:
        self.store = store
        self.assets = AssetReader(store, asset_cache_bytes)
        """Static assets' manifests and bytes, read for the hosts (``vortex.assets.reader``)."""
        self.index = FunctionIndex(store.index, store)
        self.routes = RouteMap(self.index)
        """Custom-domain routes claimed by named functions (``vortex.domainroutes``)."""
        self._records: BoundedCache[str, FunctionRecord] = BoundedCache(cache_entries)
        self._code: BoundedCache[str, Code] = BoundedCache(cache_entries)
        self._pointers: BoundedCache[tuple[str, str], tuple[float, NamePointer]] = BoundedCache(
            cache_entries
        )
        # Deploys and rollbacks of one name on this node take turns, so two concurrent deploys
        # never both become version N+1. Across nodes the last pointer written wins
        # (docs/versions.md).
        self._name_locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}
        self._reads = asyncio.Semaphore(PAGE_READS)
        self.on_deploy: list[Callable[[FunctionRecord], None]] = []
        """Called with each new version, once it is stored."""
        self.on_change: list[Callable[[str, str | None], None]] = []
        """Called with (namespace, name or None) when a name starts to mean another version,
        or a function goes."""

    def _changed(self, record: FunctionRecord) -> None:
        for listener in self.on_change:
            listener(record.namespace, record.name)

    def forget(self, namespace: str, name: str | None) -> None:
        """Another node changed this name (or deleted a function): ask storage again."""
        if name is not None:
            self._pointers.discard((namespace, name))
        self.routes.stale()

    async def deploy(
        self,
        code: Code,
        filename: str = "index.js",
        *,
        env: Mapping[str, str] | Keep | None = KEEP,
        secrets: Mapping[str, str] | Keep | None = KEEP,
        allow_hosts: Sequence[str] | Keep | None = KEEP,
        namespace: str = "default",
        name: str | None = None,
        schedule: str | Sequence[str] | Keep | None = KEEP,
        routes: Sequence[str] | Keep | None = KEEP,
        assets: AssetsRef | None = None,
        r2_buckets: Mapping[str, str] | Keep | None = KEEP,
        services: Mapping[str, ServiceTarget] | Keep | None = KEEP,
        d1_databases: Mapping[str, str] | Keep | None = KEEP,
    ) -> FunctionRecord:
        """A new function, or with ``name`` its next version, made active. A setting left
        ``KEEP`` is the active version's (``vortex.deploysettings``); ``None`` clears it.
        ``schedule``: one cron expression or several, already checked (``parse_schedules``).
        ``assets``: the version's static assets, stored already (``vortex.assets.deploying``);
        like the code, they are the version's own, never kept from the one before."""
        change = SettingsChange(
            env=env if isinstance(env, Keep) else dict(env or {}),
            secrets=secrets if isinstance(secrets, Keep) else dict(secrets or {}),
            allow_hosts=allow_hosts if isinstance(allow_hosts, Keep) else tuple(allow_hosts or ()),
            schedule=_schedules(schedule),
            routes=routes if isinstance(routes, Keep) else tuple(routes or ()),
            r2_buckets=r2_buckets if isinstance(r2_buckets, Keep) else dict(r2_buckets or {}),
            services=services if isinstance(services, Keep) else dict(services or {}),
            d1_databases=(
                d1_databases if isinstance(d1_databases, Keep) else dict(d1_databases or {})
            ),
        )
        if name is None and not isinstance(change.routes, Keep) and change.routes:
            raise InvalidRoute("routes are claimed by a named function: deploy with a name")
        if isinstance(code, ModuleBundle):
            data, size = code.to_bytes(), code.source_size
        elif isinstance(code, BuiltScript):
            data, size = code.to_bytes(), len(code.source.encode())
        else:
            data = code.encode()
            size = len(data)
        record = FunctionRecord(
            id=new_function_id(),
            code_sha256=sha256_hex(data),
            size=size,
            created_at=iso_utc(time.time()),
            filename=filename,
            kind=kind_of(code),
            namespace=namespace,
            assets=assets,
        )
        if name is None:
            record = self._with_settings(record, change.applied_to(None))
            await self.store.put(record, data)
            added = record
            await self._update_index(lambda: self.index.add(entry_of(added), added.schedules))
        else:
            async with self._lock(namespace, name):
                pointer = await self.store.get_pointer(namespace, name)
                number = 1 if pointer is None else pointer.latest + 1
                # Read under the lock: two deploys of one name each keep what the other set.
                active = None if pointer is None else await self._active_or_none(pointer)
                record = self._with_settings(record, change.applied_to(active))
                record = replace(record, name=name, version=number)
                async with self._claiming(record, active) as claim:
                    # The version first, then the pointer: a pointer never names a missing
                    # record.
                    await self.store.put(record, data)
                    ref = VersionRef(number, record.id, record.created_at)
                    new_name = pointer is None
                    if pointer is None:
                        pointer = NamePointer(namespace, name, number, (ref,))
                    else:
                        pointer = pointer.with_version(ref)
                    await self._write_pointer(pointer)
                    # A name's entry is made with its first version and never moves; later
                    # versions change the index only when they change the schedule or routes.
                    entry = entry_of(record, _first_created(pointer))
                    old, new = (() if active is None else active.schedules), record.schedules
                    await self._update_index(
                        lambda: self.index.add(entry) if new_name else _nothing(),
                        lambda: self.index.set_schedule(name_key(namespace, name), old, new),
                        claim,
                    )
        self._records.put(record.id, record)
        self._code.put(record.code_sha256, code)
        if name is not None:
            # First: what the hosts held for the name is stale before the new version is
            # pushed to them, else the pushed route could count as stale too.
            self._changed(record)
        for listener in self.on_deploy:
            listener(record)
        return record

    @staticmethod
    def _with_settings(record: FunctionRecord, settings: Resolved) -> FunctionRecord:
        return replace(
            record,
            env=settings.env,
            secrets=settings.secrets,
            allow_hosts=settings.allow_hosts,
            schedules=settings.schedules,
            routes=settings.routes,
            r2_buckets=settings.r2_buckets,
            services=settings.services,
            d1_databases=settings.d1_databases,
        )

    @contextlib.asynccontextmanager
    async def _claiming(
        self, record: FunctionRecord, before: FunctionRecord | None
    ) -> AsyncIterator[Callable[[], Awaitable[None]]]:
        """Around a name's change of version: checks ``record``'s routes are free, and gives
        what claims them, all under the route claims' lock. A name that had and gets no routes
        (the most) needs neither."""
        assert record.name is not None
        namespace, name = record.namespace, record.name

        async def claim() -> None:
            await self.routes.claim(namespace, name, record.routes)

        if not record.routes and (before is None or not before.routes):
            yield _nothing
            return
        async with self.routes.lock:
            await self.routes.check(namespace, name, record.routes)
            yield claim

    async def _active_or_none(self, pointer: NamePointer) -> FunctionRecord | None:
        try:
            return await self.record(pointer.active_ref.function_id)
        except FunctionNotFound:
            return None  # a version record lost by hand: nothing to keep

    async def _schedule_of(self, pointer: NamePointer) -> tuple[str, ...]:
        """The active version's schedules, as the index has them; none when its record is lost
        or corrupt (a rebuild removes what such schedules left in the index)."""
        try:
            return (await self.record(pointer.active_ref.function_id)).schedules
        except (FunctionNotFound, CorruptRecord):
            return ()

    @contextlib.asynccontextmanager
    async def _lock(self, namespace: str, name: str) -> AsyncIterator[None]:
        """One name's turn; the lock is dropped when nobody holds or awaits it, so that the
        map holds the names being changed now, not every name ever deployed here."""
        key = (namespace, name)
        lock, users = self._name_locks.get(key, (asyncio.Lock(), 0))
        self._name_locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._name_locks[key]
            if users == 1:
                del self._name_locks[key]
            else:
                self._name_locks[key] = (lock, users - 1)

    async def _update_index(self, *changes: Callable[[], Awaitable[None]]) -> None:
        """The index after a change already stored: a failure here does not undo the change
        (the function is deployed, rolled back or gone), it makes the index rebuild."""
        try:
            for change in changes:
                await change()
        except VortexError as exc:
            await self.index.lost(exc.message)
            self.routes.stale()  # the claims held may be what the failed write meant to change

    async def _write_pointer(self, pointer: NamePointer) -> None:
        await self.store.put_pointer(pointer)
        self._pointers.put((pointer.namespace, pointer.name), (time.monotonic(), pointer))

    async def pointer(self, namespace: str, name: str, *, fresh: bool = False) -> NamePointer:
        key = (namespace, name)
        cached = self._pointers.get(key)
        if not fresh and cached is not None and time.monotonic() - cached[0] < POINTER_FRESH_FOR:
            return cached[1]
        pointer = await self.store.get_pointer(namespace, name)
        if pointer is None:
            self._pointers.discard(key)
            raise FunctionNotFound(f"no function named {name}")
        self._pointers.put(key, (time.monotonic(), pointer))
        return pointer

    async def record(self, function_id: str) -> FunctionRecord:
        record = self._records.get(function_id)
        if record is None:
            record = await self.store.get_record(function_id)
            self._records.put(function_id, record)
        return record

    def cached(self, function_id: str) -> tuple[FunctionRecord, Code] | None:
        """The record and code of a function this node has in memory, without waiting."""
        record = self._records.get(function_id)
        if record is None:
            return None
        code = self._code.get(record.code_sha256)
        return None if code is None else (record, code)

    async def resolve_public(self, ref: str) -> FunctionRecord:
        """For public traffic (the functions listener): an id, a name of ``default``, or
        ``name.namespace``."""
        name, dot, namespace = ref.partition(TRIGGER_SEPARATOR)
        if dot:
            if not NAME.fullmatch(name) or not NAME.fullmatch(namespace):
                raise FunctionNotFound(f"no function {ref[:80]!r}")
            pointer = await self.pointer(namespace, name)
            return await self.record(pointer.active_ref.function_id)
        return await self.resolve(ref, ALL_NAMESPACES)

    async def resolve(self, ref: str, namespace: str | None) -> FunctionRecord:
        """The version a path names: an id as it is, a name's active version.

        ``namespace`` is the caller's (``ALL_NAMESPACES`` for the single-tenant operator, whose
        names are those of ``default``). Another namespace's function is not found, exactly as a
        missing one: nobody learns that an id exists elsewhere.
        """
        kind, value = parse_ref(ref)
        if kind == "name":
            pointer = await self.pointer(namespace or "default", value)
            return await self.record(pointer.active_ref.function_id)
        record = await self.record(value)
        if namespace is not ALL_NAMESPACES and record.namespace != namespace:
            raise FunctionNotFound(f"no function with id {value}")
        return record

    async def by_history_key(self, key: str) -> FunctionRecord:
        """The record a history key stands for now: a name's active version, or the id's."""
        if key.startswith("name:"):
            _, namespace, name = key.split(":", 2)
            pointer = await self.pointer(namespace, name)
            return await self.record(pointer.active_ref.function_id)
        return await self.record(key)

    async def load_code(self, function_id: str) -> tuple[FunctionRecord, Code]:
        """The record and its code, parsed once and kept for warm runs."""
        return await self.code_of(await self.record(function_id))

    async def code_of(self, record: FunctionRecord) -> tuple[FunctionRecord, Code]:
        code = self._code.get(record.code_sha256)
        if code is None:
            blob = await self.store.get_code(record.code_sha256)
            if record.kind == "module":
                try:
                    code = ModuleBundle.from_bytes(blob)
                except (ValueError, KeyError, TypeError) as exc:
                    raise StorageUnavailable(
                        f"the stored module of {record.id} is unreadable: {exc}"
                    ) from exc
            elif is_built_script(blob):
                try:
                    code = BuiltScript.from_bytes(blob)
                except (ValueError, KeyError, TypeError) as exc:
                    raise StorageUnavailable(
                        f"the stored script of {record.id} is unreadable: {exc}"
                    ) from exc
            else:
                code = blob.decode()
            self._code.put(record.code_sha256, code)
        return record, code

    async def load(self, function_id: str) -> tuple[FunctionRecord, str]:
        """The record and its source text (a module's entry file)."""
        record, code = await self.load_code(function_id)
        if isinstance(code, ModuleBundle):
            return record, code.files[code.entry]
        return record, code.source if isinstance(code, BuiltScript) else code

    async def page(
        self,
        namespace: str | None = ALL_NAMESPACES,
        limit: int = DEFAULT_PAGE,
        cursor: str | None = None,
        prefix: str = "",
        *,
        keep: Callable[[FunctionRecord], bool] | None = None,
    ) -> tuple[list[FunctionRecord], str | None]:
        """One page of unnamed functions and the active version of each named one, newest
        first (``vortex.storage.index``), and the cursor of the next page (None at the end).

        ``keep`` filters on what the index does not hold (a file name): the records are read
        and tested, at most ``FILTER_SCAN`` of them a page, so a page may hold fewer than
        ``limit`` functions and still have a cursor; the next page goes on from there."""
        await self.index.ensure()
        after = Entry.from_cursor(cursor) if cursor else None
        if after is not None and namespace is not ALL_NAMESPACES and after.namespace != namespace:
            raise InvalidCursor("cursor belongs to another namespace's listing")
        shown: list[tuple[Entry, FunctionRecord]] = []
        scanned = 0
        while True:
            wanted = limit + 1 - len(shown) if keep is None else FILTER_BATCH
            batch = await self.index.entries(namespace, prefix, after, wanted)
            found = await asyncio.gather(*(self._listed(entry) for entry in batch))
            for entry, record in zip(batch, found, strict=True):
                if record is not None and (keep is None or keep(record)):
                    shown.append((entry, record))
                    if len(shown) > limit:
                        return [r for _, r in shown[:limit]], shown[limit - 1][0].cursor()
            scanned += len(batch)
            if len(batch) < wanted:
                return [r for _, r in shown], None
            after = batch[-1]
            if keep is not None and scanned >= FILTER_SCAN:
                return [r for _, r in shown], after.cursor()

    async def _listed(self, entry: Entry) -> FunctionRecord | None:
        """The record an index entry shows; None for a function gone since (whose entry a
        failure left behind: it is removed now)."""
        async with self._reads:
            try:
                if not entry.named:
                    return await self.record(entry.slot)
                pointer = await self.pointer(entry.namespace, entry.slot)
                return await self.record(pointer.active_ref.function_id)
            except FunctionNotFound:
                with contextlib.suppress(VortexError):  # the next listing tries again
                    await self.index.remove(entry)
                return None
            except CorruptRecord:
                return None  # logged and counted in /health by the store; kept in the index

    async def list(self, namespace: str | None = ALL_NAMESPACES) -> list[FunctionRecord]:
        """Every listed function, page after page: for tests and small stores."""
        everything: list[FunctionRecord] = []
        cursor: str | None = None
        while True:
            records, cursor = await self.page(namespace, MAX_PAGE, cursor)
            everything.extend(records)
            if cursor is None:
                return everything

    async def versions(self, record: FunctionRecord) -> NamePointer:
        if record.name is None:
            raise InvalidRequest(f"function {record.id} has no name, hence no versions")
        return await self.pointer(record.namespace, record.name, fresh=True)

    async def rollback(self, record: FunctionRecord, to: int | None) -> NamePointer:
        """Activate version ``to``, or the newest one older than the active version."""
        if record.name is None:
            raise InvalidRequest(f"function {record.id} has no name, hence no versions")
        async with self._lock(record.namespace, record.name):
            pointer = await self.pointer(record.namespace, record.name, fresh=True)
            old = await self._schedule_of(pointer)
            if to is None:
                older = [v.version for v in pointer.versions if v.version < pointer.active]
                if not older:
                    raise VersionNotFound(
                        f"{record.name} has no version before {pointer.active} to roll back to"
                    )
                to = max(older)
            elif pointer.version(to) is None:
                raise VersionNotFound(f"{record.name} has no version {to}")
            before = await self._active_or_none(pointer)
            pointer = pointer.activate(to)
            active = await self.record(pointer.active_ref.function_id)
            # The version's routes may be another function's since: refused, as a deploy.
            async with self._claiming(active, before) as claim:
                await self._write_pointer(pointer)
                await self._update_index(
                    lambda: self.index.set_schedule(history_key(record), old, active.schedules),
                    claim,
                )
            self._changed(record)
            return pointer

    async def delete(self, record: FunctionRecord) -> Deleted:
        """An unnamed function, or a named one with every version."""
        if record.name is None:
            await self.store.delete(record.id)
            self._records.discard(record.id)
            await self._update_index(lambda: self.index.remove(entry_of(record), record.schedules))
            self._changed(record)
            return Deleted((record.id,), record.id)
        async with self._lock(record.namespace, record.name):
            pointer = await self.pointer(record.namespace, record.name, fresh=True)
            schedule = await self._schedule_of(pointer)
            # The pointer goes first: from then on the name is unknown, and a version record
            # left behind by a failure below is unreachable by name and can be deleted by id.
            await self.store.delete_pointer(record.namespace, record.name)
            self._pointers.discard((record.namespace, record.name))
            ids = tuple(v.function_id for v in pointer.versions)
            for function_id in ids:
                with contextlib.suppress(FunctionNotFound):
                    await self.store.delete(function_id)
                self._records.discard(function_id)
            named = record.name

            async def release_routes() -> None:
                async with self.routes.lock:
                    await self.routes.claim(record.namespace, named, ())

            await self._update_index(
                lambda: self.index.remove(entry_of(record, _first_created(pointer))),
                lambda: self.index.set_schedule(history_key(record), schedule, ()),
                release_routes,
            )
            self._changed(record)
            return Deleted(ids, history_key(record))


def _schedules(given: str | Sequence[str] | Keep | None) -> tuple[str, ...] | Keep:
    if isinstance(given, Keep):
        return given
    if isinstance(given, str):
        return (given,) if given else ()
    return tuple(given or ())
