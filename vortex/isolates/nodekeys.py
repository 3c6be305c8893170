"""node:crypto's key objects on OpenSSL (pyca/cryptography), for ``webcrypto.py``: a PEM or DER
key as Node's ``createPrivateKey``/``createPublicKey`` take it (PKCS #8, SubjectPublicKeyInfo,
PKCS #1 RSA, SEC1 EC), turned into the DER the web API's keys hold, and back to PEM or DER.

A key is checked as ``cryptokeys.import_der`` checks one (an RSA key's parts agree, its modulus
is not too long), since signing later trusts its DER. Encrypted keys are refused: decrypting
one may cost a key derivation the run's CPU limit cannot interrupt.
"""

from __future__ import annotations

import re
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

from vortex.isolates.cryptokeys import (
    PRIVATE_TYPES,
    KeyDataError,
    PrivateKey,
    PublicKey,
    check_rsa,
    curve_name,
    describe,
    private_key,
    public_key,
)

_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_KINDS: tuple[tuple[type, str], ...] = (
    (rsa.RSAPrivateKey, "rsa"),
    (rsa.RSAPublicKey, "rsa"),
    (ec.EllipticCurvePrivateKey, "ec"),
    (ec.EllipticCurvePublicKey, "ec"),
    (ed25519.Ed25519PrivateKey, "ed25519"),
    (ed25519.Ed25519PublicKey, "ed25519"),
    (ed448.Ed448PrivateKey, "ed448"),
    (ed448.Ed448PublicKey, "ed448"),
    (x25519.X25519PrivateKey, "x25519"),
    (x25519.X25519PublicKey, "x25519"),
    (x448.X448PrivateKey, "x448"),
    (x448.X448PublicKey, "x448"),
)
_FORMATS = {
    "pkcs8": serialization.PrivateFormat.PKCS8,
    "pkcs1": serialization.PrivateFormat.TraditionalOpenSSL,
    "sec1": serialization.PrivateFormat.TraditionalOpenSSL,
}


def _private(data: bytes, pem: bool) -> PrivateKey:
    load = serialization.load_pem_private_key if pem else serialization.load_der_private_key
    try:
        key = load(data, None, unsafe_skip_rsa_key_validation=True)
    except TypeError as exc:  # encrypted, and no password given
        raise KeyDataError("encrypted keys are not supported") from exc
    if isinstance(key, rsa.RSAPrivateKey):
        check_rsa(key.private_numbers())
    return key  # type: ignore[return-value]


def _public(data: bytes, pem: bool) -> PublicKey:
    load = serialization.load_pem_public_key if pem else serialization.load_der_public_key
    return load(data)  # type: ignore[return-value]


def _load(params: dict[str, Any], data: bytes) -> PrivateKey | PublicKey:
    want_private = params["private"] is True
    if params["format"] == "pem":
        match = _PEM_LABEL.search(data)
        if match is None:
            raise KeyDataError("no PEM key found")
        label = match.group(1)
        if label.endswith(b"PRIVATE KEY"):
            return _private(data, True)
        if label.endswith(b"PUBLIC KEY") and not want_private:
            return _public(data, True)
        raise KeyDataError("not a PEM key of this kind")
    kind = params.get("type")
    if kind == "spki" and not want_private:
        return _public(data, False)
    if kind in ("pkcs8", "sec1") or (kind == "pkcs1" and want_private):
        return _private(data, False)
    if kind == "pkcs1":  # an RSAPublicKey, or a private key its public half is asked of
        try:
            return _public(data, False)
        except ValueError:
            return _private(data, False)
    raise KeyDataError("unsupported key type")


def kind_of(key: PrivateKey | PublicKey) -> str:
    for cls, name in _KINDS:
        if isinstance(key, cls):
            return name
    raise KeyDataError("unsupported key type")


def load(params: dict[str, Any], data: bytes) -> dict[str, Any]:
    """The key in ``data`` as a private key (``params["private"]``) or a public one (a private
    key's public half, as Node's createPublicKey gives it): its DER (``describe``), Node's
    name of its type and its curve's WebCrypto name (EC)."""
    try:
        key = _load(params, data)
    except KeyDataError:
        raise
    except (ValueError, TypeError) as exc:
        raise KeyDataError("the key data is not a key in this format") from exc
    except Exception as exc:  # unsupported algorithms raise their own kinds
        raise KeyDataError("the key data is not a supported key") from exc
    if params["private"] is True and not isinstance(key, PRIVATE_TYPES):
        raise KeyDataError("not a private key")
    if isinstance(key, PRIVATE_TYPES) and params["private"] is not True:
        key = key.public_key()
    out = describe(key)
    out["kind"] = kind_of(key)
    if out["kind"] == "ec":
        out["curve"] = curve_name(key)
        if out["curve"] == "unsupported":
            raise KeyDataError("the curve is not supported")
    return out


def public_of(der: bytes) -> dict[str, Any]:
    """A private key's public half, as ``load`` describes it."""
    public = private_key(der).public_key()
    out = describe(public)
    out["kind"] = kind_of(public)
    if out["kind"] == "ec":
        out["curve"] = curve_name(public)
    return out


def export(params: dict[str, Any], der: bytes) -> bytes:
    """The key as Node's ``keyObject.export({ format, type })`` gives it: PEM or DER, in
    PKCS #8, SEC1 or PKCS #1 for a private key, SPKI or PKCS #1 for a public one."""
    encoding = (
        serialization.Encoding.PEM if params["format"] == "pem" else serialization.Encoding.DER
    )
    kind = params["type"]
    if params["private"] is True:
        key = private_key(der)
        if kind not in _FORMATS:
            raise KeyDataError("unsupported export type")
        if (kind == "pkcs1") != isinstance(key, rsa.RSAPrivateKey) and kind != "pkcs8":
            raise KeyDataError("this type does not fit the key")
        if kind == "sec1" and not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyDataError("this type does not fit the key")
        return key.private_bytes(encoding, _FORMATS[kind], serialization.NoEncryption())
    public = public_key(der)
    if kind == "spki":
        return public.public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)
    if kind == "pkcs1" and isinstance(public, rsa.RSAPublicKey):
        return public.public_bytes(encoding, serialization.PublicFormat.PKCS1)
    raise KeyDataError("this type does not fit the key")
