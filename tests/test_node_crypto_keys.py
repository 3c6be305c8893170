"""node:crypto's key objects and signatures (src/node/crypto/keys.js and sign.js, over
vortex/isolates/nodekeys.py): deployed through the API to a real server, called on the
functions listener with keys made here, every signature checked here with OpenSSL."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.server import ServerProcess

PEM, DER = serialization.Encoding.PEM, serialization.Encoding.DER
PKCS8 = serialization.PrivateFormat.PKCS8
TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
NONE = serialization.NoEncryption()
RSA_KEY = rsa.generate_private_key(65537, 2048)
EC_KEY = ec.generate_private_key(ec.SECP384R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()
MESSAGE = b"header.payload"


async def run(server: ServerProcess, api: aiohttp.ClientSession, code: str, body: Any) -> Any:
    async with api.post("/deploy", json={"code": code, "filename": "index.mjs"}) as r:
        deployed = await r.json()
        assert r.status == 200, deployed
    url = server.fn_url(str(deployed["function_id"]), "/")
    async with aiohttp.ClientSession() as client, client.post(url, json=body) as r:
        answer = await r.json(content_type=None)
        assert r.status == 200, answer
        return answer


KEYS = """
import crypto, { KeyObject, createSecretKey, createPrivateKey, createPublicKey, createHmac, createSign, createVerify } from "node:crypto";
import { Buffer } from "node:buffer";

