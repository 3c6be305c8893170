"""crypto.getRandomValues, randomUUID and crypto.subtle (digest, HMAC) against known vectors
(FIPS 180 examples, RFC 4231) and the Web Cryptography API's rules."""

from __future__ import annotations

from tests.jsrun import Run, js

HEX = "const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');\n"
ENC = "const enc = (s) => new TextEncoder().encode(s);\n"


async def test_digest_known_vectors(run: Run) -> None:
    out = await js(
        run,
        HEX
        + ENC
        + """
        const d = (alg, data) => crypto.subtle.digest(alg, data).then(hex);
        Vortex.return({
          sha1: await d('SHA-1', enc('abc')),
          sha256: await d('SHA-256', enc('abc')),
          sha384: await d('SHA-384', enc('abc')),
          sha512: await d('SHA-512', enc('abc')),
          empty: await d({ name: 'sha-256' }, new Uint8Array(0)),
          twoBlocks: await d('SHA-256', enc('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')),
          buffer: await d('SHA-256', enc('abc').buffer),
          type: Object.prototype.toString.call(await crypto.subtle.digest('SHA-256', enc(''))),
        });
        """,
    )
    assert out == {
        "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "sha384": "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
        "8086072ba1e7cc2358baeca134c825a7",
        "sha512": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "empty": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "twoBlocks": "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        "buffer": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "type": "[object ArrayBuffer]",
    }


async def test_digest_errors_reject(run: Run) -> None:
    out = await js(
        run,
        """
        const outcome = (p) => p.then(() => 'resolved', (e) => e.name);
        Vortex.return([
          await outcome(crypto.subtle.digest('MD5', new Uint8Array(1))),
          await outcome(crypto.subtle.digest('SHA-256', 'not bytes')),
          await outcome(crypto.subtle.digest({}, new Uint8Array(1))),
        ]);
        """,
    )
    assert out == ["NotSupportedError", "TypeError", "TypeError"]


async def test_hmac_rfc4231_vectors_sign_and_verify(run: Run) -> None:
    out = await js(
        run,
        HEX
        + ENC
        + """
        const key = (raw, hash, usages = ['sign', 'verify']) =>
          crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash }, false, usages);
        const case1 = await key(new Uint8Array(20).fill(0x0b), 'SHA-256');
        const case2 = await key(enc('Jefe'), { name: 'SHA-512' });
        const sig1 = await crypto.subtle.sign('HMAC', case1, enc('Hi There'));
        const sig2 = await crypto.subtle.sign({ name: 'HMAC' }, case2, enc('what do ya want for nothing?'));
        const tampered = new Uint8Array(sig1).slice(); tampered[0] ^= 1;
        Vortex.return({
          case1: hex(sig1),
          case2: hex(sig2),
          verified: await crypto.subtle.verify('HMAC', case1, sig1, enc('Hi There')),
          tampered: await crypto.subtle.verify('HMAC', case1, tampered, enc('Hi There')),
          otherData: await crypto.subtle.verify('HMAC', case1, sig1, enc('Hi there')),
          key: [case2.type, case2.extractable, case2.algorithm.name, case2.algorithm.hash.name, case2.algorithm.length, case2.usages],
          isKey: case1 instanceof CryptoKey,
        });
        """,
    )
    assert out == {
        "case1": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "case2": "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        "verified": True,
        "tampered": False,
        "otherData": False,
        "key": ["secret", False, "HMAC", "SHA-512", 32, ["sign", "verify"]],
        "isKey": True,
    }


async def test_hmac_key_rules_export_and_generate(run: Run) -> None:
    out = await js(
        run,
        HEX
        + ENC
        + """
        const outcome = (p) => p.then((v) => v, (e) => e.name);
        const verifyOnly = await crypto.subtle.importKey('raw', enc('k'), { name: 'HMAC', hash: 'SHA-256' }, true, ['verify']);
        const jwk = await crypto.subtle.importKey('jwk', { kty: 'oct', k: 'SmVmZQ', alg: 'HS256' }, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
        const generated = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, ['sign', 'verify']);
        const secret = await crypto.subtle.importKey('raw', enc('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
        Vortex.return({
          signWithVerifyOnly: await outcome(crypto.subtle.sign('HMAC', verifyOnly, enc('x'))),
          badUsage: await outcome(crypto.subtle.importKey('raw', enc('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['encrypt'])),
          noUsage: await outcome(crypto.subtle.importKey('raw', enc('k'), { name: 'HMAC', hash: 'SHA-256' }, false, [])),
          noHash: await outcome(crypto.subtle.importKey('raw', enc('k'), { name: 'HMAC' }, false, ['sign'])),
          emptyKey: await outcome(crypto.subtle.importKey('raw', new Uint8Array(0), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])),
          aes: await outcome(crypto.subtle.importKey('raw', new Uint8Array(16), { name: 'AES-GCM' }, false, ['encrypt']).then((k) => k.algorithm.name)),
          encrypt: await outcome(crypto.subtle.encrypt({ name: 'AES-GCM' }, secret, enc('x'))),
          exported: hex(await crypto.subtle.exportKey('raw', verifyOnly)),
          notExtractable: await outcome(crypto.subtle.exportKey('raw', secret)),
          jwkMatchesRaw: hex(await crypto.subtle.sign('HMAC', jwk, enc('what do ya want for nothing?'))),
          exportedJwk: await crypto.subtle.exportKey('jwk', jwk),
          generated: [generated.algorithm.length, (await crypto.subtle.exportKey('raw', generated)).byteLength],
        });
        """,
    )
    assert out == {
        "signWithVerifyOnly": "InvalidAccessError",
        "badUsage": "SyntaxError",
        "noUsage": "SyntaxError",
        "noHash": "TypeError",
        "emptyKey": "DataError",
        "aes": "AES-GCM",
        "encrypt": "TypeError",
        "exported": "6b",
        "notExtractable": "InvalidAccessError",
        "jwkMatchesRaw": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "exportedJwk": {
            "kty": "oct",
            "k": "SmVmZQ",
            "alg": "HS256",
            "key_ops": ["sign"],
            "ext": True,
        },
        "generated": [512, 64],
    }


async def test_random_values_and_uuids(run: Run) -> None:
    out = await js(
        run,
        """
        const attempt = (f) => { try { f(); return 'ok'; } catch (e) { return e.name; } };
        const a = new Uint8Array(64);
        const same = crypto.getRandomValues(a) === a;
        const words = crypto.getRandomValues(new Uint32Array(16));
        const uuids = Array.from({ length: 50 }, () => crypto.randomUUID());
        Vortex.return({
          same, filled: a.some((b) => b !== 0), words: words.some((w) => w !== 0),
          distinct: new Set(uuids).size === 50,
          shape: uuids.every((u) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u)),
          float: attempt(() => crypto.getRandomValues(new Float32Array(4))),
          tooMany: attempt(() => crypto.getRandomValues(new Uint8Array(65537))),
          justEnough: attempt(() => crypto.getRandomValues(new Uint8Array(65536))),
          notView: attempt(() => crypto.getRandomValues([1, 2])),
        });
        """,
    )
    assert out == {
        "same": True,
        "filled": True,
        "words": True,
        "distinct": True,
        "shape": True,
        "float": "TypeMismatchError",
        "tooMany": "QuotaExceededError",
        "justEnough": "ok",
        "notView": "TypeMismatchError",
    }


async def test_random_bytes_differ_between_runs(run: Run) -> None:
    code = "Vortex.return([...crypto.getRandomValues(new Uint8Array(16))].join(','))"
    seen = {await js(run, code) for _ in range(5)}
    assert len(seen) == 5
