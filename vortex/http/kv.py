"""A function's KV store over the HTTP API: list, get, put and delete keys (docs/kv.md).

The same namespace its runs see (``env.KV``; a named function's versions share one), with the
same limits, checked by ``vortex.kv.KV``. The key travels in the query (``?key=``), not the path:
a key is any text, ``/``, ``..`` and ``%`` included, which a path would not carry intact.

Values travel in JSON bodies: as text when they are UTF-8, as base64 (``"encoding": "base64"``)
when they are bytes that are not (JSON carries no bytes), so a binary value put by a run reads
back exactly and a put can store one. Metadata is a JSON value beside the value.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from vortex.errors import InvalidRequest
from vortex.functions import history_key
from vortex.http.keys import KV_STORE
from vortex.http.lookup import resolve
from vortex.http.responses import json_response, read_json_object, refuse_unknown_fields
from vortex.kv import KV
from vortex.kv.errors import KVInvalidKey, KVInvalidListOption, KVInvalidValue, KVKeyNotFound
from vortex.storage.base import FunctionRecord

routes = web.RouteTableDef()


async def _namespace(request: web.Request) -> str:
    record: FunctionRecord = await resolve(request)
    return history_key(record)


def _key_of(request: web.Request) -> str:
    key = request.query.get("key")
    if key is None:
        raise KVInvalidKey("give the key as ?key=… (URL-encoded)")
    return key


def limits_json(kv: KV) -> dict[str, Any]:
    return {
        "max_key_bytes": kv.limits.max_key_bytes,
        "max_value_bytes": kv.limits.max_value_bytes,
        "max_list_limit": kv.limits.max_list_limit,
        "max_metadata_bytes": kv.limits.max_metadata_bytes,
    }


@routes.get("/functions/{function_id:[^/]+}/kv")
async def list_keys(request: web.Request) -> web.Response:
    namespace = await _namespace(request)
    kv = request.app[KV_STORE]
    limit: int | None = None
    if "limit" in request.query:
        try:
            limit = int(request.query["limit"])
        except ValueError:
            raise KVInvalidListOption("limit must be a whole number") from None
    page = await kv.list(
        namespace,
        prefix=request.query.get("prefix", ""),
        limit=limit,
        cursor=request.query.get("cursor") or None,
    )
    return json_response({**page.to_json(), "limits": limits_json(kv)})


@routes.get("/functions/{function_id:[^/]+}/kv/value")
async def get_value(request: web.Request) -> web.Response:
    namespace = await _namespace(request)
    key = _key_of(request)
    entry = await request.app[KV_STORE].get_entry(namespace, key)
    if entry is None:
        raise KVKeyNotFound(f"no key {key[:100]!r} in this function's KV (or it expired)")
    try:
        value, encoding = entry.value.decode(), "text"
    except UnicodeDecodeError:
        value, encoding = base64.b64encode(entry.value).decode("ascii"), "base64"
    return json_response(
        {"key": key, "value": value, "encoding": encoding, "metadata": entry.metadata_value()}
    )


def _value_of(body: dict[str, Any]) -> Any:
    encoding = body.get("encoding", "text")
    if encoding == "text":
        return body["value"]
    if encoding != "base64":
        raise InvalidRequest('"encoding" is "text" (the default) or "base64"')
    try:
        if not isinstance(body["value"], str):
            raise ValueError
        return base64.b64decode(body["value"], validate=True)
    except (binascii.Error, ValueError):
        raise KVInvalidValue('with "encoding": "base64", the value is base64 text') from None


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f'"{name}" is a number of seconds')
    return float(value)


PUT_FIELDS = ("value", "encoding", "metadata", "expiration_ttl", "expiration")


@routes.put("/functions/{function_id:[^/]+}/kv/value")
async def put_value(request: web.Request) -> web.Response:
    namespace = await _namespace(request)
    key = _key_of(request)
    body = await read_json_object(request)
    refuse_unknown_fields(body, PUT_FIELDS, "a KV put")
    if "value" not in body:
        raise InvalidRequest(
            'the body is {"value": "text"}, with "encoding": "base64" for bytes, "metadata" '
            '(any JSON), and "expiration_ttl" (seconds) or "expiration" (Unix time) if the key '
            "should expire"
        )
    await request.app[KV_STORE].put(
        namespace,
        key,
        _value_of(body),
        metadata=body.get("metadata"),
        expiration_ttl=_number(body, "expiration_ttl"),
        expiration=_number(body, "expiration"),
    )
    return json_response({"key": key, "stored": True})


@routes.delete("/functions/{function_id:[^/]+}/kv/value")
async def delete_value(request: web.Request) -> web.Response:
    namespace = await _namespace(request)
    key = _key_of(request)
    await request.app[KV_STORE].delete(namespace, key)
    return json_response({"deleted": key})
