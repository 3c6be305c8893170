"""A namespace's D1 databases over the HTTP API: SQL run by the operator (docs/d1.md).

Tables are made before a function reads them: wrangler users run ``wrangler d1 execute DB
--command/--file`` and their migrations; ``vortex d1 execute`` sends them here. The database is
the caller's namespace's (its API key's; ``default`` without keys), as a deploy's is, made by
the first use. The same guard as a run's SQL applies (``vortex.d1.guard``): an operator's SQL
reaches no other file either.

``POST /d1/{database}/query`` takes ``{"sql": "...", "params": [...]}``: with ``params``, one
statement; without, a script of several, run as one batch (all or nothing). It answers as
D1's own API does, ``{"result": [{"success", "results", "meta"}], "success": true}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from vortex.d1.binding import statements_of
from vortex.d1.declaration import check_database_name
from vortex.d1.errors import D1Error
from vortex.d1.statements import split_statements
from vortex.http.keys import RUNS
from vortex.http.lookup import deploy_namespace
from vortex.http.responses import json_response, read_json_object, refuse_unknown_fields

routes = web.RouteTableDef()
QUERY_FIELDS = ("sql", "params")


def d1_result(answer: dict[str, Any]) -> dict[str, Any]:
    columns = answer["columns"]
    rows = [dict(zip(columns, row, strict=True)) for row in answer["rows"]]
    return {"success": True, "results": rows, "meta": answer["meta"]}


@routes.post("/d1/{database}/query")
async def query(request: web.Request) -> web.Response:
    database = check_database_name(request.match_info["database"])
    body = await read_json_object(request)
    refuse_unknown_fields(body, QUERY_FIELDS, "a D1 query")
    sql = body.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise D1Error('D1_ERROR: "sql" must be a string holding SQL')
    params = body.get("params")
    if params is not None:
        pieces = [{"sql": sql, "params": params}]
    else:
        pieces = [{"sql": piece} for piece in split_statements(sql)]
    if params is not None and len(split_statements(sql)) > 1:
        raise D1Error('D1_ERROR: "params" go with one statement: send the others apart')
    statements = statements_of(pieces, None)
    d1 = request.app[RUNS].d1
    answers = await d1.run(deploy_namespace(request), database, statements, batch=True)
    return json_response({"result": [d1_result(a) for a in answers], "success": True})


@routes.get("/d1")
async def list_databases(request: web.Request) -> web.Response:
    d1 = request.app[RUNS].d1
    names = d1.databases(deploy_namespace(request))
    return json_response({"databases": [{"name": name} for name in names]})
