"""``KV``: the per-function key-value store as the server uses it.

Every check of the documented limits happens here, once, whatever the backend: a key is 1 to
``max_key_bytes`` bytes of UTF-8, a value is text (stored as its UTF-8) or bytes, at most
``max_value_bytes`` bytes either way (JSON is the JavaScript side's business: it stringifies on
``put`` and parses on ``get(key, {type: "json"})``), metadata is any JSON value of at most
``max_metadata_bytes`` bytes serialized, a TTL is at least one second, a list page holds at most
``max_list_limit`` keys. Each function sees only its own keys: the function id is the namespace,
and no call takes a key without one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from vortex.config import Settings
from vortex.health import BackendHealth
from vortex.kv.base import KVEntry, KVKey, KVStore
from vortex.kv.errors import (
    KVInvalidExpiration,
    KVInvalidKey,
    KVInvalidListOption,
    KVInvalidMetadata,
    KVInvalidValue,
    KVKeyTooLong,
    KVMetadataTooLarge,
    KVValueTooLarge,
)

MIN_TTL_SECONDS = 1
"""Workers KV asks for 60 s because of its edge caches; a store read at the source needs none."""
MAX_TTL_SECONDS = 10 * 365 * 24 * 3600
"""Past ten years, a TTL is a mistake (milliseconds given for seconds) rather than a wish."""
_CURSOR_PREFIX = "k1."
MAX_BULK_KEYS = 100
"""Keys in one bulk get (``get([...])``), as in Workers KV."""
MAX_BULK_BYTES = 16 << 20
"""Bytes of the values one bulk get answers, as Workers KV bounds the total: the answer crosses
to the host as one frame (``protocol.MAX_FRAME``, 64 MiB), and text that is not UTF-8 may
triple as it is decoded. Never reached with the default value limit (100 × 128 KiB)."""


@dataclass(frozen=True, slots=True)
class KVLimits:
    max_key_bytes: int = 512
    max_value_bytes: int = 128 << 10
    max_list_limit: int = 1000
    max_metadata_bytes: int = 1024
    """Workers KV's limit, fixed there too: metadata is for small facts listed with the keys."""

    @classmethod
    def from_settings(cls, settings: Settings) -> KVLimits:
        return cls(
            max_key_bytes=settings.kv_max_key_bytes,
            max_value_bytes=settings.kv_max_value_bytes,
            max_list_limit=settings.kv_max_list_limit,
        )


@dataclass(frozen=True, slots=True)
class KVListResult:
    keys: list[KVKey] = field(default_factory=list)
    list_complete: bool = True
    cursor: str | None = None
    """Opaque; given back as ``cursor`` it continues the listing. ``None`` once complete."""

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": [key.to_json() for key in self.keys],
            "list_complete": self.list_complete,
            "cursor": self.cursor,
        }


