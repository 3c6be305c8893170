"""A project's static assets sent to the server before its deploy: only the files it lacks.

The server is asked which hashes it lacks, and those files alone are uploaded, a few at once;
a redeploy of a site where one page changed uploads that page.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from vortex.cli.project import AssetsPlan
from vortex.client import VortexClient

UPLOADS_AT_ONCE = 4
ASK_AT_ONCE = 1000
"""Hashes asked about in one request (a manifest may hold 10,000)."""


@dataclass(frozen=True, slots=True)
class Uploaded:
    paths: tuple[str, ...]
    """The files sent (the others were on the server already), as served."""
    size: int


async def upload_assets(client: VortexClient, plan: AssetsPlan) -> Uploaded:
    by_hash = {f.digest: f for f in plan.collected.files}
    ordered = sorted(by_hash)
    missing: list[str] = []
    for start in range(0, len(ordered), ASK_AT_ONCE):
        missing += await client.missing_assets(ordered[start : start + ASK_AT_ONCE])
    limit = asyncio.Semaphore(UPLOADS_AT_ONCE)

    async def send(digest: str) -> None:
        asset = by_hash[digest]
        data = await asyncio.to_thread(asset.source.read_bytes)
        async with limit:
            await client.upload_asset(digest, data)

    sent = [digest for digest in missing if digest in by_hash]
    await asyncio.gather(*(send(digest) for digest in sent))
    wanted = set(sent)
    paths = tuple(f.path for f in plan.collected.files if f.digest in wanted)
    return Uploaded(paths, sum(by_hash[d].size for d in sent))
