"""``R2``: the objects of a namespace's buckets as runs see them, every limit checked here.

The namespace and bucket come from the server (the function's namespace, a bucket its deploy
declared), never from user code; a key is any text of 1 to 1024 bytes of UTF-8 (R2's limit),
turned into a storage name (``vortex.r2.names``), never into a path as it is.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vortex.config import Settings
from vortex.isolates.protocol import MAX_FRAME
from vortex.r2 import conditions, names, objects
from vortex.r2.errors import (
    R2InvalidArgument,
    R2InvalidKey,
    R2InvalidRange,
    R2MetadataTooLarge,
    R2ObjectTooLarge,
)
from vortex.r2.listing import Listing, decode_cursor, encode_cursor
from vortex.r2.objects import HEAD_READ_BYTES, CorruptObject, ObjectHead
from vortex.storage.base import FunctionStore

HTTP_FIELDS = (
    "contentType",
    "contentLanguage",
    "contentDisposition",
    "contentEncoding",
    "cacheControl",
    "cacheExpiry",
)
INCLUDE = frozenset({"httpMetadata", "customMetadata"})
FRAME_ROOM = 1 << 20
"""Kept under ``MAX_FRAME`` for the answer's JSON beside an object's bytes."""


@dataclass(frozen=True, slots=True)
class R2Limits:
    max_object_bytes: int = 32 << 20
    max_key_bytes: int = 1024
    """R2's own: keys up to 1024 bytes of UTF-8."""
    max_metadata_bytes: int = 8192
    """R2's own: httpMetadata and customMetadata together."""
    max_list_limit: int = 1000
    max_delete_keys: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> R2Limits:
        # An object crosses the pipe in one frame: a setting past it would fail there, later.
        return cls(max_object_bytes=min(settings.r2_max_object_bytes, MAX_FRAME - FRAME_ROOM))


@dataclass(frozen=True, slots=True)
class Found:
    head: ObjectHead
    body: bytes | None
    """``None`` when ``onlyIf`` failed: R2 then answers the object without its body."""
    offset: int = 0
    ranged: bool = False
    """A range was asked: the object says which (``range``), even when it is the whole."""