def encode_cursor(after: str) -> str:
    return _CURSOR_PREFIX + base64.urlsafe_b64encode(after.encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    if not cursor.startswith(_CURSOR_PREFIX):
        raise KVInvalidListOption("cursor is not one that a list of this store returned")
    raw = cursor[len(_CURSOR_PREFIX) :]
    try:
        padded = raw + "=" * (-len(raw) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError):
        raise KVInvalidListOption("cursor is not one that a list of this store returned") from None


class KV:
    def __init__(
        self,
        store: KVStore,
        limits: KVLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.limits = limits or KVLimits()
        self._clock = clock

    # -- checks ---------------------------------------------------------------------------------
    def _key(self, key: object) -> str:
        if not isinstance(key, str) or key == "":
            raise KVInvalidKey("a KV key must be a non-empty string")
        try:
            size = len(key.encode())
        except UnicodeEncodeError:
            raise KVInvalidKey("a KV key must be valid Unicode text") from None
        if size > self.limits.max_key_bytes:
            raise KVKeyTooLong(
                f"KV key is {size} bytes; the limit is {self.limits.max_key_bytes} bytes of UTF-8",
                limit=self.limits.max_key_bytes,
            )
        return key

    def _value(self, value: object) -> bytes:
        if isinstance(value, str):
            try:
                data = value.encode()
            except UnicodeEncodeError:
                raise KVInvalidValue("a KV value must be valid Unicode text") from None
        elif isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
        else:
            raise KVInvalidValue("a KV value is text or bytes: stringify other values (JSON) first")
        size = len(data)
        if size > self.limits.max_value_bytes:
            raise KVValueTooLarge(
                f"KV value is {size} bytes; the limit is {self.limits.max_value_bytes} bytes",
                limit=self.limits.max_value_bytes,
            )
        return data

    def _metadata(self, metadata: object) -> str | None:
        if metadata is None:
            return None
        try:
            text = orjson.dumps(metadata)
        except TypeError:  # orjson.JSONEncodeError is one
            raise KVInvalidMetadata("KV metadata must be a JSON-serializable value") from None
        if len(text) > self.limits.max_metadata_bytes:
            raise KVMetadataTooLarge(
                f"KV metadata is {len(text)} bytes of JSON; "
                f"the limit is {self.limits.max_metadata_bytes} bytes",
                limit=self.limits.max_metadata_bytes,
            )
        return text.decode()

    def _ttl_ms(self, expiration_ttl: float | None, expiration: float | None) -> int | None:
        if expiration_ttl is not None and expiration is not None:
            raise KVInvalidExpiration("give expirationTtl or expiration, not both")
        if expiration is not None:
            if not _is_number(expiration):
                raise KVInvalidExpiration("expiration is seconds since the Unix epoch")
            expiration_ttl = expiration - self._clock()
        if expiration_ttl is None:
            return None
        if not _is_number(expiration_ttl) or not math.isfinite(expiration_ttl):
            raise KVInvalidExpiration("expirationTtl is a number of seconds")
        if not MIN_TTL_SECONDS <= expiration_ttl <= MAX_TTL_SECONDS:
            raise KVInvalidExpiration(
                f"a key must live between {MIN_TTL_SECONDS} s and {MAX_TTL_SECONDS} s "
                f"(expiration in seconds since the epoch, expirationTtl in seconds)"
            )
        return math.ceil(expiration_ttl * 1000)

    # -- the API --------------------------------------------------------------------------------
    async def get(self, function_id: str, key: str) -> str | None:
        """The value as text (bytes that are not UTF-8 decoded with U+FFFD for each bad
        sequence, as Workers KV does), or ``None``."""
        entry = await self.get_entry(function_id, key)
        return None if entry is None else entry.text()

    async def get_entry(self, function_id: str, key: str) -> KVEntry | None:
        """The value's bytes and its metadata, or ``None``."""
        return await self.store.get(function_id, self._key(key))

    async def get_entries(self, function_id: str, keys: object) -> list[KVEntry | None]:
        """The entries of up to ``MAX_BULK_KEYS`` keys, in their order (``None`` for each absent
        one): every key is checked before any is read, and the reads go to the store together."""
        if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_BULK_KEYS:
            raise KVInvalidKey(f"a bulk get takes a list of 1 to {MAX_BULK_KEYS} keys")
        checked = [self._key(key) for key in keys]
        entries = await asyncio.gather(*(self.store.get(function_id, k) for k in checked))
        total = sum(len(entry.value) for entry in entries if entry is not None)
        if total > MAX_BULK_BYTES:
            raise KVValueTooLarge(
                f"the values of a bulk get add up to {total} bytes; the limit is "
                f"{MAX_BULK_BYTES} bytes: get fewer keys at once",
                limit=MAX_BULK_BYTES,
            )
        return entries

    async def put(
        self,
        function_id: str,
        key: str,
        value: str | bytes,
        *,
        metadata: Any = None,
        expiration_ttl: float | None = None,
        expiration: float | None = None,
    ) -> None:
        """``metadata`` is any JSON value; ``None`` stores none (and drops an earlier put's)."""
        checked_key, checked_value = self._key(key), self._value(value)
        checked_metadata = self._metadata(metadata)
        ttl_ms = self._ttl_ms(expiration_ttl, expiration)
        await self.store.put(function_id, checked_key, checked_value, checked_metadata, ttl_ms)

    async def delete(self, function_id: str, key: str) -> None:
        await self.store.delete(function_id, self._key(key))

    async def list(
        self,
        function_id: str,
        *,
        prefix: str = "",
        limit: int | None = None,
        cursor: str | None = None,
    ) -> KVListResult:
        if not isinstance(prefix, str):
            raise KVInvalidListOption("prefix must be a string")
        if limit is None:
            limit = self.limits.max_list_limit
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise KVInvalidListOption("limit must be a whole number")
        if not 1 <= limit <= self.limits.max_list_limit:
            raise KVInvalidListOption(f"limit must be between 1 and {self.limits.max_list_limit}")
        after = decode_cursor(cursor) if cursor else None
        if after is not None and not after.startswith(prefix):
            raise KVInvalidListOption("cursor belongs to a listing with another prefix")
        page = await self.store.list(function_id, prefix, after, limit)
        if not page.more:
            return KVListResult(page.keys, True, None)
        resume = page.resume_after or page.keys[-1].name
        return KVListResult(page.keys, False, encode_cursor(resume))

    async def delete_function(self, function_id: str) -> int:
        """Remove every key of a deleted function."""
        return await self.store.delete_namespace(function_id)

    async def health(self) -> BackendHealth:
        return await self.store.health()

    async def close(self) -> None:
        await self.store.close()


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
