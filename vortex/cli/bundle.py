"""The bundling ``vortex deploy`` does on the user's machine, as wrangler does for a Worker.

esbuild (the binary the server builds modules with, ``vortex.modules.esbuild.esbuild_path``)
bundles the entry with the files and npm packages it imports, found in the project's
``node_modules`` as Node finds them, into one ES module. The server never resolves a package:
it refuses bare imports, so this is where they are met.

An import of a supported Node.js built-in (``node:buffer``, ``vortex.modules.nodebuiltins``) or
of ``cloudflare:workers`` stays an import too: the server links it. Other ``node:`` and
``cloudflare:`` imports fail here, with the list.

A ``.wasm`` file imported by relative path stays an import, as wrangler's CompiledWasm rule
keeps it: the file is uploaded beside the bundle, which imports it by its upload name, and the
server makes it a ``WebAssembly.Module`` (vortex/modules/wasm.py).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from vortex.cli.errors import CLIError, ExitCode
from vortex.cli.nodeglobals import finished, is_shim, write_shims
from vortex.cli.noderequires import requires_imported
from vortex.modules.errors import CLOUDFLARE_MODULES_ADVICE, NODE_BUILTINS_ADVICE
from vortex.modules.esbuild import esbuild_path
from vortex.modules.nodebuiltins import CLOUDFLARE_MODULES, PREFIX, SUPPORTED, builtin_name

BUNDLE_TIMEOUT = 120.0
_EXTERNAL_HINT = re.compile(r"\n\n  You can mark the path [^\n]* as external[^\n]*")
_NODE_BUILTIN = re.compile(r'Could not resolve "node:')
_CLOUDFLARE_MODULE = re.compile(r'Could not resolve "cloudflare:')
_NODE_HINT = re.compile(r"\n\n  The package \"(?:node:)?[^\n]* built into node\.[^\n]*")
_BARE_BUILTIN = re.compile(r'The package "([^":]+)" wasn\'t found on the file system but is built')
_SITES_MANIFEST = 'Could not resolve "__STATIC_CONTENT_MANIFEST"'
"""The module wrangler makes from a ``[site]`` bucket for Workers Sites (kv-asset-handler)."""
SITES_ADVICE = (
    "__STATIC_CONTENT_MANIFEST is the manifest of Workers Sites, which wrangler makes from the "
    "[site] bucket it uploads to the __STATIC_CONTENT namespace: Vortex has neither. Import "
    "small files as text modules (.html, .txt) or keep them in the function's KV (env.KV)"
)
WRANGLER_FLAGS = (
    "--bundle",
    "--format=esm",
    # esbuild's default, which wrangler keeps: a package.json "browser" map is followed
    # (@aws-sdk/client-s3 swaps its Node runtime config for its browser one so).
    "--platform=browser",
    # The package.json "exports" conditions and main fields wrangler resolves packages with.
    "--conditions=workerd,worker,browser",
    "--main-fields=browser,module,main",
    "--target=es2022",
    "--keep-names",
    '--define:process.env.NODE_ENV="production"',
    # JSX in a .js, .mjs or .cjs file, which wrangler's loaders accept (COMMON_ESBUILD_OPTIONS)
    "--loader:.js=jsx",
    "--loader:.mjs=jsx",
    "--loader:.cjs=jsx",
    # wrangler's default module rules for text; the files are inlined as strings.
    "--loader:.txt=text",
    "--loader:.html=text",
    "--loader:.sql=text",
    "--log-level=warning",
    "--color=false",
    "--external:*.wasm",
    # Every Node.js built-in is left as an import, as wrangler leaves them with nodejs_compat:
    # the server links those it has (nodejs_compat's subset), and an import of another that is
    # still in the bundle is refused once it is built (``unsupported_builtins``). Refused while
    # resolving, one a package names in a module it never uses stopped the bundle: Sentry's SDK
    # imports node:module, node:net and node:url in integrations a Worker leaves out.
    f"--external:{PREFIX}*",
    # and cloudflare:workers, which the server links as it does them
    *(f"--external:{name}" for name in CLOUDFLARE_MODULES),
)


_BARE_BUILTIN_ALIASES = tuple(
    f"--alias:{name}={PREFIX}{name}" for name in sorted({n.split("/")[0] for n in SUPPORTED})
)
"""With nodejs_compat, wrangler resolves a bare ``require("crypto")`` or ``import "buffer"`` to
the built-in, as Node does (jws, under jsonwebtoken, requires ``buffer``, ``crypto`` and
``util`` so): the built-ins Vortex has are aliased to their ``node:`` names (``assert/strict``
follows ``assert``). Another bare name is still looked for in node_modules, where an npm
polyfill of it may be (``url``, ``punycode``), since Vortex has no built-in to give instead."""


@dataclass(frozen=True, slots=True)
class Bundle:
    code: str
    inputs: tuple[str, ...]
    """Every file in the bundle, the entry included, relative to the project folder."""
    entry_is_module: bool
    """The entry has ES module syntax (``import``/``export``): a module function, not a script."""
    exports_nothing: bool
    """The entry exports nothing: service-worker syntax (``addEventListener('fetch')``), which
    may still ``import`` the files it is built from; wrangler builds such an entry as a script."""
    warnings: str
    """esbuild's warnings, as it wrote them (empty when none)."""
    wasm: tuple[tuple[str, Path], ...] = ()
    """The ``.wasm`` files it imports: the name each is uploaded (and imported) under, and the
    file, relative to the project folder."""
    node_globals: tuple[str, ...] = ()
    """``Buffer``, ``process``: the globals of nodejs_compat the code uses, imported for it."""


