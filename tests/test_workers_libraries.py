"""Libraries Workers apps commonly bundle, each used as its docs show for Workers, on Vortex.

jose (JWTs signed and verified with HS256, RS256, ES256 keys and a remote JWKS), chanfana (the
OpenAPI framework of Cloudflare's template, with zod), toucan-js (Sentry), tRPC and a few small
ones (@tsndr/cloudflare-worker-jwt, nanoid, superjson, date-fns). Like tests/test_workers_apps.py,
each app of tests/apps/ is bundled from the pinned npm packages by ``vortex deploy`` in its folder
and called on the functions listener.

The server here is one an operator configured for them: its functions may fetch loopback (the
JWKS and the fake Sentry are local servers of the test). chanfana's bundle with zod 4 is
1.07 MB, within Vortex's default code limit of 10 MiB (Workers take 3 MB compressed);
minified, as wrangler's ``minify = true`` does, it is 0.6 MB.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from tests.npm_apps import apps_project, call, cli_deploy
from tests.server import ServerProcess
from tests.threaded_app import app_in_thread

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")

HS256_SECRET = "cc7e0d44fd473002f1c42167459001140ec6389b7353f8088f4d9a95f2f596f2"
ISSUER, AUDIENCE = "urn:example:issuer", "urn:example:audience"
JWE_KEY = base64.urlsafe_b64encode(bytes(range(32))).rstrip(b"=").decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def int_b64url(number: int, size: int) -> str:
    return b64url(number.to_bytes(size, "big"))


@dataclass
class Keys:
    """The identity provider's keys, made once per module."""

    rsa: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    ec: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    def rsa_pem(self) -> str:
        return (
            self.rsa.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def rsa_jwk(self, kid: str) -> dict[str, str]:
        numbers = self.rsa.public_key().public_numbers()
        return {
            "kty": "RSA",
            "kid": kid,
            "alg": "RS256",
            "use": "sig",
            "n": int_b64url(numbers.n, 256),
            "e": int_b64url(numbers.e, 3),
        }

    def ec_jwk(self) -> dict[str, str]:
        numbers = self.ec.public_key().public_numbers()
        x, y = int_b64url(numbers.x, 32), int_b64url(numbers.y, 32)
        return {"kty": "EC", "crv": "P-256", "x": x, "y": y}

    def token(self, alg: str, claims: dict[str, Any], kid: str | None = None) -> str:
        """A JWS as an identity provider issues it."""
        header: dict[str, str] = {"alg": alg, "typ": "JWT", **({"kid": kid} if kid else {})}
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, **claims}
        signing_input = (
            f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
        )
        if alg == "RS256":
            signature = self.rsa.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = decode_dss_signature(
                self.ec.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
            )
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{b64url(signature)}"


@dataclass
class Remote:
    """The services the apps fetch: an identity provider's JWKS and a fake Sentry."""

    port: int
    envelopes: list[list[Any]]
    jwks_hits: list[str]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _remote_app(keys: Keys, envelopes: list[list[Any]], jwks_hits: list[str]) -> web.Application:
    async def jwks(request: web.Request) -> web.Response:
        jwks_hits.append(request.path)
        return web.json_response({"keys": [keys.rsa_jwk("idp-1")]})

    async def envelope(request: web.Request) -> web.Response:
        # Sentry's envelope: newline-separated JSON, a header then each item's header and body
        lines = (await request.read()).decode().splitlines()
        query = dict(request.query)
        envelopes.append([request.match_info["project"], query, *map(json.loads, lines)])
        return web.json_response({"id": json.loads(lines[0])["event_id"]})

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", jwks)
    app.router.add_post("/api/{project}/envelope/", envelope)
    return app


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def remote(keys: Keys) -> Iterator[Remote]:
    envelopes: list[list[Any]] = []
    jwks_hits: list[str] = []
    with app_in_thread(_remote_app(keys, envelopes, jwks_hits)) as port:
        yield Remote(port, envelopes, jwks_hits)


