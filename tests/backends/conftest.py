"""Real backends for the backend tests: a ``redis-server`` of our own on a free port
(``tests/fixtures/redis.py``, shared with other test packages), and moto's S3 server in this
process on a free port, with a random bucket per test.

Factories hand out private instances to tests that stop, break or restart them.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.fixtures.redis import RedisServer, redis_factory, redis_server
from tests.server import free_port
from vortex.backends import make_logbus, make_store
from vortex.config import Settings
from vortex.logbus.base import LogBus
from vortex.storage.base import FunctionStore

__all__ = ["RedisServer", "redis_factory", "redis_server"]
"""Re-exported: the tests of this package import ``RedisServer`` from here, and pytest finds the
two fixtures through this conftest."""

ACCESS_KEY = "vortex-test"
SECRET_KEY = "vortex-test-secret"


# -- S3 (moto) ------------------------------------------------------------------------------------
@dataclass
class S3Request:
    method: str
    path: str


@dataclass
class MotoS3:
    """Moto's S3 server on a free port of 127.0.0.1, counting requests and able to fail some.

    Every moto server of a process shares one in-memory backend, so a bucket written through a
    server that was stopped can still be read through another.
    """

    server: ThreadedMotoServer
    requests: list[S3Request] = field(default_factory=list)
    fail: Callable[[S3Request], bool] | None = None
    """Requests it matches get a 503 SlowDown instead of reaching moto."""
    running: bool = True

    @classmethod
    def start(cls) -> MotoS3:
        # moto logs every request through werkzeug at INFO: noise in a failing test's output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        moto = cls(server)
        # ThreadedMotoServer takes no WSGI middleware: wrap the app of its werkzeug server,
        # which reads ``server.app`` for each request.
        wsgi_server = server._server
        assert wsgi_server is not None
        wsgi_server.app = moto._intercept(wsgi_server.app)
        return moto

    @property
    def port(self) -> int:
        return self.server.get_host_and_port()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _intercept(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            request = S3Request(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
            self.requests.append(request)
            if self.fail is not None and self.fail(request):
                start_response("503 Slow Down", [("Content-Type", "application/xml")])
                return [
                    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>SlowDown</Code>"
                    b"<Message>injected by the test</Message></Error>"
                ]
            return app(environ, start_response)

        return wrapped

    def requests_for(self, fragment: str) -> list[S3Request]:
        return [r for r in self.requests if fragment in r.path]

    def stop(self) -> None:
        """Stop serving and close the listening socket: clients get "connection refused"."""
        if not self.running:
            return
        self.running = False
        self.server.stop()
        # ThreadedMotoServer.stop leaves the socket listening, so that connections would queue
        # unanswered; close it so this stop looks like a server that went away.
        assert self.server._server is not None
        self.server._server.server_close()


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoS3]:
    """One moto server for the tests that do not stop it; each test has its own bucket."""
    server = MotoS3.start()
    yield server
    server.stop()


@pytest.fixture
def moto_factory() -> Iterator[Callable[[], MotoS3]]:
    started: list[MotoS3] = []

    def make() -> MotoS3:
        server = MotoS3.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def s3_client(moto: MotoS3) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


def bucket_keys(moto: MotoS3, bucket: str) -> list[str]:
    response = s3_client(moto).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in response.get("Contents", ()))


@pytest.fixture
def bucket(moto: MotoS3) -> Iterator[str]:
    """A fresh bucket name (not created: the store must create it), emptied and deleted after."""
    name = f"vortex-test-{uuid.uuid4().hex[:16]}"
    yield name
    # Through the session server: it shares moto's backend with any server a test stopped.
    client = s3_client(moto)
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=name)
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", ())]
            if keys:
                client.delete_objects(Bucket=name, Delete={"Objects": keys})
        client.delete_bucket(Bucket=name)
    except client.exceptions.NoSuchBucket:
        pass


def s3_env(moto: MotoS3, bucket: str, **extra: str) -> dict[str, str]:
    """The environment a node needs for this moto and bucket, with short S3 timeouts."""
    return {
        "MINIO_ENDPOINT": f"127.0.0.1:{moto.port}",
        "MINIO_ACCESS_KEY": ACCESS_KEY,
        "MINIO_SECRET_KEY": SECRET_KEY,
        "VORTEX_S3_BUCKET": bucket,
        "VORTEX_S3_CONNECT_TIMEOUT_MS": "500",
        "VORTEX_S3_READ_TIMEOUT_MS": "2000",
        "VORTEX_S3_MAX_ATTEMPTS": "2",
        **extra,
    }


# -- the contract fixtures --------------------------------------------------------------------------
@pytest.fixture(params=["local", "s3", "s3+redis"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, moto: MotoS3, bucket: str
) -> AsyncIterator[FunctionStore]:
    """Each store; ``s3+redis`` is the S3 store whose function index is in Redis."""
    if request.param == "s3+redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        settings = Settings.from_env(s3_env(moto, bucket, REDIS_ADDR=server.addr))
    elif request.param == "s3":
        settings = Settings.from_env(s3_env(moto, bucket))
    else:
        settings = Settings.from_env({"VORTEX_DATA_DIR": str(tmp_path / "data")})
    assert settings.store == request.param.split("+")[0]
    store = make_store(settings)
    yield store
    await store.close()


@pytest.fixture(params=["memory", "redis"])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], LogBus]]:
    """Buses of one kind that share their backend: two of them are two nodes."""
    env: dict[str, str] = {}
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        env["REDIS_ADDR"] = server.addr
    settings = Settings.from_env(env)
    assert settings.logbus == request.param
    buses: list[LogBus] = []
    shared: list[LogBus] = []

    def make() -> LogBus:
        if request.param == "memory":
            # The in-process bus has no backend to share: every "node" is the same bus.
            if not shared:
                shared.append(make_logbus(settings))
                buses.append(shared[0])
            return shared[0]
        bus = make_logbus(settings)
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()


def free_port_no_listener() -> int:
    """A port nothing listens on: connections to it are refused at once."""
    return free_port()


def blackhole() -> tuple[socket.socket, int]:
    """A socket that listens and never accepts: connections hang as with a stuck server."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock, int(sock.getsockname()[1])


# -- talking to real nodes --------------------------------------------------------------------------
@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


async def call(client: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Any:
    """The JSON body of a request that must answer 200."""
    async with client.request(method, url, **kw) as response:
        body = await response.json()
        assert response.status == 200, (url, body)
        return body
