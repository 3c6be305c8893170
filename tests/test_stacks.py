"""``err.stack`` as Workers code reads it: V8's format, the function's own frames only.

Libraries written for Workers (Sentry's toucan-js, loggers, error-stack-parser) parse V8's
``    at fn (file:line:col)`` lines. A module's frames name the built script, ``vortex-bundle``,
with its positions (as Workers give positions in the uploaded bundle); the history, the live
tail and log lines keep mapping them to the uploaded files.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.runs import recorded
from tests.server import ServerProcess
from tests.test_modules import deploy_files
from vortex.modules.build import build
from vortex.modules.detect import Upload

Run = Callable[[str], Awaitable[dict[str, Any]]]

FILES = {
    "index.mjs": (
        "import { check } from './lib/check.mjs';\n"
        "async function later() {\n"
        "  await null;\n"
        "  throw new TypeError('later');\n"
        "}\n"
        "export default {\n"
        "  async fetch(request) {\n"
        "    const out = {};\n"
        "    try {\n"
        "      check('no');\n"
        "    } catch (err) {\n"
        "      out.sync = err.stack;\n"
        "      console.log(err.stack);\n"
        "    }\n"
        "    try {\n"
        "      await later();\n"
        "    } catch (err) {\n"
        "      out.async = err.stack;\n"
        "    }\n"
        "    out.empty = new Error().stack.split('\\n')[0];\n"
        "    out.anonymous = [1].map(() => new Error('in map').stack)[0];\n"
        "    return Response.json(out);\n"
        "  },\n"
        "};\n"
    ),
    "lib/check.mjs": (
        "export function check(n) {\n"
        "  if (n !== 'ok') {\n"
        "    throw new RangeError(`bad n: ${n}`);\n"
        "  }\n"
        "}\n"
    ),
}
FRAME = re.compile(r"^    at (?:(async) )?(?:(\S+) \()?vortex-bundle:(\d+):(\d+)\)?$")


def frames(stack: str) -> list[tuple[str, str, int, int]]:
    """(async or "", name or "", line, column) of each V8 frame; fails on any other line."""
    found = []
    for line in stack.splitlines()[1:]:
        match = FRAME.match(line)
        assert match is not None, f"not a V8 frame of the bundle: {line!r} in {stack!r}"
        found.append((match[1] or "", match[2] or "", int(match[3]), int(match[4])))
    return found


async def test_a_module_reads_v8_stacks_of_its_own_frames(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    status, body = await deploy_files(http, FILES, entry="index.mjs")
    assert status == 200, body
    function_id = body["function_id"]
    async with http.get(server.fn_url(function_id, "/")) as response:
        assert response.status == 200
        out = await response.json()
    # the server's build, made again here: the same esbuild gives the same script
    built = await build(Upload(FILES, "index.mjs"))
    script, positions = built.script.splitlines(), built.positions

    def source(line: int, column: int) -> str:
        return script[line - 1][column - 1 :]

    sync = out["sync"].splitlines()
    assert sync[0] == "RangeError: bad n: no"
    # the function's two frames and nothing of the runtime (harness, web APIs, linker, SES)
    (check, fetch) = frames(out["sync"])
    assert check[:2] == ("", "check") and fetch[:2] == ("", "fetch")
    assert source(*check[2:]).startswith("new RangeError(`bad n: ${n}`)")
    # esbuild made the call `(0, import_check.check)("no")`: the column is its arguments'
    assert source(*fetch[2:]).startswith('("no")') and "check)" in script[fetch[2] - 1]
    # the built script's positions map back to the uploaded lines
    assert positions.original(*check[2:]) == ("lib/check.mjs", 3, 11)
    assert positions.original(*fetch[2:]) == ("index.mjs", 10, 7)

    assert out["async"].splitlines()[0] == "TypeError: later"
    (later, awaited) = frames(out["async"])
    assert later[:2] == ("", "later") and awaited[:2] == ("async", "fetch")
    assert source(*later[2:]).startswith('new TypeError("later")')
    assert source(*awaited[2:]).startswith("later()")

    assert out["empty"] == "Error"
    assert out["anonymous"].splitlines()[0] == "Error: in map"
    (arrow, caller) = frames(out["anonymous"])
    assert arrow[:2] == ("", "") and caller[:2] == ("", "fetch")
    assert source(*arrow[2:]).startswith('new Error("in map")')

    # A logged stack is shown in the uploaded files' positions, as before.
    async with http.post(f"/execute/{function_id}") as response:
        run = await response.json()
    assert run["logs"][0]["message"].splitlines() == [
        "RangeError: bad n: no",
        "    at check (lib/check.mjs:3:11)",
        "    at fetch (index.mjs:10:7)",
    ]


async def test_the_history_keeps_vortex_own_stack_of_an_uncaught_error(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    files = {
        "index.mjs": (
            "import { check } from './lib/check.mjs';\n"
            "export default {\n"
            "  fetch() {\n"
            "    return check('no');\n"
            "  },\n"
            "};\n"
        ),
        "lib/check.mjs": FILES["lib/check.mjs"],
    }
    status, body = await deploy_files(http, files, entry="index.mjs")
    assert status == 200, body
    async with http.get(server.fn_url(body["function_id"], "/")) as response:
        answer = await response.json()
    error = (await recorded(http, body["function_id"], answer["run_id"]))["error"]
    assert error["stack"].splitlines() == [
        "RangeError: bad n: no",
        "    at check (lib/check.mjs:3:11)",
        "    at fetch (index.mjs:4:12)",
    ]


async def test_a_stack_made_at_load_shows_no_linker_frames(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    files = {
        "index.mjs": (
            "import { stack } from './lib/load.mjs';\n"
            "export default { fetch: () => new Response(stack) };\n"
        ),
        "lib/load.mjs": (
            "function boom() {\n  return new Error('at load').stack;\n}\nexport const stack = boom();\n"
        ),
    }
    status, body = await deploy_files(http, files, entry="index.mjs")
    assert status == 200, body
    async with http.get(server.fn_url(body["function_id"], "/")) as response:
        text = await response.text()
    assert text.splitlines()[0] == "Error: at load"
    named = [name for _, name, _, _ in frames(text)]
    # boom, the top levels of both files (anonymous), and not the linker's load and require
    assert named == ["boom", "", ""], text


async def test_a_script_reads_v8_stacks_in_its_file(run: Run) -> None:
    body = await run(
        "function inner() {\n  return new Error('in a script').stack;\n}\nVortex.return(inner());\n"
    )
    assert body["output"].splitlines() == [
        "Error: in a script",
        "    at inner (index.js:2:10)",
        "    at index.js:4:15",
    ]


async def test_error_subclasses_and_capture_stack_trace(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    files = {
        "index.mjs": (
            "class HttpError extends Error {\n"
            "  constructor(message) {\n"
            "    super(message);\n"
            "    this.name = 'HttpError';\n"
            "    if (Error.captureStackTrace) Error.captureStackTrace(this, HttpError);\n"
            "  }\n"
            "}\n"
            "function fail() {\n"
            "  return new HttpError('not found');\n"
            "}\n"
            "export default {\n"
            "  fetch() {\n"
            "    const error = fail();\n"
            "    const replaced = new Error('x');\n"
            "    replaced.stack = 'replaced';\n"
            "    return Response.json({\n"
            "      error: error.stack,\n"
            "      again: error.stack === error.stack,\n"
            "      replaced: replaced.stack,\n"
            "      capture: typeof Error.captureStackTrace,\n"
            "    });\n"
            "  },\n"
            "};\n"
        ),
    }
    status, body = await deploy_files(http, files, entry="index.mjs")
    assert status == 200, body
    async with http.get(server.fn_url(body["function_id"], "/")) as response:
        out = await response.json()
    # the name as it is when the stack is captured, as V8 shows it; captureStackTrace leaves
    # out the frames from the constructor up, as V8 does
    assert out["error"].splitlines()[0] == "HttpError: not found"
    assert [name for _, name, _, _ in frames(out["error"])] == ["fail", "fetch"]
    assert out["again"] is True and out["replaced"] == "replaced"
    # SES adds it to the shared Error on V8 only; Vortex's SES has it (js/src/ses/)
    assert out["capture"] == "function"


CAPTURE = """
class DrizzleQueryError extends Error {
  constructor(query, cause) {
    super(`Failed query: ${query}`);
    this.cause = cause;
    Error.captureStackTrace(this, DrizzleQueryError);  // unguarded, as drizzle-orm 0.44 does
  }
}
function plain(constructorOpt) {
  const object = { message: 'plain' };
  Error.captureStackTrace(object, constructorOpt);
  return object;
}
function outer() {
  return plain(outer);
}
export default {
  fetch() {
    const error = new DrizzleQueryError('select 1', new Error('D1_ERROR'));
    const bare = {};
    Error.captureStackTrace(bare);
    let refused;
    try {
      Error.captureStackTrace(1);
    } catch (err) {
      refused = err.constructor === TypeError;
    }
    const { writable, enumerable } = Object.getOwnPropertyDescriptor(bare, 'stack');
    return Response.json({
      error: error.stack, cause: error.cause.message, bare: bare.stack, plain: plain().stack,
      outer: outer().stack, refused, writable, enumerable, length: Error.captureStackTrace.length,
    });
  },
};
"""


async def test_capture_stack_trace_as_v8_gives_it(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # What workerd answers for the same code, but for positions and V8's `Object.fetch`.
    status, body = await deploy_files(http, {"index.mjs": CAPTURE}, entry="index.mjs")
    assert status == 200, body
    async with http.get(server.fn_url(body["function_id"], "/")) as response:
        out = await response.json()
    assert out["error"].splitlines()[0] == "Error: Failed query: select 1"
    assert [name for _, name, _, _ in frames(out["error"])] == ["fetch"]
    assert out["cause"] == "D1_ERROR"
    assert out["bare"].splitlines()[0] == "Error"
    assert [name for _, name, _, _ in frames(out["bare"])] == ["fetch"]
    assert out["plain"].splitlines()[0] == "Error: plain"
    assert [name for _, name, _, _ in frames(out["plain"])] == ["plain", "fetch"]
    assert [name for _, name, _, _ in frames(out["outer"])] == ["fetch"]
    assert out["refused"] is True
    assert (out["writable"], out["enumerable"], out["length"]) == (True, False, 2)


TAMPER = """
const tried = {};
const attempt = (name, change) => {
  try {
    change();
    tried[name] = 'changed';
  } catch (err) {
    tried[name] = 'refused';
  }
};
attempt('prepareStackTrace', () => { Error.prepareStackTrace = () => 'tampered'; });
attempt('stack getter', () => {
  Object.defineProperty(Error.prototype, 'stack', { get: () => 'tampered' });
});
attempt('toString', () => { Error.prototype.toString = () => 'tampered'; });
attempt('name', () => { Error.prototype.name = 'Tampered'; });
attempt('captureStackTrace', () => { Error.captureStackTrace = () => {}; });
attempt('prototype of Error', () => { Object.setPrototypeOf(Error, null); });
attempt('stackTraceLimit', () => { Error.stackTraceLimit = 0; });
export default {
  fetch() {
    return Response.json({ tried, stack: new Error('mine').stack });
  },
};
"""
PLAIN = """
function inner() {
  return new Error('theirs');
}
export default {
  fetch() {
    return Response.json({ stack: inner().stack, capture: typeof Error.captureStackTrace });
  },
};
"""


async def test_a_function_cannot_change_how_another_reads_stacks(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    status, body = await deploy_files(http, {"index.mjs": TAMPER}, entry="index.mjs")
    assert status == 200, body
    tamperer = body["function_id"]
    status, body = await deploy_files(http, {"index.mjs": PLAIN}, entry="index.mjs")
    assert status == 200, body
    plain = body["function_id"]
    async with http.get(server.fn_url(tamperer, "/")) as response:
        tampered = await response.json()
    # Error and its prototype are frozen (stackTraceLimit accepts and ignores a number)
    assert {name for name, what in tampered["tried"].items() if what == "changed"} == {
        "stackTraceLimit"
    }
    assert tampered["stack"].splitlines()[0] == "Error: mine"
    assert [name for _, name, _, _ in frames(tampered["stack"])] == ["fetch"]
    for _ in range(3):  # the same host, most likely: hosts are few in tests
        async with http.get(server.fn_url(plain, "/")) as response:
            out = await response.json()
        assert out["stack"].splitlines()[0] == "Error: theirs"
        assert [name for _, name, _, _ in frames(out["stack"])] == ["inner", "fetch"]
        assert out["capture"] == "function"
