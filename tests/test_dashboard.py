"""The dashboard in a real browser: Debian's chromium driven by Playwright, against real servers.

Every test drives the page the way a person would (typing, clicking) and checks what appears.
Screenshots at laptop (1280x800) and phone (390x844) widths land in test-output/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.server import REPO, ServerProcess, stop_and_check

playwright_api = pytest.importorskip("playwright.async_api")
async_playwright = playwright_api.async_playwright
expect = playwright_api.expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO / "test-output" / "screenshots"
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (apt-get install chromium)",
)

SLOW_FUNCTION = """\
console.log("🚀 Function starting...");
await new Promise(resolve => setTimeout(resolve, 800));
console.warn("Still here after 800 ms");
Vortex.return({ slept: 800, ok: true });
"""

FIRST_LINE_WATCHER = """() => {
  const list = document.querySelector("#run-console");
  window.firstLineSeen = null;
  const observer = new MutationObserver(() => {
    const line = [...list.querySelectorAll(".log")]
      .find((el) => el.textContent.includes("🚀 Function starting..."));
    if (!line || window.firstLineSeen) return;
    window.firstLineSeen = {
      state: document.querySelector("#run-status").dataset.state,
      visible: line.checkVisibility(),
      later_line: list.textContent.includes("Still here"),
    };
    observer.disconnect();
  });
  observer.observe(list, { childList: true, subtree: true });
}"""

THROWING_FUNCTION = """\
console.info("about to fail");
function parse(input) {
  throw new TypeError(`cannot parse ${input}`);
}
parse("<nonsense>");
"""


@dataclass
class PageWatch:
    """What a page did that a test may want to forbid: console errors, crashes, foreign requests."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    responses: dict[str, dict[str, str]] = field(default_factory=dict)

    def foreign_requests(self) -> list[str]:
        ws_origin = self.origin.replace("http://", "ws://", 1)
        return [
            url
            for url in self.requests
            if not (url.startswith(self.origin) or url.startswith(ws_origin))
        ]

    def assert_clean(self, *allowed: str) -> None:
        """No crash, no console error (but the browser's own note of an ``allowed`` status)."""
        assert not self.page_errors, self.page_errors
        errors = [e for e in self.console_errors if not any(a in e for a in allowed)]
        assert not errors, errors
        assert not self.foreign_requests(), self.foreign_requests()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