@pytest.fixture(scope="module")
def deployed(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    edge: ServerProcess,
    remote: Remote,
    keys: Keys,
) -> dict[str, str]:
    """Each app deployed by ``vortex deploy`` in its folder: app directory -> its name."""
    project = apps_project(request, tmp_path_factory)
    allow = ("--allow-host", "127.0.0.1")
    settings = {
        "jose": [
            *("--secret", f"JWT_SECRET={HS256_SECRET}", "--secret", f"JWE_KEY={JWE_KEY}"),
            *("--env", f"RS256_PUBLIC_KEY={keys.rsa_pem()}"),
            *("--env", f"ES256_JWK={json.dumps(keys.ec_jwk())}"),
            *("--env", f"JWKS_URL={remote.url('/.well-known/jwks.json')}", *allow),
        ],
        "chanfana": [],
        "toucan": ["--env", f"SENTRY_DSN=http://publickey@127.0.0.1:{remote.port}/42", *allow],
        "utils": ["--secret", "JWT_SECRET=tsndr-secret"],
        "trpc": [],
        "sentry": ["--env", f"SENTRY_DSN=http://sdkkey@127.0.0.1:{remote.port}/43", *allow],
    }
    names = {}
    for app, args in settings.items():
        name = f"{app}-app"
        answer = cli_deploy(edge, project / app, "index.mjs", "--name", name, *args)
        assert answer.get("name") == name, answer
        names[app] = name
    return names


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def url(edge: ServerProcess, deployed: dict[str, str]) -> Any:
    return lambda app, path: edge.fn_url(deployed[app], path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -------------------------------------------------------------------------------------------- jose


async def test_jose_signs_and_verifies_hs256(client: aiohttp.ClientSession, url: Any) -> None:
    signed = await call(client, "POST", url("jose", "/sign/hs256"), json={"sub": "ann"})
    token = signed.json()["jwt"]
    header, payload, signature = token.split(".")
    assert json.loads(unb64url(header)) == {"alg": "HS256"}
    claims = json.loads(unb64url(payload))
    assert claims["exp"] - claims["iat"] == 7200
    # the signature is HMAC-SHA256 of the secret, as any other implementation computes it
    import hmac

    mac = hmac.new(HS256_SECRET.encode(), f"{header}.{payload}".encode(), "sha256").digest()
    assert unb64url(signature) == mac
    answer = await call(client, "GET", url("jose", "/hs256"), headers=bearer(token))
    assert answer.status == 200
    assert answer.json()["payload"] == claims
    tampered = f"{header}.{b64url(json.dumps({**claims, 'sub': 'eve'}).encode())}.{signature}"
    answer = await call(client, "GET", url("jose", "/hs256"), headers=bearer(tampered))
    assert (answer.status, answer.json()["code"]) == (401, "ERR_JWS_SIGNATURE_VERIFICATION_FAILED")


async def test_jose_verifies_rs256_with_a_pem_key(
    client: aiohttp.ClientSession, url: Any, keys: Keys
) -> None:
    token = keys.token("RS256", {"sub": "rsa-user"})
    answer = await call(client, "GET", url("jose", "/rs256"), headers=bearer(token))
    assert answer.status == 200, answer.text
    assert answer.json()["payload"]["sub"] == "rsa-user"
    assert answer.json()["protectedHeader"] == {"alg": "RS256", "typ": "JWT"}
    # signed by another key, or expired, or for another audience: refused with jose's codes
    other = Keys().token("RS256", {"sub": "rsa-user"})
    refusals = {
        other: "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        keys.token("RS256", {"exp": int(time.time()) - 60}): "ERR_JWT_EXPIRED",
        keys.token("RS256", {"aud": "urn:other"}): "ERR_JWT_CLAIM_VALIDATION_FAILED",
    }
    for bad, code in refusals.items():
        answer = await call(client, "GET", url("jose", "/rs256"), headers=bearer(bad))
        assert (answer.status, answer.json()["code"]) == (401, code)
    # an ES256 token for the RSA key: WebCrypto's key is checked before any signature
    answer = await call(
        client, "GET", url("jose", "/rs256"), headers=bearer(keys.token("ES256", {}))
    )
    assert (answer.status, answer.json()["message"]) == (
        401,
        "CryptoKey does not support this operation, its algorithm.name must be ECDSA",
    )


async def test_jose_verifies_es256_with_a_jwk(
    client: aiohttp.ClientSession, url: Any, keys: Keys
) -> None:
    token = keys.token("ES256", {"sub": "ec-user", "scope": "read"})
    answer = await call(client, "GET", url("jose", "/es256"), headers=bearer(token))
    assert answer.status == 200, answer.text
    assert answer.json()["payload"]["scope"] == "read"
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    answer = await call(client, "GET", url("jose", "/es256"), headers=bearer(forged))
    assert answer.status == 401


async def test_jose_verifies_with_a_remote_jwks(
    client: aiohttp.ClientSession, url: Any, keys: Keys, remote: Remote
) -> None:
    token = keys.token("RS256", {"sub": "sso-user"}, kid="idp-1")
    answer = await call(client, "GET", url("jose", "/jwks"), headers=bearer(token))
    assert answer.status == 200, answer.text
    assert answer.json()["payload"]["sub"] == "sso-user"
    assert remote.jwks_hits  # fetched from the identity provider
    unknown = keys.token("RS256", {}, kid="idp-2")
    answer = await call(client, "GET", url("jose", "/jwks"), headers=bearer(unknown))
    assert (answer.status, answer.json()["code"]) == (401, "ERR_JWKS_NO_MATCHING_KEY")


async def test_jose_signs_es256_with_a_generated_key(
    client: aiohttp.ClientSession, url: Any
) -> None:
    answer = await call(client, "POST", url("jose", "/sign/es256"), json={"sub": "bob"})
    token, jwk = answer.json()["jwt"], answer.json()["jwk"]
    assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256") and "d" not in jwk
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(unb64url(jwk["x"]), "big"),
        int.from_bytes(unb64url(jwk["y"]), "big"),
        ec.SECP256R1(),
    ).public_key()
    header, payload, signature = token.split(".")
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    # raises InvalidSignature unless the run's key signed exactly this
    public.verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(unb64url(header)) == {"alg": "ES256", "kid": "run-key"}
    assert json.loads(unb64url(payload))["sub"] == "bob"


