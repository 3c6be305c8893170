"""A Worker's wrangler configuration (``wrangler.json``, ``wrangler.jsonc``, ``wrangler.toml``),
read for ``vortex deploy``: what Vortex can use of it, and what it cannot, by name.

Used: ``name``, ``main``, ``vars`` (→ env), ``kv_namespaces`` (their binding names),
``r2_buckets`` (each ``binding`` and ``bucket_name``: the deploy's, docs/r2.md),
``d1_databases`` (each ``binding`` and ``database_name``: the deploy's, docs/d1.md; the ids name
Cloudflare's copies; ``migrations_dir`` is for ``vortex d1 migrations apply``),
``triggers.crons`` (→ the schedules), ``routes``/``route`` (→ the routes: a pattern, or a table's
``pattern``; a ``custom_domain`` one is its whole host), ``no_bundle``, ``minify``, and
``compatibility_flags`` with ``compatibility_date`` for one thing: whether nodejs_compat makes
``Buffer`` and ``process`` globals (``node_globals``), and ``assets`` (its ``directory``,
``binding``, ``not_found_handling``, ``html_handling``, ``run_worker_first``), and ``services``
(→ the service bindings: ``binding``, ``service``, a named ``entrypoint``, ``props``). Accepted and
ignored: the keys in ``IGNORED``. Any other key is listed back to the user as not used, so
nothing is dropped without a word.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vortex.cli.errors import CLIError, ExitCode

CONFIG_NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")
"""Looked for in this order, as wrangler does."""
REDIRECT = Path(".wrangler/deploy/config.json")
"""Where a build says which configuration to deploy, as wrangler reads it."""
USED = frozenset(
    {
        "name",
        "main",
        "vars",
        "kv_namespaces",
        "r2_buckets",
        "d1_databases",
        "triggers",
        "routes",
        "route",
        "no_bundle",
        "minify",
        "compatibility_date",
        "compatibility_flags",
        "assets",
        "services",
    }
)
IGNORED = frozenset(
    {
        "$schema",
        "account_id",
        "workers_dev",
        "preview_urls",
        "send_metrics",
        "keep_vars",
        "observability",
        "upload_source_maps",
        "dev",
        "logpush",
        "configPath",
        "userConfigPath",
        "topLevelName",
        "definedEnvironments",
    }
)
"""What describes Cloudflare's account, dashboard or local tools, not the Worker's behaviour;
and what wrangler notes in a configuration it writes (where the user's own was)."""
WRANGLER_DEFAULTS: dict[str, object] = {
    "jsx_factory": "React.createElement",
    "jsx_fragment": "React.Fragment",
    "rules": [{"type": "ESModule", "globs": ["**/*.js", "**/*.mjs"]}],
    "python_modules": {"exclude": ["**/*.pyc"]},
}
"""Values that ask for nothing Vortex does not do already."""
NODE_GLOBALS_SINCE = "2024-09-23"
"""workerd's nodejs_compat makes ``Buffer`` and ``process`` globals from this compatibility
date (nodejs_compat_v2 before it)."""


@dataclass(frozen=True, slots=True)
class AssetsConfig:
    """``assets``: the folder of static files, and how they are served (checked by the server:
    values it does not know are refused there, with its message)."""

    directory: Path
    binding: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    """``not_found_handling``, ``html_handling`` and ``run_worker_first``, as given."""


ASSET_SETTINGS = ("not_found_handling", "html_handling", "run_worker_first")


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    path: Path
    name: str | None = None
    main: str | None = None
    vars: dict[str, str] = field(default_factory=dict)
    kv_bindings: tuple[str, ...] = ()
    r2_buckets: tuple[tuple[str, str], ...] | None = None
    """``(binding, bucket_name)`` of each of ``r2_buckets``; None when the key is absent."""
    d1_databases: tuple[tuple[str, str], ...] | None = None
    """``(binding, database_name)`` of each of ``d1_databases``; None when the key is absent."""
    d1_migrations: dict[str, str] = field(default_factory=dict)
    """Each database's ``migrations_dir`` (wrangler's default: ``migrations``), by its
    ``database_name`` and by its binding: ``vortex d1 migrations apply`` reads it."""
    crons: tuple[str, ...] = ()
    routes: tuple[str, ...] = ()
    no_bundle: bool = False
    node_globals: bool = False
    """``Buffer`` and ``process`` are globals for the code, as nodejs_compat makes them."""
    minify: bool = False
    assets: AssetsConfig | None = None
    services: tuple[dict[str, Any], ...] = ()
    """``services``: each binding as the deploy sends it (``binding``, ``service``, and
    ``entrypoint`` and ``props`` when given)."""
    unused: tuple[str, ...] = ()
    """Top-level keys Vortex has no use for (``durable_objects``, ``env``...), sorted."""
    notes: tuple[str, ...] = ()
    """What was changed while reading (a var that is not a string, sent as its JSON)."""

    @property
    def folder(self) -> Path:
        return self.path.parent


def find_config(folder: Path) -> Path | None:
    redirected = _redirected(folder)
    if redirected is not None:
        return redirected
    for name in CONFIG_NAMES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _redirected(folder: Path) -> Path | None:
    """The configuration a build left for ``wrangler deploy`` (``REDIRECT``), which wrangler
    takes instead of the project's own: Cloudflare's Vite plugin (React Router's template,
    Astro 6...) writes the Worker it built, its ``main`` and ``assets``, next to its output."""
    pointer = folder / REDIRECT
    if not pointer.is_file():
        return None
    try:
        data = json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        message = f"{REDIRECT}: cannot be read: {exc}"
        raise CLIError(message, ExitCode.USAGE, "invalid_config") from None
    target = data.get("configPath") if isinstance(data, dict) else None
    if not isinstance(target, str):
        raise CLIError(f"{REDIRECT}: no configPath", ExitCode.USAGE, "invalid_config")
    path = (pointer.parent / target).resolve()
    if not path.is_file():
        raise CLIError(
            f"{REDIRECT} points to {target}, which is not there: build the project again",
            ExitCode.USAGE,
            "invalid_config",
        )
    return path


def load_config(path: Path) -> WorkerConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _invalid(path, f"cannot be read: {exc}") from None
    if path.suffix == ".toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _invalid(path, str(exc)) from None
    else:
        try:
            data = json.loads(strip_jsonc(text))
        except json.JSONDecodeError as exc:
            raise _invalid(path, f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict):
        raise _invalid(path, "is not a table of settings")
    return _config_of(path, data)


def _invalid(path: Path, why: str) -> CLIError:
    return CLIError(f"{path.name}: {why}", ExitCode.USAGE, "invalid_config")


def _config_of(path: Path, data: dict[str, Any]) -> WorkerConfig:
    name, main = _optional_str(path, data, "name"), _optional_str(path, data, "main")
    variables, notes = _vars(path, data.get("vars"))
    services = _services(path, data.get("services"))
    no_bundle, minify = _flag(path, data, "no_bundle"), _flag(path, data, "minify")
    unused = sorted(
        key
        for key, value in data.items()
        if key not in USED and key not in IGNORED and not _says_nothing(key, value)
    )
    return WorkerConfig(
        path=path,
        name=name,
        main=main,
        vars=variables,
        kv_bindings=_kv_bindings(path, data.get("kv_namespaces")),
        r2_buckets=_r2_buckets(path, data.get("r2_buckets")),
        d1_databases=_d1_databases(path, data.get("d1_databases")),
        d1_migrations=_d1_migrations(data.get("d1_databases")),
        crons=_crons(path, data.get("triggers")),
        routes=_routes(path, data),
        no_bundle=no_bundle,
        node_globals=_node_globals(path, data),
        minify=minify,
        assets=_assets(path, data.get("assets")),
        services=services,
        unused=tuple(unused),
        notes=tuple(notes),
    )


def _says_nothing(key: str, value: object) -> bool:
    """An empty table or list, or wrangler's default: the configuration a build writes for
    ``wrangler deploy`` (``REDIRECT``) has every key, most of them so."""
    if WRANGLER_DEFAULTS.get(key, ...) == value:
        return True
    if isinstance(value, dict):  # queues = { producers = [], consumers = [] }
        return all(_says_nothing("", item) for item in value.values())
    return value in ([], None, False)


def _assets(path: Path, raw: object) -> AssetsConfig | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _invalid(path, '"assets" must be a table with a "directory"')
    directory = raw.get("directory")
    if not isinstance(directory, str) or not directory:
        raise _invalid(path, '"assets.directory" must be the folder of the static files')
    binding = _optional_str(path, raw, "binding")
    settings = {key: raw[key] for key in ASSET_SETTINGS if key in raw}
    # "../client" of a configuration a build wrote (REDIRECT): shown without the "..".
    return AssetsConfig(Path(os.path.normpath(path.parent / directory)), binding, settings)


def _node_globals(path: Path, data: dict[str, Any]) -> bool:
    """As workerd decides: nodejs_compat_v2, or nodejs_compat with a date from
    ``NODE_GLOBALS_SINCE``, unless no_nodejs_compat_v2 says otherwise."""
    flags = data.get("compatibility_flags", [])
    if not isinstance(flags, list) or not all(isinstance(flag, str) for flag in flags):
        raise _invalid(path, '"compatibility_flags" must be a list of flag names')
    date = _optional_str(path, data, "compatibility_date") or ""
    if "no_nodejs_compat_v2" in flags:
        return False
    return "nodejs_compat_v2" in flags or ("nodejs_compat" in flags and date >= NODE_GLOBALS_SINCE)


def _flag(path: Path, data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise _invalid(path, f'"{key}" must be true or false')
    return value


def _optional_str(path: Path, data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _invalid(path, f'"{key}" must be a string')
    return value


def _vars(path: Path, raw: object) -> tuple[dict[str, str], list[str]]:
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        raise _invalid(path, '"vars" must be a table of names to values')
    variables: dict[str, str] = {}
    notes = []
    for key, value in raw.items():
        if isinstance(value, str):
            variables[key] = value
        else:
            # Workers hand a JSON var to the code parsed; Vortex's env holds strings only.
            variables[key] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            notes.append(
                f"vars.{key} is not a string: env.{key} will be its JSON text "
                f"({variables[key][:40]}); Vortex variables are strings"
            )
    return variables, notes


def _kv_bindings(path: Path, raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _invalid(path, '"kv_namespaces" must be a list of {binding, id}')
    bindings = []
    for entry in raw:
        binding = entry.get("binding") if isinstance(entry, dict) else None
        if not isinstance(binding, str):
            raise _invalid(path, 'each of "kv_namespaces" needs a "binding" name')
        bindings.append(binding)
    return tuple(bindings)


def _r2_buckets(path: Path, raw: object) -> tuple[tuple[str, str], ...] | None:
    """Checked again by the server (its message names the rule); ``preview_bucket_name`` and
    ``jurisdiction`` describe Cloudflare's account, not the Worker: not sent."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise _invalid(path, '"r2_buckets" must be a list of {binding, bucket_name}')
    buckets = []
    for entry in raw:
        binding = entry.get("binding") if isinstance(entry, dict) else None
        bucket = entry.get("bucket_name") if isinstance(entry, dict) else None
        if not isinstance(binding, str) or not isinstance(bucket, str):
            raise _invalid(path, 'each of "r2_buckets" needs a "binding" and a "bucket_name"')
        buckets.append((binding, bucket))
    return tuple(buckets)


def _services(path: Path, raw: object) -> tuple[dict[str, Any], ...]:
    """Each binding as the deploy sends it: ``binding``, ``service``, and a named
    ``entrypoint`` and ``props`` when given. Checked again by the server."""
    if raw is None:
        return ()
    shape = '"services" must be a list of {binding, service}'
    if not isinstance(raw, list):
        raise _invalid(path, shape)
    services = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise _invalid(path, shape)
        binding, service = entry.get("binding"), entry.get("service")
        if not isinstance(binding, str) or not isinstance(service, str):
            raise _invalid(path, 'each of "services" needs a "binding" and a "service" name')
        entrypoint, props = entry.get("entrypoint"), entry.get("props")
        if entrypoint is not None and not isinstance(entrypoint, str):
            raise _invalid(path, f'the "entrypoint" of services\' {binding} must be a name')
        if props is not None and not isinstance(props, dict):
            raise _invalid(path, f'the "props" of services\' {binding} must be a table')
        given: dict[str, Any] = {"binding": binding, "service": service}
        if entrypoint is not None and entrypoint != "default":
            given["entrypoint"] = entrypoint
        if props is not None:
            given["props"] = props
        services.append(given)
    return tuple(services)


def _d1_databases(path: Path, raw: object) -> tuple[tuple[str, str], ...] | None:
    """Checked again by the server. ``database_id`` and ``preview_database_id`` are
    Cloudflare's: not sent (``migrations_dir``: ``_d1_migrations``)."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise _invalid(path, '"d1_databases" must be a list of {binding, database_name}')
    databases = []
    for entry in raw:
        binding = entry.get("binding") if isinstance(entry, dict) else None
        name = entry.get("database_name") if isinstance(entry, dict) else None
        if not isinstance(binding, str) or not isinstance(name, str):
            raise _invalid(path, 'each of "d1_databases" needs a "binding" and a "database_name"')
        databases.append((binding, name))
    return tuple(databases)


def _d1_migrations(raw: object) -> dict[str, str]:
    """Read after ``_d1_databases`` checked the shape."""
    found: dict[str, str] = {}
    for entry in raw if isinstance(raw, list) else ():
        folder = entry.get("migrations_dir")
        folder = folder if isinstance(folder, str) and folder else "migrations"
        found[str(entry["binding"])] = found[str(entry["database_name"])] = folder
    return found


def _crons(path: Path, raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    crons = raw.get("crons", []) if isinstance(raw, dict) else None
    if not isinstance(crons, list) or not all(isinstance(cron, str) for cron in crons):
        raise _invalid(path, '"triggers.crons" must be a list of cron expressions')
    return tuple(crons)


def _routes(path: Path, data: dict[str, Any]) -> tuple[str, ...]:
    raw = data.get("routes", [])
    if "route" in data:
        raw = [data["route"], *(raw if isinstance(raw, list) else [])]
    if not isinstance(raw, list):
        raise _invalid(path, '"routes" must be a list')
    routes = []
    for route in raw:
        pattern = route.get("pattern") if isinstance(route, dict) else route
        if not isinstance(pattern, str):
            raise _invalid(path, 'each route must be a pattern or a {"pattern": ...} table')
        if isinstance(route, dict) and route.get("custom_domain") is True and "/" not in pattern:
            pattern += "/*"  # a Custom Domain: every path of the host
        routes.append(pattern)
    return tuple(routes)


def strip_jsonc(text: str) -> str:
    """JSON with comments (``//``, ``/* */``) and trailing commas → JSON.

    Comments and trailing commas become spaces (a comment's newlines are kept), so the line and
    column of a JSON error still point into the file. Inside a string nothing is touched, so a
    URL's ``//`` stays.
    """
    out: list[str] = []
    i, n = 0, len(text)
    pending_comma: int | None = None
    """Where in ``out`` the last comma outside strings sits, while only blanks followed it."""
    while i < n:
        char = text[i]
        if char == '"':
            end = _string_end(text, i)
            out.append(text[i:end])
            pending_comma = None
            i = end
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            out.append(" " * (end - i))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            out.append("".join(c if c == "\n" else " " for c in text[i:end]))
            i = end
        else:
            if char in "]}" and pending_comma is not None:
                out[pending_comma] = " "
            if char == ",":
                pending_comma = len(out)
            elif not char.isspace():
                pending_comma = None
            out.append(char)
            i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    """The index just past the string opened at ``start`` (the end of text if it never closes:
    the JSON parser then says so)."""
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == '"':
            return i + 1
        else:
            i += 1
    return len(text)


DEV_VARS = ".dev.vars"
"""Where ``wrangler dev`` finds a project's local secrets (dotenv lines), beside its config."""


def read_dev_vars(folder: Path) -> dict[str, str]:
    """The ``.dev.vars`` of a project, as ``vortex dev`` sends them: secrets. ``KEY=VALUE``
    lines, ``#`` comments, an optional ``export``, values optionally in quotes."""
    path = folder / DEV_VARS
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _invalid(path, f"cannot be read: {exc}") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise _invalid(path, f"line {number} is not KEY=VALUE")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values