def bundle(
    entry: Path, project: Path, *, node_globals: bool = False, minify: bool = False
) -> Bundle:
    """``entry`` with what it imports, resolved from ``project`` (the folder of the config, or
    the current one); CLIError (exit 1, ``build_failed``) with esbuild's own message.
    ``node_globals``: ``Buffer`` and ``process`` are globals, as nodejs_compat makes them
    (nodeglobals.py); ``minify``: as wrangler's ``minify = true`` (``--minify``)."""
    binary = esbuild_path()
    if not binary.is_file():
        raise CLIError(
            f"esbuild was not found at {binary}: run script/bootstrap, or set VORTEX_ESBUILD_PATH",
            ExitCode.FAILED,
            "esbuild_not_found",
        )
    relative = os.path.relpath(entry, project)  # as esbuild names it in its messages
    with tempfile.TemporaryDirectory(prefix="vortex-bundle-") as work:
        out, meta = Path(work) / "index.mjs", Path(work) / "meta.json"
        injected = write_shims(Path(work)) if node_globals else []
        command = [
            str(binary),
            relative,
            *WRANGLER_FLAGS,
            *(f"--inject:{path}" for path in injected),
            *(_BARE_BUILTIN_ALIASES if node_globals else ()),
            f"--outfile={out}",
            f"--metafile={meta}",
        ]
        done = _esbuild(command, f"bundling {relative}", cwd=project)
        missing = _bare_builtins(done.stderr) if node_globals and done.returncode != 0 else []
        if missing:
            # A bare name of a built-in Vortex lacks, that no package in node_modules answers
            # either: with nodejs_compat wrangler takes it for the built-in (unenv's stub or
            # workerd's own), so the bundle builds and its require() fails only if it runs.
            # Astro's image service bundles sharp, whose detect-libc requires child_process
            # and fs, on a path a Worker never takes. Tried again with those names only: a
            # polyfill installed under such a name (url, punycode) keeps its place.
            aliases = (f"--alias:{name}={PREFIX}{name}" for name in missing)
            done = _esbuild([*command, *aliases], f"bundling {relative}", cwd=project)
        if done.returncode != 0:
            raise CLIError(_failure(relative, done.stderr), ExitCode.FAILED, "build_failed")
        built = _read(out, meta, done.stderr, os.path.relpath(work, project) + "/", relative)
    return replace(built, code=minified(binary, built.code)) if minify else built


def _bare_builtins(stderr: str) -> list[str]:
    """The Node.js built-ins esbuild found no package for (``fs`` for ``fs/promises``)."""
    return sorted({name.split("/")[0] for name in _BARE_BUILTIN.findall(stderr)})


def minified(binary: Path, code: str) -> str:
    """The finished bundle minified, in a second esbuild pass: minifying while bundling would
    rename esbuild's ``__require`` helper, which ``requires_imported`` finds by its name."""
    done = _esbuild(
        [str(binary), "--minify", "--keep-names", "--format=esm", "--target=es2022"],
        "minifying",
        stdin=code,
    )
    if done.returncode != 0:
        raise CLIError(
            f"esbuild could not minify the bundle:\n{done.stderr.rstrip()}",
            ExitCode.FAILED,
            "build_failed",
        )
    return done.stdout


