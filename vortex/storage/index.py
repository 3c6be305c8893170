"""The function index: what ``GET /functions`` pages through and cron reads, without listing
the store.

A listed function is an unnamed function (its id) or a name (whose active version is shown):
a *slot*. Each slot has an entry under its namespace and under ``*`` (the single-tenant
operator sees every namespace), in two orders, and each function with a schedule one more::

    index/time/<scope>/<age>/<namespace>/<slot>   newest first (``age`` falls as time goes on)
    index/name/<scope>/<slot>/<age>/<namespace>   by name or id, for prefix searches
    index/cron/<history key>/<expression, base64url>   one per schedule of the function
    index/route/<host>/<path, base64url>/<namespace>/<name>   a custom-domain route's claim
    index/ready                                   written when a rebuild completes

``age`` is fixed for a slot's life: the creation time of an unnamed function, of a name's first
version. A new version or a rollback thus never moves a name, so a cursor (the last entry a page
showed) resumes exactly where it stopped, whatever is deployed or deleted in between.

Deploy, rollback and delete keep it right (``FunctionRegistry``); the records stay the truth,
and ``rebuild`` makes the index from them again (``vortex index rebuild``, or at start when the
``ready`` key is missing).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from vortex.errors import InvalidCursor, InvalidRequest, VortexError
from vortex.storage.base import FunctionRecord, FunctionStore
from vortex.storage.keyindex import KeyIndex
from vortex.storage.names import looks_like_id

log = logging.getLogger(__name__)

ROOT = "index/"
TIME = f"{ROOT}time/"
NAME = f"{ROOT}name/"
CRON = f"{ROOT}cron/"
ROUTE = f"{ROOT}route/"
READY = f"{ROOT}ready"
EVERY_NAMESPACE = "*"
_AGE_DIGITS = 13
_LATEST_MS = 10**_AGE_DIGITS - 1
PREFIX = re.compile(r"^[a-z0-9-]{0,64}$")
RECHECK_EVERY = 5.0
"""Seconds between checks that a volatile index (Redis) is still there: one cheap read."""


def _age(created_at: str) -> str:
    """Fixed-width digits that sort newer times first."""
    try:
        moment = datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        moment = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    return f"{_LATEST_MS - int(moment.timestamp() * 1000):0{_AGE_DIGITS}d}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One listed function."""

    age: str
    namespace: str
    slot: str
    """A name, or the id of an unnamed function (names never look like ids)."""

    @property
    def position(self) -> str:
        """Where it is in the list, in the byte order of its ``index/time/`` key."""
        return f"{self.age}/{self.namespace}/{self.slot}"

    @property
    def named(self) -> bool:
        return not looks_like_id(self.slot)

    @property
    def history_key(self) -> str:
        """As ``vortex.functions.history_key``: runs and schedules of a name share one key."""
        return f"name:{self.namespace}:{self.slot}" if self.named else self.slot

    def keys(self) -> list[str]:
        return [
            f"{TIME}{scope}/{self.age}/{self.namespace}/{self.slot}"
            for scope in (self.namespace, EVERY_NAMESPACE)
        ] + [
            f"{NAME}{scope}/{self.slot}/{self.age}/{self.namespace}"
            for scope in (self.namespace, EVERY_NAMESPACE)
        ]

    def cursor(self) -> str:
        raw = self.position.encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_cursor(cls, cursor: str) -> Entry:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            age, namespace, slot = raw.split("/")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidCursor("cursor is not one that GET /functions returned") from None
        if not (age.isdigit() and len(age) == _AGE_DIGITS and namespace and slot):
            raise InvalidCursor("cursor is not one that GET /functions returned")
        return cls(age, namespace, slot)


def _time_entry(key: str) -> Entry | None:
    parts = key.split("/")
    return Entry(parts[3], parts[4], parts[5]) if len(parts) == 6 else None


def _name_entry(key: str) -> Entry | None:
    parts = key.split("/")
    return Entry(parts[4], parts[5], parts[3]) if len(parts) == 6 else None


def _encode(expression: str) -> str:
    return base64.urlsafe_b64encode(expression.encode()).decode().rstrip("=")


def _cron_keys(history_key: str, expressions: Iterable[str]) -> list[str]:
    return [f"{CRON}{history_key}/{_encode(expression)}" for expression in expressions]


