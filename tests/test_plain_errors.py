"""Errors in the user's words: no SES codes, no ``None``, a column when there is one."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from tests.server import ServerProcess

SES_WORDS = re.compile(r"SES_|<unknown>|None|null")


async def post_deploy(http: aiohttp.ClientSession, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post("/deploy", json=body) as response:
        answer: dict[str, Any] = await response.json()
        assert response.status == 400, answer
        error: dict[str, Any] = answer["error"]
        return error


async def test_what_ses_refuses_is_said_plainly_at_its_column(
    http: aiohttp.ClientSession,
) -> None:
    cases: list[tuple[dict[str, Any], str, int, int]] = [
        ({"code": "eval('1')"}, "index.js", 1, 1),
        ({"code": "const x = 1;\n  const y = eval('x');"}, "index.js", 2, 13),
        ({"code": "// eval(\nconst a = 1;\nVortex.return(eval ('a'));"}, "index.js", 3, 15),
        (
            {
                "code": "type T = number;\nconst t: T = 1;\nconst s: string = eval('t');\n",
                "filename": "index.ts",
            },
            "index.ts",
            3,
            19,
        ),
        (
            {"files": {"index.mjs": "export default { fetch: () => new Response(eval('1')) };"}},
            "index.mjs",
            1,
            44,
        ),
    ]
    for body, file, line, column in cases:
        error = await post_deploy(http, body)
        assert error["code"] == "syntax_error", error
        assert (error["line"], error["column"]) == (line, column), (body, error)
        assert not SES_WORDS.search(error["message"]), error
        assert error["message"].endswith(f"({file}:{line}:{column})"), error
        assert "eval" in error["message"], error


async def test_a_position_without_a_column_says_no_column(http: aiohttp.ClientSession) -> None:
    for body in ({"code": "let = ;"}, {"code": "function f( {"}, {"code": "a b c"}):
        error = await post_deploy(http, body)
        assert error["code"] == "syntax_error", error
        assert "None" not in error["message"], error
        assert error.get("column", 1) is not None, error


async def test_an_empty_upload_says_it_is_empty(http: aiohttp.ClientSession) -> None:
    error = await post_deploy(http, {"files": {}})
    assert error["code"] == "invalid_request"
    assert "empty" in error["message"] and "must be an object" not in error["message"], error
    error = await post_deploy(http, {"files": []})
    assert "must be an object" in error["message"], error


async def test_a_tail_without_a_websocket_upgrade_is_told_to_upgrade(
    http: aiohttp.ClientSession, server: ServerProcess
) -> None:
    async with http.post("/deploy", json={"code": "1;"}) as response:
        function_id = (await response.json())["function_id"]
    async with http.get(f"/ws/{function_id}") as response:
        body = await response.json()
        assert response.status == 426, body
        assert body["error"]["code"] == "upgrade_required", body
        assert response.headers["Upgrade"] == "websocket"


async def test_an_error_at_the_end_of_the_code_is_said_where_the_code_ends(
    http: aiohttp.ClientSession,
) -> None:
    # The engine reports these on the wrapper's closing line, past the code's last one.
    cases = [
        ("foo(", 1, 5),
        ("const a = 1;\nconst b = a +", 2, 14),
        ("const a = 1;\nconst b = a +  \n\n", 2, 14),
        ("if (x) {\n  y();\n", 2, 7),
        ("x = 'abc", 1, 9),  # one past the last character: the end of its line
    ]
    for code, line, column in cases:
        error = await post_deploy(http, {"code": code})
        assert error["code"] == "syntax_error", error
        assert (error["line"], error["column"]) == (line, column), (code, error)
        assert error["message"].endswith(f"(index.js:{line}:{column})"), error
