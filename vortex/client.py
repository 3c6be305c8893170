"""An async client of the Vortex HTTP API and its log WebSocket.

This is the one place that knows the API's URLs and the shape of its answers; the CLI (and any
Python script) talks to a server through ``VortexClient``::

    async with VortexClient("http://127.0.0.1:8080") as client:
        function_id = await client.deploy('Vortex.return({hello: "world"});')
        async with client.tail(function_id) as logs:
            result = await client.execute(function_id)

Every failure is one of a small error family, so callers never see aiohttp's own exceptions::

    ClientError
    ├── ServerUnreachable          no Vortex server answered at the URL
    │   └── UnexpectedResponse         something answered, but not the Vortex API
    └── APIError                   the server refused, with its stable error ``code``
        ├── InvalidRequest             4xx: the request as sent is wrong
        │   ├── InvalidFunctionId          not a function id (a UUID)
        │   └── CodeSyntaxError            the code does not parse (``line``, ``column``)
        ├── NotFound                   no function with that id
        └── ServerError                5xx: storage or pool unavailable, internal error

A run that fails (the function threw, or hit a limit) is not an exception: it is a ``RunResult``
whose ``error`` is set, with the logs printed before the failure.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from aiohttp import hdrs
from yarl import URL

DEFAULT_URL = "http://127.0.0.1:8080"
RUN_ID_HEADER = "X-Vortex-Run-Id"

_T = TypeVar("_T")

# A run may legitimately take as long as the server's wall-time limit, which the client cannot
# know, so only connecting is bounded for it; everything else is a quick question.
_QUICK = aiohttp.ClientTimeout(total=60, sock_connect=10)
_LONG = aiohttp.ClientTimeout(total=None, sock_connect=10)


class ClientError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ServerUnreachable(ClientError):
    """No Vortex server answered: connection refused, unknown host, timeout, dropped connection."""


class UnexpectedResponse(ServerUnreachable):
    """Something answered at the URL, but not as the Vortex API does."""


class APIError(ClientError):
    def __init__(
        self, message: str, *, status: int, code: str, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.details: dict[str, Any] = dict(details or {})

    def to_json(self) -> dict[str, Any]:
        """The server's error object, as ``{"error": {...}}``."""
        return {"error": {"code": self.code, "message": self.message, **self.details}}


class InvalidRequest(APIError):
    pass


class InvalidFunctionId(InvalidRequest):
    pass


class CodeSyntaxError(InvalidRequest):
    @property
    def line(self) -> int | None:
        return _optional_int(self.details.get("line"))

    @property
    def column(self) -> int | None:
        return _optional_int(self.details.get("column"))


class NotFound(APIError):
    pass


class ServerError(APIError):
    pass


@dataclass(frozen=True, slots=True)
class LogLine:
    level: str
    message: str
    timestamp: str
    run_id: str | None = None
    """Set on lines from the WebSocket; the execute response's own lines carry none."""

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies a line across the WebSocket and the execute response."""
        return (self.level, self.message, self.timestamp)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogLine:
        run_id = data.get("run_id")
        return cls(
            level=str(data.get("level", "log")),
            message=str(data.get("message", "")),
            timestamp=str(data.get("timestamp", "")),
            run_id=run_id if isinstance(run_id, str) else None,
        )


@dataclass(frozen=True, slots=True)
class RunError:
    code: str
    name: str
    message: str
    stack: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunError:
        return cls(
            code=str(data.get("code", "function_error")),
            name=str(data.get("name") or "Error"),
            message=str(data.get("message", "")),
            stack=str(data.get("stack") or ""),
        )


@dataclass(frozen=True, slots=True)
class RunResult:
    output: Any
    logs: list[LogLine]
    execution_time_ms: float
    cpu_time_ms: float | None
    run_id: str | None
    error: RunError | None
    raw: dict[str, Any] = field(repr=False, compare=False)
    """The response exactly as the server sent it, for ``--json``."""
    running: bool = False
    """The handler failed and this is its answer, while its waitUntil work goes on."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        error = data.get("error")
        run_id = data.get("run_id")
        return cls(
            output=data.get("output"),
            logs=[LogLine.from_json(entry) for entry in data["logs"]],
            execution_time_ms=float(data["execution_time_ms"]),
            cpu_time_ms=_optional_float(data.get("cpu_time_ms")),
            run_id=run_id if isinstance(run_id, str) else None,
            error=RunError.from_json(error) if isinstance(error, dict) else None,
            raw=data,
            running=data.get("running") is True,
        )