def _esbuild(
    command: list[str], doing: str, *, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """esbuild run to its end; CLIError (``build_failed``) if ``doing`` outlasts the timeout."""
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            input=stdin,
            capture_output=True,
            # esbuild writes UTF-8 (its ✘ and ▲, the project's own text), whatever the locale
            # says.
            encoding="utf-8",
            errors="replace",
            timeout=BUNDLE_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise CLIError(
            f"{doing} took longer than {BUNDLE_TIMEOUT:g} s", ExitCode.FAILED, "build_failed"
        ) from None


def _read(out: Path, meta: Path, warnings: str, work: str, entry: str) -> Bundle:
    """The bundle esbuild wrote; ``work``: its temporary folder, as esbuild names it."""
    metafile = json.loads(meta.read_text(encoding="utf-8"))
    entry_output: dict[str, Any] = next(
        (info for info in metafile["outputs"].values() if "entryPoint" in info), {}
    )
    unsupported = unsupported_builtins(entry_output.get("imports", []))
    if unsupported:
        raise CLIError(
            f"{entry} imports {', '.join(unsupported)}, which the bundle keeps: "
            f"{NODE_BUILTINS_ADVICE}.",
            ExitCode.FAILED,
            "build_failed",
        )
    entry_key = entry_output.get("entryPoint")
    entry_info = metafile["inputs"].get(entry_key, {}) if entry_key else {}
    code, node_globals = finished(out.read_text(encoding="utf-8"), work)
    code = requires_imported(code)
    wasm = _wasm_imports(metafile["inputs"])
    names = _upload_names(wasm)
    if names:
        code = _imports_renamed(code, {specifier: "./" + name for specifier, name in names.items()})
    return Bundle(
        code=code,
        inputs=tuple(path for path in metafile["inputs"] if not is_shim(path)),
        entry_is_module=entry_info.get("format") == "esm",
        exports_nothing=not entry_output.get("exports"),
        warnings=warnings.strip(),
        wasm=tuple((name, Path(wasm[specifier])) for specifier, name in names.items()),
        node_globals=node_globals,
    )


def unsupported_builtins(imports: list[dict[str, Any]]) -> list[str]:
    """The ``node:`` modules the finished bundle imports and the server does not have. A
    ``require`` of one is left to fail if it runs, as on workerd (packages try them)."""
    return sorted(
        {
            str(item["path"])
            for item in imports
            if item.get("kind") == "import-statement"
            and str(item.get("path", "")).startswith(PREFIX)
            and builtin_name(str(item["path"])) is None
        }
    )


def _wasm_imports(inputs: dict[str, dict[str, object]]) -> dict[str, str]:
    """Each ``.wasm`` import as it is written (and left in the bundle) and the file it names.

    The bundle keeps the specifier as the importing file wrote it, so one specifier must name
    one file wherever it is written."""
    found: dict[str, str] = {}
    for importer, info in inputs.items():
        imports = info.get("imports")
        for imported in imports if isinstance(imports, list) else ():
            specifier = str(imported.get("path", ""))
            if not (imported.get("external") and specifier.endswith(".wasm")):
                continue
            if not specifier.startswith(("./", "../")):
                raise CLIError(
                    f'{importer} imports "{specifier}": import a .wasm file by its relative '
                    'path ("./add.wasm")',
                    ExitCode.FAILED,
                    "build_failed",
                )
            file = posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))
            if found.setdefault(specifier, file) != file:
                raise CLIError(
                    f'"{specifier}" names two files ({found[specifier]} and {file}): the bundle '
                    "can import only one of them under that name; rename one",
                    ExitCode.FAILED,
                    "build_failed",
                )
    return found


def _upload_names(wasm: dict[str, str]) -> dict[str, str]:
    """A flat name for each file, its own where no other file has it."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    by_file: dict[str, str] = {}
    for specifier, file in sorted(wasm.items()):
        if file in by_file:
            names[specifier] = by_file[file]
            continue
        path = PurePosixPath(file)
        stem = re.sub(r"[^\w.-]", "_", path.stem) or "module"
        name, number = f"{stem}.wasm", 1
        while name in taken:
            number += 1
            name = f"{stem}-{number}.wasm"
        taken.add(name)
        names[specifier] = by_file[file] = name
    return names


def _imports_renamed(code: str, renamed: dict[str, str]) -> str:
    """The bundle with its imports of each specifier (esbuild writes them double-quoted, in
    ``import`` or ``export ... from`` statements) made imports of its new name, all in one pass:
    a new name may be another import's old one."""
    by_quoted = {json.dumps(old): json.dumps(new) for old, new in renamed.items()}
    quoted = "|".join(re.escape(text) for text in sorted(by_quoted, key=len, reverse=True))
    pattern = re.compile(r"(\b(?:from|import)\s*)(" + quoted + ")")
    return pattern.sub(lambda m: m[1] + by_quoted[m[2]], code)


def _failure(entry: str, stderr: str) -> str:
    # esbuild's advice to mark the path external is for its own users: here the server would
    # refuse the import it leaves.
    shown = _EXTERNAL_HINT.sub("", stderr).rstrip()
    message = f"esbuild could not bundle {entry}:\n{shown}"
    if _NODE_BUILTIN.search(stderr) or _BARE_BUILTIN.search(stderr):
        # esbuild's advice (--platform=node) and ours for packages would both mislead; a bare
        # name (require("stream")) is a built-in Vortex lacks, or one without nodejs_compat.
        message = f"esbuild could not bundle {entry}:\n{_NODE_HINT.sub('', shown)}"
        message += f"\n\n{NODE_BUILTINS_ADVICE}."
        if _BARE_BUILTIN.search(stderr):
            message += (
                " With nodejs_compat in the wrangler configuration, a bare name of one of them "
                '(require("crypto")) is that built-in.'
            )
    elif _CLOUDFLARE_MODULE.search(stderr):
        # not a package either
        message += f"\n\n{CLOUDFLARE_MODULES_ADVICE}."
    elif _SITES_MANIFEST in stderr:
        # not a package: "npm install" would not help
        message += f"\n\n{SITES_ADVICE}."
    elif "Could not resolve" in stderr:
        message += (
            "\n\nA package it imports is not in node_modules: install the project's packages "
            "(npm install) and deploy from the project's folder."
        )
    return message