async def test_jose_encrypts_a_jwt(client: aiohttp.ClientSession, url: Any) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    answer = await call(client, "POST", url("jose", "/encrypt"), json={"sub": "carol"})
    jwe, payload = answer.json()["jwe"], answer.json()["payload"]
    assert payload["sub"] == "carol"
    header, key, iv, ciphertext, tag = jwe.split(".")
    assert key == "" and json.loads(unb64url(header)) == {"alg": "dir", "enc": "A256GCM"}
    # decrypted here too: A256GCM with the protected header as the additional data
    plain = AESGCM(unb64url(JWE_KEY)).decrypt(
        unb64url(iv), unb64url(ciphertext) + unb64url(tag), header.encode()
    )
    assert json.loads(plain) == payload


# ---------------------------------------------------------------------------------------- chanfana


# ------------------------------------------------------------------------------------------- tRPC


async def test_trpc_queries_mutations_and_batches(client: aiohttp.ClientSession, url: Any) -> None:
    """tRPC's fetch adapter, as its docs show it for Workers. Its module polyfills
    Symbol.dispose at the top (``Symbol.dispose ??= Symbol()``): every route failed before the
    engine had the symbol."""

    def query(path: str, value: Any) -> str:
        return str(url("trpc", f"/trpc/{path}?input=" + quote(json.dumps(value))))

    answer = await call(client, "GET", query("greet", {"name": "Ada"}))
    assert (answer.status, answer.json()) == (
        200,
        {"result": {"data": {"greeting": "Hello, Ada!"}}},
    )
    answer = await call(client, "POST", url("trpc", "/trpc/add"), json={"a": 2, "b": 40})
    assert (answer.status, answer.json()) == (200, {"result": {"data": 42}})
    batch = url("trpc", "/trpc/greet,greet?batch=1&input=") + quote(
        json.dumps({"0": {"name": "a"}, "1": {"name": "b"}})
    )
    answer = await call(client, "GET", batch)
    assert answer.status == 200
    assert [item["result"]["data"]["greeting"] for item in answer.json()] == [
        "Hello, a!",
        "Hello, b!",
    ]


