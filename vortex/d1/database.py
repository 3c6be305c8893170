"""One D1 database: a SQLite file and the one connection that reads and writes it.

Every method here blocks (SQLite does); ``vortex.d1.service`` calls them from its threads, one
call at a time per database (SQLite has one writer, as D1 has), never on the event loop. A
call's statements share one deadline, and a batch is one transaction: all of it or none.

A statement's answer keeps rows as arrays beside the column names (smaller across the pipe than
one object per row); the harness and the operator's route make D1's objects of them.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from vortex.d1.errors import D1Error, D1ResultTooLarge
from vortex.d1.guard import Guard, guard
from vortex.d1.statements import split_statements
from vortex.d1.values import SqlValue, cell

BUSY_TIMEOUT_MS = 5000
"""Another server on the same data directory writing: wait this long, then fail (SQLITE_BUSY)."""
SERVED_BY = "vortex"
MODES = frozenset({"all", "first", "raw", "run"})


@dataclass(frozen=True, slots=True)
class D1Limits:
    max_database_bytes: int = 500 << 20
    """D1's own limit for a database of the free plan."""
    max_result_bytes: int = 16 << 20
    """The rows of one call, as JSON: they cross the host pipe in one frame."""
    query_ms: int = 30_000
    """D1's own: a call's statements together, then they are interrupted."""


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: Sequence[SqlValue] = ()
    mode: str = "all"
    """``first`` reads one row; the others read every row (the harness shapes them)."""


