"""S3 requests per deploy and per page (issue 18): counted at moto's server, at two counts.

Deploys ``--counts`` functions through a ``FunctionRegistry`` on the S3 store (every 10th under a
name, every 100th with a schedule), in this process against moto's server (as the tests run it),
and at each count prints the S3 requests, by method, of: an unnamed deploy, a new name's deploy,
a new version of a name, a first page of 100 on a fresh node (cold caches), the same page again,
and a cron refresh. With ``--redis URL`` the index lives in that Redis (as with REDIS_ADDR), and
the Redis commands are not counted here.

Run: ``.venv/bin/python bench/s3_requests.py [--counts 100,2000] [--redis redis://…]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.backends.conftest import ACCESS_KEY, SECRET_KEY, MotoS3
from vortex.backends import make_store
from vortex.config import Settings
from vortex.functions import FunctionRegistry

SCHEDULE = "0 0 1 1 *"


def counted(moto: MotoS3, since: int) -> str:
    methods = Counter(r.method for r in moto.requests[since:])
    total = sum(methods.values())
    return f"{total} ({', '.join(f'{m} {n}' for m, n in sorted(methods.items()))})"


async def main(args: argparse.Namespace) -> None:
    moto = MotoS3.start()
    env = {
        "MINIO_ENDPOINT": f"127.0.0.1:{moto.port}",
        "MINIO_ACCESS_KEY": ACCESS_KEY,
        "MINIO_SECRET_KEY": SECRET_KEY,
        "VORTEX_S3_BUCKET": f"vortex-requests-{uuid.uuid4().hex[:8]}",
        "VORTEX_DATA_DIR": "/tmp/vortex-s3-requests",
    }
    if args.redis:
        env["VORTEX_REDIS_URL"] = args.redis
    settings = Settings.from_env(env)
    store = make_store(settings)
    registry = FunctionRegistry(store)
    await registry.index.ensure()
    deployed = 0
    try:
        for count in [int(c) for c in args.counts.split(",")]:
            while deployed < count:
                name = f"fn-{deployed:06d}" if deployed % 10 == 0 else None
                schedule = SCHEDULE if deployed % 100 == 0 else None
                code = f"// {deployed}\nVortex.return({deployed})"
                await registry.deploy(code, name=name, schedule=schedule)
                deployed += 1
            figures: dict[str, str] = {}
            mark = len(moto.requests)
            await registry.deploy(f"Vortex.return('unnamed {count}')")
            figures["unnamed deploy"] = counted(moto, mark)
            mark = len(moto.requests)
            await registry.deploy(f"Vortex.return('named {count}')", name=f"new-{count}")
            figures["new name"] = counted(moto, mark)
            mark = len(moto.requests)
            await registry.deploy(f"Vortex.return('v2 {count}')", name=f"new-{count}")
            figures["new version"] = counted(moto, mark)
            deployed += 2
            fresh_store = make_store(settings)
            fresh = FunctionRegistry(fresh_store)
            try:
                mark = len(moto.requests)
                await fresh.page(limit=100)
                figures["first page, cold"] = counted(moto, mark)
                mark = len(moto.requests)
                await fresh.page(limit=100)
                figures["first page, warm"] = counted(moto, mark)
                mark = len(moto.requests)
                schedules = await fresh.index.schedules()
                figures[f"cron refresh ({len(schedules)})"] = counted(moto, mark)
            finally:
                await fresh_store.close()
            print(f"{deployed:>6,} functions: {figures}", flush=True)
    finally:
        await store.close()
        moto.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", default="100,2000")
    parser.add_argument("--redis", default=None)
    asyncio.run(main(parser.parse_args()))
