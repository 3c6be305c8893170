"""WebCrypto's operations on OpenSSL (pyca/cryptography), for ``webcrypto.py``: AES (GCM, CBC,
CTR, KW), RSA (PKCS#1 v1.5 and PSS signatures, OAEP), ECDSA, EdDSA, ECDH/X25519/X448, HKDF
and PBKDF2. JavaScript has checked the algorithm, the key's usages and the parameters' types;
what is checked here is what only the bytes can tell. An ``OperationFailed`` is the
OperationError the Web Cryptography API specifies; its message is ours, never OpenSSL's.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, keywrap, padding
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vortex.isolates.cryptokeys import CURVE_BYTES, private_key, public_key

RAW = Encoding.Raw
_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA-1": hashes.SHA1,
    "SHA-256": hashes.SHA256,
    "SHA-384": hashes.SHA384,
    "SHA-512": hashes.SHA512,
}


class OperationFailed(Exception):
    """An OperationError, with a message fit for user code."""


def _hash(name: str) -> hashes.HashAlgorithm:
    return HASHES[name]()


# -- AES ----------------------------------------------------------------------------------------
def aes(params: dict[str, Any], key: bytes, data: bytes, bins: dict[str, bytes]) -> bytes:
    mode, encrypt = params["mode"], params["encrypt"] is True
    if mode == "GCM":
        return _gcm(key, data, bins["iv"], bins.get("additionalData", b""), params, encrypt)
    if mode == "CBC":
        return _cbc(key, data, bins["iv"], encrypt)
    if mode == "CTR":
        return _ctr(key, data, bins["counter"], int(params["length"]))
    return _kw(key, data, encrypt)


def _gcm(
    key: bytes, data: bytes, iv: bytes, aad: bytes, params: dict[str, Any], encrypt: bool
) -> bytes:
    tag_bytes = int(params["tagLength"]) // 8
    if not 8 <= len(iv) <= 128:
        raise OperationFailed("AES-GCM needs an iv of 8 to 128 bytes here")
    if encrypt:
        encryptor = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
        encryptor.authenticate_additional_data(aad)
        out = encryptor.update(data) + encryptor.finalize()
        return out + encryptor.tag[:tag_bytes]
    if len(data) < tag_bytes:
        raise OperationFailed("The data is shorter than the tag")
    body, tag = data[: len(data) - tag_bytes], data[len(data) - tag_bytes :]
    decryptor = Cipher(
        algorithms.AES(key), modes.GCM(iv, tag, min_tag_length=tag_bytes)
    ).decryptor()
    decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag as exc:
        raise OperationFailed("The data could not be decrypted (authentication failed)") from exc


def _cbc(key: bytes, data: bytes, iv: bytes, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    if encrypt:
        padder = padding.PKCS7(128).padder()
        padded = padder.update(data) + padder.finalize()
        encryptor = cipher.encryptor()
        return encryptor.update(padded) + encryptor.finalize()
    if len(data) == 0 or len(data) % 16:
        raise OperationFailed("The data is not a whole number of AES blocks")
    decryptor = cipher.decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise OperationFailed("The data could not be decrypted (bad padding)") from exc


def _ctr(key: bytes, data: bytes, counter: bytes, length: int) -> bytes:
    """AES-CTR whose counter is the low ``length`` bits of the block, wrapping to zero there
    (OpenSSL's counter spans all 128 bits, so a wrap splits the data in two)."""
    blocks = (len(data) + 15) // 16
    if length < 128 and blocks > 1 << length:
        raise OperationFailed("The counter would repeat: the data is too long for its length")
    value = int.from_bytes(counter, "big")
    mask = (1 << length) - 1
    low = value & mask
    before_wrap = (mask - low + 1) * 16  # bytes until the counter's low bits wrap
    first, rest = data[:before_wrap], data[before_wrap:]
    encryptor = Cipher(algorithms.AES(key), modes.CTR(counter)).encryptor()
    out = encryptor.update(first) + encryptor.finalize()
    if rest:
        wrapped = (value & ~mask).to_bytes(16, "big")
        encryptor = Cipher(algorithms.AES(key), modes.CTR(wrapped)).encryptor()
        out += encryptor.update(rest) + encryptor.finalize()
    return out


def _kw(key: bytes, data: bytes, wrap: bool) -> bytes:
    if len(data) < 16 or len(data) % 8:
        raise OperationFailed("AES-KW takes a multiple of 8 bytes, 16 at least")
    if wrap:
        return keywrap.aes_key_wrap(key, data)
    if len(data) < 24:
        raise OperationFailed("AES-KW unwraps a multiple of 8 bytes, 24 at least")
    try:
        return keywrap.aes_key_unwrap(key, data)
    except keywrap.InvalidUnwrap as exc:
        raise OperationFailed("The data could not be unwrapped") from exc


# -- RSA-OAEP -----------------------------------------------------------------------------------
def rsa_oaep(params: dict[str, Any], der: bytes, data: bytes, label: bytes) -> bytes:
    algorithm = _hash(params["hash"])
    oaep = asym_padding.OAEP(asym_padding.MGF1(algorithm), algorithm, label or None)
    try:
        if params["encrypt"] is True:
            key = public_key(der)
            assert isinstance(key, rsa.RSAPublicKey)
            return key.encrypt(data, oaep)
        private = private_key(der)
        assert isinstance(private, rsa.RSAPrivateKey)
        return private.decrypt(data, oaep)
    except ValueError as exc:
        raise OperationFailed("The data could not be encrypted or decrypted with this key") from exc


# -- signatures ---------------------------------------------------------------------------------
def sign(params: dict[str, Any], der: bytes, data: bytes) -> bytes:
    key = private_key(der)
    scheme = params["scheme"]
    if isinstance(key, rsa.RSAPrivateKey):
        try:
            return key.sign(data, _rsa_padding(params, key.key_size), _hash(params["hash"]))
        except ValueError as exc:
            raise OperationFailed("The salt is too long for this key") from exc
    if isinstance(key, ec.EllipticCurvePrivateKey) and scheme == "ECDSA":
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(_hash(params["hash"]))))
        size = CURVE_BYTES[params["curve"]]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return key.sign(data)
    raise OperationFailed("This key cannot sign")


