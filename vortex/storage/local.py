"""The embedded store: a directory on local disk, written atomically (write, fsync, rename)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from pathlib import Path

from vortex.errors import CorruptRecord, FunctionNotFound, StorageUnavailable
from vortex.health import BackendHealth
from vortex.storage.base import CorruptRecords, FunctionRecord
from vortex.storage.keyindex import KeyIndex, SqliteKeyIndex
from vortex.storage.local_objects import LocalObjects
from vortex.storage.names import NamePointer
from vortex.storage.sealing import SecretsKey, key_of_data_dir, record_bytes, record_from_bytes

_TEMPORARY_PREFIX = ".tmp-"
HEALTH_OBJECT = "health-probe"
HEALTH_OBJECT_BYTES = 4096
"""A block of the filesystem: a full disk refuses it, as it refuses a deploy."""
HEALTH_FRESH_FOR = 5.0
"""Seconds a probe's answer stands: load balancers poll /health, and each probe is an fsync."""
MIN_FREE_BYTES = 1 << 20
"""Below this much room for unprivileged writes, deploys of code near the size limit fail."""


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TEMPORARY_PREFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _cannot_write(root: Path, exc: OSError) -> str:
    reason = exc.strerror or type(exc).__name__
    return f"the data directory {root} cannot be written: {reason}"


def _free_bytes(root: Path) -> int | None:
    try:
        stats = os.statvfs(root)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


