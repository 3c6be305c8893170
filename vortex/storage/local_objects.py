"""R2 objects in the data directory: ``r2/<namespace>/<bucket>/`` holds each object's blob
under its storage name (``vortex.r2.names``: hex, never the key itself), cut into parts of
``PART_CHARS`` characters (folders, then the file, ``.o``) because a file name stops at 255
bytes. Written atomically as every file of the store; a listing walks the bucket's folder
(names alone: no object is opened for it) and sorts what it finds."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from vortex.r2.names import is_storage_name

PART_CHARS = 240
FILE_SUFFIX = ".o"


class LocalObjects:
    def __init__(self, root: Path, write: Callable[[Path, bytes], None]) -> None:
        self.root = root / "r2"
        self._write = write

    def bucket_dir(self, namespace: str, bucket: str) -> Path:
        # Both are slugs, checked before they get here (a namespace, an R2 bucket name).
        return self.root / namespace / bucket

    def path(self, namespace: str, bucket: str, name: str) -> Path:
        parts = [name[at : at + PART_CHARS] for at in range(0, len(name), PART_CHARS)]
        return self.bucket_dir(namespace, bucket).joinpath(*parts[:-1], parts[-1] + FILE_SUFFIX)

    def put(self, namespace: str, bucket: str, name: str, blob: bytes) -> None:
        self._write(self.path(namespace, bucket, name), blob)

    def get(self, namespace: str, bucket: str, name: str, first_bytes: int | None) -> bytes | None:
        try:
            with open(self.path(namespace, bucket, name), "rb") as handle:
                return handle.read() if first_bytes is None else handle.read(first_bytes)
        except FileNotFoundError:
            return None

    def delete(self, namespace: str, bucket: str, name: str) -> None:
        path = self.path(namespace, bucket, name)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        # Folders a long name left empty go with it (one that is not empty stays: OSError).
        top = self.bucket_dir(namespace, bucket)
        folder = path.parent
        while folder != top and top in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent

    def list(
        self, namespace: str, bucket: str, prefix: str, after: str | None, limit: int
    ) -> list[str]:
        top = self.bucket_dir(namespace, bucket)
        names: list[str] = []
        for folder, _dirs, files in os.walk(top):
            relative = os.path.relpath(folder, top)
            stem = "" if relative == "." else relative.replace(os.sep, "")
            if not (stem.startswith(prefix) or prefix.startswith(stem)):
                _dirs.clear()  # no name under this folder can start with the prefix
                continue
            for file in files:
                if not file.endswith(FILE_SUFFIX):
                    continue  # a write's temporary file
                name = stem + file[: -len(FILE_SUFFIX)]
                wanted = name.startswith(prefix) and (after is None or name > after)
                if wanted and is_storage_name(name):
                    names.append(name)
        names.sort()
        return names[:limit]