def open_page(browser: object) -> Callable[..., object]:
    async def _open(url: str, viewport: dict[str, int] = LAPTOP, path: str = "/") -> tuple:
        context = await browser.new_context(viewport=viewport)  # type: ignore[attr-defined]
        page = await context.new_page()
        watch = PageWatch(url)
        page.on(
            "console",
            lambda message: (
                watch.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
        page.on("request", lambda request: watch.requests.append(request.url))
        page.on("websocket", lambda ws: watch.requests.append(ws.url))
        page.on(
            "response",
            lambda response: watch.responses.__setitem__(response.url, response.headers),
        )
        await page.goto(url + path)
        return page, watch

    return _open


async def snap(page: object, name: str, *, full_page: bool = False) -> None:
    """A screenshot under test-output/screenshots/, without passing toasts in the way."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.evaluate("document.querySelectorAll('.toast').forEach(t => t.remove())")  # type: ignore[attr-defined]
    await page.wait_for_timeout(250)  # type: ignore[attr-defined]  # lines and panels fade in
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)  # type: ignore[attr-defined]


async def wait_healthy(page: object) -> None:
    await expect(page.locator("#health")).to_have_attribute("data-state", "healthy")  # type: ignore[arg-type]
    await expect(page.locator("#fn-loading")).to_be_hidden()  # type: ignore[arg-type]


async def current_function_id(page: object) -> str:
    await expect(page).to_have_url(re.compile(r"#/functions/[0-9a-f-]{36}$"))  # type: ignore[arg-type]
    url: str = page.url  # type: ignore[attr-defined]
    return url.rsplit("/", 1)[1]


async def set_code(page: object, code: str) -> None:
    await page.fill("#code", code)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ tests


async def test_page_loads_clean_offline_and_prefilled(
    server: ServerProcess, open_page: Callable[..., object]
) -> None:
    page, watch = await open_page(server.url)
    await wait_healthy(page)
    code = await page.input_value("#code")
    assert code.startswith('// index.js\nconsole.log("🚀 Function starting...");')
    assert "Vortex.return(result);" in code
    assert await page.input_value("#filename") == "index.js"
    # the gutter has one number per line of the example
    assert await page.locator(".gutter-inner div").count() == code.count("\n") + 1
    await expect(page.locator("#health-detail")).to_contain_text("workers")
    await expect(page.locator("#stat-workers")).to_have_text("2 / 2")
    await page.wait_for_timeout(300)
    watch.assert_clean()
    scripts = [url for url in watch.responses if url.endswith(".js")]
    assert scripts, "no JavaScript module was loaded"
    for url in scripts:
        assert watch.responses[url]["content-type"].startswith("text/javascript"), url
    index = watch.responses[server.url + "/"]
    assert "default-src 'self'" in index["content-security-policy"]
    await page.context.close()


async def test_deploy_and_run_streams_console_live(
    server: ServerProcess, open_page: Callable[..., object], http: aiohttp.ClientSession
) -> None:
    page, watch = await open_page(server.url)
    await wait_healthy(page)

    # Deploy the example as it is prefilled: it shows up in the list.
    await page.click("#deploy-btn")
    function_id = await current_function_id(page)
    item = page.locator(f'.fn-item[data-id="{function_id}"]')
    await expect(item).to_be_visible()
    await expect(item).to_have_attribute("aria-current", "page")
    await expect(page.locator("#fn-badge")).to_have_text("Deployed")
    async with http.get("/functions") as response:
        listed = [fn["id"] for fn in (await response.json())["functions"]]
    assert function_id in listed

    # Run it: console lines, then the return value and the time.
    await page.click("#run-btn")
    await expect(page.locator("#run-status")).to_have_attribute("data-state", "succeeded")
    console = page.locator("#run-console")
    await expect(console).to_contain_text("🚀 Function starting...")
    await expect(console).to_contain_text('"message": "Hello from Vortex!"')
    output = page.locator("#run-output")
    await expect(output).to_contain_text('"computed": [')
    await expect(output).to_contain_text('"message": "Hello from Vortex!"')
    await expect(page.locator("#run-status")).to_contain_text(re.compile(r"\d+(\.\d+)? ms"))
    # The run carried the page's run id (X-Vortex-Run-Id): the server remembers it.
    shown = (await page.locator("#run-status .status-run").inner_text()).removeprefix("run ")
    async with http.get(f"/functions/{function_id}") as response:
        last_run = (await response.json())["last_run"]
    assert last_run["run_id"].startswith(shown)
    await expect(item.locator(".fn-last")).to_contain_text("ms")
    await snap(page, "run-example-1280x800")

    # A slower function: its first line is on screen while the run is still going.
    await set_code(page, SLOW_FUNCTION)
    await expect(page.locator("#run-label")).to_have_text("Deploy & run")
    # Watch from inside the page, so polling intervals cannot blur the order of events.
    # (The console still shows the example's run: the watcher waits for this run's lines.)
    await page.evaluate(FIRST_LINE_WATCHER)
    await page.click("#run-btn")
    await page.wait_for_function("() => window.firstLineSeen !== null", timeout=10_000)
    await expect(page.locator("#run-status .status-run")).not_to_have_text(f"run {shown}")
    await expect(page.locator("#run-status")).to_have_attribute("data-state", "succeeded")
    seen = await page.evaluate("window.firstLineSeen")
    assert seen == {"state": "running", "visible": True, "later_line": False}, seen
    await expect(console.locator(".log-warn")).to_contain_text("Still here after 800 ms")
    await expect(output).to_contain_text('"slept": 800')
    run_ms = await page.locator("#run-status .status-chip").first.inner_text()
    assert re.fullmatch(r"\d+ ms|\d\.\d\d s", run_ms.strip()), run_ms
    await snap(page, "run-slow-1280x800")
    watch.assert_clean()
    await page.context.close()


async def test_syntax_error_is_shown_at_its_line(
    server: ServerProcess, open_page: Callable[..., object]
) -> None:
    page, watch = await open_page(server.url)
    await wait_healthy(page)
    await set_code(page, 'const greeting = "hi";\nconsole.log(greeting);\nlet broken = ;\n')
    await page.click("#deploy-btn")
    error = page.locator("#editor-error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("SyntaxError")
    await expect(error).to_contain_text("Line 3")
    await expect(error.locator(".ee-snippet")).to_contain_text("let broken = ;")
    mark = page.locator(".line-mark")
    await expect(mark).to_be_visible()
    await expect(page.locator(".gutter-inner div.marked")).to_have_text("3")
    # The marked band sits on line 3 of the editor.
    top = await mark.evaluate("el => el.offsetTop")
    line_height = await page.locator("#code").evaluate(
        "el => parseFloat(getComputedStyle(el).lineHeight)"
    )
    padding = await page.locator("#code").evaluate(
        "el => parseFloat(getComputedStyle(el).paddingTop)"
    )
    assert top == pytest.approx(padding + 2 * line_height)
    # Nothing was deployed: still a draft, URL unchanged.
    await expect(page.locator("#fn-badge")).to_have_text("Draft")
    assert "#/functions/" not in page.url
    await snap(page, "syntax-error-1280x800")
    # Fixing the code and deploying clears the error.
    await set_code(page, 'const greeting = "hi";\nconsole.log(greeting);\nlet fixed = 1;\n')
    await page.click("#deploy-btn")
    await current_function_id(page)
    await expect(error).to_be_hidden()
    await expect(mark).to_be_hidden()
    # Chromium itself notes the refused deploy (400) in the console; the page adds nothing.
    watch.assert_clean("the server responded with a status of 400")
    await page.context.close()


async def test_throwing_function_shows_its_error(
    server: ServerProcess, open_page: Callable[..., object]
) -> None:
    page, watch = await open_page(server.url)
    await wait_healthy(page)
    await set_code(page, THROWING_FUNCTION)
    await page.click("#run-btn")
    await expect(page.locator("#run-status")).to_have_attribute("data-state", "failed")
    card = page.locator("#run-error .error-card")
    await expect(card).to_be_visible()
    await expect(card).to_have_attribute("data-code", "function_error")
    await expect(card.locator(".error-title")).to_have_text("TypeError: cannot parse <nonsense>")
    await expect(card.locator(".error-stack")).to_contain_text("index.js:3:")
    # Lines printed before the failure are there, coloured by level.
    await expect(page.locator("#run-console .log-info")).to_contain_text("about to fail")
    # The line that threw is marked in the editor; a stack frame jumps to it.
    await expect(page.locator(".gutter-inner div.marked")).to_have_text("3")
    await card.locator(".frame-link").first.click()
    await expect(page.locator("#cursor-pos")).to_contain_text("Ln 3")
    await snap(page, "function-error-1280x800")
    watch.assert_clean()
    await page.context.close()


async def test_editor_keys(server: ServerProcess, open_page: Callable[..., object]) -> None:
    page, watch = await open_page(server.url)
    await wait_healthy(page)
    await set_code(page, "")
    textarea = page.locator("#code")
    await textarea.focus()
    await page.keyboard.type("if (true) {")
    await page.keyboard.press("Enter")
    await page.keyboard.type('console.log("x");')
    await page.keyboard.press("Enter")
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.type("}")
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Vortex.return(1);")
    assert await textarea.input_value() == (
        'if (true) {\n  console.log("x");\n}\n  Vortex.return(1);'
    )
    await expect(page.locator(".gutter-inner div")).to_have_count(4)
    await expect(page.locator("#cursor-pos")).to_have_text("Ln 4, Col 20")
    # Ctrl+Enter deploys and runs.
    await page.keyboard.press("Control+Enter")
    await expect(page.locator("#run-status")).to_have_attribute("data-state", "succeeded")
    await expect(page.locator("#run-output")).to_have_text("1")
    await expect(page.locator("#run-console")).to_contain_text("x")
    watch.assert_clean()
    await page.context.close()


async def test_tail_shows_runs_started_elsewhere(
    server: ServerProcess,
    open_page: Callable[..., object],
    http: aiohttp.ClientSession,
    deploy: Callable[..., object],
) -> None:
    function_id = await deploy(  # type: ignore[misc]
        'console.log("tick from", "elsewhere");\nconsole.error("an <b>error</b> line");\n'
        "Vortex.return(1);",
        filename="ticker.js",
    )
    page, watch = await open_page(server.url, path=f"/#/functions/{function_id}")
    await wait_healthy(page)
    await expect(page.locator("#filename")).to_have_value("ticker.js")
    await expect(page.locator("#fn-badge")).to_have_text("Deployed")
    await page.click("#tab-tail")
    await expect(page.locator("#tail-status")).to_have_attribute("data-state", "live")
    await expect(page.locator("#tail-empty")).to_contain_text(f"/execute/{function_id}")

    run_id = str(uuid.uuid4())
    async with http.post(
        f"/execute/{function_id}", headers={"X-Vortex-Run-Id": run_id}
    ) as response:
        assert response.status == 200
    tail = page.locator("#tail-console")
    await expect(tail.locator(".log")).to_have_count(2)
    await expect(tail.locator(".log").first).to_contain_text("tick from elsewhere")
    await expect(tail.locator(".log-error")).to_contain_text("an <b>error</b> line")
    assert await tail.locator("b").count() == 0, "log text must never become markup"
    await expect(tail.locator(".run-tag").first).to_have_text(run_id[:8])

    # Lines that arrive while the Run tab is open are counted on the Live tail tab.
    await page.click("#tab-run")
    async with http.post(f"/execute/{function_id}") as response:
        assert response.status == 200
    await expect(page.locator("#tail-unread")).to_have_text("2")
    await page.click("#tab-tail")
    await expect(tail.locator(".log")).to_have_count(4)
    await expect(page.locator("#tail-unread")).to_be_hidden()
    # Once its lines stop, the list shows the run without waiting for its next poll.
    await expect(page.locator(f'.fn-item[data-id="{function_id}"] .fn-last')).to_contain_text(
        "ms", timeout=3000
    )
    await snap(page, "tail-1280x800")
    watch.assert_clean()
    await page.context.close()


async def test_phone_layout(server: ServerProcess, open_page: Callable[..., object]) -> None:
    page, watch = await open_page(server.url, viewport=PHONE)
    await wait_healthy(page)
    await snap(page, "editor-390x844")
    await page.click("#run-btn")
    await expect(page.locator("#run-status")).to_have_attribute("data-state", "succeeded")
    await expect(page.locator("#run-output")).to_contain_text("Hello from Vortex!")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    await page.locator("#pane-run").scroll_into_view_if_needed()
    await snap(page, "run-390x844")
    await snap(page, "run-390x844-full", full_page=True)
    # The function list is one tap away, in a drawer.
    sidebar = page.locator("#sidebar")
    await page.evaluate("window.scrollTo(0, 0)")
    assert await sidebar.evaluate("el => el.getBoundingClientRect().right <= 0"), (
        "drawer not closed"
    )
    await page.click("#menu-btn")
    await expect(sidebar.locator(".fn-item[aria-current=page]")).to_be_visible()
    await page.wait_for_timeout(300)
    await snap(page, "functions-390x844")
    await page.click("#scrim", position={"x": 370, "y": 400})
    await expect(page.locator("#scrim")).to_be_hidden()
    watch.assert_clean()
    await page.context.close()


SERVE = [sys.executable, "-m", "vortex", "serve", "--host", "127.0.0.1"]


async def test_delete_keeps_the_code_as_a_draft(
    server: ServerProcess, open_page: Callable[..., object], http: aiohttp.ClientSession
) -> None:
    page, watch = await open_page(server.url)
    await wait_healthy(page)
    await set_code(page, 'Vortex.return("short-lived");\n')
    await page.click("#deploy-btn")
    function_id = await current_function_id(page)
    item = page.locator(f'.fn-item[data-id="{function_id}"]')
    await expect(item).to_be_visible()
    delete = page.locator("#delete-btn")
    await delete.click()
    await expect(delete).to_have_class(re.compile("confirming"))
    await expect(delete).to_contain_text("Delete?")
    await delete.click()
    await expect(page.locator("#fn-badge")).to_have_text("Draft")
    await expect(item).to_have_count(0)
    assert await page.input_value("#code") == 'Vortex.return("short-lived");\n'
    assert "#/functions/" not in page.url
    async with http.get(f"/functions/{function_id}") as response:
        assert response.status == 404
    watch.assert_clean()
    await page.context.close()


def start_on_port(old: ServerProcess, tmp: Path) -> ServerProcess:
    """A new ``vortex serve`` on the port (and data) of a stopped one: the server came back."""
    log_path = tmp / f"server-{old.port}-again.log"
    env = {**os.environ, **old.env}
    env.update(
        {
            "VORTEX_DATA_DIR": str(old.data_dir),
            "VORTEX_WORKERS": "2",
            # Its own listener port too: the default (8787) may be another test run's.
            "VORTEX_FUNCTIONS_PORT": str(old.functions_port),
        }
    )
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [*SERVE, "--port", str(old.port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp,
        )
    server = ServerProcess(
        old.port, old.data_dir, process, log_path, old.env, functions_port=old.functions_port
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"vortex serve exited early:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=1) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    stop_and_check(server)
    raise RuntimeError(f"vortex serve did not come back:\n{server.log()}")


async def test_reconnecting_state_when_the_server_goes_away(
    server_factory: Callable[..., ServerProcess],
    open_page: Callable[..., object],
    tmp_path: Path,
) -> None:
    first = server_factory()
    async with (
        aiohttp.ClientSession(base_url=first.url) as http,
        http.post("/deploy", json={"code": 'console.log("hello again");'}) as response,
    ):
        function_id = (await response.json())["function_id"]
    page, watch = await open_page(first.url, viewport=PHONE, path=f"/#/functions/{function_id}")
    await wait_healthy(page)
    await page.click("#tab-tail")
    tail_status = page.locator("#tail-status")
    await expect(tail_status).to_have_attribute("data-state", "live")

    first.stop()
    banner = page.locator("#connection-banner")
    await expect(banner).to_be_visible(timeout=15_000)
    await expect(banner).to_contain_text("Reconnecting")
    await expect(page.locator("#health")).to_have_attribute("data-state", "offline")
    await expect(tail_status).to_have_attribute("data-state", "reconnecting", timeout=15_000)
    await snap(page, "reconnecting-390x844")
    await page.set_viewport_size(LAPTOP)
    await snap(page, "reconnecting-1280x800")

    second = start_on_port(first, tmp_path)
    try:
        await expect(banner).to_be_hidden(timeout=20_000)
        await expect(page.locator("#health")).to_have_attribute("data-state", "healthy")
        await expect(tail_status).to_have_attribute("data-state", "live", timeout=20_000)
        await expect(page.locator(f'.fn-item[data-id="{function_id}"]')).to_be_visible()
        async with (
            aiohttp.ClientSession(base_url=second.url) as http,
            http.post(f"/execute/{function_id}") as response,
        ):
            assert response.status == 200
        await expect(page.locator("#tail-console")).to_contain_text("hello again")
        assert not watch.page_errors, watch.page_errors
        assert not watch.foreign_requests(), watch.foreign_requests()
        await page.context.close()
    finally:
        stop_and_check(second)


async def test_a_named_function_shows_its_name_and_active_version(
    server: ServerProcess,
    open_page: Callable[..., object],
    deploy: Callable[..., object],
) -> None:
    name = f"dash-{uuid.uuid4().hex[:8]}"
    await deploy("Vortex.return(1);", name=name)  # type: ignore[misc]
    function_id = await deploy("Vortex.return(2);", name=name)  # type: ignore[misc]
    page, watch = await open_page(server.url)
    await wait_healthy(page)
    item = page.locator(f'.fn-item[data-id="{function_id}"]')
    await expect(item.locator(".fn-name")).to_have_text(f"{name} · v2")
    watch.assert_clean()
    await page.context.close()


async def test_a_deploy_from_the_page_keeps_the_settings(
    server: ServerProcess,
    open_page: Callable[..., object],
    deploy: Callable[..., object],
    http: aiohttp.ClientSession,
) -> None:
    """The page deploys code and a file name only: the new version keeps env, secrets, allowed
    hosts and schedule, and the page says so before the deploy."""
    name = f"keep-{uuid.uuid4().hex[:8]}"
    settings = {
        "env": {"REGION": "eu"},
        "secrets": {"TOKEN": "t"},
        "allow_hosts": ["api.example.com"],
        "schedule": "0 9 * * *",
    }
    await deploy("Vortex.return(1);", name=name, **settings)  # type: ignore[misc]
    page, watch = await open_page(server.url, path=f"#/functions/{name}")
    await wait_healthy(page)
    await expect(page.locator("#code")).to_have_value("Vortex.return(1);")
    await set_code(page, "Vortex.return(Vortex.env.REGION);")
    note = page.locator("#deploy-note")
    await expect(note).to_have_text(
        "Only the code changes. The new version keeps env REGION · secrets TOKEN"
        " · allowed hosts api.example.com · schedule 0 9 * * * (UTC)"
    )
    await snap(page, "deploy-keeps-settings-1280x800")
    await page.click("#deploy-btn")
    await expect(page.locator("#fn-name-chip .name-version")).to_have_text("v2")
    async with http.get(f"/functions/{name}") as response:
        shown = await response.json()
    assert shown["version"] == 2 and shown["code"] == "Vortex.return(Vortex.env.REGION);"
    assert (shown["env"], shown["secrets"], shown["allow_hosts"], shown["schedule"]) == (
        {"REGION": "eu"},
        ["TOKEN"],
        ["api.example.com"],
        "0 9 * * *",
    )
    # Edited again, the page still knows what the version it shows has.
    await expect(note).to_be_hidden()
    await set_code(page, "Vortex.return(3);")
    await expect(note.locator(".dn-item")).to_have_count(4)
    watch.assert_clean()
    await page.context.close()
    async with http.delete(f"/functions/{name}") as response:
        assert response.status == 200


def version_code(n: int) -> str:
    return f'console.log("hello from v{n}");\nVortex.return({{ version: {n} }});\n'


FAILING_V3 = 'console.warn("v3 is about to fail");\nthrow new RangeError("v3 is broken");\n'


async def test_versions_rollback_and_history(
    server: ServerProcess, open_page: Callable[..., object], http: aiohttp.ClientSession
) -> None:
    name = f"greet-{uuid.uuid4().hex[:6]}"
    page, watch = await open_page(server.url)
    await wait_healthy(page)
    chip = page.locator("#fn-name-chip")
    status = page.locator("#run-status")
    output = page.locator("#run-output")

    # Version 1: a draft given a name in the editor's header.
    await set_code(page, version_code(1))
    await page.fill("#fn-name", name)
    await page.click("#deploy-btn")
    await expect(page).to_have_url(re.compile(f"#/functions/{name}$"))
    await expect(chip.locator(".mono")).to_have_text(name)
    await expect(chip.locator(".name-version")).to_have_text("v1")
    # Version 2: the same function edited and deployed again.
    await set_code(page, version_code(2))
    await expect(page.locator("#fn-badge")).to_have_text("Modified")
    await expect(page.locator("#fn-sub-text")).to_have_text("deploying adds a version")
    await page.click("#run-btn")
    await expect(status).to_have_attribute("data-state", "succeeded")
    await expect(output).to_contain_text('"version": 2')
    await expect(chip.locator(".name-version")).to_have_text("v2")
    item = page.locator(f'.fn-item[data-ref="{name}"]')
    await expect(item.locator(".fn-name")).to_have_text(f"{name} · v2")

    # The Versions tab: two versions, the newest active.
    await page.click("#tab-versions")
    rows = page.locator("#versions-list .vrow")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_have_attribute("data-version", "2")
    await expect(rows.nth(0)).to_have_attribute("data-active", "true")
    await expect(rows.nth(0).locator(".badge")).to_have_text("Active")
    await expect(rows.nth(0).locator(".vaction")).to_have_count(0)
    await expect(page.locator("#versions-status")).to_contain_text("v2 active")
    await snap(page, "versions-1280x800")

    # Each version's code is one click away.
    v1 = page.locator('#versions-list .vrow[data-version="1"]')
    await v1.locator(".vcode-btn").click()
    await expect(v1.locator("pre.vcode")).to_have_text(version_code(1))
    await snap(page, "versions-code-1280x800")
    await v1.locator(".vcode-btn").click()
    await expect(v1.locator(".vcode")).to_have_count(0)

    # Rolling back asks first, and changes nothing until confirmed.
    await expect(v1.locator(".vaction")).to_have_text("Roll back")
    await v1.locator(".vaction").click()
    confirm = v1.locator(".vconfirm")
    await expect(confirm).to_contain_text(f"Make v1 the active version of {name}?")
    await expect(v1.locator(".vaction")).to_have_count(0)
    await page.wait_for_timeout(250)  # the confirmation fades in
    await snap(page, "versions-confirm-1280x800")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(confirm).to_have_count(0)
    async with http.get(f"/functions/{name}/versions") as response:
        assert (await response.json())["active"] == 2
    await v1.locator(".vaction").click()
    await page.keyboard.press("Escape")  # the confirmation has the focus: Escape cancels too
    await expect(confirm).to_have_count(0)
    await expect(v1.locator(".vaction")).to_be_focused()
    await v1.locator(".vaction").click()
    await confirm.get_by_role("button", name="Roll back to v1").click()
    # The switch shows at once: the pane, the header, the editor, the list.
    await expect(v1).to_have_attribute("data-active", "true")
    await expect(v1.locator(".badge")).to_have_text("Active")
    v2 = page.locator('#versions-list .vrow[data-version="2"]')
    await expect(v2.locator(".vaction")).to_have_text("Roll forward")
    await expect(chip.locator(".name-version")).to_have_text("v1")
    await expect(page.locator("#code")).to_have_value(version_code(1))
    await expect(page.locator("#fn-badge")).to_have_text("Deployed")
    await expect(item.locator(".fn-name")).to_have_text(f"{name} · v1")
    async with http.get(f"/functions/{name}/versions") as response:
        assert (await response.json())["active"] == 1

    # Running now runs version 1.
    await page.click("#run-btn")
    await expect(page.locator("#tab-run")).to_have_attribute("aria-selected", "true")
    await expect(status).to_have_attribute("data-state", "succeeded")
    await expect(output).to_contain_text('"version": 1')
    await expect(status.locator(".run-version")).to_have_text("v1")
    await expect(page.locator("#run-console")).to_contain_text("hello from v1")
    await snap(page, "rolled-back-run-1280x800")

    # A third version that throws: deploying after a rollback adds v3.
    await set_code(page, FAILING_V3)
    await page.click("#run-btn")
    await expect(status).to_have_attribute("data-state", "failed")
    await expect(chip.locator(".name-version")).to_have_text("v3")

    # The History tab: every run of every version, newest first, with its outcome.
    await page.click("#tab-history")
    runs = page.locator("#history-list .hrun")
    await expect(runs).to_have_count(3)
    newest = runs.nth(0)
    await expect(newest).to_have_attribute("data-outcome", "fail")
    await expect(newest.locator(".hr-outcome")).to_have_text("function_error")
    await expect(newest.locator(".hr-ver")).to_have_text("v3")
    await expect(runs.nth(1).locator(".hr-ver")).to_have_text("v1")
    await expect(runs.nth(1).locator(".hr-outcome")).to_have_text("OK")
    await expect(runs.nth(1).locator(".hr-trigger")).to_have_text("API")
    await expect(runs.nth(1).locator(".hr-dur")).to_contain_text("ms")
    await expect(runs.nth(1).locator(".hr-cpu")).to_contain_text("ms")
    await expect(runs.nth(2).locator(".hr-ver")).to_have_text("v2")
    await expect(page.locator("#history-status")).to_contain_text("3 runs")
    # Opening a row shows that run's logs and error, as the server kept them.
    await newest.locator(".hrow").click()
    await expect(newest.locator(".hrow")).to_have_attribute("aria-expanded", "true")
    detail = newest.locator(".hdetail")
    await expect(detail.locator(".log-warn")).to_contain_text("v3 is about to fail")
    await expect(detail.locator(".error-card")).to_have_attribute("data-code", "function_error")
    await expect(detail.locator(".error-title")).to_have_text("RangeError: v3 is broken")
    await runs.nth(1).locator(".hrow").click()
    await expect(runs.nth(1).locator(".hdetail .log")).to_have_text(re.compile("hello from v1"))
    await snap(page, "history-1280x800")

    # A run started elsewhere shows up while the tab is open, open rows stay open.
    async with http.post(f"/execute/{name}") as response:
        assert response.status == 200
    await expect(runs).to_have_count(4, timeout=10_000)
    await expect(runs.nth(1).locator(".hdetail")).to_be_visible()

    # On a phone: the same panes, no sideways scrolling.
    await page.set_viewport_size(PHONE)
    await page.locator(".output-panel").evaluate("el => el.scrollIntoView()")
    await page.wait_for_timeout(200)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    await snap(page, "history-390x844")
    await page.click("#tab-versions")
    await expect(rows).to_have_count(3)
    await page.locator('#versions-list .vrow[data-version="2"] .vaction').click()
    await page.locator(".output-panel").evaluate("el => el.scrollIntoView()")
    await page.wait_for_timeout(250)
    await snap(page, "versions-390x844")
    await page.evaluate("window.scrollTo(0, 0)")
    await snap(page, "named-editor-390x844")
    # The tail by name, with four tabs: its tools sit in its status bar, not in the tab bar.
    await page.click("#tab-tail")
    await expect(page.locator("#tail-status")).to_have_attribute("data-state", "live")
    await expect(page.locator("#tail-status #tail-pause")).to_be_visible()
    await expect(page.locator("#tail-status")).to_contain_text("all versions")
    tabs = page.locator(".output-panel .tabs")
    assert await tabs.evaluate("el => el.scrollWidth <= el.clientWidth"), "the tab bar overflows"
    await page.locator(".output-panel").evaluate("el => el.scrollIntoView()")
    await snap(page, "tail-named-390x844")
    watch.assert_clean()
    await page.context.close()


async def test_a_server_with_keys_needs_the_key_in_the_dashboard(
    server_factory: Callable[..., ServerProcess], open_page: Callable[..., object]
) -> None:
    from tests.auth.test_namespaces import make_key

    server = server_factory(workers=1)
    key = make_key(server, "acme")
    server.wait_for_keys(key)
    page, watch = await open_page(server.url, viewport=PHONE)
    gate = page.locator("#key-gate")
    await expect(gate).to_be_visible()
    await expect(page.locator("#key-title")).to_have_text("API key required")
    await expect(page.locator("#key-cancel")).to_be_hidden()
    assert await page.locator("#app").evaluate("el => el.inert"), "the page behind the dialog"
    await expect(page.locator("#key-input")).to_be_focused()
    await snap(page, "api-key-390x844")

    # A wrong key is refused and opens no session.
    await page.fill("#key-input", "vx_acme_" + "x" * 43)
    await page.click("#key-submit")
    await expect(page.locator("#key-error")).to_contain_text("not valid")
    assert await page.evaluate("document.cookie") == ""
    await page.set_viewport_size(LAPTOP)
    await snap(page, "api-key-refused-1280x800")

    await page.fill("#key-input", key)
    await page.press("#key-input", "Enter")
    await expect(gate).to_be_hidden()
    await expect(page.locator("#key-btn")).to_contain_text("acme")
    await wait_healthy(page)
    # The browser keeps a session, never the key (tests/test_origins.py looks closer).
    assert await page.input_value("#key-input") == ""
    assert key not in await page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert key not in await page.evaluate("document.cookie")

    # Deploy and run: HTTP carries the session cookie and the CSRF token, WebSockets too.
    await set_code(page, 'console.log("keyed line");\nVortex.return("with a key");\n')
    await page.click("#run-btn")
    await expect(page.locator("#run-status")).to_have_attribute("data-state", "succeeded")
    await expect(page.locator("#run-output")).to_contain_text("with a key")
    function_id = await current_function_id(page)
    await page.click("#tab-tail")
    await expect(page.locator("#tail-status")).to_have_attribute("data-state", "live")
    async with (
        aiohttp.ClientSession(base_url=server.url) as http,
        http.post(f"/execute/{function_id}", headers={"Authorization": f"Bearer {key}"}) as answer,
    ):
        assert answer.status == 200
    await expect(page.locator("#tail-console")).to_contain_text("keyed line")
    await page.click("#tab-history")
    await expect(page.locator("#history-list .hrun")).to_have_count(2)
    await snap(page, "api-key-connected-1280x800")

    # The session is remembered: a reload asks for nothing.
    await page.reload()
    await wait_healthy(page)
    await expect(page.locator(f'.fn-item[data-id="{function_id}"]')).to_be_visible()
    await expect(gate).to_be_hidden()
    await expect(page.locator("#key-btn")).to_contain_text("acme")

    # Logging out brings the question back.
    await page.click("#key-btn")
    await expect(gate).to_be_visible()
    await expect(page.locator("#key-title")).to_have_text("API key")
    await page.click("#key-forget")
    await expect(gate).to_be_visible()
    await expect(page.locator("#key-title")).to_have_text("API key required")
    assert "vortex_csrf" not in await page.evaluate("document.cookie")
    assert await page.context.cookies() == []
    # Chromium notes every refused request (401) and the refused WebSocket in its console.
    watch.assert_clean("status of 401", "Unexpected response code: 401")
    await page.context.close()


async def test_a_key_kept_by_an_older_dashboard_is_traded_for_a_session(
    server_factory: Callable[..., ServerProcess], open_page: Callable[..., object]
) -> None:
    """Dashboards before sessions kept the key in localStorage: the page takes it out at once."""
    from tests.auth.test_namespaces import make_key

    server = server_factory(workers=1)
    key = make_key(server, "acme")
    server.wait_for_keys(key)
    page, watch = await open_page(server.url)
    await expect(page.locator("#key-gate")).to_be_visible()
    await page.evaluate("key => localStorage.setItem('vortex.apiKey', key)", key)
    await page.reload()
    await wait_healthy(page)
    await expect(page.locator("#key-gate")).to_be_hidden()
    await expect(page.locator("#key-btn")).to_contain_text("acme")
    assert await page.evaluate("localStorage.getItem('vortex.apiKey')") is None
    watch.assert_clean("status of 401", "Unexpected response code: 401")
    await page.context.close()


async def test_a_version_link_opens_the_function_and_follows_a_rollback_made_elsewhere(
    server: ServerProcess,
    open_page: Callable[..., object],
    http: aiohttp.ClientSession,
    deploy: Callable[..., object],
) -> None:
    name = f"elsewhere-{uuid.uuid4().hex[:6]}"
    first = await deploy(version_code(1), name=name)  # type: ignore[misc]
    await deploy(version_code(2), name=name)  # type: ignore[misc]
    # A link to one version's id opens the function, by its name, on its active version.
    page, watch = await open_page(server.url, path=f"/#/functions/{first}")
    await wait_healthy(page)
    await expect(page).to_have_url(re.compile(f"#/functions/{name}$"))
    await expect(page.locator("#code")).to_have_value(version_code(2))
    await expect(page.locator("#fn-name-chip .name-version")).to_have_text("v2")
    await page.click("#tab-versions")
    await expect(page.locator("#versions-list .vrow")).to_have_count(2)

    # The CLI (or another page) rolls back: this page follows within a few seconds.
    async with http.post(f"/functions/{name}/rollback") as response:
        assert (await response.json())["active"] == 1
    await expect(page.locator("#code")).to_have_value(version_code(1), timeout=10_000)
    await expect(page.locator("#fn-name-chip .name-version")).to_have_text("v1")
    await expect(page.locator('#versions-list .vrow[data-version="1"]')).to_have_attribute(
        "data-active", "true"
    )
    watch.assert_clean()
    await page.context.close()


async def test_the_list_loads_more_on_scroll_and_searches_on_the_server(
    server_factory: Callable[..., ServerProcess], open_page: Callable[..., object]
) -> None:
    server = server_factory(workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:

        async def deploy_named(i: int) -> None:
            body = {"code": "Vortex.return(1)", "name": f"many-{i:03d}"}
            async with http.post("/deploy", json=body) as response:
                assert response.status == 200, await response.text()

        for start in range(0, 130, 10):
            await asyncio.gather(*(deploy_named(i) for i in range(start, start + 10)))
    page, watch = await open_page(server.url)
    await wait_healthy(page)
    items = page.locator(".fn-item")
    await expect(items).to_have_count(100)
    await expect(page.locator("#fn-count")).to_have_text("100+")
    await expect(page.locator("#fn-more")).to_be_visible()
    await snap(page, "functions-more-1280x800")

    # Scrolled to the end of the list, the next page loads by itself.
    await page.locator("#fn-more").scroll_into_view_if_needed()
    await expect(items).to_have_count(130)
    await expect(page.locator("#fn-count")).to_have_text("130")
    await expect(page.locator("#fn-more")).to_be_hidden()

    # A search asks the server, which answers with the names that start with it.
    await page.fill("#fn-search", "many-12")
    await expect(items).to_have_count(10)
    names = await page.locator(".fn-name-text").all_inner_texts()
    assert sorted(names) == [f"many-{i}" for i in range(120, 130)]
    await page.fill("#fn-search", "nothing-like-it")
    await expect(page.locator("#fn-nomatch")).to_be_visible()
    await expect(items).to_have_count(0)
    await page.fill("#fn-search", "")
    await expect(items).to_have_count(100)
    requests = [url for url in watch.requests if "/functions?" in url]
    assert any("prefix=many-12" in url for url in requests), requests
    assert any("cursor=" in url for url in requests), requests
    watch.assert_clean()
    await page.context.close()