class LocalStore:
    def __init__(self, root: Path, key: SecretsKey | None = None) -> None:
        self.root = root
        self.key = key or key_of_data_dir(root)
        self.code_dir = root / "code"
        self.functions_dir = root / "functions"
        self.names_dir = root / "names"
        self.assets_dir = root / "assets"
        self.objects = LocalObjects(root, _write_atomically)
        self.corrupt = CorruptRecords()
        self.index: KeyIndex = SqliteKeyIndex(root)
        self._health_lock = asyncio.Lock()
        self._write_problem: tuple[float, str | None, int | None] | None = None
        """When the data directory was last found writable or not: (time, why not, free bytes)."""
        self._sweep_temporary_files()

    def _sweep_temporary_files(self) -> None:
        """Remove what writes cut short left behind (a server killed between write and rename).

        Such files were never visible (readers see only renamed files), but they would pile up.
        A local store has one server, and this runs before it serves, so none is in use.
        """
        for leftover in [
            *self.functions_dir.glob(f"{_TEMPORARY_PREFIX}*"),
            *self.code_dir.glob(f"*/{_TEMPORARY_PREFIX}*"),
            *self.names_dir.glob(f"*/{_TEMPORARY_PREFIX}*"),
            *self.assets_dir.glob(f"*/*/{_TEMPORARY_PREFIX}*"),
        ]:
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _read(self, data: bytes) -> FunctionRecord:
        return record_from_bytes(data, self.key)

    def _code_path(self, code_sha256: str) -> Path:
        return self.code_dir / code_sha256[:2] / f"{code_sha256}.js"

    def _record_path(self, function_id: str) -> Path:
        return self.functions_dir / f"{function_id}.json"

    async def put(self, record: FunctionRecord, code: bytes) -> None:
        await asyncio.to_thread(self._put, record, code)

    def _put(self, record: FunctionRecord, code: bytes) -> None:
        try:
            code_path = self._code_path(record.code_sha256)
            if not code_path.exists():
                _write_atomically(code_path, code)
            _write_atomically(self._record_path(record.id), record_bytes(record, self.key))
        except OSError as exc:
            self._note_write_failure(exc)
            raise StorageUnavailable(f"could not write to the data directory: {exc}") from exc

    async def get_record(self, function_id: str) -> FunctionRecord:
        return await asyncio.to_thread(self._get_record, function_id)

    def _get_record(self, function_id: str) -> FunctionRecord:
        path = self._record_path(function_id)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise FunctionNotFound(f"no function with id {function_id}") from None
        except OSError as exc:
            raise StorageUnavailable(f"could not read the data directory: {exc}") from exc
        record = self.corrupt.parse(str(path), data, self._read)
        if record is None:
            raise CorruptRecord(f"the record of function {function_id} is corrupt")
        return record

    async def get_code(self, code_sha256: str) -> bytes:
        try:
            return await asyncio.to_thread(self._code_path(code_sha256).read_bytes)
        except FileNotFoundError:
            raise StorageUnavailable(f"code {code_sha256} is missing from the store") from None
        except OSError as exc:
            raise StorageUnavailable(f"could not read the data directory: {exc}") from exc

    async def list_records(self) -> list[FunctionRecord]:
        return await asyncio.to_thread(self._list_records)

    def _list_records(self) -> list[FunctionRecord]:
        records = []
        if not self.functions_dir.is_dir():
            return []
        for path in self.functions_dir.glob("*.json"):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue  # deleted since the listing
            record = self.corrupt.parse(str(path), data, self._read)
            if record is not None:
                records.append(record)
        return records

    async def delete(self, function_id: str) -> None:
        path = self._record_path(function_id)
        self.corrupt.forget(str(path))
        try:
            await asyncio.to_thread(os.unlink, path)
        except FileNotFoundError:
            raise FunctionNotFound(f"no function with id {function_id}") from None

    def _asset_path(self, namespace: str, sha256: str) -> Path:
        # Both are checked before they get here (a namespace slug, 64 hex digits): the path is
        # made of them alone, never of a name a user chose.
        return self.assets_dir / namespace / sha256[:2] / sha256

    async def has_asset(self, namespace: str, sha256: str) -> bool:
        return await asyncio.to_thread(self._asset_path(namespace, sha256).is_file)

    async def put_asset(self, namespace: str, sha256: str, data: bytes) -> None:
        path = self._asset_path(namespace, sha256)
        try:
            if not await asyncio.to_thread(path.is_file):
                await asyncio.to_thread(_write_atomically, path, data)
        except OSError as exc:
            self._note_write_failure(exc)
            raise StorageUnavailable(f"could not write to the data directory: {exc}") from exc

    async def get_asset(self, namespace: str, sha256: str) -> bytes | None:
        try:
            return await asyncio.to_thread(self._asset_path(namespace, sha256).read_bytes)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageUnavailable(f"could not read the data directory: {exc}") from exc

    # -- R2 objects (vortex.r2; the layout is local_objects') ------------------------------------
    async def put_object(self, namespace: str, bucket: str, name: str, blob: bytes) -> None:
        try:
            await asyncio.to_thread(self.objects.put, namespace, bucket, name, blob)
        except OSError as exc:
            self._note_write_failure(exc)
            raise StorageUnavailable(f"could not write to the data directory: {exc}") from exc

    async def get_object(
        self, namespace: str, bucket: str, name: str, first_bytes: int | None = None
    ) -> bytes | None:
        try:
            return await asyncio.to_thread(self.objects.get, namespace, bucket, name, first_bytes)
        except OSError as exc:
            raise StorageUnavailable(f"could not read the data directory: {exc}") from exc

    async def delete_object(self, namespace: str, bucket: str, name: str) -> None:
        try:
            await asyncio.to_thread(self.objects.delete, namespace, bucket, name)
        except OSError as exc:
            raise StorageUnavailable(f"could not write to the data directory: {exc}") from exc

    async def list_objects(
        self, namespace: str, bucket: str, prefix: str, after: str | None, limit: int
    ) -> list[str]:
        try:
            return await asyncio.to_thread(
                self.objects.list, namespace, bucket, prefix, after, limit
            )
        except OSError as exc:
            raise StorageUnavailable(f"could not read the data directory: {exc}") from exc

    def _pointer_path(self, namespace: str, name: str) -> Path:
        # Namespaces and names are slugs (checked before they get here): safe as path parts.
        return self.names_dir / namespace / f"{name}.json"

    async def get_pointer(self, namespace: str, name: str) -> NamePointer | None:
        try:
            data = await asyncio.to_thread(self._pointer_path(namespace, name).read_bytes)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageUnavailable(f"could not read the data directory: {exc}") from exc
        return NamePointer.from_bytes(data)

    async def put_pointer(self, pointer: NamePointer) -> None:
        path = self._pointer_path(pointer.namespace, pointer.name)
        try:
            await asyncio.to_thread(_write_atomically, path, pointer.to_bytes())
        except OSError as exc:
            self._note_write_failure(exc)
            raise StorageUnavailable(f"could not write to the data directory: {exc}") from exc

    async def delete_pointer(self, namespace: str, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, self._pointer_path(namespace, name))

    async def health(self) -> BackendHealth:
        """Whether a deploy could be written now: a small object written (fsync, rename) and
        deleted in the data directory, at most every HEALTH_FRESH_FOR seconds, and the room
        left. Permissions alone said "ok" on a full disk while every deploy failed."""
        async with self._health_lock:
            last = self._write_problem
            if last is None or time.monotonic() - last[0] > HEALTH_FRESH_FOR:
                problem, free = await asyncio.to_thread(self._probe_write)
                self._write_problem = last = (time.monotonic(), problem, free)
        _, problem, free = last
        details = {"path": str(self.root), **self.corrupt.details()}
        if free is not None:
            details["free_bytes"] = free
        return BackendHealth("local", problem is None, problem, details)

    def _probe_write(self) -> tuple[str | None, int | None]:
        path = self.root / HEALTH_OBJECT
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, bytes(HEALTH_OBJECT_BYTES))
        except OSError as exc:
            return _cannot_write(self.root, exc), _free_bytes(self.root)
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
        free = _free_bytes(self.root)
        if free is not None and free < MIN_FREE_BYTES:
            return (
                f"the data directory {self.root} has {free} bytes free: deploys may fail "
                f"(less than {MIN_FREE_BYTES} bytes)",
                free,
            )
        return None, free

    def _note_write_failure(self, exc: OSError) -> None:
        """A failed write is news for /health at once, not after its next probe."""
        self._write_problem = (time.monotonic(), _cannot_write(self.root, exc), None)

    async def close(self) -> None:
        await self.index.close()