export default {
  async fetch(request) {
    const k = await request.json();
    const secret = createSecretKey(Buffer.from("s3cret"));
    const rsaPkcs1 = createPrivateKey(k.rsaPkcs1);
    const rsaPkcs8 = createPrivateKey({ key: Buffer.from(k.rsaPkcs8DerB64, "base64"), format: "der", type: "pkcs8" });
    const rsaPublic = createPublicKey(k.rsaPkcs1);
    const ecPrivate = createPrivateKey(k.ecSec1);
    const ecPublic = createPublicKey(k.ecSpki);
    const edPrivate = createPrivateKey(k.edPkcs8);
    const details = rsaPkcs1.asymmetricKeyDetails;

    const signed = (alg, key, options) => createSign(alg).update("header.").update("payload").sign(options ? { key, ...options } : key, "base64");
    return Response.json({
      secret: [secret.type, secret.symmetricKeySize, secret instanceof KeyObject, secret.export().toString(), secret.export({ format: "jwk" })],
      hmac: [createHmac("sha256", secret).update("m").digest("hex"), createHmac("sha256", "s3cret").update("m").digest("hex")],
      rsa: [rsaPkcs1.type, rsaPkcs1.asymmetricKeyType, details.modulusLength, String(details.publicExponent), rsaPublic.type, rsaPkcs1.equals(rsaPkcs8), rsaPkcs1.equals(ecPrivate)],
      exports: [
        rsaPublic.export({ type: "spki", format: "pem" }),
        createPublicKey(rsaPkcs8).export({ type: "pkcs1", format: "der" }).toString("base64"),
        rsaPkcs8.export({ type: "pkcs1", format: "pem" }).split("\\n")[0],
        ecPrivate.export({ type: "sec1", format: "pem" }).split("\\n")[0],
        ecPublic.export({ format: "jwk" }).crv,
      ],
      ec: [ecPrivate.asymmetricKeyType, ecPrivate.asymmetricKeyDetails.namedCurve, ecPublic.type],
      ed: [edPrivate.asymmetricKeyType, createPublicKey(edPrivate).export({ type: "spki", format: "der" }).toString("base64")],
      jwk: createPublicKey({ key: ecPublic.export({ format: "jwk" }), format: "jwk" }).equals(ecPublic),
      signatures: {
        rs256: signed("RSA-SHA256", rsaPkcs1),
        rs512: signed("sha512", k.rsaPkcs1),
        ps256: signed("RSA-SHA256", rsaPkcs1, { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST }),
        es384: signed("sha384", ecPrivate),
        es384p1363: signed("sha384", ecPrivate, { dsaEncoding: "ieee-p1363" }),
        ed25519: crypto.sign(null, Buffer.from("header.payload"), edPrivate).toString("base64"),
      },
      verified: [
        createVerify("RSA-SHA256").update("header.payload").verify(rsaPublic, k.rs256, "base64"),
        createVerify("RSA-SHA256").update("header.payload").verify(k.rsaSpki, k.rs256, "base64"),
        createVerify("RSA-SHA256").update("header.payloaX").verify(rsaPublic, k.rs256, "base64"),
        createVerify("sha384").update("header.payload").verify(ecPublic, k.es384der, "base64"),
        createVerify("sha384").update("header.payload").verify(ecPrivate, k.es384der, "base64"),
        createVerify("sha384").update("header.payload").verify(ecPublic, "MAYCAQECAQE=", "base64"),
        createVerify("sha384").update("header.payload").verify(ecPublic, "not der at all", "utf8"),
        crypto.verify(null, Buffer.from("header.payload"), createPublicKey(edPrivate), Buffer.from(k.ed25519, "base64")),
        createVerify("RSA-SHA256").update("header.payload").verify({ key: rsaPublic, padding: crypto.constants.RSA_PKCS1_PSS_PADDING }, k.ps256, "base64"),
      ],
    });
  },
};
"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_keys_sign_and_verify_as_node_does(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    rsa_public = RSA_KEY.public_key()
    ec_public = EC_KEY.public_key()
    ps256 = RSA_KEY.sign(MESSAGE, padding.PSS(padding.MGF1(hashes.SHA256()), 20), hashes.SHA256())
    keys = {
        "rsaPkcs1": RSA_KEY.private_bytes(PEM, TRADITIONAL, NONE).decode(),
        "rsaPkcs8DerB64": b64(RSA_KEY.private_bytes(DER, PKCS8, NONE)),
        "rsaSpki": rsa_public.public_bytes(PEM, SPKI).decode(),
        "ecSec1": EC_KEY.private_bytes(PEM, TRADITIONAL, NONE).decode(),
        "ecSpki": ec_public.public_bytes(PEM, SPKI).decode(),
        "edPkcs8": ED_KEY.private_bytes(PEM, PKCS8, NONE).decode(),
        "rs256": b64(RSA_KEY.sign(MESSAGE, padding.PKCS1v15(), hashes.SHA256())),
        "es384der": b64(EC_KEY.sign(MESSAGE, ec.ECDSA(hashes.SHA384()))),
        "ed25519": b64(ED_KEY.sign(MESSAGE)),
        "ps256": b64(ps256),
    }
    body = await run(one_host, api, KEYS, keys)
    assert body["secret"] == ["secret", 6, True, "s3cret", {"kty": "oct", "k": "czNjcmV0"}]
    expected_hmac = hmac.new(b"s3cret", b"m", hashlib.sha256).hexdigest()
    assert body["hmac"] == [expected_hmac, expected_hmac]
    assert body["rsa"] == ["private", "rsa", 2048, "65537", "public", True, False]
    assert body["exports"] == [
        keys["rsaSpki"],
        b64(rsa_public.public_bytes(DER, serialization.PublicFormat.PKCS1)),
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN EC PRIVATE KEY-----",
        "P-384",
    ]
    assert body["ec"] == ["ec", "secp384r1", "public"]
    ed_spki = ED_KEY.public_key().public_bytes(DER, SPKI)
    assert body["ed"] == ["ed25519", b64(ed_spki)]
    assert body["jwk"] is True
    sigs = {name: base64.b64decode(value) for name, value in body["signatures"].items()}
    rsa_public.verify(sigs["rs256"], MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    rsa_public.verify(sigs["rs512"], MESSAGE, padding.PKCS1v15(), hashes.SHA512())
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), 32)
    rsa_public.verify(sigs["ps256"], MESSAGE, pss, hashes.SHA256())
    ec_public.verify(sigs["es384"], MESSAGE, ec.ECDSA(hashes.SHA384()))
    p1363 = sigs["es384p1363"]
    assert len(p1363) == 96
    der = encode_dss_signature(int.from_bytes(p1363[:48]), int.from_bytes(p1363[48:]))
    ec_public.verify(der, MESSAGE, ec.ECDSA(hashes.SHA384()))
    ED_KEY.public_key().verify(sigs["ed25519"], MESSAGE)
    assert body["verified"] == [True, True, False, True, True, False, False, True, True]


