"""What ``vortex deploy`` uploads, and with which settings: the file as it is, or, for a Worker
project, its entry bundled with its npm packages; settings from the command line over those of
the project's wrangler configuration. No request is made here.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from vortex.cli.assetfiles import Collected, collect
from vortex.cli.bundle import Bundle, bundle
from vortex.cli.errors import CLIError, ExitCode
from vortex.cli.wrangler import CONFIG_NAMES, WorkerConfig, find_config, load_config
from vortex.storage.names import NAME

_IMPORTS = re.compile(r"\bimport\b|\brequire\s*\(|\bfrom\s*[\"'`]")
"""Text that may import another file. A lexical guess that errs on the side of bundling: a file
bundled with nothing else is uploaded as it was."""
_RELATIVE_IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*\(?\s*["'`]\.\.?/""")
"""An import of another file by relative path, in code that is already built."""
_LINKED_IMPORT = re.compile(r'^import\b[^"\n]*"([^"]+)"', re.MULTILINE)
"""An import the bundle keeps, of what the server links (``node:``, ``cloudflare:workers``)."""
_PACKAGE = re.compile(r"(?:^|/)node_modules/((?:@[^/]+/)?[^/]+)/")
KV_BINDING = "KV"
"""The one KV namespace a Vortex function has, in ``env`` (docs/kv.md)."""
ASSETS_ONLY_BINDING = "ASSETS"
ASSETS_ONLY_WORKER = """// vortex deploy: a project with assets and no "main" is served by this.
export default {
  fetch(request, env) {
    return env.%s.fetch(request);
  },
};
"""
"""What Workers does with an assets-only project, in one line of code: every request that no
asset answers first (an SPA's fetches, a 404) goes through the assets' own handling."""


@dataclass(frozen=True, slots=True)
class AssetsPlan:
    directory: Path
    collected: Collected
    config: dict[str, object]
    """The deploy's ``assets.config``: binding and the serving settings."""

    def body(self) -> dict[str, object]:
        return {"manifest": self.collected.manifest(), "config": self.config}


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line said."""

    file: Path | None
    name: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    schedules: tuple[str, ...] = ()
    """``--schedule`` / ``--cron``, each time given."""
    routes: tuple[str, ...] = ()
    minify: bool = False
    """``--minify``; else the configuration's ``minify``."""


@dataclass(frozen=True, slots=True)
class Plan:
    entry: Path
    source: str
    """What is uploaded: the entry's own text, or the bundle."""
    filename: str
    name: str | None
    env: dict[str, str]
    schedules: tuple[str, ...]
    """Empty: none given, the active version's are kept."""
    config: Path | None = None
    routes: tuple[str, ...] | None = None
    """Custom-domain routes to claim (--route, else the configuration's); None: kept."""
    shown: str = ""
    """The entry as the user would name it: relative to the folder of the command."""
    bundled_files: int = 0
    """Files in the bundle (0: the entry was uploaded as it is)."""
    minified: bool = False
    packages: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    wasm: tuple[tuple[str, bytes], ...] = ()
    """The ``.wasm`` files the bundle imports, uploaded beside it: their names and bytes."""
    assets: AssetsPlan | None = None
    assets_only: bool = False
    """No ``main``: the code is ``ASSETS_ONLY_WORKER``."""
    r2_buckets: tuple[dict[str, str], ...] | None = None
    """The configuration's ``r2_buckets`` as the deploy sends them; None: none there (kept)."""
    d1_databases: tuple[dict[str, str], ...] | None = None
    """The configuration's ``d1_databases`` as the deploy sends them; None: none there (kept)."""
    services: tuple[dict[str, Any], ...] | None = None
    """The configuration's service bindings as the deploy sends them; None: none given, the
    active version's kept."""


