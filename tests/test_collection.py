"""A host's collections keep the engine's compiled code (vortex/isolates/collection.py), checked
on pythonmonkey's engine in a process of its own, as the hosts use it."""

from __future__ import annotations

from tests.engine import run_on_engine

CHECK = """
import json, os, statistics, time
import pythonmonkey as pm
from vortex.isolates.collection import beneath_javascript

stacks = []
beneath_javascript(lambda: stacks.append(pm.eval("new Error().stack")))()

# A function hot enough for the optimizing compiler, then the CPU time of its next calls after
# each kind of collection: compiled code thrown away is compiled again, from the interpreter up.
work = pm.eval(
    "() => { let s = 0; for (let i = 0; i < 200; i++) { const o = {a: i, b: String(i)};"
    " s += o.a + o.b.length; } return s; }"
)
def warm_then(collect):
    for _ in range(3000):
        work()
    collect()
    started = time.thread_time_ns()
    for _ in range(20):
        work()
    return time.thread_time_ns() - started

keeping = beneath_javascript(pm.collect)
plain = [warm_then(pm.collect) for _ in range(5)]
kept = [warm_then(keeping) for _ in range(5)]
print(json.dumps({
    "stack": stacks[0],
    "plain": statistics.median(plain),
    "kept": statistics.median(kept),
}))
os._exit(0)  # as a host does: pythonmonkey's teardown has crashed at exit
"""


def test_collections_run_beneath_javascript_and_keep_the_compiled_code() -> None:
    seen = run_on_engine(CHECK)
    assert "collectKeepingCode" in str(seen["stack"])
    # Cold code costs ~15x as much as hot (8 µs a call against 1.2, the first call 280 µs);
    # the margin leaves room for a busy machine.
    plain, kept = float(str(seen["plain"])), float(str(seen["kept"]))
    assert plain > 3 * kept, seen
