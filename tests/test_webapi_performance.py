"""`performance` as workerd has it: an instance of Performance (an EventTarget) with User
Timing's marks and measures, and the entry classes as globals; each run's entries its own."""

from __future__ import annotations

import aiohttp

from tests.jsrun import Run, js
from tests.server import ServerProcess


async def test_performance_is_a_performance_with_marks_and_measures(run: Run) -> None:
    out = await js(
        run,
        """
        const detail = { step: [1] };
        const a = performance.mark('a', { detail });
        detail.step.push(2);
        const b = performance.mark('b', { startTime: 1e6 });
        const made = new PerformanceMark('made', { startTime: 1 });
        const m = performance.measure('a-b', 'a', 'b');
        Vortex.return({
          classes: [performance instanceof Performance, performance instanceof EventTarget,
            a instanceof PerformanceMark, a instanceof PerformanceEntry, m instanceof PerformanceMeasure,
            String(performance), String(a), String(m)],
          mark: [a.name, a.entryType, a.duration, a.startTime >= 0 && a.startTime <= performance.now(), a.detail, a.detail === detail],
          json: [Object.keys(a.toJSON()), Object.keys(performance.toJSON()), typeof performance.timeOrigin],
          measure: [m.name, m.entryType, m.startTime === a.startTime, m.duration === 1e6 - a.startTime, m.detail],
          made: [made.startTime, performance.getEntriesByName('made').length],
          all: performance.getEntries().map((e) => e.name),
          marks: performance.getEntriesByType('mark').map((e) => e.name),
          byName: performance.getEntriesByName('a-b', 'mark').length + performance.getEntriesByName('a-b').length * 10,
        });
        """,
    )
    assert out == {
        "classes": [
            True,
            True,
            True,
            True,
            True,
            "[object Performance]",
            "[object PerformanceMark]",
            "[object PerformanceMeasure]",
        ],
        "mark": ["a", "mark", 0, True, {"step": [1]}, False],
        "json": [["name", "entryType", "startTime", "duration"], ["timeOrigin"], "number"],
        "measure": ["a-b", "measure", True, True, None],
        "made": [1, 0],
        "all": ["a", "a-b", "b"],
        "marks": ["a", "b"],
        "byName": 10,
    }


async def test_measure_takes_marks_times_and_options_as_user_timing_says(run: Run) -> None:
    out = await js(
        run,
        """
        performance.mark('x', { startTime: 10 });
        performance.mark('x', { startTime: 20 });  // the newest of a name counts
        performance.mark('y', { startTime: 30 });
        const span = (m) => [m.startTime, m.duration];
        const fails = (f) => { try { f(); return 'measured'; } catch (e) { return e.name; } };
        Vortex.return({
          fromMark: span(performance.measure('m1', 'x', 'y')),
          fromZero: performance.measure('m2').startTime,
          times: span(performance.measure('m3', { start: 2, end: 'y' })),
          startAndDuration: span(performance.measure('m4', { start: 'x', duration: 4 })),
          endAndDuration: span(performance.measure('m5', { end: 50, duration: 15 })),
          detail: performance.measure('m6', { start: 1, detail: { d: 1 } }).detail,
          emptyOptions: span(performance.measure('m7', {}, 'y')),
          refused: [
            fails(() => performance.measure('e1', 'nope')),
            fails(() => performance.measure('e2', { start: 1 }, 'y')),
            fails(() => performance.measure('e3', { duration: 1 })),
            fails(() => performance.measure('e4', { start: 1, end: 2, duration: 1 })),
            fails(() => performance.measure('e5', { start: -1 })),
            fails(() => performance.mark('e6', { startTime: -1 })),
            fails(() => performance.mark('e7', { detail: () => {} })),
            fails(() => performance.mark()),
            fails(() => new PerformanceEntry()),
            fails(() => new PerformanceMeasure('m')),
            fails(() => new Performance()),
          ],
          unknownMark: (() => { try { performance.measure('e', 'nope'); } catch (e) { return e instanceof DOMException; } })(),
        });
        """,
    )
    assert out == {
        "fromMark": [20, 10],
        "fromZero": 0,
        "times": [2, 28],
        "startAndDuration": [20, 4],
        "endAndDuration": [35, 15],
        "detail": {"d": 1},
        "emptyOptions": [0, 30],
        "refused": [
            "SyntaxError",
            "TypeError",
            "TypeError",
            "TypeError",
            "TypeError",
            "TypeError",
            "DataCloneError",
            "TypeError",
            "TypeError",
            "TypeError",
            "TypeError",
        ],
        "unknownMark": True,
    }


async def test_clearing_marks_and_measures(run: Run) -> None:
    out = await js(
        run,
        """
        for (const n of ['a', 'b', 'a']) performance.mark(n);
        performance.measure('m'); performance.measure('n');
        performance.clearMarks('a');
        const afterOne = performance.getEntries().map((e) => e.name);
        performance.clearMeasures();
        const afterMeasures = performance.getEntries().map((e) => e.name);
        performance.clearMarks();
        Vortex.return([afterOne.sort(), afterMeasures, performance.getEntries().length]);
        """,
    )
    assert out == [["b", "m", "n"], ["b"], 0]


WARM = """
export default {
  fetch(request) {
    const before = performance.getEntries().map((e) => e.name);
    performance.mark(new URL(request.url).pathname);
    return Response.json({ before, same: performance === globalThis.performance });
  },
};
"""


async def test_a_warm_instance_starts_each_request_with_no_entries(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    async with http.post("/deploy", json={"code": WARM, "filename": "index.mjs"}) as response:
        body = await response.json()
        assert response.status == 200, body
    seen = []
    for path in ("/first", "/second"):
        async with http.get(server.fn_url(body["function_id"], path)) as response:
            assert response.status == 200
            seen.append(await response.json())
    assert seen == [{"before": [], "same": True}, {"before": [], "same": True}]


async def test_the_shared_classes_are_frozen(run: Run) -> None:
    out = await js(
        run,
        """
        const attempts = [
          () => { Performance.prototype.mark = 1; },
          () => { PerformanceEntry.prototype.toJSON = 1; },
          () => { Object.getPrototypeOf(performance).now = 1; },
        ];
        Vortex.return(attempts.map((f) => { try { f(); return 'changed'; } catch (e) { return e.name; } }));
        """,
    )
    assert out == ["TypeError"] * 3
