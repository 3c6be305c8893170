"""What is stored for a module function: the uploaded files as they were, and the built script
with where each file's code sits in it. One content-addressed blob, so runs never rebuild."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from vortex.modules.linker import Placement
from vortex.modules.sourcemap import BundleMap

FORMAT = "vortex-module/1"


@dataclass(frozen=True, slots=True)
class ModuleBundle:
    entry: str
    files: dict[str, str]
    script: str
    placements: tuple[Placement, ...]
    positions: BundleMap = field(compare=False, repr=False, default_factory=BundleMap)

    @classmethod
    def create(
        cls, entry: str, files: dict[str, str], script: str, placements: tuple[Placement, ...]
    ) -> ModuleBundle:
        return cls(entry, files, script, placements, BundleMap.of(placements))

    @property
    def source_size(self) -> int:
        return sum(len(source.encode()) for source in self.files.values())

    def to_bytes(self) -> bytes:
        data: dict[str, Any] = {
            "format": FORMAT,
            "entry": self.entry,
            "files": self.files,
            "script": self.script,
            "placements": [
                {"name": p.name, "start": p.start, "lines": p.lines, "mappings": p.mappings}
                for p in self.placements
            ],
        }
        return orjson.dumps(data)

    @classmethod
    def from_bytes(cls, blob: bytes) -> ModuleBundle:
        data = orjson.loads(blob)
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} blob")
        placements = tuple(
            Placement(p["name"], p["start"], p["lines"], p["mappings"]) for p in data["placements"]
        )
        return cls.create(data["entry"], data["files"], data["script"], placements)