def _route_keys(namespace: str, name: str, patterns: Iterable[str]) -> list[str]:
    keys = []
    for pattern in patterns:
        host, slash, path = pattern.partition("/")
        keys.append(f"{ROUTE}{host}/{_encode(slash + path)}/{namespace}/{name}")
    return keys


def _decode(encoded: str) -> str:
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


def slot_of(record: FunctionRecord) -> str:
    return record.id if record.name is None else record.name


@dataclass(frozen=True, slots=True)
class Rebuilt:
    functions: int
    schedules: int
    added: int
    removed: int
    routes: int = 0


class FunctionIndex:
    def __init__(self, keys: KeyIndex, store: FunctionStore) -> None:
        self.keys = keys
        self.store = store
        self._ready = False
        self._checked = 0.0
        self._dirty = False
        self._ready_lock = asyncio.Lock()

    # -- reading --------------------------------------------------------------------------------
    async def entries(
        self, namespace: str | None, prefix: str, after: Entry | None, limit: int
    ) -> list[Entry]:
        """Up to ``limit`` entries after ``after``, newest first; ``namespace`` None for all."""
        scope = namespace or EVERY_NAMESPACE
        if not prefix:
            base = f"{TIME}{scope}/"
            start = None
            if after is not None:
                start = f"{base}{after.position}"
            found = await self.keys.keys(base, start, limit)
            return [e for e in map(_time_entry, found) if e is not None]
        # Matches come in name order: all of them are read and sorted by age. Their number,
        # not the store's, bounds the work.
        found = await self.keys.keys(f"{NAME}{scope}/{prefix}")
        matches = sorted(
            (e for e in map(_name_entry, found) if e is not None), key=lambda e: e.position
        )
        if after is not None:
            matches = [e for e in matches if e.position > after.position]
        return matches[:limit]

    async def schedules(self) -> dict[str, tuple[str, ...]]:
        """History key → its cron expressions (sorted), for every function with a schedule."""
        found: dict[str, list[str]] = {}
        for key in await self.keys.keys(CRON):
            history_key, _, encoded = key[len(CRON) :].partition("/")
            try:
                found.setdefault(history_key, []).append(_decode(encoded))
            except (binascii.Error, UnicodeDecodeError):
                log.warning("index: skipping the unreadable schedule key %s", key)
        return {key: tuple(sorted(expressions)) for key, expressions in found.items()}

    async def routes(self) -> list[tuple[str, str, str]]:
        """(pattern, namespace, name) of every custom-domain route claimed
        (``vortex.domainroutes``)."""
        found = []
        for key in await self.keys.keys(ROUTE):
            parts = key[len(ROUTE) :].split("/")
            try:
                host, encoded, namespace, name = parts
                found.append((host + _decode(encoded), namespace, name))
            except (ValueError, binascii.Error, UnicodeDecodeError):
                log.warning("index: skipping the unreadable route key %s", key)
        return found

    async def ensure(self) -> None:
        """Rebuild the index if it was never built or was lost: checked once per process, or
        every ``RECHECK_EVERY`` seconds for a volatile one (Redis may lose it), and again after
        this node failed to write an entry (``lost``)."""
        if self._ready and not self._stale():
            return
        async with self._ready_lock:
            if self._ready and not self._stale():
                return
            if self._dirty or not await self.keys.keys(READY, None, 1):
                log.info("index: missing or incomplete, rebuilding it from the function records")
                await self._rebuild()
            self._ready, self._dirty = True, False
            self._checked = time.monotonic()

    def _stale(self) -> bool:
        return self.keys.volatile and time.monotonic() - self._checked > RECHECK_EVERY

    async def lost(self, why: str) -> None:
        """A write of this node's own did not reach the index (which now lacks an entry, or
        keeps one of a function gone): the next ``ensure`` rebuilds it, on this node, and on
        every node once the ``ready`` key is gone (if the index can be written at all now)."""
        log.warning("index: an update failed (%s); it will be rebuilt from the records", why)
        self._ready, self._dirty = False, True
        with contextlib.suppress(VortexError):
            await self.keys.remove([READY])

    # -- writing --------------------------------------------------------------------------------
    async def add(self, entry: Entry, schedules: Iterable[str] = ()) -> None:
        """A new slot, with the schedules of an unnamed function (a name's: ``set_schedule``)."""
        await self.keys.add(entry.keys() + _cron_keys(entry.history_key, schedules))

    async def remove(self, entry: Entry, schedules: Iterable[str] = ()) -> None:
        await self.keys.remove(entry.keys() + _cron_keys(entry.history_key, schedules))

    async def set_schedule(self, history_key: str, old: Iterable[str], new: Iterable[str]) -> None:
        """A function's or name's schedules changed from ``old`` to ``new`` (empty: none).

        Both are known to the caller (the records of the previous and the new active version),
        so no listing is needed; a key a failure left behind is removed by a rebuild."""
        before, after = set(old), set(new)
        await self.keys.remove(_cron_keys(history_key, sorted(before - after)))
        await self.keys.add(_cron_keys(history_key, sorted(after - before)))

    async def set_routes(
        self, namespace: str, name: str, old: Iterable[str], new: Iterable[str]
    ) -> None:
        """A name's routes were ``old`` (as claimed in the index) and are ``new`` now."""
        before, after = _route_keys(namespace, name, old), _route_keys(namespace, name, new)
        await self.keys.add(k for k in after if k not in before)
        await self.keys.remove(k for k in before if k not in after)

    # -- rebuilding -----------------------------------------------------------------------------
    async def rebuild(self) -> Rebuilt:
        async with self._ready_lock:
            rebuilt = await self._rebuild()
            self._ready, self._dirty = True, False
            self._checked = time.monotonic()
            return rebuilt

    async def _rebuild(self) -> Rebuilt:
        # The keys first, then the records: an entry that a deploy adds while the records are
        # listed is not among the keys read, so the rebuild cannot take it for a stale one.
        existing = set(await self.keys.keys(ROOT)) - {READY}
        return await self.rebuild_from(await records_and_pointers(self.store), existing)

    async def rebuild_from(
        self,
        found: tuple[Iterable[FunctionRecord], Mapping[tuple[str, str], str]],
        existing: set[str],
    ) -> Rebuilt:
        """``found``: every record, and each name's active version id; ``existing``: the keys
        of the index (schedules and routes included) read before them."""
        records, active = found
        wanted: set[str] = set()
        entries = schedules = routes = 0
        named: dict[tuple[str, str], list[FunctionRecord]] = {}
        for record in records:
            if record.name is None:
                entries += 1
                wanted.update(Entry(_age(record.created_at), record.namespace, record.id).keys())
                schedules += len(record.schedules)
                wanted.update(_cron_keys(record.id, record.schedules))
            else:
                named.setdefault((record.namespace, record.name), []).append(record)
        for (namespace, name), versions in named.items():
            current = next((r for r in versions if r.id == active.get((namespace, name))), None)
            if current is None:
                continue  # a name being deleted (its pointer went first)
            entries += 1
            first = min(r.created_at for r in versions)
            wanted.update(Entry(_age(first), namespace, name).keys())
            schedules += len(current.schedules)
            wanted.update(_cron_keys(f"name:{namespace}:{name}", current.schedules))
            routes += len(current.routes)
            wanted.update(_route_keys(namespace, name, current.routes))
        await self.keys.add(sorted(wanted - existing))
        await self.keys.remove(sorted(existing - wanted))
        await self.keys.add([READY])
        log.info(
            "index: rebuilt, %d functions, %d schedules and %d routes", entries, schedules, routes
        )
        return Rebuilt(entries, schedules, len(wanted - existing), len(existing - wanted), routes)


async def records_and_pointers(
    store: FunctionStore,
) -> tuple[list[FunctionRecord], dict[tuple[str, str], str]]:
    """Every record, and the active version of each name that has a pointer: a full listing,
    for rebuilds only."""
    records = await store.list_records()
    names = {(r.namespace, r.name) for r in records if r.name is not None}
    active: dict[tuple[str, str], str] = {}
    limit = asyncio.Semaphore(16)

    async def read(namespace: str, name: str) -> None:
        async with limit:
            pointer = await store.get_pointer(namespace, name)
        if pointer is not None:
            active[(namespace, name)] = pointer.active_ref.function_id

    await asyncio.gather(*(read(ns, name) for ns, name in names if name is not None))
    return records, active


def check_prefix(raw: str) -> str:
    prefix = raw.lower()
    if not PREFIX.fullmatch(prefix):
        raise InvalidRequest("prefix may hold only letters, digits and hyphens (64 at most)")
    return prefix


def entry_of(record: FunctionRecord, first_created_at: str | None = None) -> Entry:
    return Entry(_age(first_created_at or record.created_at), record.namespace, slot_of(record))
