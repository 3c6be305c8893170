"""One page of an R2 ``list``: storage names from the store in order, each turned into its
key (from the name itself, or from the object's header for a long key), folded under a
delimiter when one is given; and the opaque cursor that continues it (the last storage name
the page went past, in base64)."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from vortex.r2 import names
from vortex.r2.errors import R2InvalidArgument
from vortex.r2.objects import ObjectHead

READ_CONCURRENCY = 16
"""Heads read at once (each is a file read, or a ranged GET on S3)."""

ListNames = Callable[[str, str | None, int], Awaitable[list[str]]]
"""``(name prefix, after, limit)`` → storage names, sorted (``FunctionStore.list_objects``)."""
ReadHead = Callable[[str], Awaitable[ObjectHead | None]]


def encode_cursor(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        name = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        name = ""
    if not names.is_storage_name(name):
        raise R2InvalidArgument("list: the cursor is not one a list of this bucket gave")
    return name


@dataclass(slots=True)
class Page:
    heads: list[ObjectHead]
    prefixes: list[str]
    last: str | None
    """The storage name the page stopped after, when more may follow."""


class Listing:
    def __init__(
        self,
        list_names: ListNames,
        read_head: ReadHead,
        prefix: str,
        delimiter: str | None,
        limit: int,
    ) -> None:
        self.list_names, self.read_head = list_names, read_head
        self.prefix, self.delimiter, self.limit = prefix, delimiter, limit
        self.gate = asyncio.Semaphore(READ_CONCURRENCY)

    async def page(self, after: str | None) -> Page:
        heads: list[ObjectHead] = []
        prefixes: list[str] = []
        seen: set[str] = set()
        name_prefix = names.name_prefix(self.prefix)
        while True:
            batch = await self.list_names(name_prefix, after, self.limit)
            resolved = await asyncio.gather(*(self._resolve(name) for name in batch))
            for name, (key, head) in zip(batch, resolved, strict=True):
                if key is None or not key.startswith(self.prefix):
                    after = name  # gone since it was listed, or a long key of another prefix
                    continue
                grouped = self._group(key)
                if grouped is not None and grouped in seen:
                    after = name
                    continue
                if len(heads) + len(prefixes) == self.limit:
                    return Page(heads, prefixes, after)
                if grouped is not None:
                    seen.add(grouped)
                    prefixes.append(grouped)
                elif head is not None:
                    heads.append(head)
                after = name
            if len(batch) < self.limit:
                return Page(heads, prefixes, None)

    async def _head(self, name: str) -> ObjectHead | None:
        async with self.gate:
            return await self.read_head(name)

    async def _resolve(self, name: str) -> tuple[str | None, ObjectHead | None]:
        """The key of a name, with its head when it will be listed (no delimiter folds it)
        or when the head had to be read to know the key (a long key)."""
        key = names.key_of(name)
        if key is not None and (not key.startswith(self.prefix) or self._group(key) is not None):
            return key, None
        head = await self._head(name)
        return (None, None) if head is None else (head.key, head)

    def _group(self, key: str) -> str | None:
        if self.delimiter is None:
            return None
        at = key.find(self.delimiter, len(self.prefix))
        return None if at < 0 else key[: at + len(self.delimiter)]
