"""Fuzzing the HTTP API from its own OpenAPI document with schemathesis, against a real server.

Every operation of ``/openapi.json`` gets requests that schemathesis derives from the document,
schema-valid ones and schema-violating ones, sometimes aimed at functions that exist (a script,
a named function with two versions, a module function). For every answer:

- no 5xx other than a documented ``503`` with a documented code (never ``500 internal_error``),
- its status is one the operation documents,
- its content type, headers and body match what the document says of that status;
- ``/fn/``'s 308 is followed once, to the function's own origin on the functions listener,
  where a 5xx must be the function's own failure (``X-Vortex-Error``), never the platform's.

Requests whose acceptance depends on more than the document can say (``versions`` of a function
that has no name, a host pattern that is not a host name) are not judged on their status class,
only on the shape of the answer. The examples are derandomized and bounded (``MAX_EXAMPLES`` per
operation and mode, about a minute here), so a run in CI is the same as a run here.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.auth.test_namespaces import make_key
from tests.hardening.conftest import TRACEBACK_MARKERS, unhandled_in_log
from tests.server import ServerProcess

MAX_EXAMPLES = 20
DOCUMENTED_503 = {"storage_unavailable", "pool_unavailable", "history_unavailable"}
# A run's own errors are the function's answer on the functions listener (a status by error code,
# vortex/isolates/httpserve.py), not the platform's: each carries X-Vortex-Error.
TRIGGER_RUN_STATUSES = {500, 502, 503, 504}
FUNCTION_CODE = "console.log('fuzzed'); Vortex.return({ hello: 'world' });"
MODULE_CODE = (
    "export default { async fetch(request) {"
    " return new Response(request.method + ' ' + new URL(request.url).pathname); } };"
)
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        json.dumps(body).encode(),
        {"Content-Type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def _seed(server: ServerProcess, headers: dict[str, str], namespace: str) -> list[str]:
    """Functions the fuzzer may aim at: ids and names that exist."""
    url = server.url
    script = _post(f"{url}/deploy", {"code": FUNCTION_CODE}, headers)["function_id"]
    module = _post(f"{url}/deploy", {"code": MODULE_CODE, "filename": "index.mjs"}, headers)
    for n in (1, 2):
        body = {"code": f"Vortex.return({n})", "name": "fuzzed"}
        named = _post(f"{url}/deploy", body, headers)
    _post(f"{url}/execute/{script}", {}, headers)
    # The public trigger names a function of another namespace than default name.namespace.
    public = "fuzzed" if namespace == "default" else f"fuzzed.{namespace}"
    return [script, module["function_id"], named["function_id"], "fuzzed", public]


def _is_trigger(path: str) -> bool:
    return path.startswith("/fn/")


def _follow(server: ServerProcess, response: schemathesis.Response) -> requests.Response:
    """The request again where /fn/'s 308 sends it, the function's own origin on the functions
    listener: to 127.0.0.1 with the function's hostname as Host (``*.localhost`` does not
    resolve here)."""
    location = urlsplit(response.headers["location"][0])
    assert location.scheme == "http" and location.port == server.functions_port, location
    assert location.hostname and location.hostname.endswith(".localhost"), location
    sent = response.request
    headers = {k: v for k, v in sent.headers.items() if k.lower() not in {"host", "content-length"}}
    headers["Host"] = location.netloc
    target = location.path + (f"?{location.query}" if location.query else "")
    return requests.request(
        sent.method or "GET",
        f"http://127.0.0.1:{server.functions_port}{target}",
        headers=headers,
        data=sent.body,
        allow_redirects=False,
        timeout=30,
    )


def _check_function_answer(case: schemathesis.Case, response: requests.Response) -> None:
    """What a function's origin answered: a function's own failure must be a run error, never
    the platform's."""
    text = response.text
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"Python internals from {case.formatted_path}: {text[:500]}"
    if response.status_code >= 500:
        assert response.status_code in TRIGGER_RUN_STATUSES, text[:500]
        assert response.headers.get("X-Vortex-Error"), text[:500]


def _check_server_errors(case: schemathesis.Case, response: requests.Response) -> None:
    text = response.text
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"Python internals in {case.method} {case.path}: {text[:500]}"
    if response.status_code < 500:
        return
    # /fn/ runs nothing any more (it redirects): a 5xx there is the platform's too.
    assert response.status_code == 503, f"{case.method} {case.formatted_path}: {text[:500]}"
    code = response.json()["error"]["code"]
    assert code in DOCUMENTED_503, f"an undocumented 503 ({code}): {text[:500]}"


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("auth", ["single-tenant", "api-keys"])
def test_every_answer_keeps_to_the_openapi_document(
    module_servers: Callable[..., ServerProcess], auth: str
) -> None:
    server = module_servers({"VORTEX_WALL_LIMIT_MS": "1000", "VORTEX_CPU_LIMIT_MS": "200"})
    key: dict[str, str] = {}
    namespace = "default"
    if auth == "api-keys":
        # Requests with the key and without it (401), on every route.
        namespace = "fuzz"
        token = make_key(server, namespace)
        key = {"Authorization": f"Bearer {token}"}
        server.wait_for_keys(token)
    known = _seed(server, key, namespace)
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    session = requests.Session()
    tried: dict[str, int] = {}
    statuses: dict[int, int] = {}

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25, [op.label for op in operations]
    for operation in operations:
        if operation.path.startswith("/ws/"):
            continue  # a WebSocket handshake: tests/test_api.py and the faults suite cover it
        strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]

        @settings(
            max_examples=MAX_EXAMPLES * len(strategies),
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=st.one_of(strategies),
            aim=st.sampled_from([None, *known]),
            keyed=st.booleans() if key else st.just(False),
        )
        def fuzz(case: schemathesis.Case, aim: str | None, keyed: bool) -> None:
            # Half of the cases name a function that exists; DELETE never does, so the
            # functions aimed at survive the run.
            if (
                aim is not None
                and "function_id" in (case.path_parameters or {})
                and case.method.upper() != "DELETE"
            ):
                case.path_parameters["function_id"] = aim
            response = case.call(
                base_url=server.url, session=session, headers=key if keyed else None, timeout=30
            )
            tried[case.operation.label] = tried.get(case.operation.label, 0) + 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            _check_server_errors(case, response)
            case.validate_response(response, checks=CHECKS)
            if _is_trigger(case.operation.path) and response.status_code == 308:
                followed = _follow(server, response)
                statuses[followed.status_code] = statuses.get(followed.status_code, 0) + 1
                _check_function_answer(case, followed)

        fuzz()

    print(f"\nrequests per operation: {tried}\nstatuses: {dict(sorted(statuses.items()))}")
    assert sum(tried.values()) >= 300
    assert unhandled_in_log(server) == []


def test_a_405_says_which_methods_are_allowed(
    module_servers: Callable[..., ServerProcess],
) -> None:
    # RFC 9110: a 405 carries Allow. schemathesis found it missing from the JSON error.
    server = module_servers()
    response = requests.request("TRACE", f"{server.url}/deploy", timeout=10)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "POST"
    response = requests.put(f"{server.url}/functions/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "DELETE"}