async def test_trpc_errors_keep_their_codes(client: aiohttp.ClientSession, url: Any) -> None:
    answer = await call(client, "GET", url("trpc", "/trpc/greet?input=") + quote('{"name": 1}'))
    error = answer.json()["error"]
    assert (answer.status, error["data"]["code"]) == (400, "BAD_REQUEST")
    assert "expected string" in error["message"]
    answer = await call(client, "GET", url("trpc", "/trpc/whoami"))
    assert (answer.status, answer.json()["error"]["message"]) == (401, "sign in first")
    answer = await call(client, "GET", url("trpc", "/trpc/whoami"), headers={"x-user": "ada"})
    assert answer.json() == {"result": {"data": {"user": "ada"}}}
    answer = await call(client, "GET", url("trpc", "/trpc/nothere"))
    assert (answer.status, answer.json()["error"]["data"]["code"]) == (404, "NOT_FOUND")


async def test_chanfana_validates_the_query(client: aiohttp.ClientSession, url: Any) -> None:
    answer = await call(client, "GET", url("chanfana", "/api/tasks?isCompleted=true&page=2"))
    assert answer.status == 200
    body = answer.json()
    assert (body["success"], body["page"]) == (True, 2)
    assert [task["slug"] for task in body["result"]["tasks"]] == ["build"]
    answer = await call(client, "GET", url("chanfana", "/api/tasks"))
    assert answer.json()["page"] == 0 and len(answer.json()["result"]["tasks"]) == 2
    answer = await call(client, "GET", url("chanfana", "/api/tasks?page=x"))
    assert answer.status == 400
    assert answer.json()["success"] is False
    assert [error["path"] for error in answer.json()["errors"]] == [["query", "page"]]


async def test_chanfana_validates_the_body(client: aiohttp.ClientSession, url: Any) -> None:
    task = {"name": "Ship it", "slug": "ship-it", "due_date": "2025-01-01T00:00:00Z"}
    answer = await call(client, "POST", url("chanfana", "/api/tasks"), json=task)
    assert answer.status == 200
    assert answer.json() == {"success": True, "result": {"task": {**task, "completed": False}}}
    answer = await call(
        client, "POST", url("chanfana", "/api/tasks"), json={"name": "", "slug": "Not A Slug"}
    )
    assert answer.status == 400
    paths = [error["path"] for error in answer.json()["errors"]]
    assert paths == [["body", "name"], ["body", "slug"], ["body", "due_date"]]
    taken = {**task, "slug": "build"}
    answer = await call(client, "POST", url("chanfana", "/api/tasks"), json=taken)
    assert answer.status == 500
    assert answer.json()["errors"][0]["message"] == "a task with this slug exists"


async def test_chanfana_path_params(client: aiohttp.ClientSession, url: Any) -> None:
    answer = await call(client, "GET", url("chanfana", "/api/tasks/clean-room"))
    assert answer.json()["result"]["task"]["name"] == "Clean my room"
    answer = await call(client, "GET", url("chanfana", "/api/tasks/none"))
    assert answer.status == 404
    assert answer.json() == {
        "success": False,
        "errors": [{"code": 7002, "message": "Not Found"}],
        "result": {},
    }


