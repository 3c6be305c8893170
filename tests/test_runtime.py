"""The JavaScript surface every invocation gets: console, timers, Vortex.return, errors."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

Run = Callable[[str], Awaitable[dict[str, Any]]]


def messages(body: dict[str, Any]) -> list[str]:
    return [line["message"] for line in body["logs"]]


async def test_console_levels(run: Run) -> None:
    body = await run(
        "console.log('l'); console.info('i'); console.warn('w'); console.error('e'); console.debug('d')"
    )
    assert [(x["level"], x["message"]) for x in body["logs"]] == [
        ("log", "l"),
        ("info", "i"),
        ("warn", "w"),
        ("error", "e"),
        ("debug", "d"),
    ]


async def test_console_has_every_method_of_the_console_standard(run: Run) -> None:
    """workerd has them all (only log/info/warn/error/debug reach its logs); a library that
    calls console.time or console.group threw `is not a function` here before."""
    body = await run(
        """
        console.time(); console.timeLog(undefined, 'mid', { n: 1 }); console.timeEnd();
        console.time('t'); console.time('t'); console.timeEnd('t'); console.timeEnd('t');
        console.timeLog('never');
        console.count(); console.count(); console.count('x'); console.countReset();
        console.count(); console.countReset('nope');
        console.group('outer', 1); console.log('in\\ntwo lines'); console.groupCollapsed();
        console.warn('deeper'); console.groupEnd(); console.groupEnd(); console.groupEnd();
        console.log('out');
        console.assert(true, 'not shown'); console.assert(false, 'failed %s', 'here');
        console.assert(0, { a: 1 }); console.assert(null);
        console.dir('text'); console.dir({ a: { b: 1 } }, { depth: 0 }); console.dirxml('x', 2);
        console.clear(); console.profile('p'); console.profileEnd('p'); console.timeStamp('s');
        Vortex.return([String(console), Object.isFrozen(console)]);
        """
    )
    assert "error" not in body, body
    assert body["output"] == ["[object console]", True]
    logs = [(line["level"], line["message"]) for line in body["logs"]]
    timing = r"\d+(\.\d+)?ms"
    assert re.fullmatch(f"default: {timing} mid {{ n: 1 }}", logs[0][1]), logs[0]
    assert re.fullmatch(f"default: {timing}", logs[1][1]), logs[1]
    assert logs[2] == ("warn", "Timer 't' already exists")
    assert re.fullmatch(f"t: {timing}", logs[3][1]), logs[3]
    assert logs[4:] == [
        ("warn", "Timer 't' does not exist"),
        ("warn", "Timer 'never' does not exist"),
        ("log", "default: 1"),
        ("log", "default: 2"),
        ("log", "x: 1"),
        ("log", "default: 1"),
        ("warn", "Count for 'nope' does not exist"),
        ("log", "outer 1"),
        ("log", "  in\n  two lines"),
        ("warn", "    deeper"),
        ("log", "out"),
        ("error", "Assertion failed: failed here"),
        ("error", "Assertion failed { a: 1 }"),
        ("error", "Assertion failed"),
        ("log", "'text'"),
        ("log", "{ a: { b: 1 } }"),
        ("log", "x 2"),
    ]


async def test_console_table_draws_as_node_does(run: Run) -> None:
    body = await run(
        """
        console.table([{ a: 1, b: 'x' }, { b: 'y', c: [1] }, 7]);
        console.table({ r: { a: 1 } }, ['a', 'z']);
        console.table(new Map([['k', 1]]));
        console.table('not tabular');
        """
    )
    assert messages(body) == [
        "┌─────────┬───┬─────┬───────┬────────┐\n"
        "│ (index) │ a │ b   │ c     │ Values │\n"
        "├─────────┼───┼─────┼───────┼────────┤\n"
        "│ 0       │ 1 │ 'x' │       │        │\n"
        "│ 1       │   │ 'y' │ [ 1 ] │        │\n"
        "│ 2       │   │     │       │ 7      │\n"
        "└─────────┴───┴─────┴───────┴────────┘",
        "┌─────────┬───┬───┐\n"
        "│ (index) │ a │ z │\n"
        "├─────────┼───┼───┤\n"
        "│ r       │ 1 │   │\n"
        "└─────────┴───┴───┘",
        "┌───────────────────┬─────┬────────┐\n"
        "│ (iteration index) │ Key │ Values │\n"
        "├───────────────────┼─────┼────────┤\n"
        "│ 0                 │ 'k' │ 1      │\n"
        "└───────────────────┴─────┴────────┘",
        "not tabular",
    ]


async def test_console_counters_and_timers_are_the_runs_own(run: Run) -> None:
    first = await run("console.count('c'); console.time('t'); console.group();")
    second = await run("console.count('c'); console.timeEnd('t'); console.log('flat');")
    assert messages(first) == ["c: 1"]
    assert messages(second) == ["c: 1", "Timer 't' does not exist", "flat"]


async def test_console_formats_like_node(run: Run) -> None:
    body = await run(
        """
        console.log('plain', 42, true, undefined, null);
        console.log({ a: 1, b: 'two', c: [1, 2, { d: null }] });
        console.log([1, 'a', undefined]);
        console.log(new Map([['k', 1]]), new Set([1, 2]));
        console.log(function named() {}, () => 1, class Foo {});
        console.log(10n, Symbol('s'), -0, NaN);
        const cyclic = { name: 'c' }; cyclic.self = cyclic; console.log(cyclic);
        console.log({ deep: { deeper: { deepest: { gone: 1 } } } });
        console.log('%s is %d years', 'Ada', 36.5, 'extra');
        console.log(new Error('shown'));
        console.log(Object.create(null));
        console.log({ 'needs-quotes': 1, get g() { return 1; } });
        """
    )
    assert messages(body) == [
        "plain 42 true undefined null",
        "{ a: 1, b: 'two', c: [ 1, 2, { d: null } ] }",
        "[ 1, 'a', undefined ]",
        "Map(1) { 'k' => 1 } Set(2) { 1, 2 }",
        "[Function: named] [Function (anonymous)] [class Foo]",
        "10n Symbol(s) -0 NaN",
        "{ name: 'c', self: [Circular *] }",
        "{ deep: { deeper: { deepest: [Object] } } }",
        "Ada is 36.5 years extra",
        "Error: shown\n    at <anonymous> (index.js:11:21)",
        "[Object: null prototype] {}",
        "{ 'needs-quotes': 1, g: [Getter] }",
    ]


async def test_long_objects_break_over_lines(run: Run) -> None:
    body = await run(
        "console.log({ alpha: 'aaaaaaaaaaaa', beta: 'bbbbbbbbbbbb', gamma: 'cccccccccccc', delta: 1 })"
    )
    assert messages(body)[0] == (
        "{\n  alpha: 'aaaaaaaaaaaa',\n  beta: 'bbbbbbbbbbbb',\n  gamma: 'cccccccccccc',\n  delta: 1\n}"
    )


async def test_timers_do_not_block_and_run_in_order(run: Run) -> None:
    body = await run(
        """
        const order = [];
        setTimeout(() => order.push('b'), 30);
        setTimeout(() => order.push('a'), 10);
        const cancelled = setTimeout(() => order.push('never'), 5);
        clearTimeout(cancelled);
        let ticks = 0;
        const interval = setInterval(() => { ticks += 1; if (ticks === 3) clearInterval(interval); }, 5);
        await new Promise(resolve => setTimeout(resolve, 60));
        Vortex.return({ order, ticks, id: typeof cancelled });
        """
    )
    assert body["output"] == {"order": ["a", "b"], "ticks": 3, "id": "number"}


async def test_a_timer_waits_for_every_promise_job_before_it(run: Run) -> None:
    # Microtasks drain before the next task, however many a chain queues (the host runs at
    # most JOBS_PER_CHECKPOINT of them at the end of a turn, the rest in turns of their own).
    body = await run(
        """
        const order = [];
        setTimeout(() => order.push('timer'), 0);
        let chain = Promise.resolve();
        for (let i = 0; i < 1000; i++) chain = chain.then(() => {});
        chain.then(() => order.push('jobs'));
        await new Promise(resolve => setTimeout(resolve, 20));
        Vortex.return(order);
        """
    )
    assert body["output"] == ["jobs", "timer"]


async def test_run_waits_for_pending_timers_when_nothing_was_returned(run: Run) -> None:
    body = await run("setTimeout(() => Vortex.return('late'), 50)")
    assert body["output"] == "late"
    assert body["execution_time_ms"] >= 45


async def test_a_callback_that_clears_the_last_timer_runs_to_its_end(run: Run) -> None:
    # The last pending timer cleared from inside a callback does not end the run on the spot:
    # the rest of the callback, its logs and its return are the run's.
    body = await run(
        """
        const last = setTimeout(() => {}, 1000);
        setTimeout(() => {
          clearTimeout(last);
          console.log('after the clear');
          Vortex.return('done');
        }, 5);
        """
    )
    assert (body["output"], messages(body)) == ("done", ["after the clear"])


async def test_what_a_last_callback_awaits_still_runs(run: Run) -> None:
    body = await run(
        """
        setTimeout(async () => {
          await null;
          console.log('awaited');
          Vortex.return('after await');
        }, 5);
        """
    )
    assert (body["output"], messages(body)) == ("after await", ["awaited"])
    body = await run(
        """
        const ticking = setInterval(() => {}, 1000);
        await new Promise((resolve) => setTimeout(resolve, 5));
        Promise.resolve()
          .then(() => clearInterval(ticking))
          .then(() => Vortex.return('chained'));
        """
    )
    assert body["output"] == "chained"
    # A chain of promise jobs longer than a turn of the host: none of it is cut off.
    body = await run(
        """
        const ticking = setInterval(() => {}, 1000);
        await new Promise((resolve) => setTimeout(resolve, 5));
        let chain = Promise.resolve().then(() => clearInterval(ticking));
        let spins = 0;
        for (let i = 0; i < 300; i++) {
          chain = chain.then(() => { for (let j = 0; j < 3000; j++) spins += 1; });
        }
        chain.then(() => Vortex.return(spins));
        """
    )
    assert body["output"] == 900_000


async def test_nothing_of_a_run_fires_after_it_ends(run: Run) -> None:
    body = await run(
        """
        setInterval(() => console.log('tick'), 10);
        setTimeout(() => console.log('late'), 200);
        await new Promise(r => setTimeout(r, 35));
        Vortex.return('done');
        """
    )
    assert body["output"] == "done"
    count = messages(body).count("tick")
    assert 2 <= count <= 4
    assert "late" not in messages(body)


async def test_top_level_await_and_promises(run: Run) -> None:
    body = await run(
        "const values = await Promise.all([1, Promise.resolve(2), new Promise(r => setTimeout(() => r(3), 5))]);"
        "Vortex.return(values.reduce((a, b) => a + b))"
    )
    assert body["output"] == 6


async def test_date_math_json_intl(run: Run) -> None:
    body = await run(
        """
        const now = Date.now();
        Vortex.return({
          now: typeof now === 'number' && now > 1.7e12,
          iso: new Date(0).toISOString(),
          random: Math.random() < 1,
          json: JSON.parse('{"a":[1]}').a[0],
          intl: new Intl.NumberFormat('en-US').format(1234.5),
        });
        """
    )
    assert body["output"] == {
        "now": True,
        "iso": "1970-01-01T00:00:00.000Z",
        "random": True,
        "json": 1,
        "intl": "1,234.5",
    }


async def test_a_throw_reports_name_message_user_stack_and_earlier_logs(run: Run) -> None:
    body = await run(
        "console.log('before');\n"
        "function inner() {\n"
        "  throw new TypeError('bad input');\n"
        "}\n"
        "inner();\n"
    )
    assert messages(body) == ["before"]
    error = body["error"]
    assert error["code"] == "function_error"
    assert (error["name"], error["message"]) == ("TypeError", "bad input")
    assert error["stack"].splitlines() == [
        "TypeError: bad input",
        "    at inner (index.js:3:9)",
        "    at <anonymous> (index.js:5:1)",
    ]
    assert "ses" not in error["stack"] and "vortex" not in error["stack"]
    assert body["output"] is None


async def test_a_rejection_is_reported(run: Run) -> None:
    body = await run(
        "await new Promise((_, reject) => setTimeout(() => reject(new RangeError('late')), 5))"
    )
    assert (body["error"]["name"], body["error"]["message"]) == ("RangeError", "late")


async def test_a_throw_inside_a_timer_fails_the_run(run: Run) -> None:
    body = await run("setTimeout(() => { null.x; }, 5)")
    assert body["error"]["code"] == "function_error"
    assert body["error"]["name"] == "TypeError"


async def test_throwing_odd_values(run: Run) -> None:
    for code, message in [
        ("throw 'text'", "Uncaught 'text'"),
        ("throw 42", "Uncaught 42"),
        ("throw { reason: 'x' }", "Uncaught { reason: 'x' }"),
        ("throw null", "Uncaught null"),
    ]:
        body = await run(code)
        assert body["error"]["code"] == "function_error"
        assert body["error"]["message"] == message


async def test_return_values_must_be_json(run: Run) -> None:
    for code, expected in [
        ("Vortex.return(10n)", "invalid_return_value"),
        ("const a = {}; a.a = a; Vortex.return(a)", "invalid_return_value"),
        ("Vortex.return(() => 1)", "invalid_return_value"),
        ("Vortex.return(Symbol('s'))", "invalid_return_value"),
        ("Vortex.return('x'.repeat(70000))", "output_too_large"),
    ]:
        body = await run(code)
        assert body["error"]["code"] == expected, code
        assert body["output"] is None
    for code, output in [
        ("Vortex.return(undefined)", None),
        ("Vortex.return({ d: new Date(0) })", {"d": "1970-01-01T00:00:00.000Z"}),
        ("Vortex.return([1, 'two', null, true, 2.5])", [1, "two", None, True, 2.5]),
        ("Vortex.return({ toJSON() { return 'custom'; } })", "custom"),
    ]:
        body = await run(code)
        assert "error" not in body, body
        assert body["output"] == output
