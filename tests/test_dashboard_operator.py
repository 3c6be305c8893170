"""The dashboard's operator panels in a real browser (Debian's chromium, Playwright): a
function's charts (Metrics), the request tester (Request), its KV (KV), and the function list
searched by file name. Screenshots land in test-output/screenshots/, as tests/test_dashboard.py's.
"""

# ruff: noqa: F811  (the fixtures of tests/test_dashboard.py, imported, are parameters here)
from __future__ import annotations

import asyncio
import urllib.parse
import uuid
from collections.abc import Callable

import aiohttp

from tests.server import ServerProcess
from tests.test_dashboard import (  # noqa: F401  (fixtures)
    LAPTOP,
    PHONE,
    browser,
    expect,
    open_page,
    pytestmark,
    snap,
    wait_healthy,
)

ECHO = """\
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    console.log(`${request.method} ${url.pathname}`);
    return Response.json(
      { method: request.method, path: url.pathname + url.search, body: await request.text(),
        token: request.headers.get("x-token"), seen: await env.KV.get("greeting") },
      { status: url.pathname === "/missing" ? 404 : 200, headers: { "x-answer": "yes" } },
    );
  },
};
"""


async def call(http: aiohttp.ClientSession, method: str, path: str, **kw: object) -> dict:  # type: ignore[type-arg]
    async with http.request(method, path, **kw) as response:  # type: ignore[arg-type]
        body = await response.json()
        assert response.status == 200, body
        return body  # type: ignore[no-any-return]


