"""jsonwebtoken (v9, with jws and jwa) on Vortex: the app of tests/apps/jsonwebtoken, a Worker
with nodejs_compat bundled with the real package by ``vortex deploy``.

It guards node:crypto's key objects and signatures (createSecretKey, createPrivateKey and
createPublicKey from PEM, createHmac with a KeyObject, createSign/createVerify for RSA and
ECDSA) and node:stream (jws signs through a Stream when given a callback). Every token the
function makes is checked here with OpenSSL (pyca/cryptography), and tokens made here are
checked by the function.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from tests.npm_apps import apps_project, call, deploy_app
from tests.server import ServerProcess

pytestmark = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")

SECRET = "a secret of at least thirty-two bytes!"
PEM = serialization.Encoding.PEM
RSA_KEY = rsa.generate_private_key(65537, 2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
# PKCS #1 and SEC1 for the private keys (what `openssl genrsa`/`ecparam` write), SPKI public.
RSA_PRIVATE = RSA_KEY.private_bytes(
    PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
).decode()
EC_PRIVATE = EC_KEY.private_bytes(
    PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
).decode()
EC_PRIVATE_PKCS8 = EC_KEY.private_bytes(
    PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
RSA_PUBLIC = RSA_KEY.public_key().public_bytes(PEM, SPKI).decode()
EC_PUBLIC = EC_KEY.public_key().public_bytes(PEM, SPKI).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(alg: str, payload: dict[str, Any]) -> str:
    """A JWT made as RFC 7515 says, without the function."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    signing_input = f"{header}.{b64url(json.dumps(payload).encode())}".encode()
    if alg == "HS256":
        signature = hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest()
    elif alg == "RS256":
        signature = RSA_KEY.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(EC_KEY.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input.decode()}.{b64url(signature)}"


def check_token(alg: str, token: str) -> dict[str, Any]:
    """The payload of a token the function made, its signature checked with OpenSSL."""
    header, payload, signature = token.split(".")
    signing_input = f"{header}.{payload}".encode()
    raw = unb64url(signature)
    assert json.loads(unb64url(header)) == {"alg": alg, "typ": "JWT"}
    if alg == "HS256":
        assert hmac.compare_digest(raw, hmac.new(SECRET.encode(), signing_input, "sha256").digest())
    elif alg == "RS256":
        RSA_KEY.public_key().verify(raw, signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        pss = padding.PSS(padding.MGF1(hashes.SHA256()), 32)
        RSA_KEY.public_key().verify(raw, signing_input, pss, hashes.SHA256())
    else:
        assert len(raw) == 64
        der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
        EC_KEY.public_key().verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    decoded: dict[str, Any] = json.loads(unb64url(payload))
    return decoded


@pytest.fixture
def url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server: ServerProcess
) -> Callable[[str], str]:
    folder = apps_project(request, tmp_path_factory) / "jsonwebtoken"
    return deploy_app(server, folder, "--name", "jsonwebtoken-app")


async def post(client: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    answer = await call(client, "POST", url, json=body)
    assert answer.status == 200, answer.text
    return answer.json()


@pytest.mark.parametrize(
    ("alg", "private", "public"),
    [
        ("HS256", SECRET, SECRET),
        ("RS256", RSA_PRIVATE, RSA_PUBLIC),
        ("PS256", RSA_PRIVATE, RSA_PUBLIC),
        ("ES256", EC_PRIVATE, EC_PUBLIC),
        ("ES256", EC_PRIVATE_PKCS8, EC_PUBLIC),
    ],
)
async def test_tokens_are_signed_and_verified_both_ways(
    url: Callable[[str], str], alg: str, private: str, public: str
) -> None:
    payload = {"sub": "user-1", "admin": True, "iat": int(time.time())}
    async with aiohttp.ClientSession() as client:
        made = await post(client, url("/sign"), {"payload": payload, "key": private, "alg": alg})
        for token in (made["token"], made["viaCallback"]):
            assert check_token(alg, token) == payload
            verified = await post(
                client, url("/verify"), {"token": token, "key": public, "alg": alg}
            )
            assert verified == {"ok": True, "payload": payload}
        if alg != "PS256":
            ours = make_token(alg, {"sub": "from-python", "exp": int(time.time()) + 60})
            for path in ("/verify", "/verify-callback"):
                checked = await post(client, url(path), {"token": ours, "key": public, "alg": alg})
                assert checked["ok"] is True and checked["payload"]["sub"] == "from-python"
        # One byte of the payload changed: the signature no longer holds.
        header, body, signature = made["token"].split(".")
        forged = ".".join([header, b64url(unb64url(body).replace(b"user-1", b"user-2")), signature])
        refused = await post(client, url("/verify"), {"token": forged, "key": public, "alg": alg})
        assert refused == {"ok": False, "name": "JsonWebTokenError", "message": "invalid signature"}


async def test_expired_wrong_and_hostile_keys_are_refused_as_node_refuses_them(
    url: Callable[[str], str],
) -> None:
    expired = make_token("HS256", {"sub": "late", "exp": int(time.time()) - 30})
    rs256 = make_token("RS256", {"sub": "x"})
    async with aiohttp.ClientSession() as client:
        answer = await post(
            client, url("/verify"), {"token": expired, "key": SECRET, "alg": "HS256"}
        )
        assert answer == {"ok": False, "name": "TokenExpiredError", "message": "jwt expired"}
        answer = await post(
            client, url("/verify-callback"), {"token": expired, "key": SECRET, "alg": "HS256"}
        )
        assert answer["name"] == "TokenExpiredError"
        # An RS256 token checked with an EC key, and with a secret.
        answer = await post(
            client, url("/verify"), {"token": rs256, "key": EC_PUBLIC, "alg": "RS256"}
        )
        assert answer == {
            "ok": False,
            "name": "Error",
            "message": '"alg" parameter for "ec" key type must be one of: ES256, ES384, ES512.',
        }
        answer = await post(client, url("/verify"), {"token": rs256, "key": SECRET, "alg": "RS256"})
        assert answer == {
            "ok": False,
            "name": "JsonWebTokenError",
            "message": "secretOrPublicKey must be an asymmetric key when using RS256",
        }
        # A broken PEM is no key: jsonwebtoken falls back to a secret, which RS256 refuses.
        broken = RSA_PUBLIC.replace("MII", "MIX")
        answer = await post(client, url("/verify"), {"token": rs256, "key": broken, "alg": "RS256"})
        assert answer["ok"] is False
        assert "must be an asymmetric key" in answer["message"]
        signed = await call(
            client,
            "POST",
            url("/sign"),
            json={"payload": {"a": 1}, "key": RSA_PUBLIC, "alg": "RS256"},
        )
        assert signed.status == 500
        assert "Traceback" not in signed.text
