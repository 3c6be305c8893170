"""Stripe's SDK on Vortex: the app of tests/apps/stripe, written as Stripe's docs show for
Workers (the fetch client, the SubtleCrypto provider), bundled with the real package by
``vortex deploy``, calling a fake of Stripe's API that the test serves.

It ran unchanged. It guards a webhook's signature (HMAC-SHA256 of ``t.payload``, made here as
Stripe makes it) checked by the SDK with crypto.subtle, and its form-encoded API calls,
auto-pagination (``for await``) and error classes over fetch.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.npm_apps import apps_project, call, deploy_app
from tests.server import ServerProcess
from tests.threaded_app import app_in_thread

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")

SECRET_KEY, WEBHOOK_SECRET = "sk_test_vortex", "whsec_vortex"


def _fake_stripe(seen: list[tuple[str, str, dict[str, str]]]) -> web.Application:
    async def api(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            return web.json_response({"error": {"type": "authentication_error"}}, status=401)
        form = dict(await request.post())
        seen.append((request.method, request.path_qs, {k: str(v) for k, v in form.items()}))
        if request.method == "POST" and request.path == "/v1/customers":
            metadata = {
                k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")
            }
            return web.json_response(
                {
                    "id": "cus_new",
                    "object": "customer",
                    "email": form["email"],
                    "metadata": metadata,
                }
            )
        if request.path == "/v1/customers":
            after = request.query.get("starting_after")
            page = ["cus_3"] if after else ["cus_1", "cus_2"]
            data = [{"id": each, "object": "customer"} for each in page]
            return web.json_response(
                {"object": "list", "data": data, "has_more": not after, "url": "/v1/customers"}
            )
        error = {"type": "invalid_request_error", "code": "resource_missing", "param": "id"}
        error["message"] = f"No such customer: '{request.match_info['tail'].split('/')[-1]}'"
        return web.json_response({"error": error}, status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", api)
    return app


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[int, list[tuple[str, str, dict[str, str]]]]]:
    seen: list[tuple[str, str, dict[str, str]]] = []
    with app_in_thread(_fake_stripe(seen)) as port:
        yield port, seen


@pytest.fixture(scope="module")
def stripe(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    edge: ServerProcess,
    fake: tuple[int, list[Any]],
) -> Any:
    folder = apps_project(request, tmp_path_factory) / "stripe"
    return deploy_app(
        edge,
        folder,
        *("index.mjs", "--name", "stripe-app", "--allow-host", "127.0.0.1"),
        *("--env", f"STRIPE_PORT={fake[0]}"),
        *("--secret", f"STRIPE_SECRET_KEY={SECRET_KEY}"),
        *("--secret", f"STRIPE_WEBHOOK_SECRET={WEBHOOK_SECRET}"),
    )


def signed(payload: str, secret: str = WEBHOOK_SECRET) -> str:
    """The Stripe-Signature header Stripe sends with a webhook."""
    stamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


async def test_stripe_checks_webhook_signatures(stripe: Any) -> None:
    event = {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded"}
    payload = json.dumps({**event, "data": {"object": {"id": "pi_1"}}})
    async with aiohttp.ClientSession() as client:
        good = await call(
            client,
            "POST",
            stripe("/webhook"),
            data=payload,
            headers={"Stripe-Signature": signed(payload)},
        )
        forged = await call(
            client,
            "POST",
            stripe("/webhook"),
            data=payload,
            headers={"Stripe-Signature": signed(payload, "whsec_other")},
        )
    assert (good.status, good.json()) == (
        200,
        {"received": "payment_intent.succeeded", "id": "pi_1"},
    )
    assert forged.status == 400
    assert forged.json()["type"] == "StripeSignatureVerificationError"


async def test_stripe_api_calls_pages_and_errors(
    stripe: Any, fake: tuple[int, list[tuple[str, str, dict[str, str]]]]
) -> None:
    async with aiohttp.ClientSession() as client:
        answer = await call(client, "GET", stripe("/customers"))
    assert answer.json() == {
        "customer": {
            "id": "cus_new",
            "object": "customer",
            "email": "ada@example.com",
            "metadata": {"plan": "pro"},
        },
        "listed": ["cus_1", "cus_2", "cus_3"],
        "missing": {
            "type": "StripeInvalidRequestError",
            "code": "resource_missing",
            "status": 404,
            "message": "No such customer: 'cus_missing'",
        },
    }
    assert fake[1][0] == (
        "POST",
        "/v1/customers",
        {"email": "ada@example.com", "metadata[plan]": "pro"},
    )
    assert [path for _, path, _ in fake[1][1:3]] == [
        "/v1/customers?limit=2",
        "/v1/customers?limit=2&starting_after=cus_2",
    ]
