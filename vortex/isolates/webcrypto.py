"""The host's side of ``crypto.subtle``: what js/src/subtle.js asks of OpenSSL.

JavaScript calls ``Host.crypto(op, params, key, data)`` (bridge.py): ``params`` is JSON text
(small binary parameters in it as base64, under ``"bins"``), ``key`` and ``data`` are binary
strings (one character per byte) or null. The answer is always a fresh bytearray, which
JavaScript copies: a tag byte, then the result's bytes (``BYTES``), its JSON (``JSON``), or the
name and message of a DOMException (``ERROR``). Nothing raises out of ``perform``: an exception
of OpenSSL or of this code becomes an error of a fixed set of names with a message written
here, so no Python text ever reaches user code, and no Python object either.

Everything runs in the JS thread, inside the run's turn, so the turn clock charges its CPU time
to the run. A call cannot be interrupted once in OpenSSL, so a call that would cost more CPU
than the run has left (many PBKDF2 iterations, a big RSA key to generate) is not started: the
run's budget is spent and it ends with ``cpu_time_exceeded``, as if it had run.
"""

from __future__ import annotations

import base64
import functools
import time
from collections.abc import Callable
from typing import Any

import orjson

from vortex.isolates import cryptokeys, cryptoops, nodekeys

BYTES, JSON, ERROR = 0, 1, 2
ERROR_NAMES = ("OperationError", "DataError", "NotSupportedError", "InvalidAccessError")
Afford = Callable[[float], bool]
"""Whether the current run has ``seconds`` of CPU left; when not, its budget is spent."""

MAX_RSA_GENERATED_BITS = 8192
RSA_2048_SECONDS = 0.05
"""A rough cost of generating a 2048-bit RSA key; it grows as the cube of the modulus."""


class Refused(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _bytes(value: object) -> bytes:
    return str(value).encode("latin-1") if isinstance(value, str) else b""


def _bins(params: dict[str, Any]) -> dict[str, bytes]:
    return {name: base64.b64decode(text) for name, text in (params.get("bins") or {}).items()}


@functools.cache
def _pbkdf2_seconds_per_iteration(hash_name: str) -> float:
    iterations = 4000
    started = time.thread_time()
    cryptoops.pbkdf2({"hash": hash_name, "length": 256, "iterations": iterations}, b"k", b"s")
    return max(time.thread_time() - started, 1e-6) / iterations


def _check_cost(op: str, params: dict[str, Any], afford: Afford) -> None:
    seconds = 0.0
    if op == "pbkdf2":
        hash_bytes = cryptoops.HASHES[params["hash"]]().digest_size
        blocks = max(1, -(-int(params["length"]) // (8 * hash_bytes)))
        per_iteration = _pbkdf2_seconds_per_iteration(params["hash"])
        seconds = int(params["iterations"]) * blocks * per_iteration
    elif op == "generate" and params["kty"] == "RSA":
        # A modulus refused anyway (``_generate``) costs nothing.
        bits = int(params["modulusLength"])
        if bits <= MAX_RSA_GENERATED_BITS:
            seconds = RSA_2048_SECONDS * (bits / 2048) ** 3
    if seconds and not afford(seconds):
        raise Refused("OperationError", "The run's CPU time limit does not allow this operation")


def _run(op: str, params: dict[str, Any], key: bytes, data: bytes) -> bytes | dict[str, Any]:
    bins = _bins(params)
    if op == "aes":
        return cryptoops.aes(params, key, data, bins)
    if op == "oaep":
        return cryptoops.rsa_oaep(params, key, data, bins.get("label", b""))
    if op == "sign":
        return cryptoops.sign(params, key, data)
    if op == "verify":
        return b"\x01" if cryptoops.verify(params, key, data, bins["signature"]) else b"\x00"
    if op == "agree":
        return cryptoops.agree(key, data)
    if op == "hkdf":
        return cryptoops.hkdf(params, key, bins["salt"], bins["info"])
    if op == "pbkdf2":
        return cryptoops.pbkdf2(params, key, bins["salt"])
    if op == "import":
        return _import(params, data)
    if op == "export":
        kty, curve = params["kty"], params["curve"]
        return cryptokeys.export(kty, curve, params["format"], params["private"] is True, key)
    if op == "generate":
        return _generate(params, bins)
    if op == "node_load":
        return nodekeys.load(params, data)
    if op == "node_public":
        return nodekeys.public_of(key)
    if op == "node_export":
        return nodekeys.export(params, key)
    raise Refused("NotSupportedError", "Unsupported operation")


def _import(params: dict[str, Any], data: bytes) -> dict[str, Any]:
    kty, curve, fmt = params["kty"], params["curve"], params["format"]
    if fmt == "jwk":
        return cryptokeys.import_jwk(kty, curve, params["jwk"])
    if fmt == "raw":
        return cryptokeys.import_raw(kty, curve, data)
    return cryptokeys.import_der(kty, curve, fmt, data)


def _generate(params: dict[str, Any], bins: dict[str, bytes]) -> dict[str, Any]:
    exponent = 0
    bits = int(params.get("modulusLength") or 0)
    if params["kty"] == "RSA":
        exponent = int.from_bytes(bins["publicExponent"], "big")
        # OpenSSL's (and cryptography's) rules: 65537 or 3, a modulus of 1024 bits at least.
        if exponent not in (3, 65537) or not 1024 <= bits <= MAX_RSA_GENERATED_BITS:
            raise Refused("OperationError", "Unsupported RSA modulus length or public exponent")
    return cryptokeys.generate(params["kty"], params["curve"], bits, exponent)


def perform(op: str, params_text: str, key: object, data: object, afford: Afford) -> bytearray:
    """One operation for JavaScript; never raises (see the module's docstring)."""
    try:
        params = orjson.loads(params_text)
        _check_cost(op, params, afford)
        result = _run(op, params, _bytes(key), _bytes(data))
    except Refused as refused:
        return _error(refused.name, refused.message)
    except cryptoops.OperationFailed as failed:
        return _error("OperationError", str(failed))
    except cryptokeys.KeyDataError as bad:
        return _error("DataError", f"Invalid key data: {bad}")
    except Exception:  # OpenSSL's or ours: the text stays here
        name = "DataError" if op in ("import", "node_load") else "OperationError"
        return _error(name, "The operation failed for an operation-specific reason")
    if isinstance(result, dict):
        return bytearray(bytes([JSON]) + orjson.dumps(result))
    return bytearray(bytes([BYTES]) + result)


def _error(name: str, message: str) -> bytearray:
    if name not in ERROR_NAMES:
        name = "OperationError"
    return bytearray(bytes([ERROR]) + orjson.dumps({"name": name, "message": message}))
