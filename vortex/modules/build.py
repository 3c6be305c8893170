"""From an upload to a stored module bundle: transform, check imports, link."""

from __future__ import annotations

from vortex.modules.bundle import ModuleBundle
from vortex.modules.detect import Upload
from vortex.modules.esbuild import transform
from vortex.modules.linker import link
from vortex.modules.literals import escaped


async def build(upload: Upload) -> ModuleBundle:
    """Raises SyntaxErrorInCode or InvalidImport (both 400) for what the upload got wrong."""
    transformed = {name: escaped(file) for name, file in (await transform(upload.files)).items()}
    linked = link(transformed, upload.entry)
    return ModuleBundle.create(upload.entry, dict(upload.files), linked.script, linked.placements)