async def test_chanfana_openapi_schema_and_docs(client: aiohttp.ClientSession, url: Any) -> None:
    answer = await call(client, "GET", url("chanfana", "/openapi.json"))
    schema = answer.json()
    assert schema["openapi"] == "3.1.0"
    assert schema["info"] == {"title": "Tasks API", "version": "2.0.0"}
    assert sorted(schema["paths"]) == ["/api/tasks", "/api/tasks/{taskSlug}"]
    listing = schema["paths"]["/api/tasks"]["get"]
    assert listing["summary"] == "List Tasks"
    assert [p["name"] for p in listing["parameters"]] == ["page", "isCompleted"]
    create = schema["paths"]["/api/tasks"]["post"]["requestBody"]["content"]["application/json"]
    assert create["schema"]["required"] == ["name", "slug", "due_date"]  # completed has a default
    docs = await call(client, "GET", url("chanfana", "/docs"))
    assert docs.headers["Content-Type"].startswith("text/html")
    assert "swagger-ui" in docs.text and "/openapi.json" in docs.text
    redoc = await call(client, "GET", url("chanfana", "/redocs"))
    assert "redoc" in redoc.text.lower()


async def test_chanfana_minified_fits_the_default_code_limit(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    server: ServerProcess,
    client: aiohttp.ClientSession,
) -> None:
    """wrangler's ``minify = true`` is honoured: the template deploys minified (0.6 MB, from
    1.07 MB) and works as before."""
    folder = apps_project(request, tmp_path_factory) / "chanfana"
    (folder / "wrangler.toml").write_text(
        'name = "chanfana-min"\nmain = "index.mjs"\nminify = true\n'
    )
    try:
        assert cli_deploy(server, folder).get("name") == "chanfana-min"
    finally:
        (folder / "wrangler.toml").unlink()
    answer = await call(client, "GET", server.fn_url("chanfana-min", "/api/tasks/build"))
    assert answer.json()["result"]["task"]["name"] == "Build something awesome"
    schema = (await call(client, "GET", server.fn_url("chanfana-min", "/openapi.json"))).json()
    assert sorted(schema["paths"]) == ["/api/tasks", "/api/tasks/{taskSlug}"]


# ------------------------------------------------------------------------------------------ toucan


async def sentry_events(remote: Remote, count: int) -> list[list[Any]]:
    """The envelopes received, once there are ``count`` (sent from waitUntil, after the
    response)."""
    for _ in range(100):
        if len(remote.envelopes) >= count:
            return remote.envelopes
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(remote.envelopes)} envelopes of {count}")


async def test_toucan_reports_an_exception_to_sentry(
    client: aiohttp.ClientSession, url: Any, remote: Remote
) -> None:
    before = len(remote.envelopes)
    answer = await call(client, "GET", url("toucan", "/boom?debug=1"))
    assert (answer.status, answer.text) == (500, "Something went wrong")
    project, query, header, item, event = (await sentry_events(remote, before + 1))[before]
    assert project == "42"
    assert query["sentry_key"] == "publickey"
    assert query["sentry_client"].startswith("toucan-js/")
    assert item == {"type": "event"}
    assert header["event_id"] == event["event_id"]
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("Error", "the worker failed")
    # Sentry's V8 stack parser finds the frame that threw: err.stack is in V8's format
    # (tests/test_stacks.py), positions in the built script
    (frame,) = exception["stacktrace"]["frames"]
    assert (frame["function"], frame["filename"], frame["in_app"]) == (
        "fetch",
        "vortex-bundle",
        True,
    )
    assert frame["lineno"] > 0 and frame["colno"] > 0
    # by default only the method and the URL without its port and query (toucan's README)
    assert event["request"] == {"method": "GET", "url": "http://toucan-app.localhost/boom"}
    assert event["user"] == {"id": "user-7"}
    assert (event["release"], event["environment"]) == ("1.0.0", "test")
    assert [crumb["message"] for crumb in event["breadcrumbs"]] == ["about to fail"]


