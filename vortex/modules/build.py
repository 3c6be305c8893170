"""From an upload to a stored module bundle: transform, check imports, link."""

from __future__ import annotations

from vortex.modules.bundle import ModuleBundle
from vortex.modules.detect import Upload
from vortex.modules.esbuild import transform
from vortex.modules.linker import link
from vortex.modules.literals import escaped
from vortex.modules.wasm import is_wasm_name, wasm_transformed


async def build(upload: Upload) -> ModuleBundle:
    """Raises SyntaxErrorInCode or InvalidImport (both 400) for what the upload got wrong."""
    sources = {name: text for name, text in upload.files.items() if not is_wasm_name(name)}
    transformed = {name: escaped(file) for name, file in (await transform(sources)).items()}
    for name, text in upload.files.items():
        if is_wasm_name(name):
            transformed[name] = wasm_transformed(name, text)
    linked = link(transformed, upload.entry)
    return ModuleBundle.create(upload.entry, dict(upload.files), linked.script, linked.placements)