@dataclass(frozen=True, slots=True)
class LastRun:
    run_id: str
    at: str
    ok: bool
    execution_time_ms: float
    error_code: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LastRun:
        error_code = data.get("error_code")
        return cls(
            run_id=str(data.get("run_id", "")),
            at=str(data["at"]),
            ok=bool(data["ok"]),
            execution_time_ms=float(data["execution_time_ms"]),
            error_code=error_code if isinstance(error_code, str) else None,
        )


MAX_PAGE = 1000
"""The most functions ``GET /functions`` answers with at once."""


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    id: str
    filename: str
    size: int
    created_at: str
    last_run: LastRun | None
    code: str | None
    """Only ``get_function`` fetches the code."""
    raw: dict[str, Any] = field(repr=False, compare=False)
    name: str | None = None
    version: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FunctionInfo:
        last_run = data.get("last_run")
        code = data.get("code")
        name = data.get("name")
        return cls(
            id=str(data["id"]),
            filename=str(data.get("filename", "index.js")),
            size=int(data["size"]),
            created_at=str(data["created_at"]),
            last_run=LastRun.from_json(last_run) if isinstance(last_run, dict) else None,
            code=code if isinstance(code, str) else None,
            raw=data,
            name=name if isinstance(name, str) else None,
            version=_optional_int(data.get("version")),
        )


@dataclass(frozen=True, slots=True)
class Deployed:
    function_id: str
    name: str | None
    version: int | None
    kept: tuple[str, ...] = ()
    """The settings the version took from the one active before it (docs/versions.md)."""
    url: str | None = None
    """Where the function answers on the functions listener (None when it is off)."""
    routes: tuple[str, ...] = ()
    """The custom-domain routes the version claims (a named function's)."""


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: int
    function_id: str
    created_at: str
    active: bool


