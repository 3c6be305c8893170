"""Deployed functions: storing, finding and caching them. Warm runs are served from memory."""

from __future__ import annotations

import time

from vortex.cache import BoundedCache
from vortex.ids import new_function_id
from vortex.storage.base import FunctionRecord, FunctionStore, sha256_hex


def iso_utc(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


class FunctionRegistry:
    def __init__(self, store: FunctionStore, cache_entries: int = 1024) -> None:
        self.store = store
        self._records: BoundedCache[str, FunctionRecord] = BoundedCache(cache_entries)
        self._code: BoundedCache[str, str] = BoundedCache(cache_entries)

    async def deploy(self, code: str, filename: str = "index.js") -> FunctionRecord:
        data = code.encode()
        record = FunctionRecord(
            id=new_function_id(),
            code_sha256=sha256_hex(data),
            size=len(data),
            created_at=iso_utc(time.time()),
            filename=filename,
        )
        await self.store.put(record, data)
        self._records.put(record.id, record)
        self._code.put(record.code_sha256, code)
        return record

    async def record(self, function_id: str) -> FunctionRecord:
        record = self._records.get(function_id)
        if record is None:
            record = await self.store.get_record(function_id)
            self._records.put(function_id, record)
        return record

    async def load(self, function_id: str) -> tuple[FunctionRecord, str]:
        record = await self.record(function_id)
        code = self._code.get(record.code_sha256)
        if code is None:
            code = (await self.store.get_code(record.code_sha256)).decode()
            self._code.put(record.code_sha256, code)
        return record, code

    async def list(self) -> list[FunctionRecord]:
        records = await self.store.list_records()
        return sorted(records, key=lambda r: r.created_at, reverse=True)

    async def delete(self, function_id: str) -> None:
        await self.store.delete(function_id)
        self._records.discard(function_id)
