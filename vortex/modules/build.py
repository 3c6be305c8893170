"""From an upload to a stored module bundle: transform, check imports, link."""

from __future__ import annotations

from vortex.modules.bundle import ModuleBundle
from vortex.modules.detect import Upload
from vortex.modules.esbuild import Transformed, transform
from vortex.modules.linker import link
from vortex.modules.literals import escaped
from vortex.modules.nodebuiltins import ASYNC_HOOKS, builtin_name
from vortex.modules.wasm import is_wasm_name, wasm_transformed


async def build(upload: Upload) -> ModuleBundle:
    """Raises SyntaxErrorInCode or InvalidImport (both 400) for what the upload got wrong."""
    sources = {name: text for name, text in upload.files.items() if not is_wasm_name(name)}
    outputs = await transform(sources)
    if imports_async_hooks(outputs):
        # Built again with its awaits lowered (esbuild.LOWERED_ASYNC); only such functions pay
        # the second build, and every other is built as it was.
        outputs = await transform(sources, lower_async=True)
    transformed = {name: escaped(file) for name, file in outputs.items()}
    for name, text in upload.files.items():
        if is_wasm_name(name):
            transformed[name] = wasm_transformed(name, text)
    linked = link(transformed, upload.entry)
    return ModuleBundle.create(upload.entry, dict(upload.files), linked.script, linked.placements)


def imports_async_hooks(outputs: dict[str, Transformed]) -> bool:
    """Whether any file imports node:async_hooks (or bare async_hooks): it gets an async
    context, carried by its awaits once they are lowered."""
    return any(
        builtin_name(item.specifier) == ASYNC_HOOKS
        for output in outputs.values()
        for item in output.imports
    )
