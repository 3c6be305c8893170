"""``env.<BINDING>`` of a run for a D1 database its deploy declared (docs/d1.md).

One per (namespace, database): a run sends SQL and values, never a database's name or a path,
so it reaches only the databases its version declared, of its own namespace. Two operations
cross (harness: ``js/src/harness/d1.js``): ``query``, a list of statements with their values
(bytes beside the JSON, as the call's body) run alone or as one batch, answered each
statement's columns, rows and meta; and ``exec``, a script, answered ``{count, duration}``.
Errors keep their ``d1_*`` codes and D1's messages (``D1_ERROR: ...``), which apps match on.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

from vortex.d1.database import MODES, Statement
from vortex.d1.errors import D1Error
from vortex.d1.service import D1
from vortex.d1.values import parameters
from vortex.errors import VortexError
from vortex.isolates.bindings import Binding, BindingError

log = logging.getLogger(__name__)
BINDING_PREFIX = "d1:"
"""A run's bindings are keyed by kind: ``d1:<NAME>`` is the database bound as ``env.<NAME>``."""
MAX_STATEMENTS = 10_000
"""Statements of one batch (each is checked against the call's deadline too)."""


def statements_of(raw: object, body: bytes | None) -> list[Statement]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_STATEMENTS:
        raise D1Error(f"D1_ERROR: a batch holds 1 to {MAX_STATEMENTS} prepared statements")
    statements = []
    for item in raw:
        sql = item.get("sql") if isinstance(item, dict) else None
        if not isinstance(sql, str):
            raise D1Error("D1_ERROR: a statement's SQL must be a string")
        mode = item.get("mode", "all")
        statements.append(
            Statement(sql, parameters(item.get("params"), body), mode if mode in MODES else "all")
        )
    return statements


async def _answer(
    d1: D1, namespace: str, database: str, op: str, args: Mapping[str, Any], body: bytes | None
) -> Any:
    if op == "query":
        statements = statements_of(args.get("statements"), body)
        return await d1.run(namespace, database, statements, batch=args.get("batch") is True)
    if op == "exec":
        script = args.get("sql")
        if not isinstance(script, str):
            raise D1Error("D1_EXEC_ERROR: exec takes the SQL as a string")
        return await d1.exec(namespace, database, script)
    raise D1Error(f"D1_ERROR: D1 has no operation {op!r} here")


@functools.lru_cache(maxsize=1024)
def d1_binding(d1: D1, namespace: str, database: str) -> Binding:
    """One per (namespace, database), as ``r2_binding``: it holds nothing of a run."""

    async def call(op: str, args: Mapping[str, Any], body: bytes | None) -> Any:
        try:
            return await _answer(d1, namespace, database, op, args, body)
        except VortexError as exc:
            if exc.status >= 500:
                log.warning("D1 %s of %s/%s failed: %s", op, namespace, database, exc)
                raise BindingError(exc.code, "D1_ERROR: the database is unavailable") from None
            raise BindingError(exc.code, str(exc)) from None

    return Binding(call, describe={"database_name": database})
