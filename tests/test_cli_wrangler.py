"""``vortex deploy`` of a Worker project: wrangler configuration, and bundling as wrangler does.

The packages here are made by the tests in a node_modules of their own (no npm needed); the
real Hono and itty-router apps are deployed the same way in tests/test_workers_apps.py.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.server import ServerProcess
from tests.test_wasm import ADD_WASM
from vortex.cli.bundle import bundle
from vortex.cli.errors import CLIError, ExitCode
from vortex.cli.main import cli
from vortex.cli.project import Options, plan_deploy
from vortex.cli.wrangler import find_config, load_config, read_dev_vars, strip_jsonc

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``vortex ARGS`` in ``tmp_path`` against the shared server."""
    monkeypatch.chdir(tmp_path)

    def _invoke(*args: str) -> Result:
        env: dict[str, str | None] = {"VORTEX_URL": server.url, "NO_COLOR": None}
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        assert "Traceback" not in result.output + result.stderr
        return result

    return _invoke


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def get(url: str, host: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.load(response)


def call(server: ServerProcess, name: str, path: str) -> tuple[int, Any]:
    """``GET http://{name}.localhost:PORT{path}``, sent to 127.0.0.1 (urllib does not resolve
    ``*.localhost`` itself)."""
    port = server.functions_port
    return get(f"http://127.0.0.1:{port}{path}", host=f"{name}.localhost:{port}")


def function_info(server: ServerProcess, ref: str) -> dict[str, Any]:
    return get(f"{server.url}/functions/{ref}")[1]  # type: ignore[no-any-return]


PACKAGES = {
    # "exports" conditions: wrangler's "workerd" wins over "node" and "default"
    "node_modules/runtime-name/package.json": json.dumps(
        {
            "name": "runtime-name",
            "exports": {
                ".": {"node": "./node.js", "workerd": "./workerd.js", "default": "./default.js"}
            },
        }
    ),
    "node_modules/runtime-name/node.js": "export const runtime = 'node';\n",
    "node_modules/runtime-name/workerd.js": "export const runtime = 'workerd';\n",
    "node_modules/runtime-name/default.js": "export const runtime = 'default';\n",
    # main fields: "browser" before "module" before "main"
    "node_modules/@scope/fields/package.json": json.dumps(
        {"name": "@scope/fields", "main": "./main.js", "module": "./module.js", "browser": "./b.js"}
    ),
    "node_modules/@scope/fields/main.js": "exports.field = 'main';\n",
    "node_modules/@scope/fields/module.js": "export const field = 'module';\n",
    "node_modules/@scope/fields/b.js": "export const field = 'browser';\n",
}
WORKER = {
    "src/index.ts": """
import { runtime } from "runtime-name";
import { field } from "@scope/fields";
import { shout } from "./lib";

interface Env { GREETING: string; COUNT: string }

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    return Response.json({
      path: url.pathname,
      runtime,
      field,
      greeting: shout(env.GREETING ?? "none"),
      count: env.COUNT ?? null,
      nodeEnv: process.env.NODE_ENV,
    });
  },
};
""",
    "src/lib.ts": "export const shout = (s: string): string => s.toUpperCase() + '!';\n",
}
JSONC = """// wrangler.jsonc, as `npm create cloudflare` writes it
{
  "$schema": "node_modules/wrangler/config-schema.json",
  "name": "NAME",
  "main": "src/index.ts", /* the entry */
  "compatibility_date": "2024-11-01",
  "vars": {
    "GREETING": "hi // not a comment",
    "COUNT": 2,
  },
  "observability": { "enabled": true },
}
"""


# ------------------------------------------------------------------------------ reading config


def test_jsonc_comments_and_trailing_commas_go_strings_stay() -> None:
    text = (
        '{\n  // a comment\n  "url": "https://example.com/a//b", /* block\n over lines */\n'
        '  "quote": "say \\"//hi\\", ok",\n  "odd": "a,}", "list": [1, 2, /* c */ ],\n}\n'
    )
    stripped = strip_jsonc(text)
    assert json.loads(stripped) == {
        "url": "https://example.com/a//b",
        "quote": 'say "//hi", ok',
        "odd": "a,}",
        "list": [1, 2],
    }
    # lines stay where they were, so an error still points into the file
    assert stripped.count("\n") == text.count("\n")


def test_a_broken_jsonc_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "wrangler.jsonc").write_text('{\n  // ok\n  "name": "x"\n  "main": 1\n}\n')
    with pytest.raises(CLIError) as raised:
        load_config(tmp_path / "wrangler.jsonc")
    assert raised.value.exit_code == ExitCode.USAGE
    assert "wrangler.jsonc: Expecting ',' delimiter at line 4" in raised.value.message


def test_toml_gives_what_vortex_uses_and_lists_the_rest(tmp_path: Path) -> None:
    (tmp_path / "wrangler.toml").write_text(
        """
name = "shop"
main = "src/index.ts"
compatibility_date = "2024-11-01"
compatibility_flags = ["nodejs_compat"]
route = "shop.example.com/*"
routes = [{ pattern = "api.example.com/*", zone_name = "example.com" }]

[vars]
MODE = "production"
LIMITS = { max = 3 }

[[kv_namespaces]]
binding = "KV"
id = "0f2ac74b498b48028cb68387c421e279"

[[kv_namespaces]]
binding = "SESSIONS"
id = "1f2ac74b498b48028cb68387c421e279"

[triggers]
crons = ["*/5 * * * *"]

[[queues.producers]]
binding = "JOBS"
queue = "jobs"

[env.staging]
name = "shop-staging"
"""
    )
    config = load_config(tmp_path / "wrangler.toml")
    assert (config.name, config.main) == ("shop", "src/index.ts")
    assert config.vars == {"MODE": "production", "LIMITS": '{"max":3}'}
    assert config.kv_bindings == ("KV", "SESSIONS")
    assert config.crons == ("*/5 * * * *",)
    assert config.routes == ("shop.example.com/*", "api.example.com/*")
    assert config.unused == ("env", "queues")
    assert config.notes == (
        'vars.LIMITS is not a string: env.LIMITS will be its JSON text ({"max":3}); '
        "Vortex variables are strings",
    )


