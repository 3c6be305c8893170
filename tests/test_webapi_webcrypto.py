"""crypto.subtle beyond digest and HMAC: AES, RSA, ECDSA/ECDH, EdDSA/X25519, HKDF and PBKDF2 on
the host's OpenSSL, against published vectors (NIST SP 800-38A/D, RFC 3394, 5869, 6070, 7748,
8032), and what user code must never see: key material, Python objects or Python's errors."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from tests.jsrun import Run, js
from vortex.isolates import webcrypto

HELPERS = """
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (s) => new Uint8Array(s.match(/../g).map((h) => parseInt(h, 16)));
const enc = (s) => new TextEncoder().encode(s);
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
const outcome = (p) => p.then(() => 'resolved', (e) => e.name);
const subtle = crypto.subtle;
"""


async def test_aes_known_answers(run: Run) -> None:
    out = await js(
        run,
        HELPERS
        + """
        const raw = (hexKey, name, usages = ['encrypt', 'decrypt']) =>
          subtle.importKey('raw', unhex(hexKey), name, true, usages);
        // NIST GCM test case 2; SP 800-38A F.5.1 (CTR) and F.2.1 (CBC, first block); RFC 3394 4.1.
        const gcm = await raw('00000000000000000000000000000000', 'AES-GCM');
        const gcmOut = await subtle.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, gcm, new Uint8Array(16));
        const nist = await raw('2b7e151628aed2a6abf7158809cf4f3c', 'AES-CTR');
        const ctr = await subtle.encrypt({ name: 'AES-CTR', counter: unhex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'), length: 64 },
          nist, unhex('6bc1bee22e409f96e93d7e117393172a'));
        const cbcKey = await raw('2b7e151628aed2a6abf7158809cf4f3c', 'AES-CBC');
        const cbc = await subtle.encrypt({ name: 'AES-CBC', iv: unhex('000102030405060708090a0b0c0d0e0f') },
          cbcKey, unhex('6bc1bee22e409f96e93d7e117393172a'));
        const kek = await raw('000102030405060708090a0b0c0d0e0f', 'AES-KW', ['wrapKey', 'unwrapKey']);
        const data = await raw('00112233445566778899aabbccddeeff', 'AES-GCM');
        const wrapped = await subtle.wrapKey('raw', data, kek, 'AES-KW');
        const unwrapped = await subtle.unwrapKey('raw', wrapped, kek, 'AES-KW', 'AES-GCM', true, ['decrypt']);
        const tampered = new Uint8Array(gcmOut).slice(); tampered[0] ^= 1;
        // A counter of 8 bits that wraps inside the message: the blocks after the wrap use
        // counter 0x...00 again, as the spec says, not a carry into the next byte.
        const wrapKey = await raw('000102030405060708090a0b0c0d0e0f', 'AES-CTR');
        const counter = unhex('000000000000000000000000000000ff');
        const twoBlocks = await subtle.encrypt({ name: 'AES-CTR', counter, length: 8 }, wrapKey, new Uint8Array(32));
        const second = await subtle.encrypt({ name: 'AES-CTR', counter: unhex('00000000000000000000000000000000'), length: 8 },
          wrapKey, new Uint8Array(16));
        Vortex.return({
          gcm: hex(gcmOut),
          gcmRoundTrip: hex(await subtle.decrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, gcm, gcmOut)),
          gcmTampered: await outcome(subtle.decrypt({ name: 'AES-GCM', iv: new Uint8Array(12) }, gcm, tampered)),
          gcmShortTag: new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: new Uint8Array(12), tagLength: 96 }, gcm, new Uint8Array(16))).length,
          ctr: hex(ctr),
          cbcFirstBlock: hex(cbc).slice(0, 32),
          cbcBadPadding: await outcome(subtle.decrypt({ name: 'AES-CBC', iv: new Uint8Array(16) }, cbcKey, new Uint8Array(16))),
          wrapped: hex(wrapped),
          unwrapped: hex(await subtle.exportKey('raw', unwrapped)),
          ctrWraps: hex(twoBlocks).slice(32) === hex(second),
          badIv: await outcome(subtle.encrypt({ name: 'AES-CBC', iv: new Uint8Array(8) }, cbcKey, new Uint8Array(1))),
          noIv: await outcome(subtle.encrypt({ name: 'AES-GCM' }, gcm, new Uint8Array(1))),
          wrongAlgorithm: await outcome(subtle.encrypt({ name: 'AES-CBC', iv: new Uint8Array(16) }, gcm, new Uint8Array(1))),
          badLength: await outcome(subtle.importKey('raw', new Uint8Array(20), 'AES-GCM', true, ['encrypt'])),
          generated: (await subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt'])).algorithm,
          jwk: await subtle.exportKey('jwk', nist),
        });
        """,
    )
    assert out == {
        "gcm": "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf",
        "gcmRoundTrip": "00" * 16,
        "gcmTampered": "OperationError",
        "gcmShortTag": 28,
        "ctr": "874d6191b620e3261bef6864990db6ce",
        "cbcFirstBlock": "7649abac8119b246cee98e9b12e9197d",
        "cbcBadPadding": "OperationError",
        "wrapped": "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5",
        "unwrapped": "00112233445566778899aabbccddeeff",
        "ctrWraps": True,
        "badIv": "OperationError",
        "noIv": "TypeError",
        "wrongAlgorithm": "InvalidAccessError",
        "badLength": "DataError",
        "generated": {"name": "AES-GCM", "length": 256},
        "jwk": {
            "kty": "oct",
            "k": "K34VFiiu0qar9xWICc9PPA",
            "alg": "A128CTR",
            "key_ops": ["encrypt", "decrypt"],
            "ext": True,
        },
    }


async def test_hkdf_and_pbkdf2_vectors(run: Run) -> None:
    out = await js(
        run,
        HELPERS
        + """
        // RFC 5869 A.1; RFC 7914 §11 (PBKDF2-HMAC-SHA-256 of "passwd"/"salt", 1 iteration).
        const ikm = await subtle.importKey('raw', new Uint8Array(22).fill(0x0b), 'HKDF', false, ['deriveBits', 'deriveKey']);
        const hkdf = { name: 'HKDF', hash: 'SHA-256', salt: unhex('000102030405060708090a0b0c'), info: unhex('f0f1f2f3f4f5f6f7f8f9') };
        const password = await subtle.importKey('raw', enc('passwd'), { name: 'PBKDF2' }, false, ['deriveBits']);
        const pbkdf2 = { name: 'PBKDF2', hash: 'SHA-256', salt: enc('salt'), iterations: 1 };
        const derived = await subtle.deriveKey(hkdf, ikm, { name: 'AES-GCM', length: 128 }, true, ['encrypt']);
        Vortex.return({
          hkdf: hex(await subtle.deriveBits(hkdf, ikm, 42 * 8)),
          pbkdf2: hex(await subtle.deriveBits(pbkdf2, password, 64 * 8)),
          derivedKey: [derived.algorithm.name, hex(await subtle.exportKey('raw', derived))],
          extractable: await outcome(subtle.importKey('raw', enc('k'), 'HKDF', true, ['deriveBits'])),
          noLength: await outcome(subtle.deriveBits(pbkdf2, password)),
          oddLength: await outcome(subtle.deriveBits(pbkdf2, password, 12)),
          noIterations: await outcome(subtle.deriveBits({ ...pbkdf2, iterations: 0 }, password, 256)),
          export: await outcome(subtle.exportKey('raw', password)),
        });
        """,
    )
    assert out == {
        "hkdf": "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        "pbkdf2": "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
        "derivedKey": ["AES-GCM", "3cb25f25faacd57a90434f64d0362f2a"],
        "extractable": "SyntaxError",
        "noLength": "OperationError",
        "oddLength": "OperationError",
        "noIterations": "OperationError",
        "export": "NotSupportedError",
    }


async def test_ed25519_and_x25519_vectors(run: Run) -> None:
    out = await js(
        run,
        HELPERS
        + """
        // RFC 8032 7.1 test 1; RFC 7748 6.1.
        const edPublic = unhex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
        const edPrivate = { kty: 'OKP', crv: 'Ed25519', x: b64url(edPublic),
          d: b64url(unhex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')) };
        const signer = await subtle.importKey('jwk', edPrivate, 'Ed25519', true, ['sign']);
        const verifier = await subtle.importKey('raw', edPublic, { name: 'Ed25519' }, true, ['verify']);
        const signature = await subtle.sign('Ed25519', signer, new Uint8Array(0));
        const alice = await subtle.importKey('jwk', { kty: 'OKP', crv: 'X25519',
          d: b64url(unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')),
          x: b64url(unhex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')) }, 'X25519', false, ['deriveBits']);
        const bob = await subtle.importKey('raw', unhex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'), 'X25519', true, []);
        const zeroPoint = await subtle.importKey('raw', new Uint8Array(32), 'X25519', true, []);
        // The identity as public key and R, S = 0: OpenSSL alone takes it for any message.
        const identity = new Uint8Array(32); identity[0] = 1;
        const weakKey = await subtle.importKey('raw', identity, 'Ed25519', true, ['verify']);
        const weakSignature = new Uint8Array(64); weakSignature[0] = 1;
        Vortex.return({
          signature: hex(signature),
          verified: await subtle.verify('Ed25519', verifier, signature, new Uint8Array(0)),
          forged: await subtle.verify('Ed25519', verifier, signature, new Uint8Array(1)),
          shared: hex(await subtle.deriveBits({ name: 'X25519', public: bob }, alice, 256)),
          smallOrder: await outcome(subtle.deriveBits({ name: 'X25519', public: zeroPoint }, alice, 256)),
          spki: hex(await subtle.exportKey('spki', verifier)),
          smallOrderKey: await subtle.verify('Ed25519', weakKey, weakSignature, enc('any message')),
          mismatchedX: await outcome(subtle.importKey('jwk', { ...edPrivate, x: b64url(new Uint8Array(32)) }, 'Ed25519', true, ['sign'])),
        });
        """,
    )
    assert out == {
        "signature": "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
        "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        "verified": True,
        "forged": False,
        "shared": "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
        "smallOrder": "OperationError",
        "spki": "302a300506032b6570032100"
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "smallOrderKey": False,
        "mismatchedX": "DataError",
    }


async def test_ecdsa_ecdh_and_key_formats(run: Run) -> None:
    out = await js(
        run,
        HELPERS
        + """
        const results = {};
        for (const namedCurve of ['P-256', 'P-384', 'P-521']) {
          const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve }, true, ['sign', 'verify']);
          const algorithm = { name: 'ECDSA', hash: 'SHA-384' };
          const signature = await subtle.sign(algorithm, pair.privateKey, enc('message'));
          const jwk = await subtle.exportKey('jwk', pair.publicKey);
          const fromJwk = await subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve }, true, ['verify']);
          const spki = await subtle.exportKey('spki', fromJwk);
          const fromSpki = await subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve }, true, ['verify']);
          const pkcs8 = await subtle.exportKey('pkcs8', pair.privateKey);
          const again = await subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
          const a = await subtle.generateKey({ name: 'ECDH', namedCurve }, false, ['deriveBits']);
          const b = await subtle.generateKey({ name: 'ECDH', namedCurve }, false, ['deriveBits']);
          const ab = await subtle.deriveBits({ name: 'ECDH', public: b.publicKey }, a.privateKey, null);
          const ba = await subtle.deriveBits({ name: 'ECDH', public: a.publicKey }, b.privateKey, null);
          results[namedCurve] = {
            signatureBytes: signature.byteLength,
            verified: await subtle.verify(algorithm, fromSpki, signature, enc('message')),
            otherMessage: await subtle.verify(algorithm, fromSpki, signature, enc('massage')),
            resigned: await subtle.verify(algorithm, pair.publicKey, await subtle.sign(algorithm, again, enc('x')), enc('x')),
            jwk: [jwk.kty, jwk.crv, jwk.alg, 'd' in jwk],
            agreed: hex(ab) === hex(ba) && ab.byteLength > 0,
            raw: new Uint8Array(await subtle.exportKey('raw', pair.publicKey))[0],
          };
        }
        const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
        const other = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-384' }, false, ['deriveBits']);
        const mine = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
        results.errors = {
          privateNotExtractable: await outcome(subtle.exportKey('pkcs8', pair.privateKey)),
          publicAlwaysExtractable: pair.publicKey.extractable,
          verifyWithPrivate: await outcome(subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, new Uint8Array(64), enc('x'))),
          otherCurve: await outcome(subtle.deriveBits({ name: 'ECDH', public: other.publicKey }, mine.privateKey, 256)),
          unknownCurve: await outcome(subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-512' }, false, ['sign'])),
          garbageSpki: await outcome(subtle.importKey('spki', new Uint8Array(40), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify'])),
          spkiOfOtherCurve: await outcome(subtle.importKey('spki', await subtle.exportKey('spki', other.publicKey), { name: 'ECDH', namedCurve: 'P-256' }, true, [])),
          emptyUsages: await outcome(subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])),
        };
        Vortex.return(results);
        """,
    )
    for curve, size in (("P-256", 64), ("P-384", 96), ("P-521", 132)):
        assert out[curve] == {
            "signatureBytes": size,
            "verified": True,
            "otherMessage": False,
            "resigned": True,
            "jwk": ["EC", curve, None, False],
            "agreed": True,
            "raw": 4,
        }, curve
    assert out["errors"] == {
        "privateNotExtractable": "InvalidAccessError",
        "publicAlwaysExtractable": True,
        "verifyWithPrivate": "InvalidAccessError",
        "otherCurve": "InvalidAccessError",
        "unknownCurve": "NotSupportedError",
        "garbageSpki": "DataError",
        "spkiOfOtherCurve": "DataError",
        "emptyUsages": "SyntaxError",
    }


async def test_rsa_sign_encrypt_and_wrap(run: Run) -> None:
    out = await js(
        run,
        HELPERS
        + """
        const params = { modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
        const pss = await subtle.generateKey({ name: 'RSA-PSS', ...params }, true, ['sign', 'verify']);
        const signature = await subtle.sign({ name: 'RSA-PSS', saltLength: 32 }, pss.privateKey, enc('m'));
        const jwk = await subtle.exportKey('jwk', pss.publicKey);
        const pkcs1Key = await subtle.importKey('pkcs8', await subtle.exportKey('pkcs8', pss.privateKey),
          { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
        const pkcs1Public = await subtle.importKey('spki', await subtle.exportKey('spki', pss.publicKey),
          { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
        const pkcs1 = await subtle.sign('RSASSA-PKCS1-v1_5', pkcs1Key, enc('m'));
        const oaep = await subtle.generateKey({ name: 'RSA-OAEP', ...params }, false, ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey']);
        const secret = await subtle.encrypt({ name: 'RSA-OAEP', label: enc('l') }, oaep.publicKey, enc('secret'));
        const aes = await subtle.generateKey({ name: 'AES-GCM', length: 128 }, true, ['encrypt']);
        const wrapped = await subtle.wrapKey('jwk', aes, oaep.publicKey, { name: 'RSA-OAEP' });
        const unwrapped = await subtle.unwrapKey('jwk', wrapped, oaep.privateKey, { name: 'RSA-OAEP' }, 'AES-GCM', true, ['encrypt']);
        Vortex.return({
          algorithm: [pss.publicKey.algorithm.name, pss.publicKey.algorithm.modulusLength,
            [...pss.publicKey.algorithm.publicExponent], pss.publicKey.algorithm.hash.name],
          pssVerified: await subtle.verify({ name: 'RSA-PSS', saltLength: 32 }, pss.publicKey, signature, enc('m')),
          pssOtherSalt: await subtle.verify({ name: 'RSA-PSS', saltLength: 20 }, pss.publicKey, signature, enc('m')),
          jwk: [jwk.kty, jwk.alg, jwk.e],
          pkcs1Verified: await subtle.verify('RSASSA-PKCS1-v1_5', pkcs1Public, pkcs1, enc('m')),
          pkcs1Bytes: pkcs1.byteLength,
          decrypted: new TextDecoder().decode(await subtle.decrypt({ name: 'RSA-OAEP', label: enc('l') }, oaep.privateKey, secret)),
          wrongLabel: await outcome(subtle.decrypt({ name: 'RSA-OAEP' }, oaep.privateKey, secret)),
          unwrapped: hex(await subtle.exportKey('raw', unwrapped)) === hex(await subtle.exportKey('raw', aes)),
          badExponent: await outcome(subtle.generateKey({ name: 'RSA-PSS', ...params, publicExponent: new Uint8Array([1]) }, false, ['sign'])),
          tooBig: await outcome(subtle.generateKey({ name: 'RSA-PSS', ...params, modulusLength: 16384 }, false, ['sign'])),
        });
        """,
    )
    assert out == {
        "algorithm": ["RSA-PSS", 2048, [1, 0, 1], "SHA-256"],
        "pssVerified": True,
        "pssOtherSalt": False,
        "jwk": ["RSA", "PS256", "AQAB"],
        "pkcs1Verified": True,
        "pkcs1Bytes": 256,
        "decrypted": "secret",
        "wrongLabel": "OperationError",
        "unwrapped": True,
        "badExponent": "OperationError",
        "tooBig": "OperationError",
    }


async def test_keys_hold_their_material_out_of_reach(run: Run) -> None:
    out = await js(
        run,
        HELPERS
        + """
        const key = await subtle.generateKey({ name: 'AES-GCM', length: 128 }, false, ['encrypt']);
        const pair = await subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
        let constructed;
        try { new CryptoKey(); constructed = 'constructed'; } catch (e) { constructed = e.name; }
        let shadowed;
        try { Object.defineProperty(key, 'usages', { value: ['decrypt'] }); shadowed = 'shadowed'; } catch (e) { shadowed = e.name; }
        let renamed;
        try { key.algorithm.name = 'AES-CBC'; renamed = key.algorithm.name; } catch (e) { renamed = e.name; }
        // Everything an own key or a prototype shows, as strings: no Python object, no material.
        const seen = [];
        for (const target of [key, pair.privateKey, Object.getPrototypeOf(key), crypto.subtle, Object.getPrototypeOf(crypto.subtle)]) {
          for (const name of Reflect.ownKeys(target)) seen.push(String(name));
        }
        const imported = await subtle.importKey('spki', new Uint8Array([48, 3, 2, 1, 0]), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify'])
          .catch((e) => e);
        const decrypt = await subtle.decrypt({ name: 'AES-GCM', iv: new Uint8Array(12) },
          await subtle.importKey('raw', new Uint8Array(16), 'AES-GCM', false, ['decrypt']), new Uint8Array(40)).catch((e) => e);
        Vortex.return({
          frozen: [Object.isFrozen(key), Object.isFrozen(key.algorithm), Object.isFrozen(key.usages), key.algorithm === key.algorithm],
          ownKeys: Reflect.ownKeys(key).length,
          constructed,
          shadowed,
          renamed,
          exported: await outcome(subtle.exportKey('raw', key)),
          exportedPrivate: await outcome(subtle.exportKey('jwk', pair.privateKey)),
          seen: seen.sort(),
          errors: [imported instanceof DOMException, imported.name, imported.message, String(imported.stack).includes('.py'),
            decrypt instanceof DOMException, decrypt.name, decrypt.message],
          tag: Object.prototype.toString.call(key),
        });
        """,
    )
    assert out["frozen"] == [True, True, True, True]
    assert out["ownKeys"] == 0
    assert out["constructed"] == "TypeError"
    assert out["shadowed"] == "TypeError"
    assert out["renamed"] in ("TypeError", "AES-GCM")
    assert out["exported"] == "InvalidAccessError"
    assert out["exportedPrivate"] == "InvalidAccessError"
    assert out["tag"] == "[object CryptoKey]"
    assert set(out["seen"]) <= {
        "constructor",
        "type",
        "extractable",
        "algorithm",
        "usages",
        "Symbol(Symbol.toStringTag)",
        *[
            "digest",
            "encrypt",
            "decrypt",
            "sign",
            "verify",
            "generateKey",
            "deriveKey",
            "deriveBits",
            "importKey",
            "exportKey",
            "wrapKey",
            "unwrapKey",
            "timingSafeEqual",  # Cloudflare's extension: compares two buffers, no key
        ],
    }
    is_dom, name, message, python_in_stack, is_dom2, name2, message2 = out["errors"]
    assert (is_dom, name, python_in_stack, is_dom2, name2) == (
        True,
        "DataError",
        False,
        True,
        "OperationError",
    )
    for text in (message, message2):
        assert "Traceback" not in text and "cryptography" not in text and ".py" not in text


async def test_openssl_time_counts_towards_the_cpu_limit(
    run: Run, deploy: Callable[..., Awaitable[str]], http: Any
) -> None:
    # Each call is far below the 700 ms limit of the tests' server, so none is refused up
    # front: only the CPU the host spends in OpenSSL, charged to the run, can end this run.
    body = await run(
        """
        const password = await crypto.subtle.importKey('raw', new Uint8Array(8), 'PBKDF2', false, ['deriveBits']);
        for (let i = 0; i < 1000; i += 1) {
          await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-512', salt: new Uint8Array(8), iterations: 20000 }, password, 512);
        }
        Vortex.return('finished');
        """
    )
    assert body["error"]["code"] == "cpu_time_exceeded", body["error"]
    # One call that would cost more than the whole budget is not started: the run ends at
    # once with cpu_time_exceeded, and the host (and the next run) carries on.
    body = await run(
        """
        const password = await crypto.subtle.importKey('raw', new Uint8Array(8), 'PBKDF2', false, ['deriveBits']);
        let caught = null;
        try {
          await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: new Uint8Array(8), iterations: 4000000000 }, password, 256);
        } catch (e) { caught = e.name; }
        Vortex.return(caught);
        """
    )
    assert body["error"]["code"] == "cpu_time_exceeded", body["error"]
    assert body["cpu_time_ms"] < 2 * 700  # the limit spent, not the hours the call would take
    assert await js(run, "Vortex.return(1 + 1);") == 2


def test_the_host_side_answers_garbage_with_its_own_errors() -> None:
    """Whatever reaches ``Host.crypto``, it answers with a tagged bytearray, never an exception,
    and an error's text is Vortex's, not OpenSSL's or Python's."""
    calls: list[tuple[str, str, object, object]] = [
        ("import", '{"kty": "RSA", "curve": "", "format": "spki"}', None, "\x30\x03\x02\x01\x00"),
        ("import", '{"kty": "EC", "curve": "P-256", "format": "jwk", "jwk": {"x": 1}}', None, None),
        (
            "aes",
            '{"mode": "GCM", "encrypt": false, "tagLength": 128, "bins": {"iv": "AAAA"}}',
            "k",
            "d",
        ),
        ("sign", '{"scheme": "ECDSA", "hash": "SHA-256", "curve": "P-256"}', "not der", "data"),
        ("pbkdf2", '{"hash": "MD5", "length": 256, "iterations": 1}', "k", None),
        ("nothing", "{}", None, None),
        ("aes", "not json", None, None),
    ]
    for op, params, key, data in calls:
        answer = webcrypto.perform(op, params, key, data, lambda seconds: True)
        assert isinstance(answer, bytearray) and answer[0] == webcrypto.ERROR, (op, answer)
        error = json.loads(bytes(answer[1:]))
        assert error["name"] in webcrypto.ERROR_NAMES, error
        for marker in ("Traceback", "cryptography", ".py", "Error("):
            assert marker not in error["message"], error
