"""Functions' pages cannot reach the dashboard, nor each other, in a real browser.

Each function answers on an origin of its own (``http://{name}.localhost:{functions_port}``) and
the dashboard on another (here ``http://localhost:{api_port}``, as by default). The same-origin
policy keeps a function's HTML and JavaScript away from the dashboard's storage and keeps its
service workers off the dashboard; the session cookie is HttpOnly and the dashboard keeps no key.
Whether the browser sends the dashboard's ``SameSite=Strict`` cookies with a function page's
requests depends on whether it counts both as one site (this Chromium does not for
``*.localhost``; ``vortex.example.com`` and ``*.fn.example.com`` would be): either way the API
refuses what such a page sends, and what changes something needs a token no other origin has.
Debian's chromium is driven by Playwright, as in test_dashboard.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.auth.test_namespaces import make_key
from tests.server import ServerProcess
from tests.test_dashboard import CHROMIUM, CHROMIUM_ARGS

playwright_api = pytest.importorskip("playwright.async_api")
expect = playwright_api.expect

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed (apt-get install chromium)",
)

DASHBOARD_TITLE = "Vortex · Functions"
MARK = "dashboard.mark"
"""Something the dashboard's origin keeps in its localStorage, for a function to look for."""

EVIL_FUNCTION = r"""
const PAGE = `<!doctype html>
<title>function page</title>
<h1>a function's page</h1>
<script type="module">
const dashboard = new URLSearchParams(location.search).get("dashboard");
const planted = JSON.stringify({ code: "Vortex.return('planted by a function page')" });
const report = {
  origin: location.origin,
  storage: JSON.stringify(Object.entries(localStorage)),
  cookie: document.cookie,
};
const attempt = async (what) => {
  try {
    return await what();
  } catch (error) {
    return "refused: " + error.name;
  }
};
// Frame the dashboard and reach into it.
report.frame = await new Promise((resolve) => {
  const frame = document.createElement("iframe");
  frame.src = dashboard + "/";
  const reach = () => {
    try {
      const inside = frame.contentWindow;
      resolve("read: " + JSON.stringify(Object.entries(inside.localStorage)) + inside.document.cookie);
    } catch (error) {
      resolve("refused: " + error.name);
    }
  };
  frame.onload = reach;
  setTimeout(reach, 3000);
  document.body.append(frame);
});
// Read the dashboard's session: the browser may send its cookie, but the answer is not ours.
report.session = await attempt(async () => {
  const answer = await fetch(dashboard + "/session", { credentials: "include" });
  return "read: " + (await answer.text());
});
// Deploy with it, as a simple request (no preflight): the browser sends it.
report.simple_deploy = await attempt(async () => {
  const answer = await fetch(dashboard + "/deploy", {
    method: "POST", mode: "no-cors", credentials: "include",
    headers: { "Content-Type": "text/plain" }, body: planted,
  });
  return "sent: " + answer.type;
});
// With the dashboard's CSRF header: only after a preflight, which the API never grants.
report.csrf_deploy = await attempt(async () => {
  const answer = await fetch(dashboard + "/deploy", {
    method: "POST", credentials: "include",
    headers: { "Content-Type": "application/json", "X-Vortex-CSRF": "guessed" }, body: planted,
  });
  return "answered: " + answer.status;
});
// A service worker over the dashboard's origin, with the dashboard's own script.
report.dashboard_worker = await attempt(async () => {
  const registration = await navigator.serviceWorker.register(
    dashboard + "/static/js/main.js", { scope: dashboard + "/" });
  return "registered: " + registration.scope;
});
// A service worker for scope "/" of its own origin, to serve whatever it likes from now on.
try {
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  await navigator.serviceWorker.ready;
  report.sw_scope = registration.scope;
} catch (error) {
  report.sw_error = String(error);
}
// Post what it found back to itself.
const posted = await fetch("/collect", { method: "POST", body: JSON.stringify(report) });
report.echo = await posted.json();
window.report = report;
</script>`;

const WORKER = `
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => {
  if (event.request.mode !== "navigate") return;
  event.respondWith(new Response(
    "<!doctype html><title>hijacked</title><h1>served by the function's worker</h1>",
    { headers: { "Content-Type": "text/html" } },
  ));
});
`;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/sw.js") {
      return new Response(WORKER, { headers: { "Content-Type": "application/javascript" } });
    }
    if (url.pathname === "/collect") {
      const found = await request.json();
      console.log("collected " + JSON.stringify(found));
      return Response.json({ received: found });
    }
    return new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  },
};
"""

