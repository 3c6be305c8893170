"""structuredClone, AbortController/AbortSignal, events, queueMicrotask, performance.now and
streams, against the HTML, DOM and Streams Standards."""

from __future__ import annotations

from tests.jsrun import Run, js


async def test_structured_clone_keeps_types_cycles_and_shared_references(run: Run) -> None:
    out = await js(
        run,
        """
        const key = { k: 1 };
        const shared = { s: true };
        const original = {
          map: new Map([[key, new Date(0)], ['re', /a+b/gi]]),
          set: new Set([1, 'two', shared]),
          date: new Date(86400000),
          list: [shared, shared, , 4],
          bytes: new Uint8Array([1, 2, 3]),
          big: 10n, neg0: -0, nan: NaN, undef: undefined,
          boxed: [new Number(3), new String('s'), new Boolean(false)],
          error: Object.assign(new RangeError('too far'), { extra: 1 }),
        };
        original.self = original;
        original.view = new DataView(original.bytes.buffer, 1);
        const copy = structuredClone(original);
        const [[ckey, cdate], [, cre]] = [...copy.map];
        Vortex.return({
          notSame: copy !== original && copy.map !== original.map,
          cycle: copy.self === copy,
          sharedKept: copy.list[0] === copy.list[1] && copy.set.has(copy.list[0]),
          hole: !(2 in copy.list) && copy.list.length === 4,
          mapKey: ckey !== key && ckey.k === 1,
          dates: [cdate instanceof Date, cdate.getTime(), copy.date.toISOString()],
          regexp: [cre instanceof RegExp, cre.source, cre.flags],
          set: [...copy.set].slice(0, 2),
          bytes: [copy.bytes instanceof Uint8Array, [...copy.bytes], copy.view.buffer === copy.bytes.buffer, copy.view.getUint8(0)],
          prims: [typeof copy.big, Object.is(copy.neg0, -0), Number.isNaN(copy.nan), 'undef' in copy],
          boxed: copy.boxed.map((b) => [typeof b, b.valueOf()]),
          error: [copy.error instanceof RangeError, copy.error.message, copy.error.extra],
        });
        """,
    )
    assert out == {
        "notSame": True,
        "cycle": True,
        "sharedKept": True,
        "hole": True,
        "mapKey": True,
        "dates": [True, 0, "1970-01-02T00:00:00.000Z"],
        "regexp": [True, "a+b", "gi"],
        "set": [1, "two"],
        "bytes": [True, [1, 2, 3], True, 2],
        "prims": ["bigint", True, True, True],
        "boxed": [["object", 3], ["object", "s"], ["object", False]],
        "error": [True, "too far", None],
    }


async def test_structured_clone_refuses_what_cannot_be_cloned(run: Run) -> None:
    out = await js(
        run,
        """
        const attempt = (v) => { try { structuredClone(v); return 'cloned'; } catch (e) { return e.name + '/' + e.code; } };
        class Point { constructor() { this.x = 1; } get y() { return 2; } }
        const point = structuredClone(new Point());
        const odd = structuredClone(Object.assign(new Error('1 + 1'), { name: 'pmEval' }));
        Vortex.return({
          refused: [attempt(() => 1), attempt(Symbol('s')), attempt({ f() {} }), attempt(Promise.resolve()),
                    attempt(new WeakMap()), attempt(new Request('http://x/')), attempt(new Headers())],
          point: [Object.getPrototypeOf(point) === Object.prototype, point.x, 'y' in point],
          odd: [odd.name, odd.message, odd instanceof Error],
          proto: Object.getPrototypeOf(structuredClone(JSON.parse('{"__proto__": {"polluted": 1}}'))) === Object.prototype,
          missing: (() => { try { structuredClone(); } catch (e) { return e.name; } })(),
        });
        """,
    )
    assert out == {
        "refused": ["DataCloneError/25"] * 7,
        "point": [True, 1, False],
        "odd": ["Error", "1 + 1", True],
        "proto": True,
        "missing": "TypeError",
    }


async def test_abort_controller_and_signals(run: Run) -> None:
    out = await js(
        run,
        """
        const c = new AbortController();
        const calls = [];
        c.signal.addEventListener('abort', (e) => calls.push(['listener', e.type, e.target === c.signal]));
        c.signal.addEventListener('abort', () => calls.push(['once']), { once: true });
        c.signal.onabort = () => calls.push(['onabort']);
        const before = c.signal.aborted;
        c.abort();
        c.abort('again');
        const reason = c.signal.reason;
        let thrown;
        try { c.signal.throwIfAborted(); } catch (e) { thrown = e === reason; }
        const custom = new AbortController();
        custom.abort('why');
        const a = new AbortController();
        const b = new AbortController();
        const any = AbortSignal.any([a.signal, b.signal]);
        b.abort('from b');
        let illegal;
        try { new AbortSignal(); } catch (e) { illegal = e.name; }
        Vortex.return({
          before, calls, reason: [reason.name, reason.code, reason instanceof DOMException, reason instanceof Error],
          thrown, custom: custom.signal.reason, any: [any.aborted, any.reason],
          aborted: [AbortSignal.abort().aborted, AbortSignal.abort().reason.name, AbortSignal.abort(1).reason],
          illegal,
        });
        """,
    )
    assert out == {
        "before": False,
        "calls": [["listener", "abort", True], ["once"], ["onabort"]],
        "reason": ["AbortError", 20, True, True],
        "thrown": True,
        "custom": "why",
        "any": [True, "from b"],
        "aborted": [True, "AbortError", 1],
        "illegal": "TypeError",
    }