def test_wrangler_json_is_found_before_jsonc_and_toml(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None
    for name in ["wrangler.toml", "wrangler.jsonc", "wrangler.json"]:
        (tmp_path / name).write_text("{}")
        assert find_config(tmp_path) == tmp_path / name


# ------------------------------------------------------------------------------------ planning


def project(tmp_path: Path, config: str, name: str = "wrangler.toml") -> Path:
    write(tmp_path, {"src/index.js": "export default { fetch() {} };\n", name: config})
    return tmp_path


def test_several_crons_are_deployed_unless_the_command_line_gives_some(tmp_path: Path) -> None:
    folder = project(
        tmp_path, 'main = "src/index.js"\n[triggers]\ncrons = ["0 * * * *", "@daily"]\n'
    )
    assert plan_deploy(Options(None), folder).schedules == ("0 * * * *", "@daily")
    plan = plan_deploy(Options(None, schedules=("*/10 * * * *",)), folder)
    assert plan.schedules == ("*/10 * * * *",)
    assert plan.warnings == (
        "triggers.crons of wrangler.toml not used: --schedule '*/10 * * * *' wins",
    )


def test_the_command_line_wins_over_the_config(tmp_path: Path) -> None:
    folder = project(
        tmp_path,
        'name = "from-file"\nmain = "src/index.js"\n'
        '[vars]\nA = "file"\nB = "file"\nTOKEN = "not secret"\n'
        '[[kv_namespaces]]\nbinding = "KV"\nid = "x"\n',
    )
    plan = plan_deploy(
        Options(None, name="from-cli", env={"A": "cli"}, secrets={"TOKEN": "s"}), folder
    )
    assert (plan.name, plan.env) == ("from-cli", {"A": "cli", "B": "file"})
    assert plan.warnings == ()  # the KV binding is the function's own namespace
    assert plan.bundled_files == 0  # nothing imported: uploaded as it is
    assert (plan.filename, plan.entry) == ("index.js", folder / "src/index.js")


def test_a_config_name_vortex_refuses_names_the_file(tmp_path: Path) -> None:
    # Workers take `my_worker`; the server's refusal did not say the name came from the file.
    folder = project(tmp_path, 'name = "my_worker"\nmain = "src/index.js"\n')
    with pytest.raises(CLIError) as raised:
        plan_deploy(Options(None), folder)
    assert raised.value.exit_code == ExitCode.USAGE
    assert raised.value.code == "invalid_config"
    assert raised.value.message.startswith("wrangler.toml: \"name\" 'my_worker' is not a")
    assert "or give --name" in raised.value.message
    assert plan_deploy(Options(None, name="my-worker"), folder).name == "my-worker"


def test_dev_vars_are_read_as_wrangler_writes_them(tmp_path: Path) -> None:
    assert read_dev_vars(tmp_path) == {}
    (tmp_path / ".dev.vars").write_text(
        "# local secrets\nTOKEN=abc=def\n\nexport QUOTED = \"two words\"\nSINGLE='x'\nEMPTY=\n"
    )
    assert read_dev_vars(tmp_path) == {
        "TOKEN": "abc=def",
        "QUOTED": "two words",
        "SINGLE": "x",
        "EMPTY": "",
    }
    (tmp_path / ".dev.vars").write_text("TOKEN=1\nnot a pair\n")
    with pytest.raises(CLIError) as raised:
        read_dev_vars(tmp_path)
    assert raised.value.message == ".dev.vars: line 2 is not KEY=VALUE"
    assert raised.value.exit_code == ExitCode.USAGE


def test_what_does_not_map_is_said(tmp_path: Path) -> None:
    folder = project(
        tmp_path,
        'main = "src/index.js"\nroutes = ["a.example.com/*"]\n'
        '[[kv_namespaces]]\nbinding = "CACHE"\nid = "x"\n[[queues.producers]]\nbinding = "Q"\n',
    )
    assert plan_deploy(Options(None), folder).warnings == (
        "kv_namespaces: env.CACHE will not exist: a Vortex function has one KV namespace of its "
        "own, env.KV; use that name in the code",
        "not used by Vortex: queues",
    )
    assert plan_deploy(Options(None), folder).routes == ("a.example.com/*",)
    # --route wins over the configuration's; with none anywhere, the routes are kept (None).
    assert plan_deploy(Options(None, routes=("b.example.com/*",)), folder).routes == (
        "b.example.com/*",
    )
    bare = project(tmp_path / "bare", 'main = "src/index.js"\n')
    assert plan_deploy(Options(None), bare).routes is None


def test_a_configuration_a_build_redirects_to_is_deployed_as_wrangler_does(
    tmp_path: Path,
) -> None:
    """Cloudflare's Vite plugin (React Router's template) builds the Worker into build/server,
    writes its configuration there (every key, most of them empty; no_bundle, with the entry's
    chunks beside it) and points .wrangler/deploy/config.json at it: wrangler deploys that one,
    not the project's own, whose main is the source."""
    generated = {
        "configPath": str(tmp_path / "wrangler.jsonc"),
        "userConfigPath": str(tmp_path / "wrangler.jsonc"),
        "topLevelName": "shop",
        "definedEnvironments": [],
        "name": "shop",
        "main": "index.js",
        "compatibility_date": "2025-04-04",
        "jsx_factory": "React.createElement",
        "jsx_fragment": "React.Fragment",
        "rules": [{"type": "ESModule", "globs": ["**/*.js", "**/*.mjs"]}],
        "assets": {"directory": "../client"},
        "vars": {"MODE": "built"},
        "durable_objects": {"bindings": []},
        "queues": {"producers": [], "consumers": []},
        "logfwdr": {"bindings": []},
        "python_modules": {"exclude": ["**/*.pyc"]},
        "cloudchamber": {},
        "vectorize": [],
        "no_bundle": True,
    }
    write(
        tmp_path,
        {
            "wrangler.jsonc": '{"name": "shop", "main": "./workers/app.ts"}',
            "workers/app.ts": 'import build from "virtual:react-router/server-build";\n',
            ".wrangler/deploy/config.json": '{"configPath": "../../build/server/wrangler.json"}',
            "build/server/wrangler.json": json.dumps(generated),
            "build/server/index.js": 'import { f } from "./assets/entry-x.js";\nexport { f as default };\n',
            "build/server/assets/entry-x.js": "export const f = { fetch: () => new Response('built') };\n",
            "build/client/robots.txt": "User-agent: *\n",
        },
    )
    assert find_config(tmp_path) == tmp_path / "build/server/wrangler.json"
    plan = plan_deploy(Options(None), tmp_path)
    assert plan.entry == tmp_path / "build/server/index.js"
    assert plan.env == {"MODE": "built"}
    assert plan.warnings == ()  # nothing of what the build wrote asks for what Vortex lacks
    # no_bundle: the chunks it imports by relative path are joined into the one module uploaded
    assert plan.bundled_files == 2 and 'new Response("built")' in plan.source
    assert plan.assets is not None and plan.assets.directory == tmp_path / "build/client"
    write(tmp_path, {".wrangler/deploy/config.json": '{"configPath": "../../gone.json"}'})
    with pytest.raises(CLIError) as stale:
        find_config(tmp_path)
    assert stale.value.message == (
        ".wrangler/deploy/config.json points to ../../gone.json, which is not there: build the "
        "project again"
    )


def test_a_file_given_wins_over_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = project(tmp_path, 'main = "src/missing.js"\n')
    write(folder, {"other.js": "export default { fetch() {} };\n"})
    assert plan_deploy(Options(Path("other.js")), folder).entry == Path("other.js")


# ------------------------------------------------------------------------- deploying, for real


def test_deploy_with_no_argument_bundles_the_project_of_the_jsonc(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    write(tmp_path, {**PACKAGES, **WORKER, "wrangler.jsonc": JSONC.replace("NAME", "wr-jsonc")})
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    assert (
        "→ Bundled src/index.ts (from wrangler.jsonc): 4 files, packages: @scope/fields, "
        "runtime-name" in result.stdout
    )
    assert "→ Deploying the bundle, index.mjs (" in result.stdout
    assert "  Name: wr-jsonc" in result.stdout
    assert f"  URL: {server.fn_url('wr-jsonc', '').rstrip('/')}" in result.stdout
    assert "vars.COUNT is not a string: env.COUNT will be its JSON text (2)" in result.stderr
    status, body = call(server, "wr-jsonc", "/some/path")
    assert status == 200
    assert body == {
        "path": "/some/path",
        "runtime": "workerd",
        "field": "browser",
        "greeting": "HI // NOT A COMMENT!",
        "count": "2",
        "nodeEnv": "production",
    }
    info = function_info(server, "wr-jsonc")
    assert (info["kind"], info["filename"]) == ("module", "index.mjs")
    assert info["env"] == {"GREETING": "hi // not a comment", "COUNT": "2"}


def test_a_service_worker_that_imports_files_is_deployed_as_one_script(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    """As wrangler builds it: an entry that exports nothing is service-worker syntax, bundled
    into a script, since a module has no addEventListener (it failed every request with
    "addEventListener is not a function"). What the server links it cannot import."""
    write(
        tmp_path,
        {
            "lib/greet.js": "export const greet = (who) => `hello ${who}`;\n",
            "worker.js": 'import { greet } from "./lib/greet.js";\n'
            "addEventListener('fetch', (event) => {\n"
            "  event.respondWith(Response.json(greet(new URL(event.request.url).pathname)));\n"
            "});\n",
            "linked.js": 'import { Buffer } from "node:buffer";\n'
            "addEventListener('fetch', (e) => e.respondWith(new Response(Buffer.from('x'))));\n",
        },
    )
    result = invoke("deploy", str(tmp_path / "worker.js"), "--name", "sw-imports")
    assert result.exit_code == 0, result.output + result.stderr
    assert "→ Deploying the bundle, worker.js (" in result.stdout
    assert call(server, "sw-imports", "/you") == (200, "hello /you")
    assert function_info(server, "sw-imports")["kind"] == "service-worker"
    refused = invoke("deploy", str(tmp_path / "linked.js"), "--name", "sw-linked")
    assert refused.exit_code == 1
    assert "exports nothing, so it is a service worker" in refused.stderr
    assert "cannot import node:buffer: make it a module" in refused.stderr


def test_deploy_of_an_entry_path_bundles_it_too(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    write(tmp_path, {**PACKAGES, **WORKER})
    result = invoke(
        "deploy", "src/index.ts", "--name", "wr-entry", "--env", "GREETING=yo", "--json"
    )
    assert result.exit_code == 0, result.output + result.stderr
    answer = json.loads(result.stdout)
    assert (answer["name"], answer["url"]) == (
        "wr-entry",
        server.fn_url("wr-entry", "").rstrip("/"),
    )
    status, body = call(server, "wr-entry", "/")
    assert (status, body["runtime"], body["greeting"], body["count"]) == (
        200,
        "workerd",
        "YO!",
        None,
    )


def test_a_toml_schedule_and_vars_reach_the_function(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    write(
        tmp_path,
        {
            **PACKAGES,
            **WORKER,
            "wrangler.toml": 'name = "wr-toml"\nmain = "src/index.ts"\n'
            'compatibility_date = "2024-11-01"\n\n[vars]\nGREETING = "toml"\n\n'
            '[triggers]\ncrons = ["*/30 * * * *"]\n',
        },
    )
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    assert "  Schedule: */30 * * * * (UTC)" in result.stdout
    assert result.stderr == ""  # compatibility_date is accepted without a word
    info = function_info(server, "wr-toml")
    assert (info["schedule"], info["env"]) == ("*/30 * * * *", {"GREETING": "toml"})
    assert call(server, "wr-toml", "/")[1]["greeting"] == "TOML!"


def test_toml_routes_and_route_options_claim_routes(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    domain = f"wr{uuid.uuid4().hex[:8]}.example.com"
    name = f"wr-routes-{uuid.uuid4().hex[:6]}"
    write(
        tmp_path,
        {
            "src/index.js": "export default { fetch: (r) => Response.json({ url: r.url }) };\n",
            "wrangler.toml": f'name = "{name}"\nmain = "src/index.js"\n'
            f'route = "api.{domain}/v1/*"\n'
            f'routes = [{{ pattern = "shop.{domain}", custom_domain = true }}, '
            f'{{ pattern = "*.{domain}/x/*", zone_name = "{domain}" }}]\n',
        },
    )
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"  Routes: api.{domain}/v1/*, shop.{domain}/*, *.{domain}/x/*" in result.stdout
    port = server.functions_port
    status, body = get(f"http://127.0.0.1:{port}/v1/a?b=1", host=f"api.{domain}")
    assert (status, body) == (200, {"url": f"http://api.{domain}/v1/a?b=1"})
    assert get(f"http://127.0.0.1:{port}/any", host=f"shop.{domain}")[0] == 200

    # --route replaces them; --clear routes releases them.
    result = invoke(
        "deploy", "src/index.js", "--name", name, "--route", f"api.{domain}/*", "--json"
    )
    assert result.exit_code == 0, result.output + result.stderr
    assert json.loads(result.stdout)["routes"] == [f"api.{domain}/*"]
    assert function_info(server, name)["routes"] == [f"api.{domain}/*"]
    (tmp_path / "wrangler.toml").unlink()
    result = invoke("deploy", "src/index.js", "--name", name, "--clear", "routes", "--json")
    assert result.exit_code == 0, result.output + result.stderr
    assert json.loads(result.stdout)["routes"] == []
    with pytest.raises(urllib.error.HTTPError) as refused:
        get(f"http://127.0.0.1:{port}/", host=f"api.{domain}")
    assert refused.value.code == 404
    refused.value.close()


def test_routes_without_a_name_are_a_usage_error_before_any_upload(
    invoke: Invoke, tmp_path: Path
) -> None:
    write(tmp_path, {"a.js": "export default { fetch() { return new Response('x'); } };\n"})
    result = invoke("deploy", "a.js", "--route", "unnamed.example.com/*")
    assert result.exit_code == 2
    assert "--route needs a name" in result.stderr and "give --name NAME" in result.stderr
    assert "Deploying" not in result.stdout
    write(tmp_path, {"wrangler.toml": 'main = "a.js"\nroutes = ["unnamed.example.com/*"]\n'})
    result = invoke("deploy")
    assert result.exit_code == 2
    assert "the routes of wrangler.toml need a name" in result.stderr


def test_a_missing_package_says_to_install_it(invoke: Invoke, tmp_path: Path) -> None:
    write(tmp_path, WORKER)
    result = invoke("deploy", "src/index.ts")
    assert result.exit_code == ExitCode.FAILED
    assert "Error: esbuild could not bundle src/index.ts:" in result.stderr
    assert 'Could not resolve "runtime-name"' in result.stderr
    assert "install the project's packages (npm install)" in result.stderr
    result = invoke("deploy", "src/index.ts", "--json")
    assert json.loads(result.stdout)["error"]["code"] == "build_failed"


def test_an_unsupported_node_builtin_says_which_are_supported(
    invoke: Invoke, tmp_path: Path
) -> None:
    """node:fs has no place in a function: neither esbuild's advice (--platform=node) nor
    "npm install" would help; the message lists the built-ins there are. Only an import the
    finished bundle keeps is refused: one in a module of a package that the code never uses
    is left out with it, as wrangler leaves it (Sentry's SDK has such imports)."""
    code = 'import { readFileSync } from "node:fs";\nexport default { fetch() {} };\n'
    write(tmp_path, {"index.mjs": code})
    result = invoke("deploy", "index.mjs")
    assert result.exit_code == ExitCode.FAILED
    assert "index.mjs imports node:fs, which the bundle keeps" in result.stderr
    assert "only these Node.js built-in modules of Workers' nodejs_compat" in result.stderr
    assert "node:buffer, node:crypto, node:events, node:path" in result.stderr
    assert "npm install" not in result.stderr
    assert "--platform=node" not in result.stderr


def test_a_packages_browser_map_is_followed_as_wrangler_follows_it(tmp_path: Path) -> None:
    """wrangler leaves esbuild's platform at its default, browser, which follows a package's
    "browser" map: axios swaps its Node http adapter (node:http, node:zlib...) for a stub so,
    and @aws-sdk/client-s3 its Node runtime config. A module mapped to false is empty."""
    write(
        tmp_path,
        {
            "index.mjs": (
                'import { adapter, hasFs } from "swapping";\n'
                "export default { fetch: () => Response.json({ adapter, hasFs }) };\n"
            ),
            "node_modules/swapping/package.json": json.dumps(
                {
                    "name": "swapping",
                    "main": "./index.js",
                    "browser": {"./node-adapter.js": "./fetch-adapter.js", "fs": False},
                }
            ),
            "node_modules/swapping/index.js": (
                'import * as fs from "fs";\n'
                'export { adapter } from "./node-adapter.js";\n'
                "export const hasFs = typeof fs.readFileSync === 'function';\n"
            ),
            "node_modules/swapping/node-adapter.js": (
                'import "node:http";\nexport const adapter = "http";\n'
            ),
            "node_modules/swapping/fetch-adapter.js": 'export const adapter = "fetch";\n',
        },
    )
    built = bundle(tmp_path / "index.mjs", tmp_path)
    assert 'adapter = "fetch"' in built.code
    assert "node:http" not in built.code and 'adapter = "http"' not in built.code
    assert "node_modules/swapping/node-adapter.js" not in built.inputs


def test_jsx_in_js_files_is_bundled_as_wrangler_bundles_it(tmp_path: Path) -> None:
    """wrangler's loaders take .js, .mjs and .cjs files as JSX (React projects name their
    components so); esbuild's own would refuse the first ``<``."""
    write(
        tmp_path,
        {
            "index.js": (
                'import { Card } from "./card.mjs";\n'
                "export default { fetch: () => Response.json(Card({ title: 'x' })) };\n"
            ),
            "card.mjs": "/** @jsx h */\nconst h = (tag, props, ...children) => ({ tag, children });\n"
            "export const Card = ({ title }) => <b>{title}</b>;\n",
        },
    )
    built = bundle(tmp_path / "index.js", tmp_path)
    assert 'h("b", null, title)' in built.code


def test_with_nodejs_compat_a_bare_builtin_name_is_the_builtin(tmp_path: Path) -> None:
    """As wrangler's nodejs_compat resolves them: require("crypto") is node:crypto (jws and
    bcryptjs require so). Without the flag, and for a built-in Vortex lacks, the deploy says
    which there are, not "npm install"."""
    code = (
        'const { createHash } = require("crypto");\nimport { Buffer } from "buffer";\n'
        'import { strictEqual } from "assert/strict";\n'
        "export default { fetch: () => new Response(createHash('md5').digest('hex') + "
        "Buffer.from('x') + strictEqual) };\n"
    )
    write(tmp_path, {"index.mjs": code})
    built = bundle(tmp_path / "index.mjs", tmp_path, node_globals=True)
    assert {'"node:crypto"', '"node:buffer"', '"node:assert/strict"'} <= set(
        re.findall(r'"node:[a-z_/]+"', built.code)
    )
    with pytest.raises(CLIError) as refused:
        bundle(tmp_path / "index.mjs", tmp_path)
    assert "Vortex has only these Node.js built-in modules" in refused.value.message
    assert "With nodejs_compat in the wrangler configuration" in refused.value.message
    write(
        tmp_path,
        {"index.mjs": 'import { Readable } from "stream";\nexport default { Readable };\n'},
    )
    built = bundle(tmp_path / "index.mjs", tmp_path, node_globals=True)
    assert '"node:stream"' in built.code
    write(
        tmp_path,
        {"index.mjs": 'import { gzipSync } from "zlib";\nexport default { gzipSync };\n'},
    )
    with pytest.raises(CLIError) as lacking:
        bundle(tmp_path / "index.mjs", tmp_path, node_globals=True)
    assert "imports node:zlib, which the bundle keeps" in lacking.value.message
    assert "CompressionStream for node:zlib" in lacking.value.message
    assert "npm install" not in lacking.value.message
    assert "--platform=node" not in lacking.value.message


def test_with_nodejs_compat_a_bare_builtin_vortex_lacks_is_required_at_run_time(
    tmp_path: Path,
) -> None:
    """Astro's image service bundles sharp, whose detect-libc requires "child_process" and "fs"
    in functions a Worker never calls: wrangler's nodejs_compat takes the bare names for the
    built-ins and the bundle builds. Here too, each such require is left to fail if it runs,
    as a node: one is; a package installed under such a name (an npm polyfill) still wins."""
    write(
        tmp_path,
        {
            "index.mjs": (
                'import { family } from "detect";\nimport { parse } from "url";\n'
                "export default { fetch: () => new Response(typeof family + parse()) };\n"
            ),
            "node_modules/detect/package.json": '{"name": "detect", "main": "index.js"}',
            "node_modules/detect/index.js": (
                'const fs = require("fs");\n'
                "exports.family = () => require('child_process').execSync('ldd') + fs.readFileSync('/x');\n"
            ),
            "node_modules/url/package.json": '{"name": "url", "main": "index.js"}',
            "node_modules/url/index.js": 'exports.parse = () => "polyfill";\n',
        },
    )
    built = bundle(tmp_path / "index.mjs", tmp_path, node_globals=True)
    assert '__require("node:child_process")' in built.code
    assert '__require("node:fs")' in built.code
    assert "node_modules/url/index.js" in built.inputs
    with pytest.raises(CLIError) as refused:  # without nodejs_compat, as wrangler refuses it
        bundle(tmp_path / "index.mjs", tmp_path)
    assert 'Could not resolve "child_process"' in refused.value.message


def test_workers_sites_manifest_says_there_are_no_sites(invoke: Invoke, tmp_path: Path) -> None:
    """kv-asset-handler's module-worker setup imports wrangler's manifest of the [site] bucket;
    "npm install" would not bring it."""
    code = (
        'import manifestJSON from "__STATIC_CONTENT_MANIFEST";\n'
        "export default { fetch() { return new Response(manifestJSON); } };\n"
    )
    write(tmp_path, {"index.mjs": code})
    result = invoke("deploy", "index.mjs")
    assert result.exit_code == ExitCode.FAILED
    assert 'Could not resolve "__STATIC_CONTENT_MANIFEST"' in result.stderr
    assert "the manifest of Workers Sites" in result.stderr
    assert "npm install" not in result.stderr


NODE_PROJECT = {
    # A package of the project's that uses node:events, node:util, node:crypto and
    # node:assert/strict, as many npm packages written for Node do; esbuild bundles it and
    # leaves the node: imports to the server.
    "node_modules/ticker/package.json": json.dumps({"name": "ticker", "main": "index.js"}),
    "node_modules/ticker/index.js": (
        "const { EventEmitter, once } = require('node:events');\n"
        "const util = require('node:util');\n"
        "class Ticker extends EventEmitter {\n"
        "  tick(n) { queueMicrotask(() => this.emit('tick', util.format('tick %d of %s', n, 'x'))); }\n"
        "}\n"
        "const wait = util.promisify((ms, done) => setTimeout(() => done(null, ms), ms));\n"
        "module.exports = { Ticker, once, wait, isDate: util.types.isDate };\n"
    ),
    "node_modules/signer/package.json": json.dumps({"name": "signer", "main": "index.js"}),
    "node_modules/signer/index.js": (
        "const crypto = require('node:crypto');\n"
        "const assert = require('node:assert/strict');\n"
        "exports.sign = (secret, body) => {\n"
        "  assert.equal(typeof secret, 'string', 'the secret is a string');\n"
        "  return crypto.createHmac('sha256', secret).update(body).digest('hex');\n"
        "};\n"
    ),
    "src/index.mjs": (
        'import { Buffer } from "node:buffer";\n'
        'import { Ticker, once, wait, isDate } from "ticker";\n'
        'import { sign } from "signer";\n'
        'import { createHash, randomUUID } from "node:crypto";\n'
        "export default {\n"
        "  async fetch(request) {\n"
        "    const ticker = new Ticker();\n"
        "    ticker.tick(3);\n"
        "    const [said] = await once(ticker, 'tick');\n"
        "    return Response.json({\n"
        "      said, waited: await wait(5), date: isDate(new Date()),\n"
        "      hex: Buffer.from('héllo').toString('hex'),\n"
        "      b64: Buffer.from(new URL(request.url).pathname).toString('base64url'),\n"
        "      md5: createHash('md5').update('abc').digest('hex'),\n"
        "      signed: sign('Jefe', 'what do ya want for nothing?'),\n"
        "      uuid: randomUUID().length,\n"
        "    });\n"
        "  },\n"
        "};\n"
    ),
    "wrangler.toml": (
        'name = "wr-node"\nmain = "src/index.mjs"\ncompatibility_date = "2025-01-01"\n'
        'compatibility_flags = ["nodejs_compat"]\n'
    ),
}


def test_a_project_importing_node_builtins_is_bundled_and_runs(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    write(tmp_path, NODE_PROJECT)
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    status, body = call(server, "wr-node", "/a/b")
    assert status == 200
    assert body == {
        "said": "tick 3 of x",
        "waited": 5,
        "date": True,
        "hex": "68c3a96c6c6f",
        "b64": "L2EvYg",
        "md5": "900150983cd24fb0d6963f7d28e17f72",
        # RFC 4231, test case 2
        "signed": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "uuid": 36,
    }


def test_minify_as_wrangler_minifies_and_keeps_node_builtins(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    """``minify = true`` (or ``--minify``) minifies the bundle after the node: requires became
    imports, so a minified package's require("node:events") still links."""
    toml = NODE_PROJECT["wrangler.toml"].replace('name = "wr-node"', 'name = "wr-min"')
    write(tmp_path, {**NODE_PROJECT, "wrangler.toml": toml + "minify = true\n"})
    result = invoke("deploy", "--outdir", "dist")
    assert result.exit_code == 0, result.output + result.stderr
    assert "not used by Vortex" not in result.stderr
    minified = (tmp_path / "dist" / "index.mjs").read_text()
    assert "// node_modules/ticker/index.js" not in minified
    assert minified.count("\n") < 10
    status, body = call(server, "wr-min", "/a/b")
    assert (status, body["said"], body["hex"]) == (200, "tick 3 of x", "68c3a96c6c6f")
    write(tmp_path, {"wrangler.toml": toml})
    plain = invoke("deploy", "--dry-run", "--outdir", "plain")
    assert plain.exit_code == 0, plain.output + plain.stderr
    flagged = invoke("deploy", "--dry-run", "--outdir", "flagged", "--minify")
    assert (tmp_path / "flagged" / "index.mjs").read_text() == minified
    assert len((tmp_path / "plain" / "index.mjs").read_text()) > len(minified)
    assert flagged.exit_code == 0


def test_no_file_and_no_config_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("deploy")
    assert result.exit_code == ExitCode.USAGE
    assert "give the FILE to deploy: no wrangler.json, wrangler.jsonc, wrangler.toml in" in (
        result.stderr
    )


def test_dry_run_writes_the_bundle_and_uploads_nothing(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    write(tmp_path, {**PACKAGES, **WORKER})
    result = invoke("deploy", "src/index.ts", "--name", "wr-dry", "--dry-run", "--outdir", "dist")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.splitlines()[-3:] == [
        result.stdout.splitlines()[-3],
        "→ Wrote dist/index.mjs",
        "✓ Dry run: nothing uploaded",
    ]
    # Nothing is uploaded, and no line says it is being deployed.
    assert re.fullmatch(
        r"→ Would deploy the bundle, index\.mjs \(\d+ bytes\)", result.stdout.splitlines()[-3]
    )
    assert "Deploying" not in result.stdout
    bundled = (tmp_path / "dist" / "index.mjs").read_text()
    assert "// node_modules/runtime-name/workerd.js" in bundled
    assert "export {" in bundled and "as default" in bundled
    with pytest.raises(urllib.error.HTTPError) as missing:
        function_info(server, "wr-dry")
    missing.value.close()
    assert missing.value.code == 404


# ------------------------------------------------------------------------------------ .wasm files

WASM_PROJECT = {
    "wrangler.toml": 'name = "wr-wasm"\nmain = "src/index.js"\n',
    # Two files named add.wasm in two folders, uploaded as add.wasm and add-2.wasm; the second
    # multiplies.
    "src/index.js": (
        "import addModule from '../wasm/add.wasm';\n"
        "import { twice } from './lib/twice.js';\n"
        "const add = new WebAssembly.Instance(addModule).exports.add;\n"
        "export default { fetch() { return Response.json({ sum: add(2, 3), twice: twice(4) }); } };\n"
    ),
    "src/lib/twice.js": (
        "import addModule from './add.wasm';\n"
        "const add = new WebAssembly.Instance(addModule).exports.add;\n"
        "export function twice(n) { return add(n, n); }\n"
    ),
}


# The same module with i32.mul (0x6c) for i32.add (0x6a).
MUL_WASM = ADD_WASM.replace(bytes.fromhex("20016a0b"), bytes.fromhex("20016c0b"))


def wasm_project(root: Path) -> None:
    write(root, WASM_PROJECT)
    for name, data in (("wasm/add.wasm", ADD_WASM), ("src/lib/add.wasm", MUL_WASM)):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)


def test_wasm_files_a_project_imports_are_uploaded_beside_its_bundle(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    wasm_project(tmp_path)
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    assert (
        "→ Deploying the bundle, index.mjs (" in result.stdout
        and "), with add.wasm (41 bytes), add-2.wasm (41 bytes)..." in result.stdout
    )
    assert call(server, "wr-wasm", "/") == (200, {"sum": 5, "twice": 16})
    info = function_info(server, "wr-wasm")
    assert (info["kind"], info["filename"]) == ("module", "index.mjs")


def test_a_dry_run_writes_the_wasm_files_beside_the_bundle(invoke: Invoke, tmp_path: Path) -> None:
    wasm_project(tmp_path)
    result = invoke("deploy", "--dry-run", "--outdir", "dist")
    assert result.exit_code == 0, result.output + result.stderr
    bundled = (tmp_path / "dist" / "index.mjs").read_text()
    assert 'from "./add.wasm"' in bundled and 'from "./add-2.wasm"' in bundled
    assert (tmp_path / "dist" / "add.wasm").read_bytes() == ADD_WASM
    assert (tmp_path / "dist" / "add-2.wasm").read_bytes() == MUL_WASM


def test_a_wasm_import_by_package_name_is_refused(invoke: Invoke, tmp_path: Path) -> None:
    write(
        tmp_path,
        {"index.mjs": "import m from 'some-package/add.wasm';\nexport default { fetch() {} };\n"},
    )
    result = invoke("deploy", "index.mjs")
    assert result.exit_code == ExitCode.FAILED
    assert 'import a .wasm file by its relative path ("./add.wasm")' in result.stderr


GLOBALS_PROJECT = {
    # As Workers code written for nodejs_compat uses them: no import of Buffer or process.
    "src/index.js": (
        "export default {\n"
        "  fetch() {\n"
        "    return Response.json({\n"
        "      b64: Buffer.from('hi').toString('base64'),\n"
        "      region: process.env.REGION,\n"
        "      isBuffer: Buffer.isBuffer(Buffer.alloc(1)),\n"
        "    });\n"
        "  },\n"
        "};\n"
    ),
    "wrangler.toml": (
        'name = "wr-globals"\nmain = "src/index.js"\ncompatibility_date = "2024-09-23"\n'
        'compatibility_flags = ["nodejs_compat"]\n[vars]\nREGION = "eu"\n'
    ),
}


@pytest.mark.parametrize(
    ("flags", "date", "expected"),
    [
        ('["nodejs_compat"]', "2024-09-23", True),
        ('["nodejs_compat"]', "2024-09-22", False),
        ('["nodejs_compat_v2"]', "2024-01-01", True),
        ('["nodejs_compat", "no_nodejs_compat_v2"]', "2025-01-01", False),
        ("[]", "2025-01-01", False),
    ],
)
def test_nodejs_compat_makes_globals_as_workerd_decides(
    tmp_path: Path, flags: str, date: str, expected: bool
) -> None:
    (tmp_path / "wrangler.toml").write_text(
        f'name = "x"\ncompatibility_date = "{date}"\ncompatibility_flags = {flags}\n'
    )
    config = load_config(tmp_path / "wrangler.toml")
    assert config.node_globals is expected
    assert config.unused == ()


def test_buffer_and_process_are_globals_under_nodejs_compat(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    write(tmp_path, GLOBALS_PROJECT)
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    status, body = call(server, "wr-globals", "/")
    assert status == 200
    assert body == {"b64": "aGk=", "region": "eu", "isBuffer": True}


def test_globals_the_code_does_not_use_are_not_imported(tmp_path: Path) -> None:
    """An import of node:buffer costs each instance its evaluation: only a global the code
    names is imported for it, and a project that names none is uploaded as it is."""
    write(
        tmp_path,
        {
            "plain.js": "export default { fetch() { return new Response('x'); } };\n",
            "env.js": "export default { fetch() { return new Response(process.env.A); } };\n",
        },
    )
    plain = bundle(tmp_path / "plain.js", tmp_path, node_globals=True)
    assert plain.node_globals == ()
    assert "node:" not in plain.code
    assert plain.inputs == ("plain.js",)
    used = bundle(tmp_path / "env.js", tmp_path, node_globals=True)
    assert used.node_globals == ("process",)
    assert 'from "node:process"' in used.code
    assert "node:buffer" not in used.code


def test_a_bundle_with_node_globals_is_the_same_each_time_and_names_no_folder(
    tmp_path: Path,
) -> None:
    """The injected files lie in a temporary folder, which esbuild names in the bundle (in
    comments, and as keys where it wraps CommonJS packages): it is replaced by a fixed name,
    which is no use of ``process`` either."""
    write(tmp_path, NODE_PROJECT)
    entry = tmp_path / "src" / "index.mjs"
    first, second = (bundle(entry, tmp_path, node_globals=True) for _ in range(2))
    assert first.code == second.code
    assert "vortex-bundle-" not in first.code and str(tmp_path.parent) not in first.code
    assert first.node_globals == ()  # it imports Buffer itself and names no process


def test_a_bundle_too_large_for_the_server_is_told_of_minify(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundle of packages is mostly comments and blanks (a CommonJS package is bundled whole):
    refused as too large, the CLI says that minified it may fit, and minified it does."""
    small = server_factory({"VORTEX_MAX_CODE_BYTES": "20000"})
    commented = "".join(
        f"/**\n * Part {i} of a library that explains itself at length, as packages do.\n */\n"
        f"exports.part{i} = function part{i}(value) {{\n  return value + {i};\n}};\n"
        for i in range(200)
    )
    write(
        tmp_path,
        {
            "node_modules/verbose/package.json": json.dumps(
                {"name": "verbose", "main": "index.js"}
            ),
            "node_modules/verbose/index.js": commented,
            "index.mjs": (
                'import { part7 } from "verbose";\n'
                "export default { fetch() { return new Response(String(part7(1))); } };\n"
            ),
            "wrangler.toml": 'name = "wr-big"\nmain = "index.mjs"\n',
        },
    )
    monkeypatch.chdir(tmp_path)
    env: dict[str, str | None] = {"VORTEX_URL": small.url, "NO_COLOR": None}
    runner = CliRunner()
    refused = runner.invoke(cli, ["deploy"], env=env, catch_exceptions=False)
    assert refused.exit_code != 0
    assert "is over the limit" in refused.stderr
    assert "vortex deploy --minify" in refused.stderr, refused.stderr
    minified = runner.invoke(cli, ["deploy", "--minify"], env=env, catch_exceptions=False)
    assert minified.exit_code == 0, minified.output + minified.stderr
    assert call(small, "wr-big", "/") == (200, 8)


R2_WORKER = """
export default {
  async fetch(request, env) {
    const key = new URL(request.url).pathname.slice(1);
    if (request.method === "PUT") {
      const put = await env.FILES.put(key, request.body, { httpMetadata: request.headers });
      return Response.json({ etag: put.httpEtag });
    }
    const object = await env.FILES.get(key);
    if (object === null) return new Response("none", { status: 404 });
    const headers = new Headers();
    object.writeHttpMetadata(headers);
    headers.set("etag", object.httpEtag);
    return new Response(object.body, { headers });
  },
};
"""


@pytest.mark.parametrize(
    ("file", "config"),
    [
        (
            "wrangler.toml",
            'main = "src/index.js"\n[[r2_buckets]]\nbinding = "FILES"\nbucket_name = "uploads"\n'
            'preview_bucket_name = "uploads-dev"\n',
        ),
        (
            "wrangler.json",
            json.dumps(
                {
                    "main": "src/index.js",
                    "r2_buckets": [{"binding": "FILES", "bucket_name": "uploads"}],
                }
            ),
        ),
        (
            "wrangler.jsonc",
            '{ "main": "src/index.js", // R2\n'
            '  "r2_buckets": [{ "binding": "FILES", "bucket_name": "uploads", }], }',
        ),
    ],
)
def test_r2_buckets_are_read_from_every_config_format(
    tmp_path: Path, file: str, config: str
) -> None:
    folder = project(tmp_path, config, file)
    plan = plan_deploy(Options(None), folder)
    assert plan.r2_buckets == ({"binding": "FILES", "bucket_name": "uploads"},)
    assert plan.warnings == ()  # r2_buckets is used, not listed as unused
    assert (
        plan_deploy(Options(None), project(tmp_path / "bare", 'main = "src/index.js"\n')).r2_buckets
        is None
    )
    with pytest.raises(CLIError) as raised:
        load_config(project(tmp_path / "bad", '[[r2_buckets]]\nbinding = "B"\n') / "wrangler.toml")
    assert (
        raised.value.message
        == 'wrangler.toml: each of "r2_buckets" needs a "binding" and a "bucket_name"'
    )


def test_deploy_binds_the_r2_buckets_of_the_config(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    name = f"wr-r2-{uuid.uuid4().hex[:8]}"
    bucket = f"files-{uuid.uuid4().hex[:8]}"
    write(
        tmp_path,
        {
            "src/index.js": R2_WORKER,
            "wrangler.toml": f'name = "{name}"\nmain = "src/index.js"\n\n'
            f'[[r2_buckets]]\nbinding = "FILES"\nbucket_name = "{bucket}"\n',
        },
    )
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stderr == ""
    info = function_info(server, name)
    assert info["r2_buckets"] == [{"binding": "FILES", "bucket_name": bucket}]
    url = f"http://127.0.0.1:{server.functions_port}/report.csv"
    host = f"{name}.localhost:{server.functions_port}"
    put = urllib.request.Request(
        url, data=b"a,b\n1,2\n", method="PUT", headers={"Host": host, "content-type": "text/csv"}
    )
    with urllib.request.urlopen(put, timeout=30) as response:
        etag = json.load(response)["etag"]
    got = urllib.request.Request(url, headers={"Host": host})
    with urllib.request.urlopen(got, timeout=30) as response:
        assert response.read() == b"a,b\n1,2\n"
        assert response.headers["content-type"] == "text/csv"
        assert response.headers["etag"] == etag
    # A config without r2_buckets keeps the active version's; --clear r2-buckets drops them.
    (tmp_path / "wrangler.toml").write_text(f'name = "{name}"\nmain = "src/index.js"\n')
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    assert "Kept from the previous version: r2 buckets (--clear to drop)" in result.stdout
    assert function_info(server, name)["r2_buckets"] == [
        {"binding": "FILES", "bucket_name": bucket}
    ]
    result = invoke("deploy", "--clear", "r2-buckets")
    assert result.exit_code == 0, result.output + result.stderr
    assert function_info(server, name)["r2_buckets"] == []


# ------------------------------------------------------------------------------ service bindings


def test_services_are_read_from_toml_and_jsonc(tmp_path: Path) -> None:
    toml = project(
        tmp_path / "toml",
        'main = "src/index.js"\nservices = [\n  { binding = "AUTH", service = "auth-worker" },\n'
        '  { binding = "API", service = "api", entrypoint = "Admin", props = { tenant = "a" } },\n'
        '  { binding = "MAIN", service = "api", entrypoint = "default" },\n]\n',
    )
    plan = plan_deploy(Options(None), toml)
    # A named entrypoint is the export the binding calls; "default" is the default export.
    assert plan.services == (
        {"binding": "AUTH", "service": "auth-worker"},
        {"binding": "API", "service": "api", "entrypoint": "Admin", "props": {"tenant": "a"}},
        {"binding": "MAIN", "service": "api"},
    )
    assert plan.warnings == ()
    jsonc = project(
        tmp_path / "jsonc",
        '{ "main": "src/index.js", // the gateway\n'
        '  "services": [{ "binding": "AUTH", "service": "auth-worker" },] }',
        "wrangler.jsonc",
    )
    assert plan_deploy(Options(None), jsonc).services == (
        {"binding": "AUTH", "service": "auth-worker"},
    )
    # None given: the active version's are kept.
    assert (
        plan_deploy(Options(None), project(tmp_path / "bare", 'main = "src/index.js"\n')).services
        is None
    )
    broken = project(tmp_path / "broken", 'main = "src/index.js"\nservices = [{ binding = "A" }]\n')
    with pytest.raises(CLIError) as raised:
        plan_deploy(Options(None), broken)
    assert raised.value.code == "invalid_config"
    assert "services" in raised.value.message


def test_a_gateway_and_its_auth_service_deployed_from_wrangler_toml(
    invoke: Invoke, server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suffix = uuid.uuid4().hex[:8]
    auth, gateway = f"auth-{suffix}", f"gateway-{suffix}"
    write(
        tmp_path / "gateway",
        {
            "src/index.js": "export default { async fetch(request, env) {\n"
            "  const res = await env.AUTH.fetch(request);\n"
            "  const admin = await env.ADMIN.fetch(request);\n"
            "  return Response.json({ via: 'gateway', auth: await res.json(),\n"
            "                         admin: await admin.text() });\n} };\n",
            "wrangler.toml": f'name = "{gateway}"\nmain = "src/index.js"\n\n'
            f'[[services]]\nbinding = "AUTH"\nservice = "{auth}"\n\n'
            f'[[services]]\nbinding = "ADMIN"\nservice = "{auth}"\nentrypoint = "Admin"\n',
        },
    )
    write(
        tmp_path / "auth",
        {
            "src/index.js": "export default { fetch: (request) => Response.json({ path: new URL(request.url).pathname }) };\n"
            "export class Admin { fetch() { return new Response('admin'); } }\n",
            "wrangler.toml": f'name = "{auth}"\nmain = "src/index.js"\n',
        },
    )
    # The gateway first: a binding to a function not deployed yet is fine until called.
    for folder in ("gateway", "auth"):
        monkeypatch.chdir(tmp_path / folder)
        result = invoke("deploy")
        assert result.exit_code == 0, result.output + result.stderr
        assert "not used by Vortex" not in result.stderr
        if folder == "gateway":
            assert f"  Services: env.AUTH → {auth}, env.ADMIN → {auth} (Admin)" in result.stdout
    assert function_info(server, gateway)["services"] == [
        {"binding": "AUTH", "service": auth},
        {"binding": "ADMIN", "service": auth, "entrypoint": "Admin"},
    ]
    assert call(server, gateway, "/who") == (
        200,
        {"via": "gateway", "auth": {"path": "/who"}, "admin": "admin"},
    )
