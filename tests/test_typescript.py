"""TypeScript through the API of a real server: types stripped at deploy, scripts and modules,
imports as TypeScript authors write them, syntax errors and stacks at the .ts file's lines."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner, Result

from tests.runs import recorded
from tests.server import ServerProcess
from vortex.cli.main import cli
from vortex.modules.linker import resolve
from vortex.modules.sourcemap import decode_mappings, encode_mappings

Deploy = Callable[..., Awaitable[str]]
Invoke = Callable[..., Result]

SCRIPT = """// A plain script: top-level await and return work as in JavaScript.
interface Point {
  x: number;
  y: number;
}

enum Colour {
  Red = "red",
  Green = "green",
}

function largest<T extends { size: number }>(items: T[]): T | undefined {
  return items.reduce<T | undefined>((best, item) => (!best || item.size > best.size ? item : best), undefined);
}

type Sized = { name: string; size: number };
const p: Point = { x: 3, y: 4 };
await new Promise<void>((resolve) => setTimeout(resolve, 1));
const items: Sized[] = [{ name: "a", size: 1 }, { name: "b", size: 7 }];
console.log(`length ${Math.hypot(p.x, p.y)}` as string);
Vortex.return({ colour: Colour.Green, largest: largest(items)!.name, length: Math.hypot(p.x, p.y) });
"""

MODULE = """import { describe, type Shape } from "./shapes";
import { double } from "./maths.js";
import defaults from "./defaults.json";

enum Kind { Circle, Square }

class Registry<T> {
  private items: T[] = [];
  constructor(private readonly label: string) {}
  add(item: T): this {
    this.items.push(item);
    return this;
  }
  get count(): number {
    return this.items.length;
  }
}

export default {
  async fetch(request: Request, env: Record<string, string>): Promise<Response> {
    const shapes = new Registry<Shape>("shapes");
    shapes.add({ kind: Kind.Square, side: double(2) });
    const path: string = new URL(request.url).pathname;
    return Response.json({ path, count: shapes.count, text: describe({ kind: Kind.Circle, side: defaults.side }), kind: Kind[Kind.Square] });
  },
} satisfies { fetch(request: Request, env: Record<string, string>): Promise<Response> };
"""

SHAPES = """export interface Shape {
  kind: number;
  side: number;
}