def plan_deploy(options: Options, folder: Path) -> Plan:
    """``folder``: where the command runs, where a wrangler configuration is looked for."""
    config_path = find_config(folder)
    config = load_config(config_path) if config_path is not None else None
    assets = _assets(config)
    if options.file is None and config is not None and config.main is None and assets is not None:
        return _assets_only(options, config, assets, folder)
    entry = _entry(options.file, config, folder)
    source = read_source(entry)
    warnings: list[str] = []
    name = options.name if options.name is not None else (config.name if config else None)
    if options.name is None and config is not None and name is not None:
        _check_config_name(config, name)
    # A name given as --secret is kept out of the variables, as it would be refused in both.
    env = {k: v for k, v in (config.vars if config else {}).items() if k not in options.secrets}
    env.update(options.env)
    schedules = options.schedules
    if config is not None:
        schedules = _schedules(config, schedules, warnings)
        warnings.extend(_unmapped(config))
    shown = str(entry.relative_to(folder) if entry.is_relative_to(folder) else entry)
    routes = options.routes or (config.routes if config else ()) or None
    plan = Plan(entry, source, upload_name(entry), name, env, schedules, config_path, routes, shown)
    plan = replace(
        plan,
        assets=assets,
        r2_buckets=_r2_buckets(config),
        d1_databases=_d1_databases(config),
        services=(config.services or None) if config else None,
    )
    if assets is not None and assets.collected.skipped_workers_files:
        warnings.append(_workers_files_warning(assets))
    wants_bundle = (
        (config is not None and not config.no_bundle)
        or (config is None and _IMPORTS.search(source) is not None)
        # With no_bundle, wrangler uploads the modules beside the entry (its "rules"), which
        # it imports by relative path: Cloudflare's Vite plugin writes such an entry (React
        # Router's template). Vortex uploads one module, so they are joined into it.
        or _RELATIVE_IMPORT.search(source) is not None
    )
    if wants_bundle:
        minify = options.minify or (config is not None and config.minify)
        node_globals = config is not None and config.node_globals
        plan = _bundled(plan, config.folder if config else folder, minify, node_globals)
    return _with_warnings(plan, warnings)


def _assets(config: WorkerConfig | None) -> AssetsPlan | None:
    if config is None or config.assets is None:
        return None
    given = config.assets
    collected = collect(given.directory)
    settings: dict[str, object] = {"binding": given.binding, **given.settings}
    if collected.headers is not None:
        settings["headers"] = collected.headers
    if collected.redirects is not None:
        settings["redirects"] = collected.redirects
    return AssetsPlan(given.directory, collected, settings)


def _d1_databases(config: WorkerConfig | None) -> tuple[dict[str, str], ...] | None:
    if config is None or config.d1_databases is None:
        return None
    return tuple({"binding": b, "database_name": name} for b, name in config.d1_databases)


def _r2_buckets(config: WorkerConfig | None) -> tuple[dict[str, str], ...] | None:
    if config is None or config.r2_buckets is None:
        return None
    return tuple({"binding": b, "bucket_name": name} for b, name in config.r2_buckets)


def _workers_files_warning(assets: AssetsPlan) -> str:
    found = " and ".join(assets.collected.skipped_workers_files)
    return f"assets: {found} not uploaded: Vortex does not run an assets folder's _worker.js"


def _assets_only(options: Options, config: WorkerConfig, assets: AssetsPlan, folder: Path) -> Plan:
    """A project of static files alone: deployed with a Worker that serves them."""
    binding = assets.config.get("binding") or ASSETS_ONLY_BINDING
    assets = replace(assets, config={**assets.config, "binding": binding})
    name = options.name if options.name is not None else config.name
    if options.name is None and name is not None:
        _check_config_name(config, name)
    warnings: list[str] = []
    schedules = _schedules(config, options.schedules, warnings)
    warnings.extend(_unmapped(config))
    if assets.collected.skipped_workers_files:
        warnings.append(_workers_files_warning(assets))
    env = {k: v for k, v in config.vars.items() if k not in options.secrets}
    env.update(options.env)
    plan = Plan(
        config.path,
        ASSETS_ONLY_WORKER % binding,
        "index.mjs",
        name,
        env,
        schedules,
        config.path,
        options.routes or config.routes or None,
        "(assets only)",
        assets=assets,
        assets_only=True,
        r2_buckets=_r2_buckets(config),
        d1_databases=_d1_databases(config),
    )
    return _with_warnings(plan, warnings)


def _entry(file: Path | None, config: WorkerConfig | None, folder: Path) -> Path:
    if file is not None:
        return file
    if config is None:
        raise CLIError(
            f"give the FILE to deploy: no {', '.join(CONFIG_NAMES)} in {folder}",
            ExitCode.USAGE,
            "file_not_found",
        )
    if config.main is None:
        raise CLIError(
            f'{config.path.name} has no "main": set it, or give the entry '
            "(vortex deploy src/index.ts)",
            ExitCode.USAGE,
            "invalid_config",
        )
    return config.folder / config.main


def _check_config_name(config: WorkerConfig, name: str) -> None:
    """Refused here, the error names the file; the server's would not say where the name came
    from. Workers accept names Vortex does not (``my_worker``)."""
    if not NAME.fullmatch(name):
        raise CLIError(
            f'{config.path.name}: "name" {name!r} is not a Vortex function name (1-63 '
            "lowercase letters, digits and hyphens, starting with a letter or digit): "
            "rename it there, or give --name",
            ExitCode.USAGE,
            "invalid_config",
        )


