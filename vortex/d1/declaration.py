"""The D1 databases a deploy binds: ``"d1_databases": [{"binding": "DB", "database_name":
"app"}]`` (wrangler's shape, without its Cloudflare ids), kept as ``{binding: database_name}``
on the version's record. A database belongs to the deploying namespace: two functions of one
namespace naming one ``database_name`` share it, another namespace's is another database."""

from __future__ import annotations

import re
from typing import Any

from vortex.errors import InvalidRequest

MAX_DATABASES = 32
BINDING_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,63}")
DATABASE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
"""Lowercase, so two names never share one file on a case-insensitive file system."""
RESERVED = frozenset({"KV"})
"""``env.KV`` is the function's KV namespace (docs/kv.md)."""
FIELDS = frozenset({"binding", "database_name"})


def check_database_name(name: object) -> str:
    if not isinstance(name, str) or not DATABASE_NAME.fullmatch(name):
        raise InvalidRequest(
            "a D1 database_name is 1 to 63 lowercase letters, digits, _ and -, "
            "starting with a letter or digit"
        )
    return name


def parse_d1_databases(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, list):
        raise InvalidRequest('"d1_databases" must be a list of {"binding", "database_name"}')
    if len(value) > MAX_DATABASES:
        raise InvalidRequest(f'"d1_databases" holds at most {MAX_DATABASES} databases')
    databases: dict[str, str] = {}
    for entry in value:
        if not isinstance(entry, dict):
            raise InvalidRequest('"d1_databases" must be a list of {"binding", "database_name"}')
        unknown = sorted(set(entry) - FIELDS)
        if unknown:
            # wrangler's database_id and the like name Cloudflare's account: the CLI drops them.
            raise InvalidRequest(f'"d1_databases": unknown field {unknown[0]!r}')
        binding = entry.get("binding")
        if not isinstance(binding, str) or not BINDING_NAME.fullmatch(binding):
            raise InvalidRequest(
                '"d1_databases": each needs a "binding", a JavaScript name such as "DB"'
            )
        if binding in RESERVED:
            raise InvalidRequest(f'"d1_databases": env.{binding} is the function\'s KV namespace')
        if binding in databases:
            raise InvalidRequest(f'"d1_databases": env.{binding} is bound twice')
        try:
            databases[binding] = check_database_name(entry.get("database_name"))
        except InvalidRequest as exc:
            raise InvalidRequest(f'"d1_databases": env.{binding}: {exc}') from None
    return databases


def d1_databases_json(databases: dict[str, str]) -> list[dict[str, Any]]:
    """As deploys and wrangler give them."""
    return [{"binding": b, "database_name": name} for b, name in databases.items()]


def d1_databases_of(value: object) -> dict[str, str]:
    """A stored record's (written by this code: trusted, but older records have none)."""
    if not isinstance(value, list):
        return {}
    return {str(e["binding"]): str(e["database_name"]) for e in value if isinstance(e, dict)}
