"""esbuild, run as a subprocess at deploy: each uploaded file transformed to CommonJS.

Not bundling is deliberate: in transform mode esbuild reads only the files it is given, so an
import of "/etc/passwd" or "../../secret" is just a string for the linker to refuse, never a
file read on the server. The native binary ships inside the npm package; no Node.js is needed.
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

from vortex.errors import SyntaxErrorInCode
from vortex.modules.errors import BuildUnavailable

JS_DIR = Path(__file__).resolve().parent.parent / "isolates" / "js"
BUILD_TIMEOUT = 30.0
# Enough for a burst of deploys without letting them starve the server of processes.
_builds = asyncio.Semaphore(4)
_ERROR = re.compile(
    r"\[ERROR\] (?P<message>[^\n]*)\n\n\s+(?P<file>[^\n:]+):(?P<line>\d+):(?P<col>\d+):"
)
_ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}


def esbuild_path() -> Path:
    configured = os.environ.get("VORTEX_ESBUILD_PATH")
    if configured:
        return Path(configured)
    arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
    native = JS_DIR / "node_modules" / "@esbuild" / f"{sys.platform}-{arch}" / "bin" / "esbuild"
    if native.is_file():
        return native
    return JS_DIR / "node_modules" / "esbuild" / "bin" / "esbuild"


@dataclass(frozen=True, slots=True)
class Import:
    specifier: str
    kind: str
    """esbuild's: "require-call" for static imports and import() (both made require calls)."""


@dataclass(frozen=True, slots=True)
class Transformed:
    name: str
    code: str
    mappings: str
    """The source map's VLQ "mappings" of ``code`` back to the uploaded file."""
    imports: tuple[Import, ...]


def working_name(name: str) -> str:
    """The name a file is given to esbuild under. An ``.mjs`` (``.mts``) importer is "Node
    mode" for esbuild: a default import of a file it turned to CommonJS gets that file's whole
    exports, as Node gives a CommonJS file's ``module.exports``, even when the file was ESM; so
    ``import app from './app.mjs'`` was ``{default}``. Given as ``.js`` (``.ts``), an ESM file is
    still ESM and its default import is the default export. ``#`` is in no uploaded name."""
    _, dot, extension = name.rpartition(".")
    if dot and extension in ("mjs", "mts"):
        return f"{name}#.{extension[1:]}"
    return name


async def transform(files: dict[str, str]) -> dict[str, Transformed]:
    """CommonJS for every file; raises SyntaxErrorInCode (400) with the file, line and column."""
    binary = esbuild_path()
    if not binary.is_file():
        raise BuildUnavailable(f"esbuild was not found at {binary}: run script/bootstrap")
    named = {working_name(name): name for name in files}
    async with _builds:
        workdir = Path(tempfile.mkdtemp(prefix="vortex-build-"))
        try:
            return await _transform_in(workdir, binary, files, named)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _write_sources(src: Path, files: dict[str, str], named: dict[str, str]) -> None:
    for working, name in named.items():
        path = src / working
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[name], encoding="utf-8")


def _read_outputs(workdir: Path, named: dict[str, str]) -> dict[str, Transformed]:
    meta = orjson.loads((workdir / "meta.json").read_bytes())
    result: dict[str, Transformed] = {}
    for output, info in meta["outputs"].items():
        working = info.get("entryPoint")
        if working is None:
            continue
        name = named.get(working, working)
        code_path = workdir / "src" / output
        code = code_path.read_text(encoding="utf-8")
        # The last line points at the .map file, which means nothing once the files are joined.
        code = re.sub(r"\n//# sourceMappingURL=[^\n]*\n?$", "\n", code)
        source_map = orjson.loads(code_path.with_name(code_path.name + ".map").read_bytes())
        imports = tuple(Import(i["path"], i["kind"]) for i in info.get("imports", []))
        result[name] = Transformed(name, code, str(source_map.get("mappings", "")), imports)
    return result


async def _transform_in(
    workdir: Path, binary: Path, files: dict[str, str], named: dict[str, str]
) -> dict[str, Transformed]:
    src, out = workdir / "src", workdir / "out"
    await asyncio.to_thread(_write_sources, src, files, named)
    args = [
        str(binary),
        *named,
        f"--outdir={out}",
        "--entry-names=[dir]/[name]-[hash]",
        "--format=cjs",
        "--platform=neutral",
        "--target=es2022",
        "--sourcemap",
        f"--metafile={workdir / 'meta.json'}",
        "--charset=utf8",
        "--legal-comments=none",
        "--log-level=error",
        "--log-limit=1",
        "--color=false",
        "--loader:.json=json",
        "--loader:.cjs=js",
        # import(x) becomes Promise.resolve().then(() => require(x)): the linker's require,
        # which knows only the uploaded files, so a computed specifier rejects at run time as
        # an unknown module does in Workers, and no import() is left in code for SES to refuse.
        "--supported:dynamic-import=false",
    ]
    process = await asyncio.create_subprocess_exec(
        *args,
        cwd=src,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": os.defpath},
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), BUILD_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise BuildUnavailable("esbuild took too long") from None
    if process.returncode != 0:
        raise _build_error(stderr.decode(errors="replace"), named)
    return await asyncio.to_thread(_read_outputs, workdir, named)


def _build_error(stderr: str, named: dict[str, str]) -> SyntaxErrorInCode:
    match = _ERROR.search(stderr)
    if match is None:
        first = stderr.strip().splitlines()[0] if stderr.strip() else "esbuild failed"
        return SyntaxErrorInCode(
            f"SyntaxError: {first.lstrip('✘ ').strip()}", line=None, column=None
        )
    line, column = int(match["line"]), int(match["col"]) + 1  # esbuild counts columns from 0
    name = match["file"].strip()
    name = named.get(name, name)
    return SyntaxErrorInCode(
        f"SyntaxError: {match['message'].strip()} ({name}:{line}:{column})",
        line=line,
        column=column,
        file=name,
    )
