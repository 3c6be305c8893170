"""Asymmetric keys for WebCrypto: importing, exporting and generating them with OpenSSL
(pyca/cryptography), for ``webcrypto.py``.

A key crosses to JavaScript as DER (PKCS #8 for a private key, SubjectPublicKeyInfo for a
public one), which the CryptoKey keeps and hands back with each operation; the Python key
objects made from it stay here, in a small cache, and never reach JavaScript.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519

PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
    | x25519.X25519PrivateKey
    | x448.X448PrivateKey
)
PublicKey = (
    rsa.RSAPublicKey
    | ec.EllipticCurvePublicKey
    | ed25519.Ed25519PublicKey
    | ed448.Ed448PublicKey
    | x25519.X25519PublicKey
    | x448.X448PublicKey
)

PRIVATE_TYPES = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
    x25519.X25519PrivateKey,
    x448.X448PrivateKey,
)
CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
CURVE_BYTES = {"P-256": 32, "P-384": 48, "P-521": 66}
OKP_PRIVATE: dict[str, Any] = {
    "Ed25519": ed25519.Ed25519PrivateKey,
    "Ed448": ed448.Ed448PrivateKey,
    "X25519": x25519.X25519PrivateKey,
    "X448": x448.X448PrivateKey,
}
OKP_PUBLIC: dict[str, Any] = {
    "Ed25519": ed25519.Ed25519PublicKey,
    "Ed448": ed448.Ed448PublicKey,
    "X25519": x25519.X25519PublicKey,
    "X448": x448.X448PublicKey,
}
MAX_RSA_BITS = 16384
"""The largest RSA modulus imported: an operation with a bigger one could run for seconds in
one call the engine cannot interrupt."""

DER = serialization.Encoding.DER
RAW = serialization.Encoding.Raw
PKCS8 = serialization.PrivateFormat.PKCS8
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


class KeyDataError(ValueError):
    """The key data is not a key of the expected kind (a ``DataError`` in JavaScript)."""


def b64url_decode(text: object) -> bytes:
    if not isinstance(text, str):
        raise KeyDataError("a JWK member is not a string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise KeyDataError("a JWK member is not base64url") from exc


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value: int, size: int | None = None) -> bytes:
    return value.to_bytes(size or max(1, (value.bit_length() + 7) // 8), "big")


@functools.lru_cache(maxsize=256)
def private_key(der: bytes) -> PrivateKey:
    # Only DER this module made (or checked) reaches here: RSA's slow consistency check was
    # done when the key was imported or generated.
    key = serialization.load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True)
    return key  # type: ignore[return-value]


@functools.lru_cache(maxsize=256)
def public_key(der: bytes) -> PublicKey:
    return serialization.load_der_public_key(der)  # type: ignore[return-value]


def curve_name(key: PrivateKey | PublicKey) -> str:
    """The WebCrypto name of an EC or OKP key's curve, or "RSA"."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        for name, curve in CURVES.items():
            if isinstance(key.curve, curve):
                return name
        return "unsupported"
    for name, cls in (*OKP_PRIVATE.items(), *OKP_PUBLIC.items()):
        if isinstance(key, cls):
            return name
    return "unsupported"