async def test_metrics_pane_draws_runs_errors_and_times(
    server: ServerProcess, open_page: Callable[..., object], http: aiohttp.ClientSession
) -> None:
    name = f"charts-{uuid.uuid4().hex[:8]}"
    await call(http, "POST", "/deploy", json={"code": "Vortex.return(1);", "name": name})
    for _ in range(5):
        await call(http, "POST", f"/execute/{name}")
    await call(http, "POST", "/deploy", json={"code": "throw new Error('no');", "name": name})
    for _ in range(2):
        await call(http, "POST", f"/execute/{name}")

    page, watch = await open_page(server.url, path=f"#/functions/{name}")
    await wait_healthy(page)
    await page.click("#tab-charts")
    status = page.locator("#charts-status")
    await expect(status).to_contain_text("7 runs")
    await expect(status).to_contain_text("28.6% errors")
    await expect(
        page.locator('.chart-total[data-total="requests"] .chart-total-value')
    ).to_have_text("7")
    await expect(page.locator('.chart-total[data-total="errors"] .chart-total-value')).to_have_text(
        "2"
    )
    assert await page.locator("#chart-requests rect.chart-bar.c-ok").count() >= 1
    assert await page.locator("#chart-requests rect.chart-bar.c-err").count() >= 1
    # One minute (or two) of runs: a dot or a line for each quantile.
    for chart in ("#chart-wall", "#chart-cpu"):
        drawn = page.locator(f"{chart} .c-p50:is(path, circle)")
        assert await drawn.count() >= 1, chart
    # Hovering the last bar shows that minute's figures.
    bar = page.locator("#chart-requests rect.chart-bar.c-err").last
    await bar.hover()
    tip = page.locator("#chart-requests .chart-tip")
    await expect(tip).to_be_visible()
    await expect(tip).to_contain_text("errors")
    await snap(page, "metrics-hour-1280x800")

    await page.click('.seg-btn[data-window="day"]')
    await expect(page.locator('.seg-btn[data-window="day"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(status).to_contain_text("7 runs")
    assert any("window=day" in url for url in watch.requests)
    # A run from the page shows up in the charts without a refresh.
    await page.click("#run-btn")
    await expect(page.locator("#run-status")).to_have_attribute("data-state", "failed")
    await page.click("#tab-charts")
    await expect(status).to_contain_text("8 runs")
    await snap(page, "metrics-day-1280x800")
    watch.assert_clean()
    await page.context.close()

    page, watch = await open_page(server.url, viewport=PHONE, path=f"#/functions/{name}")
    await wait_healthy(page)
    await page.click("#tab-charts")
    await expect(page.locator("#charts-status")).to_contain_text("8 runs")
    await page.locator("#pane-charts").scroll_into_view_if_needed()
    await snap(page, "metrics-390x844")
    watch.assert_clean()
    await page.context.close()


async def test_request_tester_sends_a_request_and_shows_the_answer(
    server: ServerProcess, open_page: Callable[..., object], http: aiohttp.ClientSession
) -> None:
    name = f"tester-{uuid.uuid4().hex[:8]}"
    await call(http, "POST", "/deploy", json={"code": ECHO, "name": name, "filename": "index.mjs"})
    page, watch = await open_page(server.url, path=f"#/functions/{name}")
    await wait_healthy(page)
    await page.click("#tab-tester")
    url = server.fn_url(name, "").rstrip("/")
    await expect(page.locator("#tester-url")).to_have_text(url)
    await expect(page.locator("#tester-open")).to_have_attribute("href", url)
    await page.click("#tester-copy")
    await expect(page.locator(".toast").last).to_contain_text("Copied to clipboard")

    await page.select_option("#tester-method", "POST")
    await page.fill("#tester-path", "/items?page=2")
    await page.click("#tester-add-header")
    header = page.locator(".tester-header").last
    await header.locator("input").first.fill("X-Token")
    await header.locator("input").last.fill("abc")
    await page.fill("#tester-body", '{"hello": "world"}')
    await page.click("#tester-send")
    await expect(page.locator("#tester-status")).to_have_text("200 OK")
    body = page.locator("#tester-response-body")
    await expect(body).to_contain_text('"path": "/items?page=2"')
    await expect(body).to_contain_text('"token": "abc"')
    await expect(body).to_contain_text('"body": "{\\"hello\\": \\"world\\"}"')
    await expect(page.locator("#tester-response-headers")).to_contain_text("x-answer")
    await expect(page.locator("#tester-total")).to_contain_text("ms")
    await snap(page, "request-tester-1280x800")

    # A GET has no body; a 404 is the function's answer, shown as such.
    await page.select_option("#tester-method", "GET")
    await expect(page.locator("#tester-body")).to_be_hidden()
    await page.fill("#tester-path", "/missing")
    await page.press("#tester-path", "Enter")
    await expect(page.locator("#tester-status")).to_have_text("404 Not Found")
    # The request went through the API (the page never reaches the function's origin).
    assert not [u for u in watch.requests if ".localhost:" in u and "/static/" not in u]
    sent = [u for u in watch.requests if u.endswith(f"/functions/{name}/request")]
    assert len(sent) == 2, sent
    # Another tab and back: the request and its answer are still there.
    await page.click("#tab-run")
    await page.click("#tab-tester")
    await expect(page.locator("#tester-path")).to_have_value("/missing")
    await expect(page.locator("#tester-status")).to_have_text("404 Not Found")
    watch.assert_clean()
    await page.context.close()

    page, watch = await open_page(server.url, viewport=PHONE, path=f"#/functions/{name}")
    await wait_healthy(page)
    await page.click("#tab-tester")
    await page.click("#tester-send")
    await expect(page.locator("#tester-status")).to_have_text("200 OK")
    await page.locator("#pane-tester").scroll_into_view_if_needed()
    await snap(page, "request-tester-390x844")
    watch.assert_clean()
    await page.context.close()


async def test_kv_browser_lists_reads_edits_adds_and_deletes(
    server: ServerProcess, open_page: Callable[..., object], http: aiohttp.ClientSession
) -> None:
    name = f"kv-{uuid.uuid4().hex[:8]}"
    await call(http, "POST", "/deploy", json={"code": ECHO, "name": name, "filename": "index.mjs"})
    value_path = f"/functions/{name}/kv/value?key="
    for key, value in (("greeting", "hello"), ("user:1", '{"name": "Ada"}'), ("user:2", "Grace")):
        await call(http, "PUT", value_path + urllib.parse.quote(key), json={"value": value})
    await call(http, "PUT", value_path + "session", json={"value": "s", "expiration_ttl": 7200})
    page, watch = await open_page(server.url, path=f"#/functions/{name}")
    await wait_healthy(page)
    await page.click("#tab-kv")
    items = page.locator(".kv-item")
    await expect(items).to_have_count(4)
    await expect(page.locator("#kv-count")).to_have_text("4 keys")
    await expect(page.locator('.kv-item[data-key="session"] .kv-exp')).to_have_text("expires in 2h")
    await expect(page.locator("#kv-limits")).to_contain_text(
        "keys up to 512 B, values up to 128.0 KB"
    )

    # Read one, change it, save: the function sees the new value.
    await page.click('.kv-item[data-key="greeting"]')
    await expect(page.locator("#kv-value")).to_have_value("hello")
    await expect(page.locator("#kv-size")).to_have_text("5 B of 128.0 KB")
    await page.fill("#kv-value", "bonjour")
    await page.click("#kv-save")
    await expect(page.locator(".toast").last).to_contain_text("Saved greeting")
    async with aiohttp.ClientSession() as client, client.get(server.fn_url(name, "/")) as response:
        assert (await response.json())["seen"] == "bonjour"
    await snap(page, "kv-browser-1280x800")

    # A new key, with an expiry.
    await page.click("#kv-new")
    await page.fill("#kv-key", "flag")
    await page.fill("#kv-value", "on")
    await page.fill("#kv-ttl", "600")
    await page.click("#kv-save")
    await expect(items).to_have_count(5)
    await expect(page.locator('.kv-item[data-key="flag"] .kv-exp')).to_have_text("expires in 10m")
    got = await call(http, "GET", value_path + "flag")
    assert got["value"] == "on"

    # Too large a value cannot be saved.
    await page.fill("#kv-value", "x" * (129 << 10))
    await expect(page.locator("#kv-size")).to_have_class("kv-size over")
    await expect(page.locator("#kv-save")).to_be_disabled()

    # Delete, after a confirmation.
    await page.click('.kv-item[data-key="user:2"]')
    await expect(page.locator("#kv-value")).to_have_value("Grace")
    await page.click("#kv-delete")
    await expect(page.locator("#kv-delete")).to_have_class(
        "btn btn-sm btn-ghost btn-danger confirming"
    )
    await page.click("#kv-delete")
    await expect(items).to_have_count(4)
    async with http.get(value_path + "user%3A2") as response:
        assert response.status == 404

    # Filter by prefix.
    await page.fill("#kv-prefix", "user:")
    await expect(items).to_have_count(1)
    await expect(page.locator("#kv-count")).to_have_text("1 key starting with “user:”")
    watch.assert_clean()
    await page.context.close()

    page, watch = await open_page(server.url, viewport=PHONE, path=f"#/functions/{name}")
    await wait_healthy(page)
    await page.click("#tab-kv")
    await page.click('.kv-item[data-key="user:1"]')
    await expect(page.locator("#kv-value")).to_have_value('{"name": "Ada"}')
    await page.locator("#pane-kv").scroll_into_view_if_needed()
    await snap(page, "kv-browser-390x844")
    watch.assert_clean()
    await page.context.close()


async def test_the_function_list_searches_by_file_name(
    server_factory: Callable[..., ServerProcess], open_page: Callable[..., object]
) -> None:
    server = server_factory(workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        deployed = await asyncio.gather(
            *(
                call(
                    http, "POST", "/deploy", json={"code": "Vortex.return(1)", "filename": filename}
                )
                for filename in (
                    "index.js",
                    "index.js",
                    "billing.ts",
                    "billing-cron.js",
                    "auth.mjs",
                )
            )
        )
    ids = [d["function_id"] for d in deployed]
    page, watch = await open_page(server.url)
    await wait_healthy(page)
    items = page.locator(".fn-item")
    await expect(items).to_have_count(5)
    await page.select_option("#fn-search-by", "file")
    await page.fill("#fn-search", "BILLING")
    await expect(items).to_have_count(2)
    names = sorted(await page.locator(".fn-name").all_inner_texts())
    assert names == ["billing-cron.js", "billing.ts"]
    await snap(page, "search-by-file-1280x800")
    await page.fill("#fn-search", ".mjs")
    await expect(items).to_have_count(1)
    await expect(items.first).to_have_attribute("data-id", ids[4])
    await page.fill("#fn-search", "nothing.here")
    await expect(page.locator("#fn-nomatch")).to_be_visible()
    await expect(page.locator("#fn-nomatch-what")).to_have_text(
        "No function's file name holds nothing.here."
    )
    # Back to names and ids: an id's first characters find it.
    await page.select_option("#fn-search-by", "name")
    await page.fill("#fn-search", ids[2][:6])
    await expect(items).to_have_count(1)
    await expect(items.first).to_have_attribute("data-id", ids[2])
    requests = [u for u in watch.requests if "/functions?" in u]
    assert any("file=BILLING" in u for u in requests), requests
    watch.assert_clean()
    await page.context.close()


async def test_settings_pane_says_what_changes_and_keeps_the_rest(
    server: ServerProcess, open_page: Callable[..., object], http: aiohttp.ClientSession
) -> None:
    name = f"settings-{uuid.uuid4().hex[:8]}"
    await call(
        http,
        "POST",
        "/deploy",
        json={
            "code": "Vortex.return(Vortex.env.REGION);",
            "name": name,
            "env": {"REGION": "eu"},
            "secrets": {"TOKEN": "t0"},
            "allow_hosts": ["api.example.com"],
            "schedule": "0 9 * * *",
        },
    )
    page, watch = await open_page(server.url, path=f"#/functions/{name}")
    await wait_healthy(page)
    await page.click("#tab-settings")
    await expect(page.locator("#settings-name")).to_have_value(name)
    env = page.locator("#settings-env .settings-row")
    await expect(env).to_have_count(1)
    await expect(env.first.locator("input").first).to_have_value("REGION")
    await expect(page.locator("#settings-secret-names")).to_contain_text("TOKEN")
    await expect(page.locator("#settings-hosts")).to_have_value("api.example.com")
    await expect(page.locator("#settings-schedule")).to_have_value("0 9 * * *")
    await expect(page.locator("#settings-changes")).to_have_text("No changes.")
    await expect(page.locator("#settings-save")).to_be_disabled()

    # Change two settings: the pane says what will change, and that the rest is kept.
    await page.click("#settings-add-env")
    row = env.last
    await row.locator("input").first.fill("MODE")
    await row.locator("input").last.fill("fast")
    await page.fill("#settings-schedule", "")
    changes = page.locator("#settings-changes")
    await expect(changes).to_contain_text(f"as version 2 of {name}")
    await expect(changes.locator('li[data-setting="env"]')).to_have_text("env +MODE")
    await expect(changes.locator('li[data-setting="schedule"]')).to_have_text(
        "schedule 0 9 * * * → none"
    )
    await expect(changes.locator("li")).to_have_count(2)
    await snap(page, "settings-1280x800")
    await page.click("#settings-save")
    await expect(page.locator("#fn-name-chip .name-version")).to_have_text("v2")
    async with http.get(f"/functions/{name}") as response:
        shown = await response.json()
    assert shown["version"] == 2 and shown["code"] == "Vortex.return(Vortex.env.REGION);"
    assert shown["env"] == {"REGION": "eu", "MODE": "fast"} and shown["schedule"] is None
    assert shown["secrets"] == ["TOKEN"] and shown["allow_hosts"] == ["api.example.com"]
    await expect(page.locator("#settings-changes")).to_have_text("No changes.")

    # Secrets are write-only: changing them means giving every value.
    await page.click("#settings-replace-secrets")
    secrets = page.locator("#settings-secrets .settings-row")
    await expect(secrets).to_have_count(1)
    await expect(page.locator("#settings-error")).to_contain_text("Enter the value of TOKEN")
    await secrets.first.locator("input").last.fill("t1")
    await page.click("#settings-add-secret")
    await secrets.last.locator("input").first.fill("EXTRA")
    await secrets.last.locator("input").last.fill("x")
    await expect(changes.locator('li[data-setting="secrets"]')).to_have_text(
        "secrets set to TOKEN, EXTRA"
    )
    await page.click("#settings-save")
    await expect(page.locator("#fn-name-chip .name-version")).to_have_text("v3")
    async with http.get(f"/functions/{name}") as response:
        shown = await response.json()
    assert shown["secrets"] == ["EXTRA", "TOKEN"] and shown["env"]["MODE"] == "fast"
    # Saved, the values typed are gone from the page: the names alone are shown.
    await expect(page.locator("#settings-secrets input")).to_have_count(0)
    await expect(page.locator("#settings-secret-names")).to_contain_text("EXTRA")
    watch.assert_clean()
    await page.context.close()

    page, watch = await open_page(server.url, viewport=PHONE, path=f"#/functions/{name}")
    await wait_healthy(page)
    await page.click("#tab-settings")
    await expect(page.locator("#settings-secret-names")).to_contain_text("EXTRA")
    await page.locator("#pane-settings").scroll_into_view_if_needed()
    await snap(page, "settings-390x844")
    watch.assert_clean()
    await page.context.close()


async def test_settings_pane_edits_the_routes_and_says_what_changes(
    server: ServerProcess, open_page: Callable[..., object], http: aiohttp.ClientSession
) -> None:
    name = f"routes-{uuid.uuid4().hex[:8]}"
    domain = f"d{uuid.uuid4().hex[:8]}.example.com"
    code = "export default { fetch: (r) => new Response(r.url) };"
    await call(
        http,
        "POST",
        "/deploy",
        json={"code": code, "filename": "index.mjs", "name": name, "routes": [f"a.{domain}/*"]},
    )
    page, watch = await open_page(server.url, path=f"#/functions/{name}")
    await wait_healthy(page)
    await page.click("#tab-settings")
    routes = page.locator("#settings-routes")
    await expect(routes).to_have_value(f"a.{domain}/*")
    await expect(page.locator("#settings-changes")).to_have_text("No changes.")

    await routes.fill(f"b.{domain}/v1/*\n")
    changes = page.locator("#settings-changes")
    await expect(changes.locator('li[data-setting="routes"]')).to_have_text(
        f"routes +b.{domain}/v1/* −a.{domain}/*"
    )
    await expect(changes.locator("li")).to_have_count(1)
    await page.click("#settings-save")
    await expect(page.locator("#fn-name-chip .name-version")).to_have_text("v2")
    async with http.get(f"/functions/{name}") as response:
        assert (await response.json())["routes"] == [f"b.{domain}/v1/*"]
    await expect(page.locator("#settings-changes")).to_have_text("No changes.")

    # A pattern the server refuses is said where the save is.
    await routes.fill("not a route")
    await page.click("#settings-save")
    await expect(page.locator("#settings-error")).to_contain_text("has no path")
    watch.assert_clean("400")
    await page.context.close()
