"""``vortex deploy`` of a project with ``assets`` in its wrangler configuration: the files are
collected as wrangler collects them, only those the server lacks are uploaded, and the site
is served on the listener; with no ``main``, a Worker of one line serves them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.server import ServerProcess
from tests.test_cli_wrangler import Invoke, invoke, write
from vortex.cli.assetfiles import collect
from vortex.cli.wrangler import load_config

__all__ = ["invoke"]

WORKER = {
    "src/index.js": """export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/api/')) return Response.json({ api: url.pathname });
    return env.ASSETS.fetch(request);
  },
};
""",
}
# Contents of this module alone: the shared server may hold other tests' files already.
RUN = uuid.uuid4().hex[:8]
HOME = f"<h1>home {RUN}</h1>"
PUBLIC = {
    "public/index.html": HOME,
    "public/about.html": f"<h1>about {RUN}</h1>",
    "public/css/site.css": f"h1 {{ color: red }} /* {RUN} */",
    "public/app.js.map": "{}",
    "public/drafts/wip.html": "secret draft",
    "public/.env": "TOKEN=secret",
    "public/.DS_Store": "junk",
    "public/.well-known/security.txt": "Contact: me",
    "public/_headers": "/*\n  X-Frame-Options: DENY",
    "public/_redirects": "/old-about /about 301\n",
    "public/.assetsignore": "*.map\ndrafts/\n",
}


def fetch(server: ServerProcess, name: str, path: str, **headers: str) -> tuple[int, bytes]:
    port = server.functions_port
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": f"{name}.localhost:{port}", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def header(server: ServerProcess, name: str, path: str, wanted: str) -> str | None:
    port = server.functions_port
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Host": f"{name}.localhost:{port}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        value: str | None = response.headers.get(wanted)
        return value


def test_the_assets_table_is_read(tmp_path: Path) -> None:
    path = tmp_path / "wrangler.toml"
    path.write_text(
        'name = "x"\nmain = "src/index.js"\n[assets]\ndirectory = "./public"\nbinding = "ASSETS"\n'
        'not_found_handling = "single-page-application"\nrun_worker_first = ["/api/*"]\n'
    )
    config = load_config(path)
    assert "assets" not in config.unused
    assert config.assets is not None
    assert config.assets.directory == tmp_path / "public"
    assert config.assets.binding == "ASSETS"
    assert config.assets.settings == {
        "not_found_handling": "single-page-application",
        "run_worker_first": ["/api/*"],
    }


def test_files_are_collected_as_wrangler_collects_them(tmp_path: Path) -> None:
    write(tmp_path, PUBLIC)
    collected = collect(tmp_path / "public")
    assert [f.path for f in collected.files] == [
        "/about.html",
        "/index.html",
        "/.well-known/security.txt",
        "/css/site.css",
    ]
    assert collected.skipped_workers_files == ()
    assert collected.headers == "/*\n  X-Frame-Options: DENY"
    assert collected.redirects == "/old-about /about 301\n"


def test_deploy_uploads_what_the_server_lacks_and_the_site_is_served(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    name = f"site-{uuid.uuid4().hex[:8]}"
    config = {
        "name": name,
        "main": "src/index.js",
        "assets": {
            "directory": "./public",
            "binding": "ASSETS",
            "not_found_handling": "single-page-application",
        },
    }
    write(tmp_path, {**WORKER, **PUBLIC, "wrangler.json": json.dumps(config)})
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    assert "Uploaded 4 of 4 assets from" in result.stdout
    assert "  + /index.html" in result.stdout
    assert "not uploaded" not in result.stderr
    assert fetch(server, name, "/") == (200, HOME.encode())
    # _headers is applied to the assets' answers, not to the code's
    assert header(server, name, "/about", "X-Frame-Options") == "DENY"
    assert header(server, name, "/api/users", "X-Frame-Options") is None
    assert fetch(server, name, "/about") == (200, PUBLIC["public/about.html"].encode())
    # _redirects too (urllib follows the 301)
    assert fetch(server, name, "/old-about") == (200, PUBLIC["public/about.html"].encode())
    assert fetch(server, name, "/css/site.css") == (200, PUBLIC["public/css/site.css"].encode())
    assert fetch(server, name, "/api/users") == (200, b'{"api":"/api/users"}')
    # Not uploaded: the SPA's shell answers those paths instead.
    for path in ["/.env", "/app.js.map", "/drafts/wip.html"]:
        assert fetch(server, name, path) == (200, HOME.encode()), path
    # Again, with one file changed: that one is uploaded, the rest was there.
    (tmp_path / "public/about.html").write_text(f"<h1>about us {RUN}</h1>")
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    assert "Uploaded 1 of 4 assets" in result.stdout
    assert "3 unchanged, on the server already" in result.stdout
    assert "  + /about.html" in result.stdout
    assert fetch(server, name, "/about") == (200, f"<h1>about us {RUN}</h1>".encode())
    result = invoke("deploy", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["assets"] == {"files": 4, "uploaded": []}


@pytest.mark.parametrize("form", ["wrangler.toml", "wrangler.jsonc"])
def test_a_project_of_assets_alone_deploys_with_a_worker_that_serves_them(
    invoke: Invoke, server: ServerProcess, tmp_path: Path, form: str
) -> None:
    name = f"static-{uuid.uuid4().hex[:8]}"
    if form == "wrangler.toml":
        text = f'name = "{name}"\n[assets]\ndirectory = "./dist"\nnot_found_handling = "404-page"\n'
    else:
        text = (
            f'{{ "name": "{name}", // an assets-only project\n'
            '  "assets": { "directory": "./dist", "not_found_handling": "404-page", }, }'
        )
    # Of this test alone: the shared server would have another run's files already.
    site = {"dist/index.html": f"<h1>{name}</h1>", "dist/404.html": f"<h1>lost {name}</h1>"}
    write(tmp_path, {**site, form: text})
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"No main in {form}: deploying the assets with a Worker" in result.stdout
    assert "Uploaded 2 of 2 assets" in result.stdout
    assert fetch(server, name, "/") == (200, f"<h1>{name}</h1>".encode())
    assert fetch(server, name, "/nowhere") == (404, f"<h1>lost {name}</h1>".encode())
    etag = f'"{collect(tmp_path / "dist").files[1].digest[:32]}"'
    assert fetch(server, name, "/", **{"If-None-Match": etag}) == (304, b"")


def test_a_missing_assets_directory_is_a_usage_error(invoke: Invoke, tmp_path: Path) -> None:
    write(tmp_path, {"wrangler.toml": 'name = "nothing"\n[assets]\ndirectory = "./nope"\n'})
    result = invoke("deploy")
    assert result.exit_code == 2, result.output
    assert "assets.directory" in result.stderr
