"""The function index in the S3 bucket: one empty object per key (``vortex.storage.keyindex``).

A LIST returns up to 1,000 keys in byte order, after ``StartAfter``: one request per page of
the function list, and one per 1,000 schedules for cron, whatever the number of functions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vortex.storage.s3 import S3Store

WRITE_CONCURRENCY = 8
LIST_PAGE = 1000
"""The most keys S3 returns for one LIST."""


class S3KeyIndex:
    volatile = False

    def __init__(self, store: S3Store) -> None:
        self.store = store

    async def _each(self, action: str, keys: Iterable[str], method: str) -> None:
        limit = asyncio.Semaphore(WRITE_CONCURRENCY)
        bucket = self.store.bucket

        async def one(key: str) -> None:
            arguments: dict[str, Any] = {"Bucket": bucket, "Key": key}
            if method == "put_object":
                arguments["Body"] = b""
            async with limit:
                await self.store._call(action, lambda s3: getattr(s3, method)(**arguments))

        await asyncio.gather(*(one(key) for key in keys))

    async def add(self, keys: Iterable[str]) -> None:
        await self._each("update the function index", keys, "put_object")

    async def remove(self, keys: Iterable[str]) -> None:
        await self._each("update the function index", keys, "delete_object")

    async def keys(
        self, prefix: str, after: str | None = None, limit: int | None = None
    ) -> list[str]:
        found: list[str] = []
        token: str | None = None
        while limit is None or len(found) < limit:
            arguments: dict[str, Any] = {
                "Bucket": self.store.bucket,
                "Prefix": prefix,
                "MaxKeys": LIST_PAGE if limit is None else min(LIST_PAGE, limit - len(found)),
            }
            if token is not None:
                arguments["ContinuationToken"] = token
            elif after is not None and after > prefix:
                arguments["StartAfter"] = after

            async def page(s3: Any, arguments: dict[str, Any] = arguments) -> Any:
                return await s3.list_objects_v2(**arguments)

            answer = await self.store._call("read the function index", page)
            found.extend(item["Key"] for item in answer.get("Contents", ()))
            token = answer.get("NextContinuationToken")
            if not answer.get("IsTruncated") or token is None:
                break
        return found

    async def close(self) -> None:
        return None
