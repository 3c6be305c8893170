"""``vortex d1 migrations apply``: wrangler's migrations, applied through the query route.

As wrangler does: the ``.sql`` files of the migrations folder, in name order, each applied once,
recorded in the database's ``d1_migrations`` table (wrangler's name and columns, so a database
moved between the two knows what it holds). Each file and its record go as one batch: a file
that fails leaves nothing of itself, and the ones after it are not tried.
"""

from __future__ import annotations

from pathlib import Path

TABLE = "d1_migrations"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)"
)
APPLIED = f"SELECT name FROM {TABLE} ORDER BY id"


def migration_files(folder: Path) -> list[Path]:
    return sorted((p for p in folder.glob("*.sql") if p.is_file()), key=lambda p: p.name)


def pending(files: list[Path], applied: set[str]) -> list[Path]:
    return [path for path in files if path.name not in applied]


def batch_of(path: Path) -> str:
    """The file and its record, one script: the newline ends a last ``--`` comment, the ``;`` a
    last statement written without one (an empty statement is no statement)."""
    name = path.name.replace("'", "''")
    text = path.read_text(encoding="utf-8")
    return f"{text}\n;\nINSERT INTO {TABLE} (name) VALUES ('{name}');"
