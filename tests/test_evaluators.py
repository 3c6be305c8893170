"""eval and new Function while a run goes on (js/src/harness/evaluators.js): they work as SES's
evaluators do, and refuse a source past 10 Mi characters, whose compile (one native call with
no interrupt check) ran past the supervisor's backstop and killed the host."""

from __future__ import annotations

from tests.jsrun import Run, js


async def test_eval_and_new_function_work_as_before(run: Run) -> None:
    result = await js(
        run,
        """
        const ev = globalThis.eval;
        const product = new Function('a', 'b', 'return a * b');
        const source = { toString() { return 'return 9'; } };
        Vortex.return([ev('1 + 2'), ev(5), product(6, 7), Function('return 3')(),
          new Function(source)(), product instanceof Function, Function.name,
          String(Function).includes('[native code]'), Function.prototype === Object.getPrototypeOf(product)]);
        """,
    )
    assert result == [3, 5, 42, 3, 9, True, "Function", True, True]


async def test_code_compiled_at_run_time_is_limited_in_size(run: Run) -> None:
    result = await js(
        run,
        """
        const refused = [];
        const attempts = [
          () => new Function('x', 'return ' + 'x+'.repeat(2e7) + 'x'),  // 40 MB: 4.8 s to compile
          () => Function('a'.repeat(6e6), 'b'.repeat(6e6), ''),
          () => (0, globalThis.eval)('1;'.repeat(6e6)),
        ];
        for (const attempt of attempts) {
          try { attempt(); refused.push('compiled'); } catch (e) { refused.push(e.name + ': ' + e.message); }
        }
        Vortex.return(refused);
        """,
    )
    assert result == [
        "RangeError: Code compiled at run time (eval, new Function) is limited to 10 Mi "
        f"characters; this was {mi} Mi"
        for mi in (39, 12, 12)
    ]
