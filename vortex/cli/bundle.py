"""The bundling ``vortex deploy`` does on the user's machine, as wrangler does for a Worker.

esbuild (the binary the server builds modules with, ``vortex.modules.esbuild.esbuild_path``)
bundles the entry with the files and npm packages it imports, found in the project's
``node_modules`` as Node finds them, into one ES module. The server never resolves a package:
it refuses bare imports, so this is where they are met.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from vortex.cli.errors import CLIError, ExitCode
from vortex.modules.esbuild import esbuild_path

BUNDLE_TIMEOUT = 120.0
_EXTERNAL_HINT = re.compile(r"\n\n  You can mark the path [^\n]* as external[^\n]*")
WRANGLER_FLAGS = (
    "--bundle",
    "--format=esm",
    "--platform=neutral",
    # The package.json "exports" conditions and main fields wrangler resolves packages with.
    "--conditions=workerd,worker,browser",
    "--main-fields=browser,module,main",
    "--target=es2022",
    "--keep-names",
    '--define:process.env.NODE_ENV="production"',
    # wrangler's default module rules for text; the files are inlined as strings.
    "--loader:.txt=text",
    "--loader:.html=text",
    "--loader:.sql=text",
    "--log-level=warning",
    "--color=false",
)


@dataclass(frozen=True, slots=True)
class Bundle:
    code: str
    inputs: tuple[str, ...]
    """Every file in the bundle, the entry included, relative to the project folder."""
    entry_is_module: bool
    """The entry has ES module syntax (``import``/``export``): a module function, not a script."""
    warnings: str
    """esbuild's warnings, as it wrote them (empty when none)."""


def bundle(entry: Path, project: Path) -> Bundle:
    """``entry`` with what it imports, resolved from ``project`` (the folder of the config, or
    the current one); CLIError (exit 1, ``build_failed``) with esbuild's own message."""
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
        try:
            done = subprocess.run(
                [
                    str(binary),
                    relative,
                    *WRANGLER_FLAGS,
                    f"--outfile={out}",
                    f"--metafile={meta}",
                ],
                cwd=project,
                capture_output=True,
                text=True,
                timeout=BUNDLE_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise CLIError(
                f"bundling {relative} took longer than {BUNDLE_TIMEOUT:g} s",
                ExitCode.FAILED,
                "build_failed",
            ) from None
        if done.returncode != 0:
            raise CLIError(_failure(relative, done.stderr), ExitCode.FAILED, "build_failed")
        return _read(out, meta, done.stderr)


def _read(out: Path, meta: Path, warnings: str) -> Bundle:
    metafile = json.loads(meta.read_text(encoding="utf-8"))
    entry_key = next(
        (info["entryPoint"] for info in metafile["outputs"].values() if "entryPoint" in info), None
    )
    entry_info = metafile["inputs"].get(entry_key, {}) if entry_key else {}
    return Bundle(
        code=out.read_text(encoding="utf-8"),
        inputs=tuple(metafile["inputs"]),
        entry_is_module=entry_info.get("format") == "esm",
        warnings=warnings.strip(),
    )


def _failure(entry: str, stderr: str) -> str:
    # esbuild's advice to mark the path external is for its own users: here the server would
    # refuse the import it leaves.
    shown = _EXTERNAL_HINT.sub("", stderr).rstrip()
    message = f"esbuild could not bundle {entry}:\n{shown}"
    if "Could not resolve" in stderr:
        message += (
            "\n\nA package it imports is not in node_modules: install the project's packages "
            "(npm install) and deploy from the project's folder."
        )
    return message