async def test_toucan_reports_a_message(
    client: aiohttp.ClientSession, url: Any, remote: Remote
) -> None:
    before = len(remote.envelopes)
    answer = await call(client, "GET", url("toucan", "/message"))
    assert (answer.status, answer.text) == (200, "reported")
    *_, event = (await sentry_events(remote, before + 1))[before]
    assert (event["message"], event["level"]) == ("hello from the worker", "info")
    assert event["tags"] == {"feature": "greeting"}
    # nothing is sent when nothing is captured
    assert (await call(client, "GET", url("toucan", "/"))).text == "fine"
    await asyncio.sleep(0.3)
    assert len(remote.envelopes) == before + 1


async def test_sentrys_own_sdk_reports_with_a_scope_per_request(
    client: aiohttp.ClientSession, url: Any, remote: Remote
) -> None:
    """@sentry/cloudflare's withSentry: it bundles (its integrations import node:module,
    node:net and node:url, which the bundle leaves out) and keeps each request's scope in
    AsyncLocalStorage: the tag /message sets is not on /boom's event."""
    before = len(remote.envelopes)
    assert (await call(client, "GET", url("sentry", "/message"))).text == "reported"
    *_, message = (await sentry_events(remote, before + 1))[before]
    assert (message["message"], message["level"]) == ("hello from the sdk", "info")
    assert message["tags"] == {"feature": "greeting"}
    answer = await call(client, "GET", url("sentry", "/boom"))
    assert answer.status == 500
    project, _query, header, item, event = (await sentry_events(remote, before + 2))[before + 1]
    assert project == "43"
    assert item["type"] == "event"
    assert header["event_id"] == event["event_id"]
    (exception,) = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("Error", "the sdk saw it")
    assert event["user"]["id"] == "user-8"
    assert "feature" not in event.get("tags", {})
    assert (event["release"], event["environment"]) == ("1.0.0", "test")
    assert event["sdk"]["name"] == "sentry.javascript.cloudflare"
    # its fetch integration saw the run's fetch before the throw
    (crumb,) = event["breadcrumbs"]
    assert (crumb["category"], crumb["data"]["url"]) == ("fetch", remote.url("/before-the-throw"))


# ------------------------------------------------------------------------------------------- utils


async def test_cloudflare_worker_jwt(client: aiohttp.ClientSession, url: Any) -> None:
    claims = {"sub": "ann", "exp": int(time.time()) + 60}
    token = (await call(client, "POST", url("utils", "/jwt/sign"), json=claims)).json()["token"]
    answer = await call(client, "GET", url("utils", "/jwt/verify"), headers=bearer(token))
    assert answer.status == 200
    assert answer.json()["payload"]["sub"] == "ann"
    assert answer.json()["decoded"] == {"typ": "JWT", "alg": "HS256"}
    answer = await call(client, "GET", url("utils", "/jwt/verify"), headers=bearer(token + "x"))
    assert (answer.status, answer.text) == (401, "invalid token")


async def test_nanoid(client: aiohttp.ClientSession, url: Any) -> None:
    first = (await call(client, "GET", url("utils", "/ids"))).json()
    second = (await call(client, "GET", url("utils", "/ids"))).json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{21}", first["id"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{10}", first["small"])
    assert re.fullmatch(r"[0-9a-f]{10}", first["hex"])
    assert first["id"] != second["id"]


async def test_superjson(client: aiohttp.ClientSession, url: Any) -> None:
    answer = (await call(client, "GET", url("utils", "/superjson"))).json()
    assert answer["roundTrip"] is True
    assert answer["serialized"]["json"] == {
        "when": "2024-01-02T03:04:05.000Z",
        "tags": ["a", "b"],
        "sizes": [["x", "1"]],
        "nothing": None,
        "pattern": "/ab+c/gi",
    }
    assert answer["serialized"]["meta"]["values"]["sizes"] == ["map", {"0.1": ["bigint"]}]


async def test_date_fns(client: aiohttp.ClientSession, url: Any) -> None:
    answer = await call(client, "GET", url("utils", "/dates?from=2024-02-27&days=3"))
    assert answer.json() == {
        "due": "2024-03-01",
        "weekday": "Friday",
        "days": 3,
        "distance": "3 days",
    }
