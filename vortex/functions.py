"""Deployed functions: storing, finding and caching them. Warm runs are served from memory."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from vortex.cache import BoundedCache
from vortex.errors import StorageUnavailable
from vortex.ids import new_function_id
from vortex.modules.bundle import ModuleBundle
from vortex.storage.base import FunctionRecord, FunctionStore, sha256_hex

Code = str | ModuleBundle
"""A script's source text, or a module function's bundle (its files and built script)."""


def iso_utc(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


class FunctionRegistry:
    def __init__(self, store: FunctionStore, cache_entries: int = 1024) -> None:
        self.store = store
        self._records: BoundedCache[str, FunctionRecord] = BoundedCache(cache_entries)
        self._code: BoundedCache[str, Code] = BoundedCache(cache_entries)

    async def deploy(
        self,
        code: Code,
        filename: str = "index.js",
        *,
        env: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        allow_hosts: Sequence[str] = (),
    ) -> FunctionRecord:
        if isinstance(code, ModuleBundle):
            data, size = code.to_bytes(), code.source_size
        else:
            data = code.encode()
            size = len(data)
        record = FunctionRecord(
            id=new_function_id(),
            code_sha256=sha256_hex(data),
            size=size,
            created_at=iso_utc(time.time()),
            filename=filename,
            kind="module" if isinstance(code, ModuleBundle) else "script",
            env=dict(env or {}),
            secrets=dict(secrets or {}),
            allow_hosts=tuple(allow_hosts),
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

    async def load_code(self, function_id: str) -> tuple[FunctionRecord, Code]:
        """The record and its code, parsed once and kept for warm runs."""
        record = await self.record(function_id)
        code = self._code.get(record.code_sha256)
        if code is None:
            blob = await self.store.get_code(record.code_sha256)
            if record.kind == "module":
                try:
                    code = ModuleBundle.from_bytes(blob)
                except (ValueError, KeyError, TypeError) as exc:
                    raise StorageUnavailable(
                        f"the stored module of {function_id} is unreadable: {exc}"
                    ) from exc
            else:
                code = blob.decode()
            self._code.put(record.code_sha256, code)
        return record, code

    async def load(self, function_id: str) -> tuple[FunctionRecord, str]:
        """The record and its source text (a module's entry file)."""
        record, code = await self.load_code(function_id)
        return record, code.files[code.entry] if isinstance(code, ModuleBundle) else code

    async def list(self) -> list[FunctionRecord]:
        records = await self.store.list_records()
        return sorted(records, key=lambda r: r.created_at, reverse=True)

    async def delete(self, function_id: str) -> None:
        await self.store.delete(function_id)
        self._records.discard(function_id)