STORAGE_FUNCTION = r"""
const PAGE = `<!doctype html>
<title>storage</title>
<script>
const wanted = new URLSearchParams(location.search).get("set");
if (wanted) localStorage.setItem("shared", wanted);
document.cookie = "seen=" + location.hostname + "; path=/";
window.report = {
  origin: location.origin,
  shared: localStorage.getItem("shared"),
  keys: Object.keys(localStorage),
};
</script>`;

export default {
  fetch() {
    return new Response(PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  },
};
"""


@pytest.fixture
async def context() -> AsyncIterator[Any]:
    """One browser context: the storage, cookies and service workers one person's browser has."""
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context()
            yield context
            await context.close()
        finally:
            await browser.close()


def watch_console(page: Any) -> list[str]:
    """The page's console errors and uncaught exceptions, as they come."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


async def function_ids(server: ServerProcess, key: str) -> set[str]:
    async with (
        aiohttp.ClientSession(base_url=server.url) as http,
        http.get("/functions", headers={"Authorization": f"Bearer {key}"}) as response,
    ):
        return {f["id"] for f in (await response.json())["functions"]}


async def test_a_function_page_cannot_use_the_dashboards_session_or_keep_a_worker_on_it(
    server_factory: Callable[..., ServerProcess], context: Any
) -> None:
    server = server_factory(workers=1)
    key = make_key(server, "acme")
    server.wait_for_keys(key)
    dashboard = f"http://localhost:{server.port}"
    async with (
        aiohttp.ClientSession(base_url=server.url) as http,
        http.post(
            "/deploy",
            json={"code": EVIL_FUNCTION, "filename": "index.mjs", "name": "evil"},
            headers={"Authorization": f"Bearer {key}"},
        ) as response,
    ):
        assert response.status == 200
    evil_origin = f"http://evil.acme.localhost:{server.functions_port}"

    # (a) Logged in through the dashboard's form, the origin keeps no key, in storage or cookies.
    page = await context.new_page()
    errors = watch_console(page)
    await page.goto(dashboard + "/")
    assert await page.title() == DASHBOARD_TITLE
    await expect(page.locator("#key-gate")).to_be_visible()
    await page.fill("#key-input", key)
    await page.press("#key-input", "Enter")
    await expect(page.locator("#key-gate")).to_be_hidden()
    await expect(page.locator("#key-btn")).to_contain_text("acme")
    errors.clear()  # the refusals (401) before logging in are the browser's notes of them
    await page.evaluate("mark => localStorage.setItem(mark, 'the dashboard was here')", MARK)
    readable = await page.evaluate(
        "JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage),"
        " document.cookie])"
    )
    secret = key.removeprefix("vx_").split("_", 1)[1]  # the random part may hold "_"
    assert key not in readable and secret not in readable
    assert "vortex_session" not in await page.evaluate("document.cookie")
    cookies = {c["name"]: c for c in await context.cookies()}
    assert set(cookies) == {"vortex_session", "vortex_csrf"}
    session = cookies["vortex_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict"
    assert session["domain"] == "localhost" and session["path"] == "/"
    assert secret not in session["value"] and secret not in cookies["vortex_csrf"]["value"]

    # (c) The dashboard works with its Content-Security-Policy on: deploy, run, tail.
    await page.fill("#code", 'console.log("from the dashboard");\nVortex.return("ran");\n')
    await page.click("#run-btn")
    await expect(page.locator("#run-status")).to_have_attribute("data-state", "succeeded")
    await expect(page.locator("#run-output")).to_contain_text("ran")
    await expect(page.locator("#run-console")).to_contain_text("from the dashboard")
    await page.click("#tab-tail")
    await expect(page.locator("#tail-status")).to_have_attribute("data-state", "live")
    assert errors == [], errors
    before = await function_ids(server, key)

    # (b) A function's page in the same browser, right after the dashboard.
    posted: list[str] = []
    page.on(
        "request",
        lambda r: posted.append(r.post_data or "") if r.url == evil_origin + "/collect" else None,
    )
    await page.goto(f"{evil_origin}/?dashboard={dashboard}")
    report = await (await page.wait_for_function("window.report", timeout=30_000)).json_value()
    assert report["origin"] == evil_origin
    # It sees its own, empty storage, and no cookie of the dashboard's ...
    assert report["storage"] == "[]" and report["cookie"] == ""
    # ... cannot reach into a framed dashboard (which refuses to be framed anyway) ...
    assert report["frame"].startswith("refused: "), report["frame"]
    # ... cannot read the dashboard's answers ...
    assert report["session"] == "refused: TypeError", report["session"]
    # ... cannot change anything with it: a simple request leaves (its answer, refused by the
    # server, is then kept from the page by Cross-Origin-Resource-Policy) ...
    assert report["simple_deploy"] in ("sent: opaque", "refused: TypeError"), report
    assert report["csrf_deploy"] == "refused: TypeError", report["csrf_deploy"]
    assert await function_ids(server, key) == before
    assert "POST /deploy 403" in server.log()
    # ... cannot register a worker over the dashboard ...
    assert report["dashboard_worker"].startswith("refused: SecurityError"), report
    # ... and what it posted back to itself holds no key, no session, no token.
    assert posted
    for leak in (key, secret, session["value"], cookies["vortex_csrf"]["value"]):
        assert leak not in posted[0] and leak not in json.dumps(report)

    # Chromium counts *.localhost as a secure context: a worker registers, for its own origin.
    assert report.get("sw_scope") == evil_origin + "/", report
    registrations = await page.evaluate(
        "navigator.serviceWorker.getRegistrations().then(rs => rs.map(r => r.scope))"
    )
    assert registrations == [evil_origin + "/"]
    assert all(worker.url.startswith(evil_origin + "/") for worker in context.service_workers)
    await page.goto(evil_origin + "/")
    assert await page.title() == "hijacked"  # the function's own origin is its worker's now

    # The dashboard, in the same browser, is the real one, with no worker, and still logged in.
    errors.clear()
    await page.goto(dashboard + "/")
    await expect(page.locator("#key-btn")).to_contain_text("acme")
    assert await page.title() == DASHBOARD_TITLE
    assert "served by the function" not in await page.content()
    assert await page.evaluate("navigator.serviceWorker.controller") is None
    assert await page.evaluate("navigator.serviceWorker.getRegistrations()") == []
    assert await page.evaluate("mark => localStorage.getItem(mark)", MARK) == (
        "the dashboard was here"
    )
    await expect(page.locator("#key-gate")).to_be_hidden()
    assert errors == [], errors


async def test_two_functions_do_not_share_storage(
    server: ServerProcess, deploy: Callable[..., Awaitable[str]], context: Any
) -> None:
    await deploy(STORAGE_FUNCTION, filename="index.mjs", name="origin-a")
    await deploy(STORAGE_FUNCTION, filename="index.mjs", name="origin-b")
    page = await context.new_page()

    await page.goto(server.fn_url("origin-a", "/?set=from-a"))
    a = await (await page.wait_for_function("window.report")).json_value()
    assert a == {
        "origin": server.fn_url("origin-a", "").rstrip("/"),
        "shared": "from-a",
        "keys": ["shared"],
    }

    await page.goto(server.fn_url("origin-b", "/"))
    b = await (await page.wait_for_function("window.report")).json_value()
    assert b == {"origin": server.fn_url("origin-b", "").rstrip("/"), "shared": None, "keys": []}

    # a's storage is still its own, untouched by b
    await page.goto(server.fn_url("origin-a", "/"))
    a = await (await page.wait_for_function("window.report")).json_value()
    assert a["shared"] == "from-a"
    # host-only cookies stay with their function too
    cookies = {c["domain"]: c["value"] for c in await context.cookies()}
    assert cookies == {
        "origin-a.localhost": "origin-a.localhost",
        "origin-b.localhost": "origin-b.localhost",
    }