def _code_name(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", None) or "SQLITE_ERROR"
    # SQLITE_CONSTRAINT_UNIQUE and the like: D1 names the primary code.
    return "_".join(str(name).split("_")[:2])


class Database:
    def __init__(self, path: Path, limits: D1Limits) -> None:
        self.path = path
        self.limits = limits
        path.parent.mkdir(parents=True, exist_ok=True)
        self._mark = secrets.token_hex(16)
        self.connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, cached_statements=256
        )
        self.guard: Guard = guard(self.connection)
        self._trusted(
            f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = FULL",
            "PRAGMA foreign_keys = ON",
        )
        page_size = int(self._trusted_value("PRAGMA page_size"))
        self._trusted(f"PRAGMA max_page_count = {max(1, limits.max_database_bytes // page_size)}")

    def _trusted(self, *sql: str) -> None:
        self.guard.trusted = True
        try:
            for statement in sql:
                self.connection.execute(self._own(statement)).fetchall()
        finally:
            self.guard.trusted = False

    def _trusted_value(self, sql: str) -> Any:
        self.guard.trusted = True
        try:
            return self.connection.execute(self._own(sql)).fetchone()[0]
        finally:
            self.guard.trusted = False

    def _own(self, sql: str) -> str:
        """``sql`` marked as the database's own. sqlite3 keeps prepared statements by their text,
        and SQLite asks the authorizer only when it prepares one: a run that sent the very text of
        a trusted statement (``BEGIN IMMEDIATE``, after a batch) got the trusted statement back,
        unasked. A mark no run can guess keeps the two apart."""
        return f"{sql} -- {self._mark}"

    def size(self) -> int:
        return int(self._trusted_value("PRAGMA page_count")) * int(
            self._trusted_value("PRAGMA page_size")
        )

    def interrupt(self) -> None:
        """From another thread: the statement running now fails (its run was cancelled)."""
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()

    def _start(self) -> None:
        self.guard.timed_out = False
        self.guard.deadline = time.monotonic() + self.limits.query_ms / 1000

    def _error(self, exc: sqlite3.Error | sqlite3.Warning) -> D1Error:
        if self.guard.timed_out:
            return D1Error(
                f"D1_ERROR: the query ran past the time limit of {self.limits.query_ms} ms "
                "and was interrupted: SQLITE_INTERRUPT"
            )
        if isinstance(exc, sqlite3.ProgrammingError) and "bindings" in str(exc):
            return D1Error(f"D1_ERROR: Wrong number of parameter bindings for SQL query. {exc}")
        if isinstance(exc, sqlite3.Warning | sqlite3.ProgrammingError):
            return D1Error(f"D1_ERROR: {exc}")
        return D1Error(f"D1_ERROR: {exc}: {_code_name(exc)}")

    def _rows(
        self, cursor: sqlite3.Cursor, mode: str, budget: list[int]
    ) -> tuple[list[str], list[list[Any]]]:
        columns = [d[0] for d in cursor.description or ()]
        rows: list[list[Any]] = []
        while columns:
            row = cursor.fetchone()
            if row is None:
                break
            # A row's JSON is at least its text and bytes: a row past what is left of the cap
            # is refused before its BLOBs become lists of numbers, which take eight times more.
            least = sum(len(v) for v in row if isinstance(v, str | bytes))
            if least > budget[0]:
                raise self._too_large()
            converted = [cell(v) for v in row]
            budget[0] -= len(orjson.dumps(converted))
            if budget[0] < 0:
                raise self._too_large()
            rows.append(converted)
            if mode == "first":
                break
        return columns, rows

    def _too_large(self) -> D1ResultTooLarge:
        return D1ResultTooLarge(
            f"D1_ERROR: the result is over {self.limits.max_result_bytes} bytes "
            "(VORTEX_D1_MAX_RESULT_BYTES): select fewer rows or columns"
        )

    def _one(self, statement: Statement, budget: list[int]) -> dict[str, Any]:
        began = time.perf_counter()
        before = self.connection.total_changes
        cursor = self.connection.execute(statement.sql, list(statement.params))
        try:
            columns, rows = self._rows(cursor, statement.mode, budget)
        finally:
            cursor.close()
        written = self.connection.total_changes - before
        changes = cursor.rowcount if cursor.rowcount > 0 else 0
        return {
            "columns": columns,
            "rows": rows,
            "meta": {
                "served_by": SERVED_BY,
                "duration": round((time.perf_counter() - began) * 1000, 3),
                "changes": changes,
                "last_row_id": cursor.lastrowid or 0,
                "changed_db": written > 0,
                "size_after": self.size(),
                "rows_read": len(rows) if columns else changes,
                "rows_written": written,
            },
        }

    def run(self, statements: Sequence[Statement], batch: bool) -> list[dict[str, Any]]:
        """Each statement's columns, rows and meta; a batch's in one transaction."""
        self._start()
        budget = [self.limits.max_result_bytes]
        if batch:
            self._trusted("BEGIN IMMEDIATE")
        try:
            results = [self._one(statement, budget) for statement in statements]
            if batch:
                self._trusted("COMMIT")
            return results
        except (sqlite3.Error, sqlite3.Warning) as exc:
            raise self._error(exc) from None
        finally:
            if self.connection.in_transaction:
                self._rollback()

    def _rollback(self) -> None:
        self.guard.deadline = float("inf")
        self._trusted("ROLLBACK")

    def exec(self, script: str) -> dict[str, Any]:
        """D1's ``exec``: the script's statements one after another, without parameters; a
        failed one ends it (those before it stay done, as in D1)."""
        self._start()
        began = time.perf_counter()
        statements = split_statements(script)
        if not statements:
            raise D1Error("D1_EXEC_ERROR: Error in line 1: SQL code did not contain a statement.")
        for line, sql in enumerate(statements, 1):
            try:
                for _row in self.connection.execute(sql):
                    pass
            except (sqlite3.Error, sqlite3.Warning) as exc:
                reason = str(self._error(exc)).removeprefix("D1_ERROR: ")
                where = f"Error in line {line}: {sql[:200]}"
                raise D1Error(f"D1_EXEC_ERROR: {where}: {reason}") from None
            finally:
                if self.connection.in_transaction:
                    self._rollback()
        duration = round((time.perf_counter() - began) * 1000, 3)
        return {"count": len(statements), "duration": duration}
