"""The shared store: any S3-compatible server (MinIO, AWS S3, Cloudflare R2) through aioboto3.

Layout of the bucket::

    code/<sha256>.js        the code, content-addressed: written once, only if absent, never changed
    functions/<id>.json     the record, written after its code
    names/<ns>/<name>.json  a name's pointer to its active version, written after that version
    assets/<ns>/<sha256>    static assets and their manifests (vortex.assets), content-addressed
                            per namespace: written once, never changed
    index/...               empty objects whose keys index the functions (vortex.storage.index)

A single PUT is atomic in S3 (an object is either there whole or not at all), and the record is
the last object written, so no reader ever sees a record whose code is missing, and a deploy that
fails part-way leaves at most an unreferenced code object, never a record. Code is checked against
its hash on every read, so a corrupted or wrong object cannot reach a host.

Every request has short timeouts and few attempts: when S3 is down a deploy answers 503
``storage_unavailable`` in seconds. Runs of code this node has already loaded never reach S3 at
all (``FunctionRegistry`` caches records and code in memory).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aioboto3  # type: ignore[import-untyped]
import aiohttp
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    NoCredentialsError,
)

from vortex.cache import BoundedCache
from vortex.config import Settings
from vortex.errors import CorruptRecord, FunctionNotFound, StorageUnavailable
from vortex.health import BackendHealth
from vortex.storage.base import CorruptRecords, FunctionRecord, sha256_hex
from vortex.storage.keyindex import KeyIndex
from vortex.storage.names import NamePointer
from vortex.storage.s3_index import S3KeyIndex
from vortex.storage.sealing import SecretsKey, load_secrets_key, record_bytes, record_from_bytes

log = logging.getLogger(__name__)

T = TypeVar("T")

CODE_PREFIX = "code/"
RECORD_PREFIX = "functions/"
NAME_PREFIX = "names/"
ASSET_PREFIX = "assets/"
OBJECT_PREFIX = "r2/"
HEALTH_PROBE_TIMEOUT = 2.0
HEALTH_FRESH_FOR = 5.0
"""Seconds a known state answers ``/health`` without asking S3 again: load balancers poll it."""
LIST_CONCURRENCY = 16
PUT_WITHOUT_LOOKING = 256 * 1024
"""Code up to this size is PUT without a HEAD first: one request instead of two for new code,
and rewriting identical bytes under their own hash changes nothing. Larger code is looked for
first, to spare the upload when it is there already."""
KNOWN_CODE = 4096
"""Code hashes this node wrote or read, so not written again (a redeploy of the same code)."""

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
_NO_BUCKET = {"NoSuchBucket"}


def code_key(code_sha256: str) -> str:
    return f"{CODE_PREFIX}{code_sha256}.js"


def record_key(function_id: str) -> str:
    return f"{RECORD_PREFIX}{function_id}.json"


def pointer_key(namespace: str, name: str) -> str:
    return f"{NAME_PREFIX}{namespace}/{name}.json"


def asset_key(namespace: str, sha256: str) -> str:
    return f"{ASSET_PREFIX}{namespace}/{sha256}"


def object_key(namespace: str, bucket: str, name: str) -> str:
    """An R2 object of a namespace's bucket: ``r2/<namespace>/<bucket>/<storage name>``."""
    return f"{OBJECT_PREFIX}{namespace}/{bucket}/{name}"


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _content_md5(data: bytes) -> str:
    # Content-MD5 is the one integrity check every S3-compatible server honours; the newer
    # flexible checksums (CRC32 etc.) are not understood by all of them.
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