@dataclass(frozen=True, slots=True)
class Versions:
    name: str
    active: int
    versions: list[VersionInfo]
    """Newest first."""
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Versions:
        return cls(
            name=str(data["name"]),
            active=int(data["active"]),
            versions=[
                VersionInfo(
                    int(v["version"]),
                    str(v["function_id"]),
                    str(v["created_at"]),
                    bool(v["active"]),
                )
                for v in data["versions"]
            ],
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run of the invocation history (``logs`` only from ``get_run``)."""

    run_id: str
    at: str
    function_id: str
    version: int | None
    trigger: str
    ok: bool
    error_code: str | None
    execution_time_ms: float
    cpu_time_ms: float | None
    logs: list[LogLine]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunInfo:
        error_code = data.get("error_code")
        return cls(
            run_id=str(data["run_id"]),
            at=str(data["at"]),
            function_id=str(data.get("function_id", "")),
            version=_optional_int(data.get("version")),
            trigger=str(data.get("trigger", "execute")),
            ok=bool(data["ok"]),
            error_code=error_code if isinstance(error_code, str) else None,
            execution_time_ms=float(data["execution_time_ms"]),
            cpu_time_ms=_optional_float(data.get("cpu_time_ms")),
            logs=[LogLine.from_json(entry) for entry in data.get("logs") or ()],
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class Health:
    status: str
    """``healthy``, ``degraded`` (some hosts down) or ``unhealthy`` (none up)."""
    active_workers: int
    max_workers: int
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Health:
        return cls(
            status=str(data["status"]),
            active_workers=int(data["active_workers"]),
            max_workers=int(data["max_workers"]),
            raw=data,
        )


class LogStream:
    """The log lines of every run of one function, as they happen; iterate until it closes."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws

    @property
    def closed(self) -> bool:
        return self._ws.closed

    @property
    def close_code(self) -> int | None:
        return self._ws.close_code

    async def __aiter__(self) -> AsyncIterator[LogLine]:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                # CLOSE, CLOSING and ERROR end the stream; binary frames are not part of the API.
                if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                    return
                continue
            try:
                data = json.loads(message.data)
            except ValueError:
                continue
            if isinstance(data, dict):
                yield LogLine.from_json(data)


class VortexClient:
    def __init__(self, base_url: str = DEFAULT_URL, *, api_key: str | None = None) -> None:
        url = URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"{base_url!r} is not an http:// or https:// URL")
        self.base_url = url
        self.api_key = api_key if api_key is not None else os.environ.get("VORTEX_API_KEY") or None
        """Sent as ``Authorization: Bearer`` on every request and WebSocket (docs/auth.md)."""
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> VortexClient:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else None
        self._session = aiohttp.ClientSession(headers=headers)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def health(self) -> Health:
        # An unhealthy server answers 503 with the same body: that is a health report, not an error.
        data = await self._request("GET", ("health",), ok_statuses=(200, 503))
        return _parse(Health.from_json, data, self._url("health"))

    async def deploy(
        self,
        code: str,
        filename: str = "index.js",
        *,
        env: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        allow_hosts: Sequence[str] | None = None,
        name: str | None = None,
    ) -> str:
        """Deploy and answer with the new function's (or version's) id."""
        deployed = await self.deploy_function(
            code, filename, env=env, secrets=secrets, allow_hosts=allow_hosts, name=name
        )
        return deployed.function_id

    async def deploy_function(
        self,
        code: str,
        filename: str = "index.js",
        *,
        env: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        allow_hosts: Sequence[str] | None = None,
        name: str | None = None,
        schedule: str | Sequence[str] | None = None,
        routes: Sequence[str] | None = None,
        clear: Sequence[str] = (),
        beside: Mapping[str, str] | None = None,
        assets: Mapping[str, Any] | None = None,
        r2_buckets: Sequence[Mapping[str, str]] | None = None,
        services: Sequence[Mapping[str, Any]] | None = None,
        d1_databases: Sequence[Mapping[str, str]] | None = None,
    ) -> Deployed:
        """Deploy; with ``name``, as that function's new active version; with ``schedule``
        (five-field cron, UTC, or several), also run on it (each). A setting given as ``None``
        is left out: a new version keeps the active one's. ``clear`` names settings to empty
        (``env``, ``secrets``, ``allow_hosts``, ``schedule``, ``routes``). ``routes``: custom-domain
        patterns to claim (``api.example.com/v1/*``). ``beside``: more files of a
        module upload (``.wasm`` files in base64), with ``code`` as its entry ``filename``.
        ``assets``: the version's static assets, ``{"manifest", "config"}``, their files
        uploaded first (``missing_assets``, ``upload_asset``). ``r2_buckets``: the R2 buckets
        bound in ``env``, ``[{"binding", "bucket_name"}]`` (docs/r2.md).
        ``services``: service bindings, ``[{"binding", "service", "entrypoint"?, "props"?}]``
        (docs/http-functions.md#service-bindings).
        ``d1_databases``: the D1 databases bound, ``[{"binding", "database_name"}]``."""
        body: dict[str, Any] = {"code": code, "filename": filename}
        if beside:
            body = {"files": {filename: code, **beside}, "entry": filename}
        if name is not None:
            body["name"] = name
        for setting in clear:
            body[setting] = None
        if isinstance(schedule, str):
            body["schedule"] = schedule
        elif schedule is not None and len(schedule) == 1:
            body["schedule"] = schedule[0]  # as before, so a server older than lists takes it
        elif schedule is not None:
            body["schedules"] = list(schedule)
        if env is not None:
            body["env"] = dict(env)
        if secrets is not None:
            body["secrets"] = dict(secrets)
        if allow_hosts is not None:
            body["allow_hosts"] = list(allow_hosts)
        if routes is not None:
            body["routes"] = list(routes)
        if assets is not None:
            body["assets"] = dict(assets)
        if r2_buckets is not None:
            body["r2_buckets"] = [dict(bucket) for bucket in r2_buckets]
        if services is not None:
            body["services"] = [dict(service) for service in services]
        if d1_databases is not None:
            body["d1_databases"] = [dict(database) for database in d1_databases]
        data = await self._request("POST", ("deploy",), json_body=body)
        function_id = data.get("function_id")
        if not isinstance(function_id, str):
            raise UnexpectedResponse(f"{self._url('deploy')} answered without a function_id")
        deployed_name, url = data.get("name"), data.get("url")
        kept, claimed = data.get("kept"), data.get("routes")
        return Deployed(
            function_id,
            deployed_name if isinstance(deployed_name, str) else None,
            _optional_int(data.get("version")),
            tuple(k for k in kept if isinstance(k, str)) if isinstance(kept, list) else (),
            url if isinstance(url, str) else None,
            tuple(r for r in claimed if isinstance(r, str)) if isinstance(claimed, list) else (),
        )

    async def missing_assets(self, hashes: Sequence[str]) -> list[str]:
        """Which of these static assets' SHA-256 hashes the server lacks
        (docs/http-functions.md#static-assets)."""
        data = await self._request(
            "POST", ("assets", "missing"), json_body={"hashes": list(hashes)}
        )
        missing = data.get("missing")
        if not isinstance(missing, list):
            raise UnexpectedResponse(f"{self._url('assets', 'missing')} answered no list")
        return [h for h in missing if isinstance(h, str)]

    async def upload_asset(self, digest: str, data: bytes) -> None:
        """One static asset's bytes, under their SHA-256 ``digest``."""
        await self._request(
            "PUT",
            ("assets", digest),
            raw_body=data,
            ok_statuses=(201,),
            client_timeout=_LONG,
        )

    async def execute(self, function_id: str, *, run_id: str | None = None) -> RunResult:
        headers = {RUN_ID_HEADER: run_id} if run_id else None
        url = ("execute", function_id)
        data = await self._request("POST", url, headers=headers, client_timeout=_LONG)
        return _parse(RunResult.from_json, data, self._url(*url))

    async def run_scheduled(
        self,
        function: str,
        *,
        cron: str | None = None,
        scheduled_time_ms: int | None = None,
        run_id: str | None = None,
    ) -> RunResult:
        """Run a module function's ``scheduled`` handler once, now, as a cron tick would; the
        event's ``cron`` and ``scheduledTime`` default to its schedule and now."""
        headers = {RUN_ID_HEADER: run_id} if run_id else None
        body: dict[str, object] = {}
        if cron is not None:
            body["cron"] = cron
        if scheduled_time_ms is not None:
            body["scheduledTime"] = scheduled_time_ms
        url = ("functions", function, "scheduled")
        data = await self._request(
            "POST", url, json_body=body, headers=headers, client_timeout=_LONG
        )
        return _parse(RunResult.from_json, data, self._url(*url))

    async def list_page(
        self, limit: int | None = None, cursor: str | None = None, prefix: str = ""
    ) -> tuple[list[FunctionInfo], str | None]:
        """One page, newest first, and the cursor of the next (None after the last)."""
        params = {"limit": str(limit)} if limit is not None else {}
        if cursor is not None:
            params["cursor"] = cursor
        if prefix:
            params["prefix"] = prefix
        data = await self._request("GET", ("functions",), params=params)
        functions, next_cursor = data.get("functions"), data.get("cursor")
        if not isinstance(functions, list):
            raise UnexpectedResponse(f"{self._url('functions')} answered without a functions list")
        found = [_parse(FunctionInfo.from_json, item, self._url("functions")) for item in functions]
        return found, next_cursor if isinstance(next_cursor, str) else None

    async def list_functions(
        self, limit: int | None = None, page_size: int = MAX_PAGE
    ) -> list[FunctionInfo]:
        """The newest ``limit`` functions (all when None), following cursors page after page."""
        found: list[FunctionInfo] = []
        cursor: str | None = None
        while limit is None or len(found) < limit:
            size = page_size if limit is None else min(page_size, limit - len(found))
            page, cursor = await self.list_page(size, cursor)
            found.extend(page)
            if cursor is None:
                break
        return found if limit is None else found[:limit]

    async def get_function(self, function_id: str) -> FunctionInfo:
        data = await self._request("GET", ("functions", function_id))
        return _parse(FunctionInfo.from_json, data, self._url("functions", function_id))

    async def delete_function(self, function_id: str) -> dict[str, Any]:
        """By id or name; a named function goes with every version."""
        return await self._request("DELETE", ("functions", function_id))

    async def versions(self, name: str) -> Versions:
        url = ("functions", name, "versions")
        return _parse(Versions.from_json, await self._request("GET", url), self._url(*url))

    async def rollback(self, name: str, to: int | None = None) -> Versions:
        url = ("functions", name, "rollback")
        body = {} if to is None else {"to": to}
        data = await self._request("POST", url, json_body=body)
        return _parse(Versions.from_json, data, self._url(*url))

    async def runs(self, function: str, limit: int | None = None) -> list[RunInfo]:
        """The function's invocation history, newest first (without logs)."""
        url = ("functions", function, "runs")
        data = await self._request("GET", url)
        runs = data.get("runs")
        if not isinstance(runs, list):
            raise UnexpectedResponse(f"{self._url(*url)} answered without a runs list")
        found = [_parse(RunInfo.from_json, item, self._url(*url)) for item in runs]
        return found if limit is None else found[:limit]

    async def d1_query(
        self, database: str, sql: str, params: Sequence[Any] | None = None
    ) -> list[dict[str, Any]]:
        """SQL on a D1 database of the key's namespace (docs/d1.md): with ``params``, one
        statement; without, a script, run as one batch. Each statement's D1 result."""
        body: dict[str, Any] = {"sql": sql}
        if params is not None:
            body["params"] = list(params)
        url = ("d1", database, "query")
        data = await self._request("POST", url, json_body=body)
        result = data.get("result")
        if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
            raise UnexpectedResponse(f"{self._url(*url)} answered without a result list")
        return result

    async def d1_databases(self) -> list[str]:
        data = await self._request("GET", ("d1",))
        found = data.get("databases")
        if not isinstance(found, list):
            raise UnexpectedResponse(f"{self._url('d1')} answered without a databases list")
        return [str(d.get("name")) for d in found if isinstance(d, dict)]

    async def get_run(self, function: str, run_id: str) -> RunInfo:
        url = ("functions", function, "runs", run_id)
        return _parse(RunInfo.from_json, await self._request("GET", url), self._url(*url))

    @contextlib.asynccontextmanager
    async def tail(self, function_id: str) -> AsyncIterator[LogStream]:
        """Subscribe to a function's log lines; raises on entry if the server refuses."""
        url = self._url("ws", function_id)
        url = url.with_scheme("wss" if url.scheme == "https" else "ws")
        try:
            ws = await self._open_session().ws_connect(
                url, timeout=aiohttp.ClientWSTimeout(ws_close=5.0), heartbeat=30.0
            )
        except aiohttp.WSServerHandshakeError as exc:
            raise await self._refused_handshake(exc, function_id, url) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _transport_error(exc, self.base_url) from None
        try:
            yield LogStream(ws)
        finally:
            await ws.close()

    async def _refused_handshake(
        self, exc: aiohttp.WSServerHandshakeError, function_id: str, ws_url: URL
    ) -> ClientError:
        if exc.status in (401, 403):
            # aiohttp drops the refusal's body, and with it the server's reason (which key, what
            # to do). A plain GET of the same URL passes the same key check first, so it is
            # refused with the same error, which is read this time.
            try:
                await self._request("GET", ("ws", function_id), ok_statuses=())
            except APIError as refused:
                if refused.status == exc.status:
                    return refused
            except ClientError:
                pass
        return _handshake_error(exc, function_id, ws_url)

    def _url(self, *segments: str) -> URL:
        # Segments are quoted whole so an id such as "../health" can never reach another route.
        path = self.base_url.path.rstrip("/") + "".join("/" + quote(s, safe="") for s in segments)
        return self.base_url.with_path(path, encoded=True).with_query(None).with_fragment(None)

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("use VortexClient as `async with VortexClient(...) as client`")
        return self._session

    async def _request(
        self,
        method: str,
        segments: tuple[str, ...],
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        client_timeout: aiohttp.ClientTimeout = _QUICK,
        ok_statuses: tuple[int, ...] = (200,),
        params: Mapping[str, str] | None = None,
        raw_body: bytes | None = None,
    ) -> dict[str, Any]:
        url = self._url(*segments)
        sent_headers = dict(headers or {})
        sent: io.BytesIO | None = None
        if raw_body is not None:
            sent = io.BytesIO(raw_body)
            sent_headers[hdrs.CONTENT_TYPE] = "application/octet-stream"
        if json_body is not None:
            # UTF-8 as it is, not \u-escaped (aiohttp's json=): escaped, non-ASCII code takes up
            # to three times its size (😀 is 12 bytes), and code under the server's code limit
            # overran its body limit. surrogateescape gives back the bytes of an argument the
            # locale could not decode. In a BytesIO, aiohttp sends a large body in chunks (raw
            # bytes over 1 MiB, it warns that they may hold up the event loop).
            text = json.dumps(json_body, ensure_ascii=False)
            sent = io.BytesIO(text.encode("utf-8", "surrogateescape"))
            sent_headers[hdrs.CONTENT_TYPE] = "application/json; charset=utf-8"
        try:
            async with self._open_session().request(
                method,
                url,
                data=sent,
                headers=sent_headers,
                timeout=client_timeout,
                params=params,
            ) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _transport_error(exc, self.base_url) from None
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise UnexpectedResponse(
                f"{method} {url} answered HTTP {status} without a JSON object; "
                "is this the URL of a Vortex server?"
            )
        if status in ok_statuses:
            return data
        raise _api_error(status, data, method, url)


