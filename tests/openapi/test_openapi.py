"""The OpenAPI document stays true: every route is in it, and everything in it is a route."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from openapi_spec_validator import validate

from tests.server import ServerProcess
from vortex.config import Settings
from vortex.http.app import create_app
from vortex.http.openapi import DOCUMENT

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ANY_METHOD = {"get", "post", "put", "patch", "delete", "head", "options"}
"""What a ``*`` route (the HTTP trigger) must document: every method a client may send."""


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DOCUMENT.read_text())
    return data


def routes_of_the_app() -> set[tuple[str, str]]:
    app = create_app(Settings())  # not started: the router is complete once created
    found: set[tuple[str, str]] = set()
    for route in app.router.routes():
        assert route.resource is not None
        path = route.resource.canonical
        if route.method == "*":
            found |= {(method, path) for method in ANY_METHOD}
        else:
            found.add((route.method.lower(), path))
    # aiohttp adds HEAD beside each GET; HTTP makes HEAD implied by GET, and so does the document.
    return {
        (method, path)
        for method, path in found
        if not (method == "head" and ("get", path) in found and ("post", path) not in found)
    }


def operations_of(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_is_documented_and_every_operation_is_a_route(
    document: dict[str, Any],
) -> None:
    routes, documented = routes_of_the_app(), operations_of(document)
    assert routes - documented == set(), "routes missing from vortex/http/openapi.json"
    assert documented - routes == set(), "operations in vortex/http/openapi.json with no route"


def test_every_operation_documents_its_errors(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            where = f"{method.upper()} {path}"
            assert operation.get("operationId"), where
            statuses = set(operation["responses"])
            assert all(s.isdigit() and len(s) == 3 for s in statuses), where
            # Success is an answer, a WebSocket upgrade, or (/fn/) a redirect to the listener.
            assert any(s[0] in "23" or s == "101" for s in statuses), where
            assert "500" in statuses, where
            if operation.get("security") != []:
                assert {"401", "403"} <= statuses, f"{where}: protected, but 401/403 undocumented"
            if "{function_id}" in path:
                assert {"400", "404"} <= statuses, where


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    def walk(node: object) -> None:
        if isinstance(node, dict):
            target = node.get("$ref")
            if isinstance(target, str):
                resolved: Any = document
                for part in target.removeprefix("#/").split("/"):
                    resolved = resolved[part]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def test_error_schema_matches_the_errors_the_server_sends(document: dict[str, Any]) -> None:
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]


async def test_served_at_openapi_json(server: ServerProcess, document: dict[str, Any]) -> None:
    async with (
        aiohttp.ClientSession(base_url=server.url) as http,
        http.get("/openapi.json") as response,
    ):
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == document
