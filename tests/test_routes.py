"""Routes for custom domains: a named function claims ``host/path`` patterns, and the functions
listener sends it the requests of those hostnames (behind a reverse proxy, which keeps the Host).

Real server, real hosts: requests go to the listener's port with a ``Host`` header, as a proxy
would send them. Patterns are global, so each test claims hostnames of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import pytest

from tests.server import ServerProcess

WHO = """
export default {
  async fetch(request) {
    return Response.json({ who: %r, url: request.url });
  },
};
"""


def _domain() -> str:
    return f"t{uuid.uuid4().hex[:10]}.example.com"


async def _deploy(
    http: aiohttp.ClientSession, name: str, who: str | None = None, **extra: object
) -> tuple[int, dict[str, Any]]:
    body = {"code": WHO % (who or name), "filename": "index.mjs", "name": name, **extra}
    async with http.post("/deploy", json=body) as response:
        return response.status, dict(await response.json())


async def _ok(
    http: aiohttp.ClientSession, name: str, who: str | None = None, **extra: object
) -> dict[str, Any]:
    status, body = await _deploy(http, name, who, **extra)
    assert status == 200, body
    return body


async def _get(
    server: ServerProcess, host: str, target: str, **headers: str
) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as client,
        client.get(
            f"http://127.0.0.1:{server.functions_port}{target}",
            headers={"Host": host, **headers},
        ) as response,
    ):
        return response.status, dict(await response.json())


def _name() -> str:
    return f"r-{uuid.uuid4().hex[:8]}"


async def test_a_route_reaches_its_function_with_the_url_as_sent(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    domain = _domain()
    api, v2, wild, about = _name(), _name(), _name(), _name()
    deployed = await _ok(http, api, routes=[f"API.{domain}/v1/*", f"api.{domain}/*"])
    assert deployed["routes"] == [f"api.{domain}/v1/*", f"api.{domain}/*"]
    await _ok(http, v2, routes=[f"api.{domain}/v1/v2/*"])
    await _ok(http, wild, routes=[f"*.{domain}/*", f"https://*.{domain}/v1/*"])
    await _ok(http, about, routes=[f"api.{domain}/about"])

    status, body = await _get(server, f"api.{domain}", "/v1/items?q=1")
    assert (status, body) == (200, {"who": api, "url": f"http://api.{domain}/v1/items?q=1"})
    # The longest prefix wins; the port of the Host stays in the URL, as sent.
    status, body = await _get(server, f"api.{domain}:8443", "/v1/v2/x")
    assert (status, body) == (200, {"who": v2, "url": f"http://api.{domain}:8443/v1/v2/x"})
    # The same connection's next requests are matched by the host itself, path by path.
    async with aiohttp.ClientSession() as client:
        for target, who in [("/v1/a", api), ("/v1/v2/", v2), ("/other", api), ("/v1/a", api)]:
            url = f"http://127.0.0.1:{server.functions_port}{target}"
            async with client.get(url, headers={"Host": f"api.{domain}"}) as response:
                assert (await response.json())["who"] == who, target
    # An exact path, without a query only (as Workers match); with one, the next best route.
    assert (await _get(server, f"api.{domain}", "/about"))[1]["who"] == about
    assert (await _get(server, f"api.{domain}", "/about?x=1"))[1]["who"] == api
    assert (await _get(server, f"api.{domain}", "/about/"))[1]["who"] == api
    # Dot segments are resolved before matching, as the URL the function sees resolves them.
    assert (await _get(server, f"api.{domain}", "/v1/v2/../x"))[1]["who"] == api
    # An exact host beats a wildcard; any other subdomain, at any depth, is the wildcard's.
    status, body = await _get(server, f"www.{domain}", "/v1/x")
    assert (status, body["who"]) == (200, wild)
    assert (await _get(server, f"a.b.{domain}", "/"))[1]["who"] == wild
    # Not the apex, and nothing for a hostname no route names: the listener's 404.
    status, body = await _get(server, domain, "/")
    assert status == 404 and body["error"]["code"] == "function_not_found"
    status, body = await _get(server, f"nobody-{uuid.uuid4().hex[:6]}.example.net", "/")
    assert status == 404 and body["error"]["code"] == "function_not_found"
    # The function's own origin still answers.
    status, body = await _get(server, f"{api}.localhost:{server.functions_port}", "/x")
    assert (status, body["who"]) == (200, api)
    async with http.get(f"/functions/{api}") as response:
        assert (await response.json())["routes"] == [f"api.{domain}/v1/*", f"api.{domain}/*"]


async def test_a_route_of_another_function_is_refused_and_freed_by_a_delete(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    domain = _domain()
    first, second = _name(), _name()
    await _ok(http, first, routes=[f"shop.{domain}/*"])
    status, body = await _deploy(http, second, routes=[f"shop.{domain}/*"])
    assert status == 409 and body["error"]["code"] == "route_taken", body
    assert first not in body["error"]["message"]
    # Refused whole: the second function was not deployed at all.
    async with http.get(f"/functions/{second}") as response:
        assert response.status == 404
    # Another path of the same host is free.
    await _ok(http, second, routes=[f"shop.{domain}/cart/*"])
    assert (await _get(server, f"shop.{domain}", "/cart/1"))[1]["who"] == second

    async with http.delete(f"/functions/{first}") as response:
        assert response.status == 200
    assert (await _get(server, f"shop.{domain}", "/"))[0] == 404
    await _ok(http, second, routes=[f"shop.{domain}/*", f"shop.{domain}/cart/*"])
    assert (await _get(server, f"shop.{domain}", "/"))[1]["who"] == second


async def test_routes_stick_across_versions_and_are_cleared_by_null_or_empty(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    domain = _domain()
    name = _name()
    await _ok(http, name, "v1", routes=[f"app.{domain}/*"])
    deployed = await _ok(http, name, "v2")
    assert deployed["routes"] == [f"app.{domain}/*"] and "routes" in deployed["kept"]
    assert (await _get(server, f"app.{domain}", "/"))[1]["who"] == "v2"

    deployed = await _ok(http, name, "v3", routes=[])
    assert deployed["routes"] == [] and "routes" not in deployed["kept"]
    assert (await _get(server, f"app.{domain}", "/"))[0] == 404
    await _ok(http, name, "v4", routes=[f"app.{domain}/*"])
    assert (await _get(server, f"app.{domain}", "/"))[1]["who"] == "v4"
    await _ok(http, name, "v5", routes=None)
    assert (await _get(server, f"app.{domain}", "/"))[0] == 404

    # A rollback makes the version's routes the claims again.
    async with http.post(f"/functions/{name}/rollback", json={"to": 4}) as response:
        assert response.status == 200, await response.text()
    assert (await _get(server, f"app.{domain}", "/"))[1]["who"] == "v4"
    async with http.get(f"/functions/{name}") as response:
        assert (await response.json())["routes"] == [f"app.{domain}/*"]
    # ...unless another function took them meanwhile: the rollback is refused.
    await _ok(http, name, "v6", routes=[])
    other = _name()
    await _ok(http, other, routes=[f"app.{domain}/*"])
    async with http.post(f"/functions/{name}/rollback", json={"to": 4}) as response:
        assert response.status == 409
        assert (await response.json())["error"]["code"] == "route_taken"
    assert (await _get(server, f"app.{domain}", "/"))[1]["who"] == other


@pytest.mark.parametrize(
    ("routes", "fragment"),
    [
        ("api.example.org/*", "must be a list"),
        ([42], "a route is a string"),
        (["api.example.org"], "has no path"),
        (["api.example.org/v1/*/x"], "only ends the path"),
        (["api.example.org/a?b=1"], "no query"),
        (["api.example.org/a/../b"], ". or .. segment"),
        (["api.exa mple.org/*"], "domain name"),
        (["*.org/*"], "subdomains"),
        (["a.*.example.org/*"], "domain name"),
        (["api.example.org:8080/*"], "no port"),
        (["hello.localhost/*"], "functions domain"),
        (["*.localhost/*"], "functions domain"),
        (["api.example.org/" + "a" * 300], "over 256"),
        ([f"h{i}.example.org/*" for i in range(33)], "at most 32"),
    ],
)
async def test_invalid_routes_are_refused(
    http: aiohttp.ClientSession, routes: object, fragment: str
) -> None:
    status, body = await _deploy(http, _name(), routes=routes)
    assert status == 400 and body["error"]["code"] == "invalid_route", body
    assert fragment in body["error"]["message"]


async def test_an_unnamed_function_claims_no_route(http: aiohttp.ClientSession) -> None:
    async with http.post(
        "/deploy", json={"code": WHO % "x", "filename": "index.mjs", "routes": ["a.example.org/*"]}
    ) as response:
        body = await response.json()
    assert response.status == 400 and body["error"]["code"] == "invalid_route"
    assert "named function" in body["error"]["message"]


async def test_a_burst_of_first_requests_on_two_paths_reaches_two_functions(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """Requests for a hostname the hosts never saw share no answer across paths."""
    domain = _domain()
    one, two = _name(), _name()
    await _ok(http, one, routes=[f"api.{domain}/one/*"])
    await _ok(http, two, routes=[f"api.{domain}/two/*"])
    results = await asyncio.gather(
        *(
            _get(server, f"api.{domain}", f"/{which}/{i}")
            for i in range(10)
            for which in ("one", "two")
        )
    )
    assert [body["who"] for _, body in results] == [one, two] * 10
