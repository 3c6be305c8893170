"""Service bindings (docs/http-functions.md#service-bindings): ``env.AUTH.fetch(request)`` runs
another function of the caller's namespace as a run of its own, and resolves to its Response.

A gateway calls an auth service by binding, on the listener and through ``POST /execute``; the
binding follows the target's deployments, fails clearly for a missing target, ends a cycle with
a 508 as a fetch loop does, and counts against the caller's subrequests.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson

from tests.server import ServerProcess

AUTH = """
export default {
  async fetch(request, env) {
    const body = await request.text();
    const token = request.headers.get('authorization');
    console.log('auth saw', request.method, request.url);
    if (token !== 'Bearer good') {
      return new Response('denied: ' + body, { status: 403, statusText: 'Nope', headers: { 'x-auth': 'no' } });
    }
    return Response.json({ user: 'ada', url: request.url, method: request.method, body,
                           secret: env.AUTH_SECRET, version: 1 }, { headers: { 'x-auth': 'yes' } });
  },
};
"""

GATEWAY = """
export default {
  async fetch(request, env) {
    const res = await env.AUTH.fetch(request);
    const headers = new Headers(res.headers);
    headers.set('x-gateway', 'yes');
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  },
};
"""


def unique(prefix: str) -> str:
    return f"{prefix}-{time.monotonic_ns() % 10**9}"


async def deploy(http: aiohttp.ClientSession, name: str, code: str, **extra: Any) -> dict[str, Any]:
    body = {"code": code, "filename": "index.mjs", "name": name, **extra}
    async with http.post("/deploy", json=body) as response:
        answer: dict[str, Any] = await response.json()
        assert response.status == 200, answer
        return answer


async def recorded(http: aiohttp.ClientSession, ref: str, count: int) -> list[dict[str, Any]]:
    for _ in range(100):
        async with http.get(f"/functions/{ref}/runs") as response:
            runs: list[dict[str, Any]] = (await response.json())["runs"]
        if len(runs) >= count:
            return runs
        await asyncio.sleep(0.05)
    raise AssertionError(f"{ref} has {len(runs)} runs, not {count}")


async def pair(http: aiohttp.ClientSession) -> tuple[str, str]:
    auth, gateway = unique("auth"), unique("gateway")
    await deploy(http, auth, AUTH, secrets={"AUTH_SECRET": "s3cret"})
    services = [{"binding": "AUTH", "service": auth}]
    deployed = await deploy(http, gateway, GATEWAY, services=services)
    assert deployed["url"]
    return auth, gateway


async def test_a_gateway_calls_its_auth_service_on_the_listener(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    auth, gateway = await pair(http)
    url = server.fn_url(gateway, "/login?x=1")
    headers = {"Authorization": "Bearer good"}
    async with http.post(url, data=b"hello", headers=headers) as response:
        assert response.status == 200, await response.text()
        assert response.headers["x-auth"] == "yes"
        assert response.headers["x-gateway"] == "yes"
        body = await response.json()
    # The target sees the caller's request as given (its URL included), and its own secret.
    assert body == {
        "user": "ada",
        "url": url,
        "method": "POST",
        "body": "hello",
        "secret": "s3cret",
        "version": 1,
    }
    async with http.put(url, data=b"who", headers={"Authorization": "Bearer bad"}) as response:
        assert response.status == 403
        assert response.reason == "Nope"
        assert response.headers["x-auth"] == "no"
        assert await response.text() == "denied: who"
    # Each call is a run of the target's own, whose history says who called.
    runs = await recorded(http, auth, 2)
    assert {run["trigger"] for run in runs} == {f"service:{gateway}"}
    assert all(run["ok"] for run in runs)
    async with http.get(f"/functions/{auth}/runs/{runs[0]['run_id']}") as response:
        run = await response.json()
    assert any("auth saw PUT" in line["message"] for line in run["logs"]), run
    # The caller's definition is shown as it was given.
    async with http.get(f"/functions/{gateway}") as response:
        shown = await response.json()
    assert shown["services"] == [{"binding": "AUTH", "service": auth}]


async def test_a_binding_through_execute_and_a_streamed_body(http: aiohttp.ClientSession) -> None:
    auth = unique("stream")
    await deploy(
        http,
        auth,
        """
        export default {
          fetch(request) {
            const encoder = new TextEncoder();
            let n = 0;
            const body = new ReadableStream({
              async pull(controller) {
                await new Promise((resolve) => setTimeout(resolve, 5));
                n += 1;
                controller.enqueue(encoder.encode('part ' + n + ';'));
                if (n === 3) controller.close();
              },
            });
            return new Response(body, { status: 201, headers: { 'x-url': request.url } });
          },
        };
        """,
    )
    caller = unique("caller")
    await deploy(
        http,
        caller,
        """
        export default {
          async fetch(request, env) {
            const res = await env.S.fetch('https://anything.example/path?q=1', { method: 'POST', body: 'x' });
            return Response.json({ status: res.status, url: res.headers.get('x-url'),
                                   text: await res.text(), keys: Object.keys(env) });
          },
        };
        """,
        services=[{"binding": "S", "service": auth}],
        env={"PLAIN": "1"},
    )
    async with http.post(f"/execute/{caller}") as response:
        body = await response.json()
    assert "error" not in body, body
    assert body["output"]["status"] == 200
    assert orjson.loads(body["output"]["body"]) == {
        "status": 201,
        "url": "https://anything.example/path?q=1",
        "text": "part 1;part 2;part 3;",
        "keys": ["PLAIN"],
    }


async def test_the_binding_follows_the_targets_deployments(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    auth, gateway = await pair(http)
    url = server.fn_url(gateway, "/")
    headers = {"Authorization": "Bearer good"}
    async with http.get(url, headers=headers) as response:
        assert (await response.json())["version"] == 1
    await deploy(http, auth, AUTH.replace("version: 1", "version: 2"))
    async with http.get(url, headers=headers) as response:
        body = await response.json()
    assert body["version"] == 2
    # A setting left out is kept: the new version kept its secret.
    assert body["secret"] == "s3cret"
