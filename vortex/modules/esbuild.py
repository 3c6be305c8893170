"""esbuild, run as a subprocess at deploy: each uploaded file transformed to CommonJS.

Not bundling is deliberate: in transform mode esbuild reads only the files it is given, so an
import of "/etc/passwd" or "../../secret" is just a string for the linker to refuse, never a
file read on the server. Nor does it read a tsconfig.json: the settings are given to it
(``--tsconfig-raw``, see tsconfig.py), and a package.json above the upload's stops its search
for one in the directories around. It runs under limits of time, CPU, memory and output, and
its errors name only files of the upload. The native binary ships inside the npm package; no
Node.js is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import resource
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

from vortex.errors import SyntaxErrorInCode
from vortex.modules.errors import BuildLimitExceeded, BuildUnavailable
from vortex.modules.tsconfig import tsconfig_raw

JS_DIR = Path(__file__).resolve().parent.parent / "isolates" / "js"
BUILD_TIMEOUT = 30.0
BUILD_MEMORY_BYTES = 512 << 20
"""esbuild's data segment (Go's heap is in it): the build of a whole upload (at most
``VORTEX_MAX_CODE_BYTES``, 1 MiB) takes tens of MiB."""
BUILD_OUTPUT_BYTES = 64 << 20
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


LOWERED_ASYNC = (
    "--supported:async-await=false",
    "--supported:async-generator=false",
    "--supported:for-await=false",
)
"""For a function that imports node:async_hooks: its async functions, async generators and
for-await loops become generators driven by ``then`` on the global ``Promise`` (esbuild's
``__async`` helpers), which its compartment's own Promise makes carry the async context
(js/src/harness/asynccontext.js). The engine's native await would not: it goes around
``then``. Every other function keeps its native awaits."""


async def transform(files: dict[str, str], *, lower_async: bool = False) -> dict[str, Transformed]:
    """CommonJS for every file; raises SyntaxErrorInCode (400) with the file, line and column.
    ``lower_async``: see ``LOWERED_ASYNC``."""
    binary = esbuild_path()
    if not binary.is_file():
        raise BuildUnavailable(f"esbuild was not found at {binary}: run script/bootstrap")
    named = {working_name(name): name for name in files}
    async with _builds:
        workdir = Path(tempfile.mkdtemp(prefix="vortex-build-"))
        try:
            return await _transform_in(workdir, binary, files, named, lower_async)
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
    workdir: Path, binary: Path, files: dict[str, str], named: dict[str, str], lower_async: bool
) -> dict[str, Transformed]:
    src, out = workdir / "src", workdir / "out"
    tsconfig = tsconfig_raw(files)  # refuses an "extends" out of the upload before any build
    await asyncio.to_thread(_write_sources, src, files, named)
    (workdir / "package.json").write_text("{}\n")
    args = [
        str(binary),
        *named,
        f"--tsconfig-raw={tsconfig}",
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
        *(LOWERED_ASYNC if lower_async else ()),
    ]
    process = await asyncio.create_subprocess_exec(
        *args,
        cwd=src,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": os.defpath},
        preexec_fn=_limit_build,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), BUILD_TIMEOUT)
    except TimeoutError:
        # It may have ended on its own between the timeout and the kill (its CPU limit).
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise BuildLimitExceeded(
            f"the build of this upload took longer than {BUILD_TIMEOUT:g} s"
        ) from None
    if process.returncode != 0:
        raise _build_error(stderr.decode(errors="replace"), named, process.returncode)
    return await asyncio.to_thread(_read_outputs, workdir, named)


def _limit_build() -> None:
    """In the child, before esbuild starts: its memory, CPU time and output are bounded."""
    resource.setrlimit(resource.RLIMIT_DATA, (BUILD_MEMORY_BYTES, BUILD_MEMORY_BYTES))
    cpu = int(BUILD_TIMEOUT) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_FSIZE, (BUILD_OUTPUT_BYTES, BUILD_OUTPUT_BYTES))


def _build_error(
    stderr: str, named: dict[str, str], returncode: int | None
) -> SyntaxErrorInCode | BuildLimitExceeded:
    """``named``: the working names esbuild saw → the uploaded names."""
    match = _ERROR.search(stderr)
    # Only an error at a file of the upload is shown: anything else (esbuild out of memory, a
    # crash) says nothing of what esbuild read.
    if match is None or match["file"].strip() not in named:
        # Go says "cannot allocate memory" when a goroutine's stack, grown by code nested
        # thousands deep, meets the limit.
        out_of_memory = "out of memory" in stderr or "cannot allocate memory" in stderr
        if (returncode is not None and returncode < 0) or out_of_memory:
            return BuildLimitExceeded("the build of this upload went past its memory limit")
        return SyntaxErrorInCode(
            "SyntaxError: the upload could not be built", line=None, column=None
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
