"""Profile the warm hot path: wrk drives POST /execute while py-spy samples the server and a host.

Prints the functions with the most samples (self and total) for each process, and keeps the
collapsed stacks (flame-graph input) under test-output/profile/.
Run: .venv/bin/python bench/profile.py [--path trigger]
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.server import start_server, stop_and_check  # noqa: E402


def deploy(url: str, code: str, filename: str) -> str:
    request = urllib.request.Request(
        f"{url}/deploy",
        data=orjson.dumps({"code": code, "filename": filename}),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return str(orjson.loads(response.read())["function_id"])


def top(collapsed: Path, n: int) -> str:
    self_counts: collections.Counter[str] = collections.Counter()
    total_counts: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        self_counts[frames[-1]] += count
        for frame in set(frames):
            total_counts[frame] += count
    out = [f"{samples} samples", "self%  total%  function"]
    for frame, count in self_counts.most_common(n):
        out.append(
            f"{100 * count / samples:5.1f}  {100 * total_counts[frame] / samples:5.1f}  {frame}"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--path", choices=["execute", "trigger"], default="execute")
    args = parser.parse_args()
    out_dir = ROOT / "test-output" / "profile"
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), {"VORTEX_LOG_LEVEL": "WARNING"})
        try:
            if args.path == "execute":
                fid = deploy(server.url, "Vortex.return({ hello: 'world' })", "index.js")
                url, method = f"{server.url}/execute/{fid}", "POST"
            else:
                code = "export default { fetch() { return Response.json({ hello: 'world' }); } };"
                fid = deploy(server.url, code, "index.mjs")
                url, method = f"http://127.0.0.1:{server.functions_port}/", "GET"
            lua = Path(tmp) / "m.lua"
            lua.write_text(f'wrk.method = "{method}"\n')
            if args.path == "trigger":  # the function's own hostname on the listener
                with lua.open("a") as script:
                    script.write(f'wrk.headers["Host"] = "{fid}.localhost"\n')
            wrk = subprocess.Popen(
                [
                    "wrk",
                    "-t2",
                    f"-c{args.connections}",
                    f"-d{args.seconds + 3}s",
                    "-s",
                    str(lua),
                    url,
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(1)
            targets = {"server": server.process.pid, "host": server.host_pids()[0]}
            spies = [
                subprocess.Popen(
                    [
                        sys.executable.replace("python", "py-spy"),
                        "record",
                        "-p",
                        str(pid),
                        "-d",
                        str(args.seconds),
                        "-f",
                        "raw",
                        "-o",
                        str(out_dir / f"{name}.collapsed"),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for name, pid in targets.items()
            ]
            for spy in spies:
                spy.wait()
            wrk_out, _ = wrk.communicate()
        finally:
            stop_and_check(server)
    print(next(line for line in wrk_out.splitlines() if "Requests/sec" in line))
    for name in targets:
        print(f"\n## {name}\n{top(out_dir / f'{name}.collapsed', 25)}")


if __name__ == "__main__":
    main()