def verify(params: dict[str, Any], der: bytes, data: bytes, signature: bytes) -> bool:
    key = public_key(der)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, _rsa_padding(params, key.key_size), _hash(params["hash"]))
        elif isinstance(key, ec.EllipticCurvePublicKey):
            size = CURVE_BYTES[params["curve"]]
            if len(signature) != 2 * size:
                return False
            r = int.from_bytes(signature[:size], "big")
            s = int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(_hash(params["hash"])))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            public = key.public_bytes(RAW, PublicFormat.Raw)
            if len(signature) != 64 or weak_point(public) or weak_point(signature[:32]):
                return False
            key.verify(signature, data)
        elif isinstance(key, ed448.Ed448PublicKey):
            key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _rsa_padding(params: dict[str, Any], key_bits: int) -> asym_padding.AsymmetricPadding:
    if params["scheme"] == "PSS":
        algorithm = _hash(params["hash"])
        # node:crypto's RSA_PSS_SALTLEN_MAX_SIGN and RSA_PSS_SALTLEN_AUTO (verify)
        salt = params["saltLength"]
        if salt == "max":
            return asym_padding.PSS(asym_padding.MGF1(algorithm), asym_padding.PSS.MAX_LENGTH)
        if salt == "auto":
            return asym_padding.PSS(asym_padding.MGF1(algorithm), asym_padding.PSS.AUTO)
        return asym_padding.PSS(asym_padding.MGF1(algorithm), int(salt))
    return asym_padding.PKCS1v15()


# -- key agreement and derivation --------------------------------------------------------------
def agree(private_der: bytes, public_der: bytes) -> bytes:
    private, public = private_key(private_der), public_key(public_der)
    try:
        if isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(
            public, ec.EllipticCurvePublicKey
        ):
            return private.exchange(ec.ECDH(), public)
        if isinstance(private, x25519.X25519PrivateKey) and isinstance(
            public, x25519.X25519PublicKey
        ):
            return private.exchange(public)
        if isinstance(private, x448.X448PrivateKey) and isinstance(public, x448.X448PublicKey):
            return private.exchange(public)
    except ValueError as exc:  # a small-order point: an all-zero secret
        raise OperationFailed("The keys do not agree on a secret") from exc
    raise OperationFailed("The keys are not of the same curve")


def hkdf(params: dict[str, Any], key: bytes, salt: bytes, info: bytes) -> bytes:
    length = int(params["length"]) // 8
    if length == 0:
        return b""
    try:
        return HKDF(_hash(params["hash"]), length, salt, info).derive(key)
    except ValueError as exc:
        raise OperationFailed("HKDF cannot derive that many bits with this hash") from exc


def pbkdf2(params: dict[str, Any], key: bytes, salt: bytes) -> bytes:
    length = int(params["length"]) // 8
    if length == 0:
        return b""
    return PBKDF2HMAC(_hash(params["hash"]), length, salt, int(params["iterations"])).derive(key)


def weak_point(encoded: bytes) -> bool:
    """Whether 32 bytes are no point of Ed25519, or one of small order. The Web Cryptography
    API has verify return false for such a public key or R (OpenSSL accepts some of them,
    and a signature that verifies for every message is the result)."""
    y = int.from_bytes(encoded, "little") & ((1 << 255) - 1)
    sign = encoded[31] >> 7
    if y >= _P:
        return True
    y2 = y * y % _P
    x2 = (y2 - 1) * pow(_D * y2 + 1, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P or (x == 0 and sign):
        return True
    if x & 1 != sign:
        x = _P - x
    for _ in range(3):  # eight times the point: the identity exactly when its order divides 8
        xy = x * y % _P
        t = _D * xy * xy % _P
        x, y = (
            2 * xy * pow(1 + t, _P - 2, _P) % _P,
            (y * y + x * x) * pow(1 - t, _P - 2, _P) % _P,
        )
    return x == 0 and y == 1