class R2:
    def __init__(self, store: FunctionStore, limits: R2Limits | None = None) -> None:
        self.store = store
        self.limits = limits or R2Limits()

    # -- checks ---------------------------------------------------------------------------------
    def key(self, key: object) -> str:
        if not isinstance(key, str) or key == "":
            raise R2InvalidKey("the key must be a non-empty string (10020)")
        try:
            size = len(key.encode())
        except UnicodeEncodeError:
            raise R2InvalidKey("the key must be valid Unicode text (10020)") from None
        if size > self.limits.max_key_bytes:
            raise R2InvalidKey(
                f"the key is {size} bytes; the limit is {self.limits.max_key_bytes} bytes "
                "of UTF-8 (10020)",
                limit=self.limits.max_key_bytes,
            )
        return key

    def _metadata(self, http: object, custom: object) -> tuple[dict[str, Any], dict[str, str]]:
        http = http or {}
        custom = custom or {}
        if not isinstance(http, Mapping) or not isinstance(custom, Mapping):
            raise R2InvalidArgument("httpMetadata and customMetadata are objects")
        checked_http: dict[str, Any] = {}
        for field, value in http.items():
            if field not in HTTP_FIELDS or value is None:
                continue
            if field == "cacheExpiry":
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise R2InvalidArgument("httpMetadata.cacheExpiry is a Date")
                checked_http[field] = int(value)
            else:
                checked_http[field] = str(value)
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in custom.items()):
            raise R2InvalidArgument("customMetadata maps strings to strings")
        size = sum(len(k.encode()) + len(v.encode()) for k, v in custom.items())
        size += sum(len(str(v).encode()) for v in checked_http.values())
        if size > self.limits.max_metadata_bytes:
            raise R2MetadataTooLarge(
                f"Your metadata headers exceed the maximum allowed metadata size: {size} bytes, "
                f"the limit is {self.limits.max_metadata_bytes} (10012)",
                limit=self.limits.max_metadata_bytes,
            )
        return checked_http, dict(custom)

    # -- reads ----------------------------------------------------------------------------------
    async def read_head(self, namespace: str, bucket: str, name: str) -> ObjectHead | None:
        start = await self.store.get_object(namespace, bucket, name, HEAD_READ_BYTES)
        if start is None:
            return None
        try:
            if objects.header_length(start) > len(start):
                start = await self.store.get_object(namespace, bucket, name) or b""
            return objects.decode_head(start)
        except CorruptObject:
            return None  # not one of ours (or cut short): as absent, never a traceback

    async def head(self, namespace: str, bucket: str, key: object) -> ObjectHead | None:
        checked = self.key(key)
        head = await self.read_head(namespace, bucket, names.storage_name(checked))
        return head if head is not None and head.key == checked else None

    async def get(
        self,
        namespace: str,
        bucket: str,
        key: object,
        only_if: Mapping[str, Any] | None = None,
        range_: Mapping[str, Any] | None = None,
    ) -> Found | None:
        checked = self.key(key)
        blob = await self.store.get_object(namespace, bucket, names.storage_name(checked))
        if blob is None:
            return None
        try:
            head, body = objects.decode(blob)
        except CorruptObject:
            return None
        if head.key != checked:
            return None
        if not conditions.passes(only_if, head):
            return Found(head, None)
        if not range_:
            return Found(head, body)
        offset, end = _range(range_, len(body))
        return Found(head, body[offset:end], offset, ranged=True)

    # -- writes ---------------------------------------------------------------------------------
    async def put(
        self,
        namespace: str,
        bucket: str,
        key: object,
        data: bytes,
        *,
        http_metadata: object = None,
        custom_metadata: object = None,
        only_if: Mapping[str, Any] | None = None,
        md5: object = None,
    ) -> ObjectHead | None:
        """The new object's head, or ``None`` when ``onlyIf`` failed (nothing written)."""
        checked = self.key(key)
        if len(data) > self.limits.max_object_bytes:
            raise R2ObjectTooLarge(
                f"Your proposed upload exceeds the maximum allowed object size: {len(data)} "
                f"bytes, the limit is {self.limits.max_object_bytes} (100100)",
                limit=self.limits.max_object_bytes,
            )
        http, custom = self._metadata(http_metadata, custom_metadata)
        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if md5 is not None and (not isinstance(md5, str) or md5.lower() != digest):
            raise R2InvalidArgument(
                "The Content-MD5 you specified did not match what we received (10037)"
            )
        name = names.storage_name(checked)
        if only_if and not conditions.passes(
            only_if, await self.read_head(namespace, bucket, name)
        ):
            return None
        head = ObjectHead(
            key=checked,
            version=uuid.uuid4().hex,
            size=len(data),
            etag=digest,
            uploaded_ms=int(time.time() * 1000),
            http_metadata=http,
            custom_metadata=custom,
        )
        await self.store.put_object(namespace, bucket, name, objects.encode(head, data))
        return head

    async def delete(self, namespace: str, bucket: str, keys: object) -> None:
        many = keys if isinstance(keys, list) else [keys]
        if len(many) > self.limits.max_delete_keys:
            raise R2InvalidArgument(
                f"delete takes at most {self.limits.max_delete_keys} keys at once"
            )
        checked = [self.key(key) for key in many]
        for key in checked:
            await self.store.delete_object(namespace, bucket, names.storage_name(key))

    # -- listing --------------------------------------------------------------------------------
    async def list(self, namespace: str, bucket: str, options: Mapping[str, Any]) -> dict[str, Any]:
        prefix = options.get("prefix") or ""
        delimiter = options.get("delimiter") or None
        limit = options.get("limit", self.limits.max_list_limit)
        include = options.get("include") or []
        if not isinstance(prefix, str) or (
            delimiter is not None and not isinstance(delimiter, str)
        ):
            raise R2InvalidArgument("list: prefix and delimiter are strings")
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise R2InvalidArgument("list: limit is a whole number")
        if not 1 <= limit <= self.limits.max_list_limit:
            raise R2InvalidArgument(f"list: limit is 1 to {self.limits.max_list_limit}")
        if not isinstance(include, list) or not set(include) <= INCLUDE:
            raise R2InvalidArgument('list: include holds "httpMetadata" and "customMetadata"')
        cursor, start_after = options.get("cursor"), options.get("startAfter")
        if cursor:
            after: str | None = decode_cursor(str(cursor))
        elif start_after:
            after = names.storage_name(self.key(start_after))
        else:
            after = None
        listing = Listing(
            lambda prefix, after, limit: self.store.list_objects(
                namespace, bucket, prefix, after, limit
            ),
            lambda name: self.read_head(namespace, bucket, name),
            prefix,
            delimiter,
            limit,
        )
        page = await listing.page(after)
        listed = []
        for head in page.heads:
            # As R2 lists them: the metadata only when ``include`` asks for it.
            body = head.to_json()
            if "httpMetadata" not in include:
                body["httpMetadata"] = {}
            if "customMetadata" not in include:
                body["customMetadata"] = {}
            listed.append(body)
        answer: dict[str, Any] = {
            "objects": listed,
            "delimitedPrefixes": page.prefixes,
            "truncated": page.last is not None,
        }
        if page.last is not None:
            answer["cursor"] = encode_cursor(page.last)
        return answer


def _range(range_: Mapping[str, Any], size: int) -> tuple[int, int]:
    """``{offset, length}`` or ``{suffix}`` as a slice of ``size`` bytes."""

    def whole(field: str) -> int | None:
        value = range_.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise R2InvalidArgument(f"range.{field} is a whole number of bytes, not negative")
        return value

    offset, length, suffix = whole("offset"), whole("length"), whole("suffix")
    if suffix is not None:
        if offset is not None or length is not None:
            raise R2InvalidArgument("range takes suffix alone, or offset and length")
        return max(size - suffix, 0), size
    start = offset or 0
    if start > size or (start == size and size > 0):
        raise R2InvalidRange("The requested range is not satisfiable (10039)", size=size)
    end = size if length is None else min(start + length, size)
    return start, end