async def test_abort_signal_timeout_fires_on_the_runs_timers(run: Run) -> None:
    out = await js(
        run,
        """
        const signal = AbortSignal.timeout(20);
        const early = signal.aborted;
        const fired = await new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
        let fetchError;
        try { await fetch('http://example.com/', { signal: AbortSignal.abort() }); } catch (e) { fetchError = e.name; }
        Vortex.return([early, signal.aborted, fired.name, fired.code, fetchError]);
        """,
    )
    assert out == [False, True, "TimeoutError", 23, "AbortError"]


async def test_a_pending_timeout_does_not_keep_a_run_alive_or_outlive_it(run: Run) -> None:
    body = await run(
        "AbortSignal.timeout(10000).onabort = () => console.log('never');\nVortex.return('done')"
    )
    assert body["output"] == "done"
    assert body["execution_time_ms"] < 2000
    assert body["logs"] == []


async def test_event_target(run: Run) -> None:
    out = await js(
        run,
        """
        const target = new EventTarget();
        const seen = [];
        const handler = { handleEvent(e) { seen.push('object:' + e.type); } };
        target.addEventListener('ping', handler);
        target.addEventListener('ping', (e) => { seen.push('cancel'); e.preventDefault(); });
        target.addEventListener('ping', () => seen.push('stopped'));
        const first = target.dispatchEvent(new Event('ping', { cancelable: true }));
        target.removeEventListener('ping', handler);
        target.addEventListener('ping', (e) => { e.stopImmediatePropagation(); seen.push('stop'); });
        const event = new Event('ping');
        target.dispatchEvent(event);
        Vortex.return({ first, seen, phase: event.eventPhase, target: event.target === target });
        """,
    )
    assert out == {
        "first": False,
        "seen": ["object:ping", "cancel", "stopped", "cancel", "stopped", "stop"],
        "phase": 0,
        "target": True,
    }


async def test_queue_microtask_runs_before_timers_and_errors_fail_the_run(run: Run) -> None:
    out = await js(
        run,
        """
        const order = [];
        setTimeout(() => order.push('timeout'), 0);
        queueMicrotask(() => order.push('microtask'));
        Promise.resolve().then(() => order.push('promise'));
        order.push('sync');
        await new Promise((r) => setTimeout(r, 10));
        let bad;
        try { queueMicrotask('not a function'); } catch (e) { bad = e.name; }
        Vortex.return({ order, bad });
        """,
    )
    assert out == {"order": ["sync", "microtask", "promise", "timeout"], "bad": "TypeError"}
    body = await run("queueMicrotask(() => { throw new SyntaxError('in a microtask'); })")
    assert (body["error"]["name"], body["error"]["message"]) == ("SyntaxError", "in a microtask")


async def test_performance_now_is_per_run_and_monotonic(run: Run) -> None:
    out = await js(
        run,
        """
        const a = performance.now();
        await new Promise((r) => setTimeout(r, 25));
        const b = performance.now();
        Vortex.return({ start: a >= 0 && a < 1000, waited: b - a >= 20, origin: Math.abs(performance.timeOrigin - Date.now()) < 5000 });
        """,
    )
    assert out == {"start": True, "waited": True, "origin": True}


async def test_readable_streams(run: Run) -> None:
    out = await js(
        run,
        """
        const enc = new TextEncoder();
        const stream = new ReadableStream({
          start(c) { c.enqueue('a'); c.enqueue('b'); },
          pull(c) { c.enqueue('c'); c.close(); },
        });
        const reader = stream.getReader();
        const reads = [await reader.read(), await reader.read(), await reader.read(), await reader.read()];
        let locked;
        try { stream.getReader(); locked = 'not locked'; } catch (e) { locked = e.name; }
        const iterated = [];
        for await (const chunk of new ReadableStream({ start(c) { [1, 2, 3].forEach((n) => c.enqueue(n)); c.close(); } })) iterated.push(chunk);
        const [left, right] = new ReadableStream({ start(c) { c.enqueue(enc.encode('tee')); c.close(); } }).tee();
        const decoded = [];
        await new ReadableStream({ start(c) { c.enqueue(enc.encode('€ ')); c.enqueue(new Uint8Array([0xe2, 0x82])); c.enqueue(new Uint8Array([0xac])); c.close(); } })
          .pipeThrough(new TextDecoderStream())
          .pipeTo(new WritableStream({ write(s) { decoded.push(s); } }));
        const upper = new Response(new Response('shout').body.pipeThrough(new TransformStream({
          transform(chunk, c) { c.enqueue(enc.encode(new TextDecoder().decode(chunk).toUpperCase())); },
        })));
        const erroring = new ReadableStream({ start(c) { c.error(new TypeError('broken')); } });
        let broke;
        try { await erroring.getReader().read(); } catch (e) { broke = e.message; }
        Vortex.return({
          reads, locked, iterated, tee: [await new Response(left).text(), await new Response(right).text()],
          decoded: decoded.join(''), upper: await upper.text(), broke,
          bodyStream: new Response('x').body instanceof ReadableStream,
        });
        """,
    )
    assert out == {
        "reads": [
            {"value": "a", "done": False},
            {"value": "b", "done": False},
            {"value": "c", "done": False},
            {"done": True},
        ],
        "locked": "TypeError",
        "iterated": [1, 2, 3],
        "tee": ["tee", "tee"],
        "decoded": "€ €",
        "upper": "SHOUT",
        "broke": "broken",
        "bodyStream": True,
    }