class S3Store:
    def __init__(
        self, settings: Settings, key: SecretsKey | None = None, index: KeyIndex | None = None
    ) -> None:
        """``index``: where the function index lives, when not in the bucket (Redis)."""
        self.bucket = settings.s3_bucket
        self.corrupt = CorruptRecords()
        self.index: KeyIndex = index or S3KeyIndex(self)
        self._known_code: BoundedCache[str, bool] = BoundedCache(KNOWN_CODE)
        self.key = key or load_secrets_key(settings)
        self.endpoint_url = settings.s3_endpoint_url
        self.region = settings.s3_region
        self._access_key = settings.s3_access_key
        self._secret_key = settings.s3_secret_key
        self._config = Config(
            region_name=settings.s3_region,
            connect_timeout=settings.s3_connect_timeout,
            read_timeout=settings.s3_read_timeout,
            retries={"total_max_attempts": settings.s3_max_attempts, "mode": "standard"},
            s3={"addressing_style": settings.s3_addressing_style},
            # botocore >= 1.36 adds CRC32 checksums to every request by default, which MinIO
            # releases before 2025, R2 and others reject or ignore: ask only when required.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._session = aioboto3.Session()
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        self._open_lock = asyncio.Lock()
        self._bucket_ready = False
        self._health_lock = asyncio.Lock()
        self._last_ok: bool | None = None
        self._last_error: str | None = None
        self._last_checked = 0.0
        self._closed = False

    # -- connection -----------------------------------------------------------------------------
    async def _s3(self) -> Any:
        """The client, made on first use (it needs a running loop), with the bucket ensured.

        Nothing here runs at start-up, so a node starts (and serves cached code, /health) even
        while S3 is still coming up, as in a compose file where both start together.
        """
        if self._client is not None and self._bucket_ready:
            return self._client
        async with self._open_lock:
            if self._closed:
                raise StorageUnavailable("the S3 store is closed")
            if self._client is None:
                self._client = await self._stack.enter_async_context(
                    self._session.client(
                        "s3",
                        endpoint_url=self.endpoint_url,
                        region_name=self.region,
                        aws_access_key_id=self._access_key,
                        aws_secret_access_key=self._secret_key,
                        config=self._config,
                    )
                )
            if not self._bucket_ready:
                await self._guard("prepare the bucket", self._ensure_bucket(self._client))
                self._bucket_ready = True
        return self._client

    async def _ensure_bucket(self, client: Any) -> None:
        try:
            await client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _error_code(exc) not in _NOT_FOUND | _NO_BUCKET:
                raise
        log.info("creating S3 bucket %s", self.bucket)
        arguments: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":
            # us-east-1 is the one region that rejects an explicit location constraint.
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            await client.create_bucket(**arguments)
        except ClientError as exc:
            # Another node created it between our HEAD and our PUT: what we wanted.
            if _error_code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    async def _guard(self, action: str, operation: Awaitable[T]) -> T:
        """Run one S3 operation; turn every way S3 can fail into ``StorageUnavailable``.

        ``ClientError`` for a missing key is *not* caught here: callers decide what it means.
        """
        try:
            result = await operation
        except ClientError as exc:
            code = _error_code(exc)
            if code in _NOT_FOUND:
                self._note(ok=True)
                raise
            if code in _NO_BUCKET:
                # Deleted under us: make the next call create it again.
                self._bucket_ready = False
            message = f"S3 could not {action}: {code or 'error'} ({exc})"
            self._note(ok=False, error=message)
            raise StorageUnavailable(message) from exc
        except NoCredentialsError as exc:
            message = (
                "no S3 credentials: set MINIO_ACCESS_KEY and MINIO_SECRET_KEY "
                "(or VORTEX_S3_ACCESS_KEY/VORTEX_S3_SECRET_KEY, or AWS_* variables)"
            )
            self._note(ok=False, error=message)
            raise StorageUnavailable(message) from exc
        except (BotoCoreError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            where = self.endpoint_url or "AWS S3"
            message = f"S3 at {where} is unreachable, could not {action}: {exc}"
            self._note(ok=False, error=message)
            raise StorageUnavailable(message) from exc
        self._note(ok=True)
        return result

    def _note(self, *, ok: bool, error: str | None = None) -> None:
        self._last_ok, self._last_error = ok, error
        self._last_checked = time.monotonic()

    async def _call(self, action: str, make: Callable[[Any], Awaitable[T]]) -> T:
        client = await self._s3()
        return await self._guard(action, make(client))

    # -- FunctionStore --------------------------------------------------------------------------
    async def put(self, record: FunctionRecord, code: bytes) -> None:
        key = code_key(record.code_sha256)
        known = self._known_code.get(record.code_sha256) is not None
        if not known and (len(code) <= PUT_WITHOUT_LOOKING or not await self._exists(key)):
            await self._call(
                "store the code",
                lambda s3: s3.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=code,
                    ContentMD5=_content_md5(code),
                    ContentType="application/javascript; charset=utf-8",
                    CacheControl="public, max-age=31536000, immutable",
                ),
            )
        self._known_code.put(record.code_sha256, True)
        body = record_bytes(record, self.key)
        # The record goes last: until this PUT succeeds, no function points at the code.
        await self._call(
            "store the function record",
            lambda s3: s3.put_object(
                Bucket=self.bucket,
                Key=record_key(record.id),
                Body=body,
                ContentMD5=_content_md5(body),
                ContentType="application/json",
            ),
        )

    async def _exists(self, key: str) -> bool:
        try:
            await self._call(
                "look for the code", lambda s3: s3.head_object(Bucket=self.bucket, Key=key)
            )
        except ClientError:
            return False
        return True

    async def _get(self, action: str, key: str) -> bytes | None:
        async def read(s3: Any) -> bytes:
            response = await s3.get_object(Bucket=self.bucket, Key=key)
            async with response["Body"] as stream:
                data: bytes = await stream.read()
            return data

        try:
            return await self._call(action, read)
        except ClientError:
            return None

    def _read(self, data: bytes) -> FunctionRecord:
        return record_from_bytes(data, self.key)

    async def get_record(self, function_id: str) -> FunctionRecord:
        data = await self._get("read the function record", record_key(function_id))
        if data is None:
            raise FunctionNotFound(f"no function with id {function_id}")
        record = self.corrupt.parse(record_key(function_id), data, self._read)
        if record is None:
            raise CorruptRecord(f"the record of function {function_id} is corrupt")
        return record

    async def get_code(self, code_sha256: str) -> bytes:
        data = await self._get("read the code", code_key(code_sha256))
        if data is None:
            raise StorageUnavailable(f"code {code_sha256} is missing from the S3 bucket")
        if sha256_hex(data) != code_sha256:
            raise StorageUnavailable(f"code {code_sha256} in the S3 bucket does not match its hash")
        self._known_code.put(code_sha256, True)
        return data

    async def list_records(self) -> list[FunctionRecord]:
        async def keys(s3: Any) -> list[str]:
            found: list[str] = []
            paginator = s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=RECORD_PREFIX):
                found.extend(item["Key"] for item in page.get("Contents", ()))
            return found

        record_keys = await self._call("list the functions", keys)
        limit = asyncio.Semaphore(LIST_CONCURRENCY)

        async def fetch(key: str) -> FunctionRecord | None:
            async with limit:
                body = await self._get("read a function record", key)
            # A record deleted between the listing and its read is simply no longer there.
            return None if body is None else self.corrupt.parse(key, body, self._read)

        records = await asyncio.gather(*(fetch(key) for key in record_keys))
        return [record for record in records if record is not None]

    async def delete(self, function_id: str) -> None:
        key = record_key(function_id)
        # S3's DELETE succeeds for absent keys too; callers need to know the id was unknown.
        try:
            await self._call(
                "look for the function", lambda s3: s3.head_object(Bucket=self.bucket, Key=key)
            )
        except ClientError:
            raise FunctionNotFound(f"no function with id {function_id}") from None
        # The code stays: other functions may share it (same hash), and it is immutable.
        self.corrupt.forget(key)
        await self._call(
            "delete the function record", lambda s3: s3.delete_object(Bucket=self.bucket, Key=key)
        )

    async def has_asset(self, namespace: str, sha256: str) -> bool:
        return await self._exists(asset_key(namespace, sha256))

    async def put_asset(self, namespace: str, sha256: str, data: bytes) -> None:
        key = asset_key(namespace, sha256)
        await self._call(
            "store a static asset",
            lambda s3: s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentMD5=_content_md5(data),
                ContentType="application/octet-stream",
            ),
        )

    async def get_asset(self, namespace: str, sha256: str) -> bytes | None:
        data = await self._get("read a static asset", asset_key(namespace, sha256))
        if data is not None and sha256_hex(data) != sha256:
            raise StorageUnavailable(f"asset {sha256} in the S3 bucket does not match its hash")
        return data

    # -- R2 objects (vortex.r2) ------------------------------------------------------------------
    async def put_object(self, namespace: str, bucket: str, name: str, blob: bytes) -> None:
        key = object_key(namespace, bucket, name)
        await self._call(
            "store an R2 object",
            lambda s3: s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=blob,
                ContentMD5=_content_md5(blob),
                ContentType="application/octet-stream",
            ),
        )

    async def get_object(
        self, namespace: str, bucket: str, name: str, first_bytes: int | None = None
    ) -> bytes | None:
        key = object_key(namespace, bucket, name)
        extra = {} if first_bytes is None else {"Range": f"bytes=0-{first_bytes - 1}"}

        async def read(s3: Any) -> bytes:
            response = await s3.get_object(Bucket=self.bucket, Key=key, **extra)
            async with response["Body"] as stream:
                data: bytes = await stream.read()
            return data

        try:
            return await self._call("read an R2 object", read)
        except ClientError:
            return None

    async def delete_object(self, namespace: str, bucket: str, name: str) -> None:
        key = object_key(namespace, bucket, name)
        await self._call(
            "delete an R2 object", lambda s3: s3.delete_object(Bucket=self.bucket, Key=key)
        )

    async def list_objects(
        self, namespace: str, bucket: str, prefix: str, after: str | None, limit: int
    ) -> list[str]:
        folder = object_key(namespace, bucket, "")
        extra = {} if after is None else {"StartAfter": folder + after}

        async def names(s3: Any) -> list[str]:
            response = await s3.list_objects_v2(
                Bucket=self.bucket, Prefix=folder + prefix, MaxKeys=limit, **extra
            )
            return [item["Key"][len(folder) :] for item in response.get("Contents", ())]

        return await self._call("list R2 objects", names)

    async def get_pointer(self, namespace: str, name: str) -> NamePointer | None:
        data = await self._get("read a function name", pointer_key(namespace, name))
        return None if data is None else NamePointer.from_bytes(data)

    async def put_pointer(self, pointer: NamePointer) -> None:
        body = pointer.to_bytes()
        # One PUT: readers see the old pointer or the new one whole, never a mix.
        await self._call(
            "store a function name",
            lambda s3: s3.put_object(
                Bucket=self.bucket,
                Key=pointer_key(pointer.namespace, pointer.name),
                Body=body,
                ContentMD5=_content_md5(body),
                ContentType="application/json",
            ),
        )

    async def delete_pointer(self, namespace: str, name: str) -> None:
        key = pointer_key(namespace, name)
        await self._call(
            "delete a function name", lambda s3: s3.delete_object(Bucket=self.bucket, Key=key)
        )

    async def health(self) -> BackendHealth:
        async with self._health_lock:
            stale = time.monotonic() - self._last_checked > HEALTH_FRESH_FOR
            if self._last_ok is None or stale:
                await self._probe()
        return BackendHealth(
            "s3",
            bool(self._last_ok),
            None if self._last_ok else self._last_error,
            {
                "bucket": self.bucket,
                "endpoint": self.endpoint_url or "aws",
                **self.corrupt.details(),
            },
        )

    async def _probe(self) -> None:
        try:
            async with asyncio.timeout(HEALTH_PROBE_TIMEOUT):
                await self._call("reach the bucket", lambda s3: s3.head_bucket(Bucket=self.bucket))
        except StorageUnavailable:
            pass  # _guard noted why
        except TimeoutError:
            self._note(ok=False, error=f"S3 did not answer within {HEALTH_PROBE_TIMEOUT:g} s")
        except ClientError as exc:
            self._note(ok=False, error=f"S3 bucket {self.bucket} is not there: {exc}")

    async def close(self) -> None:
        async with self._open_lock:
            self._closed = True
            self._client = None
            await self._stack.aclose()
        await self.index.close()