def describe(key: PrivateKey | PublicKey) -> dict[str, Any]:
    """What JavaScript keeps of a key: its DER, type and (RSA) modulus and exponent."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) and key.key_size > MAX_RSA_BITS:
        raise KeyDataError("the RSA modulus is too long")
    private = isinstance(key, PRIVATE_TYPES)
    if isinstance(key, PRIVATE_TYPES):
        der = key.private_bytes(DER, PKCS8, serialization.NoEncryption())
    else:
        der = key.public_bytes(DER, SPKI)
    out: dict[str, Any] = {
        "type": "private" if private else "public",
        "der": base64.b64encode(der).decode("ascii"),
    }
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        numbers = key.public_key().public_numbers() if private else key.public_numbers()  # type: ignore[union-attr]
        out["modulusLength"] = key.key_size
        out["publicExponent"] = base64.b64encode(_int_bytes(numbers.e)).decode("ascii")
    return out


def _expect(key: PrivateKey | PublicKey, kty: str, curve: str) -> None:
    """The key is of the family (``kty``: RSA, EC, OKP) and curve the algorithm names."""
    name = curve_name(key)
    if kty == "RSA" and name != "RSA":
        raise KeyDataError("not an RSA key")
    if kty in ("EC", "OKP") and name != curve:
        raise KeyDataError("not a key of the named curve")


def import_der(kty: str, curve: str, fmt: str, data: bytes) -> dict[str, Any]:
    try:
        if fmt == "spki":
            key: PrivateKey | PublicKey = serialization.load_der_public_key(data)  # type: ignore[assignment]
        else:
            key = serialization.load_der_private_key(  # type: ignore[assignment]
                data, None, unsafe_skip_rsa_key_validation=True
            )
            if isinstance(key, rsa.RSAPrivateKey):
                check_rsa(key.private_numbers())
    except (ValueError, TypeError) as exc:
        raise KeyDataError("the key data is not a key in this format") from exc
    except Exception as exc:  # unsupported algorithms raise their own kinds
        raise KeyDataError("the key data is not a supported key") from exc
    _expect(key, kty, curve)
    return describe(key)


def import_raw(kty: str, curve: str, data: bytes) -> dict[str, Any]:
    try:
        if kty == "EC":
            return describe(ec.EllipticCurvePublicKey.from_encoded_point(CURVES[curve](), data))
        return describe(OKP_PUBLIC[curve].from_public_bytes(data))
    except (ValueError, TypeError, KeyError) as exc:
        raise KeyDataError("the key data is not a public key of the named curve") from exc


def import_jwk(kty: str, curve: str, jwk: dict[str, Any]) -> dict[str, Any]:
    try:
        if kty == "EC":
            return describe(_ec_from_jwk(curve, jwk))
        if kty == "OKP":
            return describe(_okp_from_jwk(curve, jwk))
        return describe(_rsa_from_jwk(jwk))
    except KeyDataError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise KeyDataError("the JWK is not a valid key") from exc


def _ec_from_jwk(curve: str, jwk: dict[str, Any]) -> PrivateKey | PublicKey:
    size = CURVE_BYTES[curve]
    x, y = b64url_decode(jwk.get("x")), b64url_decode(jwk.get("y"))
    if len(x) != size or len(y) != size:
        raise KeyDataError("x and y must be as long as the curve's field")
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(x, "big"), int.from_bytes(y, "big"), CURVES[curve]()
    )
    if "d" not in jwk:
        return public.public_key()
    d = b64url_decode(jwk["d"])
    if len(d) != size:
        raise KeyDataError("d must be as long as the curve's order")
    return ec.EllipticCurvePrivateNumbers(int.from_bytes(d, "big"), public).private_key()


def _okp_from_jwk(curve: str, jwk: dict[str, Any]) -> PrivateKey | PublicKey:
    x = b64url_decode(jwk.get("x"))
    if "d" not in jwk:
        return OKP_PUBLIC[curve].from_public_bytes(x)  # type: ignore[no-any-return]
    key = OKP_PRIVATE[curve].from_private_bytes(b64url_decode(jwk["d"]))
    if key.public_key().public_bytes(RAW, serialization.PublicFormat.Raw) != x:
        raise KeyDataError("x is not the public key of d")
    return key  # type: ignore[no-any-return]


def _rsa_from_jwk(jwk: dict[str, Any]) -> PrivateKey | PublicKey:
    def number(name: str) -> int:
        return int.from_bytes(b64url_decode(jwk.get(name)), "big")

    public = rsa.RSAPublicNumbers(number("e"), number("n"))
    if public.n.bit_length() > MAX_RSA_BITS:
        raise KeyDataError("the RSA modulus is too long")
    if "d" not in jwk:
        return public.public_key()
    if "oth" in jwk:
        raise KeyDataError("multi-prime RSA keys are not supported")
    names = ("p", "q", "dp", "dq", "qi")
    if not all(name in jwk for name in names):
        raise KeyDataError("a private RSA JWK needs p, q, dp, dq and qi")
    p, q, dp, dq, qi = (number(name) for name in names)
    numbers = rsa.RSAPrivateNumbers(p, q, number("d"), dp, dq, qi, public)
    check_rsa(numbers)
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def check_rsa(numbers: rsa.RSAPrivateNumbers) -> None:
    """The parts of a private RSA key agree with each other. OpenSSL's own check also tests
    p and q for primality, which costs 40 ms and more for a 4096-bit key, on every import;
    a key whose factors are not prime only gives its owner wrong results."""
    p, q, d, e, n = (
        numbers.p,
        numbers.q,
        numbers.d,
        numbers.public_numbers.e,
        numbers.public_numbers.n,
    )
    if n.bit_length() > MAX_RSA_BITS:
        raise KeyDataError("the RSA modulus is too long")
    if not (p > 1 and q > 1 and p * q == n and 1 < e < n and 0 < d < n):
        raise KeyDataError("the RSA key's parts do not agree")
    if numbers.dmp1 != d % (p - 1) or numbers.dmq1 != d % (q - 1) or (numbers.iqmp * q) % p != 1:
        raise KeyDataError("the RSA key's CRT parts do not agree")
    if (d * e) % (p - 1) != 1 % (p - 1) or (d * e) % (q - 1) != 1 % (q - 1):
        raise KeyDataError("d is not the private exponent of e")


def export(kty: str, curve: str, fmt: str, private: bool, der: bytes) -> bytes | dict[str, Any]:
    """The key in ``fmt``: bytes, or the key members of a JWK (JavaScript adds the rest)."""
    key: PrivateKey | PublicKey = private_key(der) if private else public_key(der)
    if fmt == "spki" or fmt == "pkcs8":
        return der
    if fmt == "raw":
        if kty == "EC":
            return key.public_bytes(  # type: ignore[union-attr]
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        return key.public_bytes(RAW, serialization.PublicFormat.Raw)  # type: ignore[union-attr]
    return _jwk_members(kty, curve, key)


def _jwk_members(kty: str, curve: str, key: PrivateKey | PublicKey) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        pub = (
            key.public_key().public_numbers()
            if isinstance(key, rsa.RSAPrivateKey)
            else key.public_numbers()
        )
        out = {"n": b64url(_int_bytes(pub.n)), "e": b64url(_int_bytes(pub.e))}
        if isinstance(key, rsa.RSAPrivateKey):
            priv = key.private_numbers()
            for name, value in (
                ("d", priv.d),
                ("p", priv.p),
                ("q", priv.q),
                ("dp", priv.dmp1),
                ("dq", priv.dmq1),
                ("qi", priv.iqmp),
            ):
                out[name] = b64url(_int_bytes(value))
        return out
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        size = CURVE_BYTES[curve]
        public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
        numbers = public.public_numbers()
        out = {"x": b64url(_int_bytes(numbers.x, size)), "y": b64url(_int_bytes(numbers.y, size))}
        if isinstance(key, ec.EllipticCurvePrivateKey):
            out["d"] = b64url(_int_bytes(key.private_numbers().private_value, size))
        return out
    raw_public = serialization.PublicFormat.Raw
    if isinstance(key, PRIVATE_TYPES):
        pub_bytes = key.public_key().public_bytes(RAW, raw_public)
        d = key.private_bytes(RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        return {"x": b64url(pub_bytes), "d": b64url(d)}
    return {"x": b64url(key.public_bytes(RAW, raw_public))}


def generate(kty: str, curve: str, modulus_bits: int, exponent: int) -> dict[str, Any]:
    """A new key pair: the DER of each half (and an RSA key's modulus and exponent)."""
    private: PrivateKey
    if kty == "RSA":
        private = rsa.generate_private_key(exponent, modulus_bits)
    elif kty == "EC":
        private = ec.generate_private_key(CURVES[curve]())
    else:
        private = OKP_PRIVATE[curve].generate()
    return {"private": describe(private), "public": describe(private.public_key())}