def _api_error(status: int, data: dict[str, Any], method: str, url: URL) -> ClientError:
    error = data.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        return UnexpectedResponse(f"{method} {url} answered HTTP {status} without a Vortex error")
    code: str = error["code"]
    message = str(error.get("message") or code)
    details = {k: v for k, v in error.items() if k not in ("code", "message")}
    if code == "not_found":
        # The route itself is missing: an older server, or not Vortex at all.
        # Its message may say why (the functions listener says it is not the API).
        return UnexpectedResponse(
            f"the server at {url.origin()} has no {method} {url.path} ({message})"
        )
    kind: type[APIError]
    if status == 404:
        kind = NotFound
    elif code == "invalid_function_id":
        kind = InvalidFunctionId
    elif code == "syntax_error":
        kind = CodeSyntaxError
    elif 400 <= status < 500:
        kind = InvalidRequest
    elif status >= 500:
        kind = ServerError
    else:
        kind = APIError
    return kind(message, status=status, code=code, details=details)


NAME = re.compile(r"^(?![0-9a-f]{8}-)[a-z0-9][a-z0-9-]{0,62}$")
"""A function name, as the server accepts it (a UUID is an id, never a name)."""


def _handshake_error(
    exc: aiohttp.WSServerHandshakeError, function_id: str, url: URL
) -> ClientError:
    # The handshake error drops the response body, so the message is rebuilt from the status.
    if exc.status == 404:
        what = f"named {function_id}" if NAME.fullmatch(function_id) else f"with id {function_id}"
        return NotFound(f"no function {what}", status=404, code="function_not_found")
    if exc.status == 400:
        return InvalidFunctionId(
            f"{function_id[:80]!r} is neither a function id (a UUID) nor a name",
            status=400,
            code="invalid_function_id",
        )
    if exc.status in (401, 403):
        return InvalidRequest(
            f"the server refused the log stream at {url} (HTTP {exc.status})",
            status=exc.status,
            code="unauthorized" if exc.status == 401 else "forbidden",
        )
    if exc.status >= 500:
        return ServerError(
            f"the log stream at {url} failed with HTTP {exc.status}",
            status=exc.status,
            code="server_error",
        )
    return UnexpectedResponse(f"{url} did not open a WebSocket (HTTP {exc.status})")


def _transport_error(exc: BaseException, base_url: URL) -> ServerUnreachable:
    where = str(base_url.origin())
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return ServerUnreachable(f"cannot reach {where}: unknown host {base_url.host}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        # asyncio puts its own "Connect call failed (...)" in strerror; errno is the plain reason.
        reason = os.strerror(error.errno) if error.errno else (error.strerror or str(error))
        return ServerUnreachable(f"cannot reach {where}: {(reason or 'connection failed').lower()}")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ServerUnreachable(f"{where} closed the connection before answering")
    if isinstance(exc, TimeoutError):
        return ServerUnreachable(f"{where} did not answer in time")
    return ServerUnreachable(f"cannot talk to {where}: {exc or type(exc).__name__}")


def _parse(build: Callable[[dict[str, Any]], _T], data: dict[str, Any], url: URL) -> _T:
    try:
        return build(data)
    except (KeyError, TypeError, ValueError):
        raise UnexpectedResponse(f"{url} answered in a shape this client does not know") from None


def _optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _optional_float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
