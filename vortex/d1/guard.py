"""What SQL a database refuses, whoever sends it: a run, or the operator's route.

A database is one SQLite file of the data directory, and SQL can name other files: ``ATTACH``
(and ``VACUUM INTO``, which attaches its target) would read or write any path the server may,
``PRAGMA journal_mode=OFF`` or ``writable_schema`` would let a crash or a statement corrupt it,
``PRAGMA max_page_count`` would lift the size limit. SQLite asks an authorizer about every
statement as it compiles it: this one denies attaching, every PRAGMA but the harmless ones D1
allows, the raw pages (``sqlite_dbpage``) and transaction statements, which would leave the
connection mid-transaction between calls (a batch is D1's transaction). ``trusted`` lets the
database's own statements through (its BEGIN of a batch, its size PRAGMAs).

A progress handler ends a statement past its deadline (a ``WITH RECURSIVE`` without end), so
a database's thread is never held longer than the time limit.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

ALLOWED_PRAGMAS = frozenset(
    {
        "table_list",
        "table_info",
        "table_xinfo",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "foreign_key_check",
        "foreign_keys",
        "defer_foreign_keys",
        "case_sensitive_like",
        "legacy_alter_table",
        "recursive_triggers",
        "reverse_unordered_selects",
        "ignore_check_constraints",
        "optimize",
        "quick_check",
        "integrity_check",
    }
)
"""D1's list of PRAGMAs: each reads the schema or changes only how this database behaves."""
READ_ONLY_PRAGMAS = frozenset(
    {"page_size", "page_count", "freelist_count", "data_version", "schema_version", "user_version"}
)
"""Allowed without a value only: FTS5 and R*Tree read ``page_size`` and ``data_version`` as
they make their tables, and setting ``page_size`` would skew the size limit."""
DENIED_FUNCTIONS = frozenset({"fts3_tokenizer", "load_extension"})
"""``fts3_tokenizer(name)`` answers a pointer: an address of the server's process."""
RAW_PAGES = "sqlite_dbpage"
MAX_VALUE_BYTES = 2_000_000
"""A string, BLOB or row, as D1 limits them."""
MAX_COLUMNS = 100
"""Columns of a table, of a result, of an index, as D1 limits them."""
PROGRESS_EVERY = 1000
"""SQLite virtual machine steps between two looks at the clock."""


@dataclass(slots=True)
class Guard:
    """One per connection; ``deadline`` is set before each statement (monotonic seconds)."""

    trusted: bool = False
    deadline: float = float("inf")
    timed_out: bool = False

    def authorize(
        self, action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None
    ) -> int:
        if self.trusted:
            return sqlite3.SQLITE_OK
        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            return sqlite3.SQLITE_DENY
        if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT):
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_PRAGMA:
            name = (arg1 or "").lower()
            allowed = name in ALLOWED_PRAGMAS or (name in READ_ONLY_PRAGMAS and arg2 is None)
            return sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in DENIED_FUNCTIONS:
            return sqlite3.SQLITE_DENY
        if RAW_PAGES in ((arg1 or "").lower(), (arg2 or "").lower()):
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def progress(self) -> int:
        if time.monotonic() > self.deadline:
            self.timed_out = True
            return 1
        return 0


def guard(connection: sqlite3.Connection) -> Guard:
    """Installs a ``Guard`` on a new connection, before any SQL of a run reaches it."""
    watch = Guard()
    connection.set_authorizer(watch.authorize)
    connection.set_progress_handler(watch.progress, PROGRESS_EVERY)
    # Belt and braces with the authorizer: no database may be attached at all, VACUUM INTO's
    # target included (it attaches it).
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    # D1's own limits of a value and of a row's columns: they also bound the memory one row of
    # a result takes in the server before its size is counted against the result's cap.
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    connection.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, MAX_COLUMNS)
    return watch
