"""The embedded key store: ``api-keys.json`` in the data directory, readable by its owner only.

Written whole and atomically (a temporary file, fsync, rename), under an exclusive ``flock`` of
a lock file beside it, so that two ``vortex keys`` commands run at once never lose each other's
key. Readers (the server) reload the file when its inode, size or modification time change: a
key created or revoked with the CLI takes effect without a restart. A file that cannot be read
or parsed fails closed (``auth_unavailable``): a damaged file must not open the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import orjson

from vortex.auth.base import ApiKey
from vortex.auth.errors import AuthUnavailable
from vortex.health import BackendHealth

T = TypeVar("T")
FILENAME = "api-keys.json"
FORMAT_VERSION = 1


class FileKeyStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILENAME
        self._lock_path = data_dir / f".{FILENAME}.lock"
        self._cached: tuple[tuple[int, int, int], dict[str, ApiKey]] | None = None

    # -- reading --------------------------------------------------------------------------------
    def _load(self) -> dict[str, ApiKey]:
        """Digest → key, from the file as it is now (cached while it does not change)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._cached = None
            return {}
        except OSError as exc:
            raise AuthUnavailable(f"cannot read {self.path}: {exc}") from exc
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if self._cached is not None and self._cached[0] == signature:
            return self._cached[1]
        try:
            data = orjson.loads(self.path.read_bytes())
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"unknown format version {data.get('version')!r}")
            keys = {k.digest: k for k in (ApiKey.from_json(item) for item in data["keys"])}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AuthUnavailable(f"cannot read the API keys in {self.path}: {exc}") from exc
        self._cached = (signature, keys)
        return keys

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    async def find(self, digest: str) -> ApiKey | None:
        return (await self._call(self._load)).get(digest)

    async def all(self) -> list[ApiKey]:
        keys = await self._call(self._load)
        return sorted(keys.values(), key=lambda k: (k.created_at, k.id))

    async def count(self) -> int:
        return len(await self._call(self._load))

    # -- writing --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, keys: dict[str, ApiKey]) -> None:
        body = {
            "version": FORMAT_VERSION,
            "keys": [k.to_json() for k in sorted(keys.values(), key=lambda k: k.created_at)],
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-keys-")
        try:
            with os.fdopen(fd, "wb") as handle:  # mkstemp makes it 0600: digests stay private
                handle.write(orjson.dumps(body, option=orjson.OPT_INDENT_2))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _modify(self, change: Callable[[dict[str, ApiKey]], T]) -> T:
        try:
            with self._exclusive():
                self._cached = None  # another process may have written since
                keys = dict(self._load())
                result = change(keys)
                self._write(keys)
                return result
        except OSError as exc:
            raise AuthUnavailable(f"cannot write {self.path}: {exc}") from exc

    async def add(self, key: ApiKey) -> None:
        def add(keys: dict[str, ApiKey]) -> None:
            keys[key.digest] = key

        await self._call(lambda: self._modify(add))

    async def remove(self, key_id: str) -> ApiKey | None:
        def remove(keys: dict[str, ApiKey]) -> ApiKey | None:
            for digest, key in list(keys.items()):
                if key.id == key_id:
                    return keys.pop(digest)
            return None

        return await self._call(lambda: self._modify(remove))

    async def health(self) -> BackendHealth:
        try:
            count = await self.count()
        except AuthUnavailable as exc:
            return BackendHealth("local", False, exc.message, {"path": str(self.path)})
        return BackendHealth("local", True, None, {"path": str(self.path), "keys": count})

    async def close(self) -> None:
        return None