HOSTILE = """
import { KeyObject, createSecretKey, createPrivateKey, createPublicKey, createHmac, createSign } from "node:crypto";
import { Buffer } from "node:buffer";

function caught(fn) {
  try {
    fn();
    return "no error";
  } catch (err) {
    return [err.name, err.code || null, err.message];
  }
}

export default {
  async fetch(request) {
    const k = await request.json();
    const rsaPublic = createPublicKey(k.rsaSpki);
    const secret = createSecretKey("x", "utf8");
    const host = Vortex[Symbol.for("vortex.node:crypto.keys")];
    return Response.json([
      caught(() => createPrivateKey("not a pem")),
      caught(() => createPrivateKey(k.rsaSpki)),
      caught(() => createPublicKey(k.rsaSpki.replace("MII", "M!I"))),
      caught(() => createPublicKey("-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n")),
      caught(() => createPrivateKey(k.encrypted)),
      caught(() => createPrivateKey({ key: k.encrypted, passphrase: "pw" })),
      caught(() => createPrivateKey(42)),
      caught(() => createPrivateKey({ key: Buffer.from("abc"), format: "der", type: "nope" })),
      caught(() => createPrivateKey({ key: Buffer.from("abc"), format: "der", type: "pkcs8" })),
      caught(() => createPublicKey({ key: { kty: "EC", crv: "P-256", x: "AA", y: "AA" }, format: "jwk" })),
      caught(() => createSign("md5")),
      caught(() => createSign("sha256").update("x").sign(rsaPublic)),
      caught(() => createSign("sha256").update("x").sign(secret)),
      caught(() => createHmac("sha256", rsaPublic)),
      caught(() => new KeyObject()),
      caught(() => createPrivateKey(k.rsaPkcs8).export({ type: "sec1", format: "pem" })),
      caught(() => host.sign(Object.freeze({}), { scheme: "PKCS1", hash: "SHA-256" }, new Uint8Array(1))),
      caught(() => { host.sign = () => "mine"; }),
      caught(() => createSign("sha256").update("x").sign({ key: k.rsaPkcs8, padding: 99 })),
    ]);
  },
};
"""


async def test_hostile_keys_fail_as_node_fails_never_with_python(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    encrypted = RSA_KEY.private_bytes(
        PEM, PKCS8, serialization.BestAvailableEncryption(b"pw")
    ).decode()
    keys = {
        "rsaSpki": RSA_KEY.public_key().public_bytes(PEM, SPKI).decode(),
        "rsaPkcs8": RSA_KEY.private_bytes(PEM, PKCS8, NONE).decode(),
        "encrypted": encrypted,
    }
    body = await run(one_host, api, HOSTILE, keys)
    decoder = ["Error", "ERR_OSSL_UNSUPPORTED", "error:1E08010C:DECODER routines::unsupported"]
    assert body[0] == decoder
    assert body[1] == decoder
    assert body[2] == decoder
    assert body[3] == decoder
    assert body[4] == decoder
    assert body[5][1] == "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM"
    assert body[6][:2] == ["TypeError", "ERR_INVALID_ARG_TYPE"]
    assert body[7][:2] == ["TypeError", "ERR_INVALID_ARG_VALUE"]
    assert body[8] == decoder
    assert body[9] == ["TypeError", "ERR_CRYPTO_INVALID_JWK", "Invalid JWK data"]
    assert body[10] == ["TypeError", "ERR_CRYPTO_INVALID_DIGEST", "Invalid digest: md5"]
    assert body[11] == [
        "TypeError",
        "ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE",
        "Invalid key object type public, expected private.",
    ]
    assert body[12][1] == "ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE"
    assert body[13] == [
        "TypeError",
        "ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE",
        "Invalid key object type public, expected secret.",
    ]
    assert body[14][0] == "TypeError"
    assert body[15] == [
        "Error",
        "ERR_CRYPTO_INCOMPATIBLE_KEY_OPTIONS",
        "The selected key encoding sec1 can only be used for EC keys.",
    ]
    assert body[16] == ["TypeError", None, "Not a key handle"]
    assert body[17][0] == "TypeError"  # the host's object is frozen
    assert body[18][1] == "ERR_OSSL_RSA_UNKNOWN_PADDING_TYPE"
    assert "Traceback" not in str(body) and ".py" not in str(body)
