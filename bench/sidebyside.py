"""Workers side by side: each worker in bench/sidebyside/ served by workerd and by Vortex's
listener, the same raw requests sent to both, and what differs printed (status, reason, headers,
body bytes). Not a benchmark and not a test: a report of where Vortex answers otherwise than
workerd, to read. It found Content-Encoding left undone, header values read as latin-1 and an
empty body read as none (docs/http-functions.md says what is matched now).

A worker without ``export`` is service-worker syntax (a script here, ``serviceWorkerScript`` in
workerd). ``requests.json`` lists the requests a worker gets beside ``GET /``.
Headers that differ by nature are left out: ``date``, ``server``, Vortex's ``x-vortex-*``, the
client address headers it adds (``x-real-ip``...), and header order.
Run: ``.venv/bin/python bench/sidebyside.py [NAME ...]`` (script/bench installs workerd).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.suite import PEERS
from tests.server import ServerProcess, free_port, start_server, stop_and_check

CASES = Path(__file__).resolve().parent / "sidebyside"
UNCOMPARED = frozenset(
    {"date", "server", "connection", "keep-alive", "x-real-ip", "x-forwarded-for"}
    | {"cf-connecting-ip"}
)
Answer = tuple[int, str, list[tuple[str, str]], bytes] | str


@dataclass(frozen=True)
class Case:
    name: str
    code: str

    @property
    def module(self) -> bool:
        return "export " in self.code


def _bytes(value: str) -> bytes:
    if value.startswith("b64:"):
        return base64.b64decode(value[4:])
    if "*" in value and value.split("*", 1)[1].isdigit():
        char, count = value.split("*", 1)
        return char.encode() * int(count)
    return value.encode()


def call(port: int, host: str, request: dict[str, Any]) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    method, path = request.get("method", "GET"), request.get("path", "/")
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", host)
    for name, values in request.get("headers", {}).items():
        for value in values if isinstance(values, list) else [values]:
            connection.putheader(name, _bytes(value))
    body = None if "body" not in request else _bytes(request["body"])
    chunked = bool(request.get("chunked"))
    if body is not None:
        connection.putheader(
            *(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(len(body))))
        )
    connection.endheaders()
    if body is not None and chunked:
        for part in (body[: len(body) // 2], body[len(body) // 2 :]):
            connection.send(b"%x\r\n%s\r\n" % (len(part), part))
        connection.send(b"0\r\n\r\n")
    elif body is not None:
        connection.send(body)
    try:
        response = connection.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return repr(exc)
    finally:
        connection.close()
    headers = sorted(
        (name.lower(), value)
        for name, value in response.getheaders()
        if name.lower() not in UNCOMPARED and not name.lower().startswith("x-vortex-")
    )
    return response.status, response.reason, headers, data


class Workerd:
    """Every case on a port of its own, from one configuration."""

    def __init__(self, cases: list[Case], date: str = "2024-09-23") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="vortex-sidebyside-"))
        self.ports = {case.name: free_port() for case in cases}
        services, sockets, workers = [], [], []
        for index, case in enumerate(cases):
            (self.dir / f"{case.name}.js").write_text(case.code)
            source = f'embed "{case.name}.js"'
            body = (
                f'modules = [ (name = "worker", esModule = {source}) ]'
                if case.module
                else f"serviceWorkerScript = {source}"
            )
            workers.append(
                f'const w{index} :Workerd.Worker = ( {body}, compatibilityDate = "{date}" );'
            )
            services.append(f'(name = "{case.name}", worker = .w{index})')
            sockets.append(
                f'(name = "{case.name}", address = "127.0.0.1:{self.ports[case.name]}", '
                f'http = (), service = "{case.name}")'
            )
        (self.dir / "config.capnp").write_text(
            'using Workerd = import "/workerd/workerd.capnp";\n'
            f"const config :Workerd.Config = ( services = [{', '.join(services)}], "
            f"sockets = [{', '.join(sockets)}] );\n" + "\n".join(workers) + "\n"
        )
        self.process = subprocess.Popen(
            [str(PEERS / "node_modules" / ".bin" / "workerd"), "serve", "config.capnp"],
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "stderr", "wb"),  # noqa: SIM115 (closed with the process)
        )
        time.sleep(2)
        if self.process.poll() is not None:
            raise RuntimeError((self.dir / "stderr").read_text(errors="replace")[-2000:])

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def deploy(server: ServerProcess, case: Case) -> str | None:
    """None when deployed, else the refusal."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    filename = "index.mjs" if case.module else "index.js"
    payload = orjson.dumps({"code": case.code, "filename": filename, "name": case.name})
    connection.request("POST", "/deploy", payload, {"Content-Type": "application/json"})
    response = connection.getresponse()
    text = response.read().decode(errors="replace")
    connection.close()
    return None if response.status == 200 else text


def shown(answer: Answer) -> str:
    if isinstance(answer, str):
        return answer
    status, reason, headers, body = answer
    text = body[:300].decode(errors="replace") + ("..." if len(body) > 300 else "")
    return f"{status} {reason} {headers} ({len(body)} bytes) {text!r}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="only these workers")
    args = parser.parse_args()
    cases = [
        Case(path.stem, path.read_text())
        for path in sorted(CASES.glob("*.js"))
        if not args.names or path.stem in args.names
    ]
    requests: dict[str, Any] = json.loads((CASES / "requests.json").read_text())
    workerd = Workerd(cases)
    server = start_server(Path(tempfile.mkdtemp(prefix="vortex-sidebyside-")), {})
    same = differ = 0
    try:
        for case in cases:
            refused = deploy(server, case)
            if refused is not None:
                print(f"=== {case.name}: Vortex refused the deploy: {refused}")
                differ += 1
                continue
            host = f"{case.name}.localhost:{server.functions_port}"
            for request in [{}, *requests.get(case.name, [])]:
                theirs = call(workerd.ports[case.name], host, request)
                ours = call(server.functions_port, host, request)
                if theirs == ours:
                    same += 1
                    continue
                differ += 1
                print(f"=== {case.name} {json.dumps(request)[:200]}")
                print(f"  workerd: {shown(theirs)}")
                print(f"  vortex:  {shown(ours)}")
    finally:
        stop_and_check(server)
        workerd.close()
    print(f"\n{same} answers the same, {differ} that differ, of {len(cases)} workers")


if __name__ == "__main__":
    main()
