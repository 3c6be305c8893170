"""Functions' pages cannot reach the dashboard, nor each other, in a real browser.

Each function answers on an origin of its own (``http://{name}.localhost:{functions_port}``) and
the dashboard on another (``http://127.0.0.1:{api_port}``), so the browser's same-origin policy
keeps a function's HTML and JavaScript away from the dashboard's storage (where it keeps the API
key) and keeps a function's service worker off the dashboard. Debian's chromium is driven by
Playwright, as in test_dashboard.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.server import ServerProcess
from tests.test_dashboard import CHROMIUM, CHROMIUM_ARGS

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed (apt-get install chromium)",
)

KEY_STORAGE = "vortex.apiKey"
"""Where the dashboard keeps its API key (static/js/api.js)."""
SECRET = "vx_default_" + "s" * 43
DASHBOARD_TITLE = "Vortex · Functions"

EVIL_FUNCTION = r"""
const PAGE = `<!doctype html>
<title>function page</title>
<h1>a function's page</h1>
<script type="module">
const dashboard = new URLSearchParams(location.search).get("dashboard");
const report = {
  origin: location.origin,
  key: localStorage.getItem("vortex.apiKey"),
  stored: localStorage.length,
};
// Frame the dashboard and reach into it.
report.frame = await new Promise((resolve) => {
  const frame = document.createElement("iframe");
  frame.src = dashboard + "/";
  const attempt = () => {
    try {
      resolve("read: " + frame.contentWindow.localStorage.getItem("vortex.apiKey"));
    } catch (error) {
      resolve("refused: " + error.name);
    }
  };
  frame.onload = attempt;
  setTimeout(attempt, 3000);
  document.body.append(frame);
});
// A service worker for scope "/", to serve whatever it likes from now on.
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


async def open_dashboard_with_key(page: Any, server: ServerProcess) -> None:
    """The dashboard, with an API key kept in its localStorage as it keeps one on keyed servers."""
    await page.goto(server.url + "/")
    await page.wait_for_load_state("load")
    assert await page.title() == DASHBOARD_TITLE
    await page.evaluate("([k, v]) => localStorage.setItem(k, v)", [KEY_STORAGE, SECRET])


async def test_a_function_page_cannot_read_the_dashboard_or_keep_a_worker_on_it(
    server: ServerProcess, deploy: Callable[..., Awaitable[str]], context: Any
) -> None:
    await deploy(EVIL_FUNCTION, filename="index.mjs", name="evil")
    evil_origin = server.fn_url("evil", "").rstrip("/")
    page = await context.new_page()
    await open_dashboard_with_key(page, server)

    # The function's page runs in the same browser, right after the dashboard.
    posted: list[str] = []
    page.on(
        "request",
        lambda request: (
            posted.append(request.post_data or "")
            if request.url == evil_origin + "/collect"
            else None
        ),
    )
    await page.goto(server.fn_url("evil", f"/?dashboard={server.url}"))
    report = await page.wait_for_function("window.report", timeout=20_000)
    report = await report.json_value()

    # It sees its own, empty storage, not the dashboard's key ...
    assert report["origin"] == evil_origin
    assert report["key"] is None
    assert report["stored"] == 0
    # ... cannot reach into a framed dashboard (which refuses to be framed anyway) ...
    assert report["frame"].startswith("refused: "), report["frame"]
    # ... and what it posted back to itself holds no key.
    assert posted and json.loads(posted[0])["key"] is None
    assert report["echo"]["received"]["key"] is None

    # Chromium counts *.localhost as a secure context: the worker registers, for its own origin.
    assert report.get("sw_scope") == evil_origin + "/", report
    registrations = await page.evaluate(
        "navigator.serviceWorker.getRegistrations().then(rs => rs.map(r => r.scope))"
    )
    assert registrations == [evil_origin + "/"]
    assert all(worker.url.startswith(evil_origin + "/") for worker in context.service_workers)
    # The worker is live: the function's own origin is now served by it.
    await page.goto(server.fn_url("evil", "/"))
    assert await page.title() == "hijacked"

    # The dashboard, in the same browser, is the real one, with no worker of its own.
    await page.goto(server.url + "/")
    await page.wait_for_load_state("load")
    assert await page.title() == DASHBOARD_TITLE
    assert await page.locator("#app").count() == 1
    assert "served by the function" not in await page.content()
    assert await page.evaluate("navigator.serviceWorker.controller") is None
    assert await page.evaluate("navigator.serviceWorker.getRegistrations()") == []
    # Its key is where it kept it.
    assert await page.evaluate(f"localStorage.getItem('{KEY_STORAGE}')") == SECRET


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