def _schedules(
    config: WorkerConfig, given: tuple[str, ...], warnings: list[str]
) -> tuple[str, ...]:
    if given:
        if config.crons:
            shown = " ".join(f"--schedule {cron!r}" for cron in given)
            warnings.append(f"triggers.crons of {config.path.name} not used: {shown} wins")
        return given
    # More than the server takes is refused by it (too_many_schedules), which names the limit.
    return config.crons


def _unmapped(config: WorkerConfig) -> list[str]:
    """A line for each part of the configuration that will not do what it does on Workers."""
    lines = list(config.notes)
    for binding in config.kv_bindings:
        if binding != KV_BINDING:
            lines.append(
                f"kv_namespaces: env.{binding} will not exist: a Vortex function has one KV "
                f"namespace of its own, env.{KV_BINDING}; use that name in the code"
            )
    if config.unused:
        lines.append(f"not used by Vortex: {', '.join(config.unused)}")
    return lines


def _bundled(plan: Plan, project: Path, minify: bool, node_globals: bool = False) -> Plan:
    built = bundle(plan.entry, project, node_globals=node_globals, minify=minify)
    warnings = (built.warnings,) if built.warnings else ()
    if built.entry_is_module and built.exports_nothing:
        return _service_worker(plan, built, minify)
    if len(built.inputs) == 1 and not built.wasm and not built.node_globals:
        return _with_warnings(plan, warnings)  # nothing imported: the server builds it as it is
    if not built.entry_is_module:
        raise CLIError(
            f"{plan.shown} is a script that requires other files; only a module "
            "(export default { fetch }) can import: see docs/http-functions.md",
            ExitCode.FAILED,
            "invalid_import",
        )
    packages = sorted({m[1] for path in built.inputs if (m := _PACKAGE.search(path))})
    return replace(
        plan,
        source=built.code,
        filename=str(PurePosixPath(upload_name(plan.entry)).with_suffix(".mjs")),
        bundled_files=len(built.inputs),
        minified=minify,
        packages=tuple(packages),
        warnings=plan.warnings + warnings,
        wasm=tuple((name, read_bytes(project / path)) for name, path in built.wasm),
    )


def _service_worker(plan: Plan, built: Bundle, minify: bool) -> Plan:
    """An entry of service-worker syntax that imports files: deployed as one script, as
    wrangler builds it (an IIFE), since a module has no ``addEventListener``. A script cannot
    import what the server links (``node:``, ``cloudflare:workers``, ``.wasm``)."""
    linked = _LINKED_IMPORT.findall(built.code) + [name for name, _ in built.wasm]
    if linked:
        raise CLIError(
            f"{plan.shown} exports nothing, so it is a service worker (addEventListener), and "
            f"a service worker cannot import {', '.join(sorted(set(linked)))}: make it a "
            "module (export default { async fetch(request, env, ctx) { ... } }), see "
            "docs/http-functions.md",
            ExitCode.FAILED,
            "invalid_import",
        )
    warnings = (built.warnings,) if built.warnings else ()
    if len(built.inputs) == 1:
        return _with_warnings(plan, warnings)  # nothing imported: the server builds it as it is
    packages = sorted({m[1] for path in built.inputs if (m := _PACKAGE.search(path))})
    return replace(
        plan,
        # On the first line, so that positions in the bundle keep their lines.
        source="(() => {" + built.code + "\n})();\n",
        filename=str(PurePosixPath(upload_name(plan.entry)).with_suffix(".js")),
        bundled_files=len(built.inputs),
        minified=minify,
        packages=tuple(packages),
        warnings=plan.warnings + warnings,
    )


def beside_entry(plan: Plan) -> dict[str, str] | None:
    """The files uploaded beside the entry (its ``.wasm`` files, in base64), if any."""
    if not plan.wasm:
        return None
    return {name: base64.b64encode(data).decode("ascii") for name, data in plan.wasm}


def _with_warnings(plan: Plan, warnings: tuple[str, ...] | list[str]) -> Plan:
    return replace(plan, warnings=plan.warnings + tuple(warnings)) if warnings else plan


def upload_name(path: Path) -> str:
    """The file's name as the server accepts it: word characters, dots and dashes."""
    name = re.sub(r"[^\w.-]", "_", path.name)[:100]
    if not name:
        return "index.js"
    return name if re.match(r"\w", name) else "_" + name[:99]


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file", ExitCode.USAGE, "file_not_found") from None
    except IsADirectoryError:
        raise CLIError(f"{path} is a directory", ExitCode.USAGE, "file_not_found") from None
    except OSError as exc:
        message = f"cannot read {path}: {exc.strerror or exc}"
        raise CLIError(message, ExitCode.FAILED, "read_failed") from None


def read_source(path: Path) -> str:
    data = read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CLIError(f"{path} is not UTF-8 text", ExitCode.FAILED, "not_text") from None
