"""Service bindings (docs/http-functions.md#service-bindings): ``env.AUTH.fetch(request)`` runs
another function of the caller's namespace as a run of its own, and resolves to its Response.

A gateway calls an auth service by binding, on the listener and through ``POST /execute``; the
binding follows the target's deployments, fails clearly for a missing target, ends a cycle with
a 508 as a fetch loop does, and counts against the caller's subrequests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

from tests.auth.test_namespaces import call, make_key
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


async def only_run(http: aiohttp.ClientSession, ref: str) -> dict[str, Any]:
    """The history entry of ``ref``'s one run, with its logs."""
    (run,) = await recorded(http, ref, 1)
    async with http.get(f"/functions/{ref}/runs/{run['run_id']}") as response:
        entry: dict[str, Any] = await response.json()
    return entry


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
    # And a new version of the gateway keeps its bindings unless it gives others.
    again = await deploy(http, gateway, GATEWAY.replace("'yes'", "'v2'"))
    assert "services" in again["kept"]
    async with http.get(url, headers=headers) as response:
        assert response.headers["x-gateway"] == "v2"
        assert (await response.json())["version"] == 2
    # A rollback of the target is followed too.
    async with http.post(f"/functions/{auth}/rollback", json={}) as response:
        assert response.status == 200, await response.text()
    async with http.get(url, headers=headers) as response:
        assert (await response.json())["version"] == 1
    cleared = await deploy(http, gateway, GATEWAY, services=None)
    assert "services" not in cleared["kept"]
    async with http.get(url, headers=headers) as response:
        assert response.status == 500  # env.AUTH is undefined now: the handler throws