export function describe(shape: Shape): string {
  return `shape ${shape.kind} of side ${shape.side}`;
}
"""

MATHS = "export const double = (n: number): number => n * 2;\n"


async def post_deploy(http: aiohttp.ClientSession, payload: dict[str, Any]) -> tuple[int, Any]:
    async with http.post("/deploy", json=payload) as response:
        return response.status, await response.json()


async def test_a_typescript_script_runs_with_its_types_stripped(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(SCRIPT, filename="index.ts")
    async with http.post(f"/execute/{function_id}") as response:
        body = await response.json()
    assert "error" not in body, body
    assert body["output"] == {"colour": "green", "largest": "b", "length": 5}
    assert [line["message"] for line in body["logs"]] == ["length 5"]
    async with http.get(f"/functions/{function_id}") as response:
        shown = await response.json()
    # What was uploaded is what is shown (the dashboard edits it), and it stays a script.
    assert shown["code"] == SCRIPT
    assert shown["filename"] == "index.ts"
    assert shown["kind"] == "script"
    assert shown["size"] == len(SCRIPT.encode())
    # A script answers on the functions listener with its Vortex.return value.
    async with http.get(server.fn_url(function_id)) as response:
        assert (await response.json())["colour"] == "green"


async def test_top_level_return_in_a_typescript_script(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "const n: number = 2;\nif (n > 1) {\n  Vortex.return('early');\n  return;\n}\n"
        "Vortex.return('late');\n",
        filename="early.ts",
    )
    async with http.post(f"/execute/{function_id}") as response:
        assert (await response.json())["output"] == "early"


async def test_an_empty_export_keeps_a_typescript_script_a_script(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    """tsc types top-level await only in modules, so TypeScript users add `export {}`; it
    exports nothing, and the file runs as the script it is, at its own lines."""
    source = (
        "export {};\nconst n: number = await Promise.resolve(21);\n"
        "if (n > 100) throw new Error('big');\nVortex.return(n * 2);\n"
    )
    function_id = await deploy(source, filename="index.ts")
    async with http.get(f"/functions/{function_id}") as response:
        shown = await response.json()
    assert (shown["kind"], shown["code"]) == ("script", source)
    async with http.post(f"/execute/{function_id}") as response:
        assert (await response.json())["output"] == 42
    failing = await deploy(source.replace("n > 100", "n > 1"), filename="index.ts")
    async with http.post(f"/execute/{failing}") as response:
        error = (await response.json())["error"]
    assert "index.ts:3:" in error["stack"], error
    # With a default export beside it, the file is the module it says it is.
    status, body = await post_deploy(
        http,
        {
            "code": "export {};\nexport default { fetch: () => new Response('m') };\n",
            "filename": "worker.ts",
        },
    )
    assert status == 200, body
    async with http.get(f"/functions/{body['function_id']}") as response:
        assert (await response.json())["kind"] == "module"


async def test_a_typescript_module_of_several_files(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    files = {
        "index.ts": MODULE,
        "shapes.ts": SHAPES,
        "maths.ts": MATHS,
        "defaults.json": '{"side": 3}',
    }
    status, body = await post_deploy(http, {"files": files})
    assert status == 200, body
    function_id = body["function_id"]
    async with http.get(server.fn_url(function_id, "/hello")) as response:
        assert response.status == 200
        assert await response.json() == {
            "path": "/hello",
            "count": 1,
            "text": "shape 0 of side 3",
            "kind": "Square",
        }
    async with http.post(f"/execute/{function_id}") as response:
        executed = await response.json()
    assert "error" not in executed, executed
    assert executed["output"]["status"] == 200
    async with http.get(f"/functions/{function_id}") as response:
        shown = await response.json()
    assert shown["kind"] == "module"
    assert shown["entry"] == "index.ts"
    assert shown["files"] == files


async def test_typescript_modules_answer_fn(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    code = (
        "export default {\n  fetch(request: Request): Response {\n"
        "    return new Response('typed ' + request.method);\n  },\n};\n"
    )
    for filename in ("worker.ts", "worker.mts"):
        function_id = await deploy(code, filename=filename)
        async with http.post(server.fn_url(function_id)) as response:
            assert await response.text() == "typed POST"


async def test_a_syntax_error_points_at_the_ts_line(http: aiohttp.ClientSession) -> None:
    code = "interface A {\n  x: number;\n}\nconst a: A = { x: 1 };\nfunction f(x: number, y: ): number {\n  return x;\n}\n"
    status, body = await post_deploy(http, {"code": code, "filename": "index.ts"})
    assert status == 400
    error = body["error"]
    assert error["code"] == "syntax_error"
    assert (error["line"], error["column"]) == (5, 26)
    assert error["file"] == "index.ts"
    assert error["message"].endswith("(index.ts:5:26)")
    # The same in one file of a module upload.
    status, body = await post_deploy(
        http,
        {
            "files": {
                "index.ts": "import { f } from './lib';\nexport default { fetch: () => new Response(f()) };\n",
                "lib.ts": "export function f(): string {\n  return 'x'\n}\nlet y: = 2;\n",
            }
        },
    )
    assert status == 400
    assert body["error"]["code"] == "syntax_error"
    assert (body["error"]["file"], body["error"]["line"]) == ("lib.ts", 4)


async def test_what_ses_refuses_is_reported_at_the_ts_line(http: aiohttp.ClientSession) -> None:
    # "import(" in a string is text (escaped at the build); a direct eval is refused by SES's
    # textual check after the types are stripped, at its line.
    code = "type T = number;\n\nconst t: T = 1;\nconst s: string = 'import(x)';\n"
    status, body = await post_deploy(http, {"code": code, "filename": "index.ts"})
    assert status == 200, body
    code = "type T = number;\n\nconst t: T = 1;\nconst s: string = eval('t');\n"
    status, body = await post_deploy(http, {"code": code, "filename": "index.ts"})
    assert status == 400
    assert body["error"]["code"] == "syntax_error"
    assert (body["error"]["file"], body["error"]["line"]) == ("index.ts", 4), body
    # A real dynamic import is refused as modules refuse it.
    code = "const m = await import('./x');\n"
    status, body = await post_deploy(http, {"code": code, "filename": "index.ts"})
    assert status == 400
    assert body["error"]["code"] == "invalid_import"


async def test_types_are_stripped_not_checked(http: aiohttp.ClientSession, deploy: Deploy) -> None:
    function_id = await deploy(
        "const n: number = 'not a number' as any;\nVortex.return(n);\n", filename="loose.ts"
    )
    async with http.post(f"/execute/{function_id}") as response:
        assert (await response.json())["output"] == "not a number"


async def test_a_runtime_stack_names_the_ts_line(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    code = (
        "interface Order {\n"  # 1
        "  id: number;\n"  # 2
        "}\n"  # 3
        "\n"  # 4
        "function check(order: Order): void {\n"  # 5
        "  // a comment that esbuild drops\n"  # 6
        "  throw new Error(`bad order ${order.id}`);\n"  # 7
        "}\n"  # 8
        "\n"  # 9
        "try { check({ id: 1 }); } catch (e) { console.error(e as Error); }\n"  # 10
        "check({ id: 2 } as Order);\n"  # 11
    )
    function_id = await deploy(code, filename="index.ts")
    async with http.post(f"/execute/{function_id}") as response:
        body = await response.json()
    error = body["error"]
    assert error["code"] == "function_error"
    assert error["message"] == "bad order 2"
    frames = error["stack"].splitlines()[1:]
    assert frames[0].startswith("    at check (index.ts:7:")
    assert "index.ts:11:" in frames[1]
    assert len(frames) == 2, frames  # the wrapper that gives scripts top-level await is not shown
    assert "vortex-bundle" not in error["stack"]
    # A stack logged by the code itself is mapped too.
    logged = body["logs"][0]["message"]
    assert "index.ts:7:" in logged and "index.ts:10:" in logged, logged


async def test_a_runtime_stack_in_a_typescript_module(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    status, body = await post_deploy(
        http,
        {
            "files": {
                "index.ts": "import { check } from './lib/check.js';\n\nexport default {\n  fetch(request: Request): Response {\n    check(request.method as 'GET' | 'POST');\n    return new Response('ok');\n  },\n};\n",
                "lib/check.ts": "type Method = 'GET' | 'POST';\n\nexport function check(method: Method): void {\n  if (method === 'POST') {\n    throw new TypeError('no POST');\n  }\n}\n",
            }
        },
    )
    assert status == 200, body
    function_id = body["function_id"]
    async with http.post(server.fn_url(function_id)) as response:
        assert response.status == 500
        run_id = response.headers["X-Vortex-Run-Id"]
    # Recorded once the host has told of the run's end, maybe after the answer.
    stack = (await recorded(http, function_id, run_id))["error"]["stack"]
    assert "at check (lib/check.ts:5:" in stack, stack
    assert "(index.ts:5:" in stack, stack


async def test_import_resolution_for_typescript(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    def module(specifier: str) -> str:
        return f"import {{ v }} from '{specifier}';\nexport default {{ fetch: () => new Response(v) }};\n"

    for specifier in ("./lib", "./lib.ts", "./lib.js"):
        status, body = await post_deploy(
            http,
            {
                "files": {
                    "index.ts": module(specifier),
                    "lib.ts": "export const v: string = 'ts';\n",
                }
            },
        )
        assert status == 200, (specifier, body)
        async with http.get(server.fn_url(body["function_id"])) as response:
            assert await response.text() == "ts", specifier
    # An uploaded .js file is what "./lib.js" names, when there is one.
    status, body = await post_deploy(
        http,
        {
            "files": {
                "index.ts": module("./lib.js"),
                "lib.ts": "export const v: string = 'ts';\n",
                "lib.js": "export const v = 'js';\n",
            }
        },
    )
    async with http.get(server.fn_url(body["function_id"])) as response:
        assert await response.text() == "js"
    status, body = await post_deploy(
        http, {"files": {"index.ts": module("./missing.js"), "lib.ts": "export const v = 1;\n"}}
    )
    assert status == 400
    assert body["error"]["code"] == "invalid_import"


async def test_jsx_is_refused_with_a_reason(http: aiohttp.ClientSession) -> None:
    status, body = await post_deploy(http, {"code": "const x = <div />;\n", "filename": "a.tsx"})
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    assert "JSX is not supported" in body["error"]["message"]


async def test_declaration_files_are_not_entries(http: aiohttp.ClientSession) -> None:
    status, body = await post_deploy(
        http, {"code": "declare const x: number;\n", "filename": "types.d.ts"}
    )
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    status, body = await post_deploy(
        http,
        {
            "files": {
                "index.ts": "import type { Name } from './types';\nconst n: Name = 'x';\nexport default { fetch: () => new Response(n) };\n",
                "types.d.ts": "export type Name = string;\n",
            }
        },
    )
    assert status == 200, body


def test_mappings_survive_a_round_trip() -> None:
    lines = [[], [(0, 0, 0), (4, 0, 6), (12, 2, 1)], [], [(2, 1, 30), (40, 7, 0)]]
    assert decode_mappings(encode_mappings(lines)) == lines
    # esbuild's own mappings (with a names field) decode to the same positions after re-encoding.
    theirs = "CAAC,iBAAkB;AAEnB,MAAK;AAAL,IAAKA,WAAL"
    assert decode_mappings(encode_mappings(decode_mappings(theirs))) == decode_mappings(theirs)


def test_resolution_of_typescript_imports() -> None:
    names = {"index.ts", "lib.ts", "util.mts", "both.js", "both.ts", "dir/index.ts"}
    assert resolve("index.ts", "./lib", names) == "lib.ts"
    assert resolve("index.ts", "./lib.ts", names) == "lib.ts"
    assert resolve("index.ts", "./lib.js", names) == "lib.ts"
    assert resolve("index.ts", "./util.mjs", names) == "util.mts"
    assert resolve("index.ts", "./both.js", names) == "both.js"
    assert resolve("index.ts", "./dir", names) == "dir/index.ts"


@pytest.fixture
def invoke(server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """``vortex ARGS`` in a fresh directory against the shared server."""
    monkeypatch.chdir(tmp_path)

    def _invoke(*args: str) -> Result:
        env: dict[str, str | None] = {"VORTEX_URL": server.url, "NO_COLOR": None}
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        assert "Traceback" not in result.output + result.stderr
        return result

    return _invoke


def test_cli_deploys_and_runs_a_ts_file(invoke: Invoke) -> None:
    Path("index.ts").write_text(SCRIPT)
    result = invoke("deploy", "index.ts", "--json")
    assert result.exit_code == 0, result.stderr
    function_id = json.loads(result.stdout)["function_id"]
    result = invoke("run", function_id, "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["output"]["largest"] == "b"


def test_cli_shows_a_ts_syntax_error_at_its_line(invoke: Invoke) -> None:
    Path("bad.ts").write_text("type A = { x: number };\nconst a: A = { x: 1 };\nlet b: = 2;\n")
    result = invoke("deploy", "bad.ts")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: syntax error in bad.ts:3:8: "), lines
    source = next(line for line in lines if line.endswith("let b: = 2;"))
    assert lines[lines.index(source) + 1].index("^") == source.index("=")


def test_cli_run_shows_the_ts_stack(invoke: Invoke) -> None:
    Path("explode.ts").write_text(
        "type Reason = string;\n\nfunction explode(reason: Reason): never {\n"
        "  throw new TypeError(reason);\n}\nexplode('boom');\n"
    )
    result = invoke("deploy", "explode.ts", "--json")
    function_id = json.loads(result.stdout)["function_id"]
    result = invoke("run", function_id)
    assert result.exit_code == 1
    assert "✗ TypeError: boom\n" in result.stdout
    assert re.search(r"^    at explode \(explode\.ts:4:\d+\)$", result.stdout, re.M), result.stdout
