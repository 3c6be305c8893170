"""Globals Workers have and Workers code uses, beyond the web standards' core: the Event
subclasses, reportError, scheduler.wait, IdentityTransformStream, FixedLengthStream,
crypto.DigestStream, MessageChannel/MessagePort; request.cf is in test_request_cf.py."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from tests.jsrun import Run, js


async def test_event_subclasses_carry_their_init(run: Run) -> None:
    out = await js(
        run,
        """
        const target = new EventTarget();
        let seen;
        target.addEventListener('ping', (e) => { seen = [e.type, e.detail, e instanceof Event, e.target === target]; });
        target.dispatchEvent(new CustomEvent('ping', { detail: { n: 1 } }));
        const error = new Error('boom');
        const ee = new ErrorEvent('error', { message: 'm', filename: 'f.js', lineno: 3, colno: -1, error });
        const promise = Promise.resolve();
        const pre = new PromiseRejectionEvent('unhandledrejection', { promise, reason: 'r', cancelable: true });
        const me = new MessageEvent('message', { data: [1], origin: 'o' });
        const fails = (f) => { try { f(); return 'made'; } catch (e) { return e.name; } };
        Vortex.return({
          seen,
          custom: [new CustomEvent('x').detail, String(new CustomEvent('x'))],
          error: [ee.message, ee.filename, ee.lineno, ee.colno, ee.error === error, ee instanceof Event],
          errorDefaults: [new ErrorEvent('e').message, new ErrorEvent('e').lineno, new ErrorEvent('e').error],
          rejection: [pre.promise === promise, pre.reason, pre.cancelable, String(pre)],
          message: [me.data, me.origin, me.lastEventId, me.source, me.ports.length, Object.isFrozen(me.ports)],
          refused: [
            fails(() => new PromiseRejectionEvent('unhandledrejection', {})),
            fails(() => new PromiseRejectionEvent('unhandledrejection')),
            fails(() => new CustomEvent()),
            fails(() => new MessageEvent('message', { ports: [{}] })),
          ],
          frozen: [CustomEvent, ErrorEvent, PromiseRejectionEvent, MessageEvent].every((c) => Object.isFrozen(c.prototype)),
        });
        """,
    )
    assert out == {
        "seen": ["ping", {"n": 1}, True, True],
        "custom": [None, "[object CustomEvent]"],
        "error": ["m", "f.js", 3, 4294967295, True, True],
        "errorDefaults": ["", 0, None],
        "rejection": [True, "r", True, "[object PromiseRejectionEvent]"],
        "message": [[1], "o", "", None, 0, True],
        "refused": ["TypeError"] * 4,
        "frozen": True,
    }


async def test_report_error_logs_as_uncaught_and_the_run_goes_on(run: Run) -> None:
    body = await run(
        """
        reportError(new TypeError('first'));
        reportError('just text');
        reportError({ code: 42 });
        let refused;
        try { reportError(); } catch (e) { refused = e.name; }
        console.log('after');
        Vortex.return(refused);
        """
    )
    assert "error" not in body, body
    assert body["output"] == "TypeError"
    logs = [(line["level"], line["message"]) for line in body["logs"]]
    assert logs[0][0] == "error"
    assert logs[0][1].startswith("Uncaught TypeError: first\n"), logs
    assert logs[1:] == [
        ("error", "Uncaught 'just text'"),
        ("error", "Uncaught { code: 42 }"),
        ("log", "after"),
    ]


async def test_scheduler_wait_resolves_after_its_delay(run: Run) -> None:
    out = await js(
        run,
        """
        const order = [];
        const start = performance.now();
        const waited = scheduler.wait(30).then((v) => { order.push('wait'); return v; });
        setTimeout(() => order.push('timeout 10'), 10);
        const value = await waited;
        Vortex.return({
          value: value === undefined, elapsed: performance.now() - start >= 29, order,
          tag: String(scheduler), frozen: Object.isFrozen(scheduler) && Object.isFrozen(scheduler.wait),
        });
        """,
    )
    assert out == {
        "value": True,
        "elapsed": True,
        "order": ["timeout 10", "wait"],
        "tag": "[object Scheduler]",
        "frozen": True,
    }


async def test_scheduler_wait_with_a_signal(run: Run) -> None:
    out = await js(
        run,
        """
        const outcome = (p) => p.then(() => 'resolved', (e) => (e instanceof DOMException ? e.name : e));
        const start = performance.now();
        const early = outcome(scheduler.wait(10, { signal: AbortSignal.abort() }));
        const reason = outcome(scheduler.wait(10, { signal: AbortSignal.abort('mine') }));
        const controller = new AbortController();
        const later = outcome(scheduler.wait(60000, { signal: controller.signal }));
        setTimeout(() => controller.abort(), 5);
        const timedOut = outcome(scheduler.wait(60000, { signal: AbortSignal.timeout(5) }));
        const kept = outcome(scheduler.wait(5, { signal: new AbortController().signal }));
        const notSignal = outcome(scheduler.wait(5, { signal: {} }));
        const results = [await early, await reason, await later, await timedOut, await kept, await notSignal];
        Vortex.return({ results, quick: performance.now() - start < 5000 });
        """,
    )
    assert out == {
        "results": ["AbortError", "mine", "AbortError", "TimeoutError", "resolved", {}],
        "quick": True,
    }


async def test_scheduler_wait_is_a_timer_of_the_run(run: Run) -> None:
    # A script with a wait pending is still running; one that returned ends at once, its
    # waits cleared with its timers.
    started = time.monotonic()
    body = await run("scheduler.wait(20).then(() => console.log('waited'));")
    assert "error" not in body, body
    assert [line["message"] for line in body["logs"]] == ["waited"]
    body = await run("scheduler.wait(60000).then(() => console.log('never')); Vortex.return(1);")
    assert body["output"] == 1 and body["logs"] == []
    assert time.monotonic() - started < 20


async def test_identity_transform_stream_passes_bytes_only(run: Run) -> None:
    out = await js(
        run,
        """
        const stream = new IdentityTransformStream();
        const writer = stream.writable.getWriter();
        writer.write(new Uint8Array([1, 2]));
        writer.write(new Uint16Array([0x0403]).buffer);
        writer.close();
        const bytes = [...new Uint8Array(await new Response(stream.readable).arrayBuffer())];
        const other = new IdentityTransformStream();
        const reading = other.readable.getReader().read().then(() => 'read', (e) => e.name);
        const refused = await other.writable.getWriter().write('text').then(() => 'written', (e) => e.name);
        await reading;
        Vortex.return({ bytes, refused, isTransform: stream instanceof TransformStream, tag: String(stream) });
        """,
    )
    assert out == {
        "bytes": [1, 2, 3, 4],
        "refused": "TypeError",
        "isTransform": True,
        "tag": "[object TransformStream]",
    }


async def test_fixed_length_stream_errors_when_too_long_or_too_short(run: Run) -> None:
    out = await js(
        run,
        """
        const settle = (p) => p.then(() => 'ok', (e) => e.name + ': ' + e.message);
        const exact = new FixedLengthStream(4);
        const w = exact.writable.getWriter();
        w.write(new Uint8Array([1, 2])); w.write(new Uint8Array([3, 4])); w.close();
        const exactBytes = [...new Uint8Array(await new Response(exact.readable).arrayBuffer())];

        const long = new FixedLengthStream(3);
        const lw = long.writable.getWriter();
        const reading = settle(new Response(long.readable).arrayBuffer());
        const tooLong = await settle(lw.write(new Uint8Array(4)));

        const short = new FixedLengthStream(3n);
        const sw = short.writable.getWriter();
        const shortRead = settle(new Response(short.readable).arrayBuffer());
        sw.write(new Uint8Array(2));
        const tooShort = await settle(sw.close());

        const bad = [-1, 1.5, '3', NaN].map((n) => { try { new FixedLengthStream(n); return 'made'; } catch (e) { return e.name; } });
        Vortex.return({
          exactBytes, tooLong, longRead: await reading, tooShort, shortRead: await shortRead, bad,
          kinds: [exact instanceof IdentityTransformStream, exact instanceof TransformStream],
        });
        """,
    )
    too_long = "TypeError: Attempt to write too many bytes through a FixedLengthStream."
    too_short = "TypeError: FixedLengthStream did not see all expected bytes before close()."
    assert out == {
        "exactBytes": [1, 2, 3, 4],
        "tooLong": too_long,
        "longRead": too_long,
        "tooShort": too_short,
        "shortRead": too_short,
        "bad": ["TypeError"] * 4,
        "kinds": [True, True],
    }


DIGEST_CHUNKS = ["", "The quick brown fox ", "jumps over ", "", "the lazy dog" * 50]


async def test_digest_stream_equals_the_digest_of_the_whole(run: Run) -> None:
    out = await js(
        run,
        """
        const enc = new TextEncoder();
        const chunks = CHUNKS.map((s) => enc.encode(s));
        const whole = enc.encode(chunks.map((c) => new TextDecoder().decode(c)).join(''));
        const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
        const out = {};
        for (const name of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512', 'MD5']) {
          const stream = new crypto.DigestStream(name === 'SHA-256' ? { name: 'sha-256' } : name);
          const writer = stream.getWriter();
          for (const chunk of chunks) await writer.write(chunk);
          await writer.close();
          const digest = await stream.digest;
          out[name] = {
            hex: hex(digest), isBuffer: digest instanceof ArrayBuffer, written: stream.bytesWritten,
            subtle: name === 'MD5' ? null : hex(await crypto.subtle.digest(name, whole)),
          };
        }
        // A body piped in, as Workers apps hash uploads.
        const piped = new crypto.DigestStream('SHA-256');
        await new Response(whole).body.pipeTo(piped);
        out.piped = hex(await piped.digest);
        out.kinds = [piped instanceof WritableStream, String(piped)];
        Vortex.return(out);
        """.replace("CHUNKS", json.dumps(DIGEST_CHUNKS)),
    )
    whole = "".join(DIGEST_CHUNKS).encode()
    for name, algorithm in [
        ("SHA-1", "sha1"),
        ("SHA-256", "sha256"),
        ("SHA-384", "sha384"),
        ("SHA-512", "sha512"),
        ("MD5", "md5"),
    ]:
        expected = hashlib.new(algorithm, whole).hexdigest()
        assert out[name]["hex"] == expected, name
        assert out[name]["subtle"] in (None, expected), name
        assert out[name]["isBuffer"] is True
        assert out[name]["written"] == len(whole)
    assert out["piped"] == hashlib.sha256(whole).hexdigest()
    assert out["kinds"] == [True, "[object DigestStream]"]


async def test_digest_stream_refusals(run: Run) -> None:
    out = await js(
        run,
        """
        const settle = (p) => p.then(() => 'ok', (e) => (e && e.name) || e);
        const made = (f) => { try { f(); return 'made'; } catch (e) { return e.name; } };
        const text = new crypto.DigestStream('SHA-256');
        const textWrite = settle(text.getWriter().write('not bytes'));
        const aborted = new crypto.DigestStream('SHA-256');
        aborted.getWriter().abort('stop');
        Vortex.return({
          unknown: made(() => new crypto.DigestStream('SHA-3')),
          none: made(() => new crypto.DigestStream()),
          textWrite: await textWrite,
          textDigest: await settle(text.digest),
          abortedDigest: await settle(aborted.digest),
        });
        """,
    )
    assert out == {
        "unknown": "NotSupportedError",
        "none": "TypeError",
        "textWrite": "TypeError",
        "textDigest": "TypeError",
        "abortedDigest": "stop",
    }


async def test_message_port_deliveries_count_against_the_timer_limit(run: Run) -> None:
    # The tests' timer limit is 100: messages waiting for delivery take places a timer would.
    body = await run(
        """
        const { port1, port2 } = new MessageChannel();
        port2.onmessage = () => {};
        for (let i = 0; i < 60; i++) port1.postMessage(i);
        for (let i = 0; i < 40; i++) setTimeout(() => {}, 60000);
        port1.postMessage('one too many');
        """
    )
    assert body["error"]["code"] == "timer_limit_exceeded", body
    assert "port messages (limit 100 per run)" in body["error"]["message"]


async def test_delivered_or_dropped_port_messages_give_their_place_back(run: Run) -> None:
    out = await js(
        run,
        """
        const { port1, port2 } = new MessageChannel();
        const dropped = new MessageChannel();
        for (let i = 0; i < 90; i++) dropped.port1.postMessage(i);  // never started, then closed
        dropped.port2.close();
        let got = 0;
        port2.onmessage = () => {
          got += 1;
          if (got < 90) return;
          const ids = [];
          for (let i = 0; i < 99; i++) ids.push(setTimeout(() => {}, 60000));
          ids.forEach(clearTimeout);
          Vortex.return(got);
        };
        for (let i = 0; i < 90; i++) port1.postMessage(i);
        """,
    )
    assert out == 90


async def test_message_channel_delivers_clones_later_in_order(run: Run) -> None:
    out = await js(
        run,
        """
        const { port1, port2 } = new MessageChannel();
        const log = [];
        const payload = { list: [1, 2], when: new Date(0) };
        let received = 0;
        const done = new Promise((resolve) => {
          port2.onmessage = (e) => {
            log.push([e.data, e instanceof MessageEvent, e.target === port2]);
            received += 1;
            if (received === 3) resolve();
          };
        });
        port1.postMessage(payload);
        payload.list.push(3);
        port1.postMessage('second');
        port1.postMessage(3);
        log.push('sync');
        queueMicrotask(() => log.push('microtask'));
        await done;
        const back = new Promise((resolve) => { port1.onmessage = (e) => resolve(e.data); });
        port2.postMessage('back');
        let cloneError;
        try { port1.postMessage(() => 1); } catch (e) { cloneError = e.name; }
        Vortex.return({
          log: log.map((x) => JSON.stringify(x)), back: await back, cloneError,
          illegal: (() => { try { new MessagePort(); return 'made'; } catch (e) { return e.name; } })(),
          kinds: [port1 instanceof EventTarget, String(port1), String(new MessageChannel())],
        });
        """,
    )
    assert out == {
        "log": [
            '"sync"',
            '"microtask"',
            '[{"list":[1,2],"when":"1970-01-01T00:00:00.000Z"},true,true]',
            '["second",true,true]',
            "[3,true,true]",
        ],
        "back": "back",
        "cloneError": "DataCloneError",
        "illegal": "TypeError",
        "kinds": [True, "[object MessagePort]", "[object MessageChannel]"],
    }


async def test_a_message_port_waits_for_start_and_stops_at_close(run: Run) -> None:
    out = await js(
        run,
        """
        const tick = () => new Promise((resolve) => setTimeout(resolve, 10));
        const { port1, port2 } = new MessageChannel();
        const got = [];
        port2.addEventListener('message', (e) => got.push(e.data));
        port1.postMessage('queued');
        await tick();
        const beforeStart = got.length;
        port2.start();
        await tick();
        const afterStart = [...got];
        port2.close();
        port1.postMessage('to a closed port');
        port2.postMessage('from a closed port');
        let fromClosed = 0;
        port1.onmessage = () => { fromClosed += 1; };
        await tick();
        // A listener that throws is reported; the port and the run go on.
        const c = new MessageChannel();
        const after = new Promise((resolve) => {
          c.port2.onmessage = (e) => { if (e.data === 'bad') throw new Error('listener failed'); resolve(e.data); };
        });
        c.port1.postMessage('bad');
        c.port1.postMessage('good');
        Vortex.return({ beforeStart, afterStart, got, fromClosed, after: await after });
        """,
    )
    assert out == {
        "beforeStart": 0,
        "afterStart": ["queued"],
        "got": ["queued"],
        "fromClosed": 0,
        "after": "good",
    }


async def test_new_globals_are_frozen_and_shared_safely(run: Run) -> None:
    out: dict[str, Any] = await js(
        run,
        """
        const attempts = [
          () => { CustomEvent.prototype.initCustomEvent = 1; },
          () => { MessagePort.prototype.postMessage = 1; },
          () => { FixedLengthStream.prototype.x = 1; },
          () => { crypto.DigestStream.prototype.x = 1; },
          () => { scheduler.wait = 1; },
          () => { Object.getPrototypeOf(crypto).DigestStream = 1; },
        ];
        Vortex.return(attempts.map((f) => { try { f(); return 'changed'; } catch (e) { return e.name; } }));
        """,
    )
    assert out == ["TypeError"] * 6


async def test_classes_have_their_own_names(run: Run) -> None:
    """esbuild renamed some classes in the bundle (`_Headers`, `URL5`); code reads the names
    (`obj.constructor.name === 'Response'`) and console.log shows them."""
    body = await run(
        """
        const names = ['Headers', 'Request', 'Response', 'URL', 'URLSearchParams', 'Blob',
          'Event', 'AbortController', 'AbortSignal', 'MessagePort', 'Crypto', 'CryptoKey',
          'SubtleCrypto', 'WebSocket', 'TransformStream', 'ReadableStream', 'FormData'];
        console.log(new Headers(), new URL('https://a.example/'), new Response('x'));
        Vortex.return(names.filter((name) => globalThis[name].name !== name)
          .map((name) => `${name}: ${globalThis[name].name}`));
        """
    )
    assert body["output"] == []
    assert [line["message"] for line in body["logs"]] == ["Headers {} URL {} Response {}"]


async def test_locale_methods_follow_their_locales_and_options(run: Run) -> None:
    """SES's default locale taming made them ignore both (toLocaleTimeString gave toString's
    text); Workers code formats dates and money with them, as Intl does here."""
    out = await js(
        run,
        """
        const d = new Date(Date.UTC(2024, 0, 15, 13, 5, 9));
        Vortex.return([
          d.toLocaleTimeString('en-US', { timeZone: 'Asia/Tokyo' }),
          d.toLocaleString(),
          d.toLocaleDateString('de-DE'),
          (1234567.891).toLocaleString(),
          (1234.5).toLocaleString('de-DE', { style: 'currency', currency: 'EUR' }),
          'i'.toLocaleUpperCase('tr'),
          ['b', 'a', 'ä'].sort((x, y) => x.localeCompare(y)),
          Object.isFrozen(Date.prototype),
        ]);
        """,
    )
    assert out == [
        "10:05:09 PM",
        "1/15/2024, 1:05:09 PM",
        "15.1.2024",
        "1,234,567.891",
        "1.234,50\u00a0€",
        "İ",
        ["a", "ä", "b"],
        True,
    ]


async def test_explicit_resource_management_as_workerd_has_it(run: Run) -> None:
    """Symbol.dispose and the stacks, which workerd's V8 has: tRPC polyfilled the symbols with
    `Symbol.dispose ??= Symbol()` at the top of its module, which lockdown's frozen Symbol
    refused, and the module failed to load."""
    out = await js(
        run,
        """
        const order = [];
        const resource = (name) => ({ [Symbol.dispose]() { order.push(name); } });
        const stack = new DisposableStack();
        stack.use(resource('a'));
        stack.use(null);
        stack.adopt('b', (value) => order.push(value));
        stack.defer(() => order.push('c'));
        const moved = stack.move();
        moved.dispose();
        moved[Symbol.dispose]();  // a second time: nothing
        const failing = new DisposableStack();
        failing.defer(() => { throw new Error('first'); });
        failing.defer(() => { throw new Error('second'); });
        let thrown;
        try { failing.dispose(); } catch (e) { thrown = e; }
        const fails = (f) => { try { f(); return 'ok'; } catch (e) { return e.name; } };
        const asyncStack = new AsyncDisposableStack();
        asyncStack.use({ async [Symbol.asyncDispose]() { await null; order.push('async'); } });
        asyncStack.use(resource('sync-in-async'));
        await asyncStack.disposeAsync();
        let polyfill = 'kept';
        Symbol.dispose ??= (polyfill = 'replaced', Symbol());
        Vortex.return({
          symbols: [typeof Symbol.dispose, typeof Symbol.asyncDispose, polyfill],
          order,
          disposed: [stack.disposed, moved.disposed, asyncStack.disposed],
          thrown: [thrown.name, thrown.error.message, thrown.suppressed.message, thrown instanceof Error],
          suppressed: [new SuppressedError(1, 2, 'm').message, Object.keys(new SuppressedError(1, 2))],
          refused: [fails(() => stack.use(resource('x'))), fails(() => new DisposableStack().use({})), fails(() => new DisposableStack().defer(1))],
          tags: [String(new DisposableStack()), String(new AsyncDisposableStack())],
          same: DisposableStack.prototype.dispose === DisposableStack.prototype[Symbol.dispose],
        });
        """,
    )
    assert out == {
        "symbols": ["symbol", "symbol", "kept"],
        "order": ["c", "b", "a", "sync-in-async", "async"],
        "disposed": [True, True, True],
        "thrown": ["SuppressedError", "first", "second", True],
        "suppressed": ["m", []],
        "refused": ["ReferenceError", "TypeError", "TypeError"],
        "tags": ["[object DisposableStack]", "[object AsyncDisposableStack]"],
        "same": True,
    }