async def test_a_missing_target_deploys_and_fails_when_called(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    caller, later = unique("early"), unique("later")
    await deploy(
        http,
        caller,
        """
        export default {
          async fetch(request, env) {
            try {
              const res = await env.LATER.fetch(request);
              return new Response('reached: ' + await res.text());
            } catch (e) {
              return Response.json({ name: e.name, code: e.code, message: e.message }, { status: 502 });
            }
          },
        };
        """,
        services=[{"binding": "LATER", "service": later}],
    )
    async with http.get(server.fn_url(caller, "/")) as response:
        assert response.status == 502
        body = await response.json()
    assert body["code"] == "service_not_found"
    assert later in body["message"] and "env.LATER" in body["message"]
    assert "Traceback" not in body["message"]
    # Deployed in any order: once the target exists, the same caller reaches it.
    await deploy(http, later, "export default { fetch: () => new Response('later here') };")
    async with http.get(server.fn_url(caller, "/")) as response:
        assert await response.text() == "reached: later here"


async def test_a_cycle_of_bindings_ends_with_loop_detected(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    ping, pong = unique("ping"), unique("pong")
    # Each passes the call on to the other and reports the status it got back: the innermost
    # call is refused with a 508, as a loop of fetches is on the listener.
    code = """
    export default {
      async fetch(request, env) {
        const res = await env.NEXT.fetch(request);
        const depth = Number(res.headers.get('x-depth') || '0') + 1;
        const first = res.headers.get('x-first') || String(res.status) + ' ' + (await res.text());
        return new Response('ok', { headers: { 'x-depth': String(depth), 'x-first': first } });
      },
    };
    """
    await deploy(http, ping, code, services=[{"binding": "NEXT", "service": pong}])
    await deploy(http, pong, code, services=[{"binding": "NEXT", "service": ping}])
    async with http.get(server.fn_url(ping, "/"), timeout=aiohttp.ClientTimeout(20)) as response:
        assert response.status == 200, await response.text()
        first = response.headers["x-first"]
        depth = int(response.headers["x-depth"])
    assert first.startswith("508 ") and "loop_detected" in first, first
    assert depth == 16  # 16 runs (hop counts 0 to 15): the call that would be the 17th is refused


async def test_self_calls_are_bounded_by_the_subrequest_limit(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = unique("hammer")
    target = unique("tiny")
    await deploy(http, target, "export default { fetch: () => new Response('t') };")
    await deploy(
        http,
        name,
        """
        export default {
          async fetch(request, env) {
            let ok = 0, error = null;
            for (let i = 0; i < 1000; i++) {
              try { await env.T.fetch('http://t/'); ok += 1; }
              catch (e) { error = e.code + ': ' + e.message; break; }
            }
            return Response.json({ ok, error });
          },
        };
        """,
        services=[{"binding": "T", "service": target}],
    )
    async with http.get(server.fn_url(name, "/"), timeout=aiohttp.ClientTimeout(60)) as response:
        body = await response.json()
    assert body == {
        "ok": 50,
        "error": "subrequest_limit_exceeded: Too many subrequests: the limit is 50 per invocation",
    }


async def test_a_function_that_fans_out_to_itself_spends_one_budget(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # Each run calls itself twice: without one budget for the whole tree of calls this would be
    # 2**16 runs; with it, the top-level run's 50 subrequests are all the tree gets.
    name = unique("fan")
    await deploy(
        http,
        name,
        """
        export default {
          async fetch(request, env) {
            const one = async () => {
              try { return Number(await (await env.SELF.fetch('http://self/')).text()); }
              catch (e) { return 0; }
            };
            const [a, b] = await Promise.all([one(), one()]);
            return new Response(String(1 + a + b));
          },
        };
        """,
        services=[{"binding": "SELF", "service": name}],
    )
    started = time.monotonic()
    async with http.get(server.fn_url(name, "/"), timeout=aiohttp.ClientTimeout(60)) as response:
        runs = int(await response.text())
    assert runs <= 51, runs  # the top-level run and at most 50 calls
    assert runs >= 10, runs
    assert time.monotonic() - started < 30
    # The host is kept: nothing was restarted, and the next request is served as usual.
    async with http.get("/health") as response:
        assert (await response.json())["host_restarts"] == 0
    async with http.get(server.fn_url(name, "/")) as response:
        assert response.status == 200


async def test_huge_bodies_are_refused_and_the_caller_goes_on(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    big, caller = unique("big"), unique("small")
    await deploy(
        http,
        big,
        """
        export default {
          fetch() {
            const chunk = new Uint8Array(1 << 20);
            let n = 0;
            return new Response(new ReadableStream({
              pull(controller) { n += 1; if (n > 12) controller.close(); else controller.enqueue(chunk); },
            }));
          },
        };
        """,
    )
    await deploy(
        http,
        caller,
        """
        export default {
          async fetch(request, env) {
            const upload = new Uint8Array(11 << 20);
            try { await env.BIG.fetch('http://big/', { method: 'POST', body: upload }); }
            catch (e) { if (e.code !== 'service_request_too_large') return new Response(e.code); }
            // The head arrives; the body streams, and breaks off past the size limit.
            const res = await env.BIG.fetch('http://big/');
            try { await res.arrayBuffer(); return new Response('no error'); }
            catch (e) { return new Response(res.status + ' ' + e.name + ': ' + e.message, { status: 500 }); }
          },
        };
        """,
        services=[{"binding": "BIG", "service": big}],
    )
    async with http.get(server.fn_url(caller, "/")) as response:
        text = await response.text()
    assert response.status == 500
    assert text.startswith("200 TypeError: env.BIG (service "), text
    assert "the response body is larger than 10485760 bytes" in text


async def test_rpc_calls_a_method_of_the_targets_entrypoint(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    auth, caller = unique("rpcauth"), unique("rpccaller")
    await deploy(
        http,
        auth,
        """
        import { WorkerEntrypoint } from "cloudflare:workers";
        export default class extends WorkerEntrypoint {
          async fetch() { return new Response('http'); }
          async verify(token, options) {
            if (token !== 'good') throw new RangeError('bad token: ' + token);
            return { user: 'ada', options, secret: this.env.SECRET.length };
          }
          add(a, b) { return a + b; }
          nothing() {}
          fail() { const e = new Error('custom'); e.name = 'AuthError'; throw e; }
        }
        """,
        secrets={"SECRET": "abc"},
    )
    await deploy(
        http,
        caller,
        """
        export default {
          async fetch(request, env) {
            const out = {};
            out.verified = await env.AUTH.verify('good', { deep: [1, 'two', null] });
            out.sum = await env.AUTH.add(2, 3);
            out.nothing = await env.AUTH.nothing();
            out.http = await (await env.AUTH.fetch('http://auth/')).text();
            for (const [label, call] of [
              ['bad', () => env.AUTH.verify('bad')],
              ['custom', () => env.AUTH.fail()],
              ['missing', () => env.AUTH.nope()],
              ['bigint', () => env.AUTH.add(1n, 2n)],
            ]) {
              try { await call(); out[label] = 'no error'; }
              catch (e) { out[label] = [e.name, e.message, e instanceof Error]; }
            }
            return Response.json(out);
          },
        };
        """,
        services=[{"binding": "AUTH", "service": auth}],
    )
    async with http.get(server.fn_url(caller, "/")) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    assert body["verified"] == {"user": "ada", "options": {"deep": [1, "two", None]}, "secret": 3}
    assert body["sum"] == 5
    assert "nothing" not in body  # undefined
    assert body["http"] == "http"
    assert body["bad"] == ["RangeError", "bad token: bad", True]
    assert body["custom"] == ["AuthError", "custom", True]
    assert body["missing"][0] == "Error" and "no method nope()" in body["missing"][1]
    assert body["bigint"][0] == "TypeError"
    runs = await recorded(http, auth, 5)
    assert {run["trigger"] for run in runs} == {f"service:{caller}"}
    assert sorted(run["ok"] for run in runs).count(False) == 3  # bad, custom, missing


NAMED_ENTRYPOINTS = """
import { WorkerEntrypoint } from "cloudflare:workers";
export class Admin extends WorkerEntrypoint {
  async stats(n) {
    const props = { ...this.ctx.props };
    this.ctx.props.seen = true;  // this run's copy: the next run does not see it
    return { admin: true, n, secret: this.env.SECRET, props };
  }
  async fetch(request) { return new Response('admin saw ' + new URL(request.url).pathname + ' for ' + this.ctx.props.tenant); }
}
export const Plain = { fetch: (request, env) => new Response('plain object, ' + env.SECRET) };
export const notAnEntrypoint = 42;
export default class extends WorkerEntrypoint {
  async stats() { return { admin: false }; }
  async fetch() { return new Response('default'); }
}
"""


async def test_a_named_entrypoint_is_the_export_its_binding_calls(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """wrangler's ``"entrypoint"``: the binding calls the module's export of that name
    (``export class Admin extends WorkerEntrypoint``), by fetch and by RPC; without one, or
    with "default", the default export. An export that is not there fails the call."""
    target, caller = unique("entries"), unique("entrycaller")
    await deploy(http, target, NAMED_ENTRYPOINTS, secrets={"SECRET": "s"})
    await deploy(
        http,
        caller,
        """
        export default {
          async fetch(request, env) {
            const out = {};
            out.adminRpc = await env.ADMIN.stats(2);
            out.adminRpcAgain = await env.ADMIN.stats(3);
            out.adminFetch = await (await env.ADMIN.fetch('https://x/p')).text();
            out.plainFetch = await (await env.PLAIN.fetch('https://x/')).text();
            out.defaultRpc = await env.MAIN.stats();
            out.defaultByName = await (await env.DEFAULT.fetch('https://x/')).text();
            for (const [label, call] of [
              ['missingFetch', () => env.MISSING.fetch('https://x/')],
              ['missingRpc', () => env.MISSING.stats()],
              ['numberFetch', () => env.NUMBER.fetch('https://x/')],
              ['plainRpc', () => env.PLAIN.stats()],
              ['inherited', () => env.INHERITED.fetch('https://x/')],
            ]) {
              try { await call(); out[label] = 'no error'; }
              catch (e) { out[label] = [e.code || e.name, e.message]; }
            }
            return Response.json(out);
          },
        };
        """,
        services=[
            {
                "binding": "ADMIN",
                "service": target,
                "entrypoint": "Admin",
                "props": {"tenant": "acme"},
            },
            {"binding": "PLAIN", "service": target, "entrypoint": "Plain"},
            {"binding": "MAIN", "service": target},
            {"binding": "DEFAULT", "service": target, "entrypoint": "default"},
            {"binding": "MISSING", "service": target, "entrypoint": "Nope"},
            {"binding": "NUMBER", "service": target, "entrypoint": "notAnEntrypoint"},
            {"binding": "INHERITED", "service": target, "entrypoint": "toString"},
        ],
    )
    async with http.get(server.fn_url(caller, "/")) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    # The binding's props are each run's ctx.props, a copy of its own.
    props = {"tenant": "acme"}
    assert body["adminRpc"] == {"admin": True, "n": 2, "secret": "s", "props": props}
    assert body["adminRpcAgain"]["props"] == props
    assert body["adminFetch"] == "admin saw /p for acme"
    assert body["plainFetch"] == "plain object, s"
    assert body["defaultRpc"] == {"admin": False}
    assert body["defaultByName"] == "default"
    code, message = body["missingFetch"]
    assert code == "service_failed" and "entrypoint_not_found" in message, body
    assert "no export named Nope" in message, body
    assert body["missingRpc"][0] == "service_failed", body
    assert "no export named Nope" in body["missingRpc"][1], body
    code, message = body["numberFetch"]
    assert code == "service_failed" and "export notAnEntrypoint has no fetch" in message, body
    assert "its export Plain is not a class" in body["plainRpc"][1], body
    # Only the module's own exports: not what every object inherits.
    assert "no export named toString" in body["inherited"][1], body
    # Shown as given ("default" is the default export, said as none).
    async with http.get(f"/functions/{caller}") as response:
        shown = (await response.json())["services"]
    assert shown[0] == {
        "binding": "ADMIN",
        "service": target,
        "entrypoint": "Admin",
        "props": {"tenant": "acme"},
    }
    assert shown[2] == {"binding": "MAIN", "service": target}
    assert shown[3] == {"binding": "DEFAULT", "service": target}


async def test_a_named_entrypoint_of_a_service_worker_is_refused_when_called(
    http: aiohttp.ClientSession,
) -> None:
    target, caller = unique("swentry"), unique("swcaller")
    await deploy(
        http,
        target,
        "addEventListener('fetch', (e) => e.respondWith(new Response('sw')));",
        filename="index.js",
    )
    await deploy(
        http,
        caller,
        """
        export default {
          async fetch(request, env) {
            try { await env.S.fetch('https://x/'); return new Response('no error'); }
            catch (e) { return Response.json([e.code, e.message]); }
          },
        };
        """,
        services=[{"binding": "S", "service": target, "entrypoint": "Admin"}],
    )
    async with http.post(f"/execute/{caller}") as response:
        body = await response.json()
    code, message = orjson.loads(body["output"]["body"])
    assert code == "service_not_a_worker", body
    assert "not a module, so it has no export Admin" in message


async def test_a_binding_reaches_only_its_own_namespace(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=2)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        acme, beta = make_key(server, "acme"), make_key(server, "beta")
        server.wait_for_keys(acme, beta)
        who = "export default {{ fetch: (r, env) => new Response('{} ' + (env.S || '-')) }};"
        assert await acme_or_beta(http, acme, "auth", who.format("acme"), secrets={"S": "a"})
        assert await acme_or_beta(http, beta, "auth", who.format("beta"))
        assert await acme_or_beta(http, acme, "only-acme", who.format("acme-only"))
        gateway = """
        export default {
          async fetch(request, env) {
            const out = [];
            for (const binding of [env.AUTH, env.OTHER]) {
              try { out.push(await (await binding.fetch('http://x/')).text()); }
              catch (e) { out.push(e.code); }
            }
            return Response.json(out);
          },
        };
        """
        services = [
            {"binding": "AUTH", "service": "auth"},
            {"binding": "OTHER", "service": "only-acme"},
        ]
        assert await acme_or_beta(http, beta, "gateway", gateway, services=services)
        status, body = await call(http, beta, "POST", "/execute/gateway")
        assert status == 200, body
        # beta's own auth, without acme's secret; acme's function is not found from beta.
        assert orjson.loads(body["output"]["body"]) == ["beta -", "service_not_found"]
        # On the listener too, by the namespace's hostname.
        url = f"http://gateway.beta.localhost:{server.functions_port}/"
        async with http.get(url) as response:
            assert await response.json() == ["beta -", "service_not_found"]


async def acme_or_beta(
    http: aiohttp.ClientSession, key: str, name: str, code: str, **extra: Any
) -> bool:
    body = {"code": code, "filename": "index.mjs", "name": name, **extra}
    status, answer = await call(http, key, "POST", "/deploy", json=body)
    assert status == 200, answer
    return True


async def test_bad_service_declarations_are_refused_at_deploy(http: aiohttp.ClientSession) -> None:
    code = "export default { fetch: () => new Response('x') };"
    cases = {
        "not a list": {"binding": "A", "service": "a"},
        "no service": [{"binding": "A"}],
        "bad binding": [{"binding": "1A", "service": "a"}],
        "reserved": [{"binding": "KV", "service": "a"}],
        "bad name": [{"binding": "A", "service": "Not_A_Name"}],
        "twice": [{"binding": "A", "service": "a"}, {"binding": "A", "service": "b"}],
        "an r2 bucket's": [{"binding": "FILES", "service": "a"}],
        "bad entrypoint": [{"binding": "A", "service": "a", "entrypoint": "not-a-name"}],
        "entrypoint not a string": [{"binding": "A", "service": "a", "entrypoint": 1}],
        "props not an object": [{"binding": "A", "service": "a", "props": [1]}],
        "props too large": [{"binding": "A", "service": "a", "props": {"x": "y" * 20000}}],
    }
    for label, services in cases.items():
        body = {
            "code": code,
            "filename": "index.mjs",
            "services": services,
            "r2_buckets": [{"binding": "FILES", "bucket_name": "files"}],
        }
        async with http.post("/deploy", json=body) as response:
            answer = await response.json()
            assert response.status == 400, (label, answer)
            assert answer["error"]["code"] == "invalid_request", (label, answer)
            assert "services" in answer["error"]["message"], (label, answer)
    # A binding may not take the name of the version's assets binding.
    assets = {"manifest": {"/a": {"hash": "a" * 64, "size": 1}}, "config": {"binding": "ASSETS"}}
    body = {
        "code": code,
        "filename": "index.mjs",
        "services": [{"binding": "ASSETS", "service": "a"}],
        "assets": assets,
    }
    async with http.post("/deploy", json=body) as response:
        answer = await response.json()
    assert response.status == 400, answer
    assert "assets' binding" in answer["error"]["message"]


async def test_a_script_calls_a_service_worker_by_binding(http: aiohttp.ClientSession) -> None:
    target, caller = unique("sw"), unique("script")
    await deploy(
        http,
        target,
        "addEventListener('fetch', (event) => event.respondWith(new Response("
        "event.request.method + ' ' + new URL(event.request.url).pathname, "
        "{ headers: { 'x-sw': 'yes' } })));",
        filename="index.js",  # service-worker syntax: a script
    )
    body = {
        "code": """
        const get = await Vortex.env.SW.fetch('http://sw/a');
        const head = await Vortex.env.SW.fetch('http://sw/b', { method: 'HEAD' });
        let rpc;
        try { await Vortex.env.SW.verify(); } catch (e) { rpc = e.code; }
        Vortex.return({ get: await get.text(), sw: get.headers.get('x-sw'),
                        head: [head.status, await head.text()], rpc });
        """,
        "name": caller,
        "services": [{"binding": "SW", "service": target}],
    }
    async with http.post("/deploy", json=body) as response:
        assert response.status == 200, await response.text()
    async with http.post(f"/execute/{caller}") as response:
        answer = await response.json()
    assert answer["output"] == {
        "get": "GET /a",
        "sw": "yes",
        "head": [200, ""],
        "rpc": "service_not_a_worker",
    }, answer.get("error")


async def test_a_target_that_throws_fails_the_call_at_once_and_its_wait_until_goes_on(
    http: aiohttp.ClientSession,
) -> None:
    """The caller's env.S.fetch() rejects as soon as the target throws, not once the target's
    waitUntil work (2 s) is over, as workerd answers; that work still runs and is recorded."""
    target = unique("thrower")
    await deploy(
        http,
        target,
        """
        export default {
          async fetch(request, env, ctx) {
            ctx.waitUntil(new Promise((resolve) => setTimeout(() => { console.log('late work done'); resolve(); }, 2000)));
            throw new Error('target failed');
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
            try {
              await env.S.fetch('https://target/');
              return new Response('resolved');
            } catch (err) {
              return Response.json({ code: err.code, message: err.message });
            }
          },
        };
        """,
        services=[{"binding": "S", "service": target}],
    )
    started = time.monotonic()
    async with http.post(f"/execute/{caller}") as response:
        body = await response.json()
    assert time.monotonic() - started < 1.0, body
    assert "error" not in body, body
    answer = orjson.loads(body["output"]["body"])
    assert answer["code"] == "service_failed"
    assert "function_error: target failed" in answer["message"]
    (run,) = await recorded(http, target, 1)
    for _ in range(100):
        async with http.get(f"/functions/{target}/runs/{run['run_id']}") as response:
            entry = await response.json()
        if response.status == 200:
            break
        await asyncio.sleep(0.05)
    assert [line["message"] for line in entry["logs"]] == ["late work done"]
    assert entry["error"]["code"] == "function_error"
    assert entry["execution_time_ms"] >= 1900


async def test_an_rpc_method_that_throws_lets_its_wait_until_work_finish(
    http: aiohttp.ClientSession,
) -> None:
    """The caller gets the error at once, and the target's waitUntil work still runs (ending
    the run at the throw cleared its timer): as workerd, and as a fetch handler that throws."""
    target, caller = unique("rpcthrow"), unique("rpccaller")
    await deploy(
        http,
        target,
        """
        import { WorkerEntrypoint } from "cloudflare:workers";
        export default class extends WorkerEntrypoint {
          async fetch() { return new Response('http'); }
          check() {
            this.ctx.waitUntil(new Promise((resolve) => setTimeout(() => { console.log('late work done'); resolve(); }, 300)));
            throw new RangeError('refused');
          }
        }
        """,
    )
    await deploy(
        http,
        caller,
        """
        export default {
          async fetch(request, env) {
            try { await env.T.check(); return new Response('resolved'); }
            catch (e) { return new Response(e.name + ': ' + e.message); }
          },
        };
        """,
        services=[{"binding": "T", "service": target}],
    )
    async with http.post(f"/execute/{caller}") as response:
        body = await response.json()
    assert body["output"]["body"] == "RangeError: refused", body
    entry = await only_run(http, target)
    assert [line["message"] for line in entry["logs"]] == ["late work done"]
    assert entry["error"]["code"] == "function_error"


async def test_a_body_the_caller_gives_up_on_is_cancelled_in_the_target(
    http: aiohttp.ClientSession,
) -> None:
    """The caller stops reading the target's streamed body (here: it cancels its reader after
    the first chunk); the target's body stream is cancelled then, as a listener's client that
    leaves cancels it, rather than produce up to its own limit (32 MiB) for nobody, and the
    target's run is not failed by it."""
    target = unique("endless")
    await deploy(
        http,
        target,
        """
        export default {
          fetch() {
            let sent = 0;
            const body = new ReadableStream({
              async pull(controller) {
                await new Promise((resolve) => setTimeout(resolve, 1));
                sent += 1;
                controller.enqueue(new Uint8Array(1 << 20));
              },
              cancel(reason) { console.log('cancelled after ' + sent + ' MiB: ' + reason.message); },
            });
            return new Response(body);
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
            const res = await env.S.fetch('https://target/');
            const reader = res.body.getReader();
            const { value } = await reader.read();
            await reader.cancel('enough');
            return new Response('read ' + value.length);
          },
        };
        """,
        services=[{"binding": "S", "service": target}],
    )
    async with http.post(f"/execute/{caller}") as response:
        body = await response.json()
    assert body["output"]["body"].startswith("read "), body
    entry = await only_run(http, target)
    assert entry["ok"], (entry["error"], entry["logs"], entry["execution_time_ms"])
    (line,) = [line["message"] for line in entry["logs"]]
    sent, reason = line.removeprefix("cancelled after ").split(" MiB: ")
    assert int(sent) <= 16, line
    assert reason == "Nobody reads the response body any more", line


async def test_a_streamed_body_passes_through_a_gateway_as_it_is_made(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """Server-sent events behind a gateway: the target's body reaches the caller, and through
    it the client, piece by piece as the target writes it, not once it has ended. A redirect
    comes back as the target answered it (not followed), and a HEAD or a 204 has no body."""
    events, gateway = unique("events"), unique("gateway")
    await deploy(
        http,
        events,
        """
        export default {
          fetch(request) {
            const path = new URL(request.url).pathname;
            if (path === '/moved') return Response.redirect('https://elsewhere.example/', 302);
            if (path === '/empty') return new Response(null, { status: 204 });
            const encoder = new TextEncoder();
            let n = 0;
            return new Response(new ReadableStream({
              async pull(controller) {
                if (n > 0) await new Promise((resolve) => setTimeout(resolve, 300));
                n += 1;
                controller.enqueue(encoder.encode('data: ' + n + '\\n\\n'));
                if (n === 4) controller.close();
              },
            }), { headers: { 'content-type': 'text/event-stream' } });
          },
        };
        """,
    )
    await deploy(
        http,
        gateway,
        """
        export default {
          async fetch(request, env) {
            const path = new URL(request.url).pathname;
            if (path === '/checks') {
              const moved = await env.EVENTS.fetch('https://events/moved');
              const head = await env.EVENTS.fetch('https://events/', { method: 'HEAD' });
              const empty = await env.EVENTS.fetch('https://events/empty');
              return Response.json({
                moved: [moved.status, moved.headers.get('location')],
                head: [head.status, head.body, head.headers.get('content-type')],
                empty: [empty.status, empty.body],
              });
            }
            const res = await env.EVENTS.fetch('https://events/stream');
            return new Response(res.body, { headers: res.headers });
          },
        };
        """,
        services=[{"binding": "EVENTS", "service": events}],
    )
    arrivals: list[tuple[float, bytes]] = []
    started = time.monotonic()
    async with http.get(server.fn_url(gateway, "/stream")) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/event-stream"
        async for chunk in response.content.iter_any():
            arrivals.append((time.monotonic() - started, chunk))
    assert b"".join(chunk for _, chunk in arrivals) == b"".join(
        b"data: %d\n\n" % n for n in range(1, 5)
    )
    # Written 300 ms apart: the first piece was in the client's hands long before the last.
    assert arrivals[-1][0] - arrivals[0][0] > 0.6, arrivals
    async with http.get(server.fn_url(gateway, "/checks")) as response:
        assert await response.json() == {
            "moved": [302, "https://elsewhere.example/"],
            "head": [200, None, "text/event-stream"],
            "empty": [204, None],
        }


async def test_a_body_the_caller_never_reads_is_cancelled_when_its_run_ends(
    http: aiohttp.ClientSession,
) -> None:
    """The caller answers with the status alone and ends: the target's endless body is
    cancelled then (its run ends well within its wall limit), not left waiting for a reader."""
    target, caller = unique("unread"), unique("caller")
    await deploy(
        http,
        target,
        """
        export default {
          fetch() {
            return new Response(new ReadableStream({
              async pull(controller) {
                await new Promise((resolve) => setTimeout(resolve, 1));
                controller.enqueue(new Uint8Array(64 << 10));
              },
              cancel() { console.log('cancelled'); },
            }));
          },
        };
        """,
    )
    await deploy(
        http,
        caller,
        """
        export default {
          async fetch(request, env) {
            const res = await env.S.fetch('https://target/');
            return new Response('status ' + res.status);
          },
        };
        """,
        services=[{"binding": "S", "service": target}],
    )
    async with http.post(f"/execute/{caller}") as response:
        body = await response.json()
    assert body["output"]["body"] == "status 200", body
    entry = await only_run(http, target)
    assert entry["ok"], (entry["error"], entry["logs"])
    assert [line["message"] for line in entry["logs"]] == ["cancelled"]
    assert entry["execution_time_ms"] < 2000, entry["execution_time_ms"]


async def test_a_target_whose_body_breaks_off_fails_the_callers_read(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """The target's stream errors after its first piece: the caller has had the head and that
    piece, and its next read rejects with a TypeError that says so, as a fetch() body that
    breaks off does; the caller's run goes on."""
    target, caller = unique("breaks"), unique("reader")
    await deploy(
        http,
        target,
        """
        export default {
          fetch() {
            let n = 0;
            return new Response(new ReadableStream({
              async pull(controller) {
                n += 1;
                if (n === 1) controller.enqueue(new TextEncoder().encode('first;'));
                else { await new Promise((resolve) => setTimeout(resolve, 20)); controller.error(new Error('disk on fire')); }
              },
            }));
          },
        };
        """,
    )
    await deploy(
        http,
        caller,
        """
        export default {
          async fetch(request, env) {
            const res = await env.S.fetch('https://target/');
            const reader = res.body.getReader();
            const first = new TextDecoder().decode((await reader.read()).value);
            try { await reader.read(); return new Response('no error'); }
            catch (e) { return Response.json({ status: res.status, first, error: [e.name, e.message] }); }
          },
        };
        """,
        services=[{"binding": "S", "service": target}],
    )
    async with http.get(server.fn_url(caller, "/")) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    assert body["status"] == 200 and body["first"] == "first;", body
    name, message = body["error"]
    assert name == "TypeError", body
    assert message.startswith("env.S (service "), body
    assert "disk on fire" in message, body
