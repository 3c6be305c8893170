"""The interrupter (vortex/isolates/interrupt.py) on pythonmonkey's engine, in a process of its
own as a host's: it stops a turn at its budget whatever the script catches, the context runs on,
and what SpiderMonkey does to a regular expression it interrupts is what the ticks are shaped
for (if a pythonmonkey release changes that, these say so)."""

from __future__ import annotations

from typing import Any

from tests.engine import run_on_engine

PROBE = """
import json, os, time
import pythonmonkey as pm
from vortex.isolates.interrupt import Interrupter

statm = os.open("/proc/self/statm", os.O_RDONLY)
page = os.sysconf("SC_PAGE_SIZE")
resident = lambda: int(os.pread(statm, 64, 0).split()[1]) * page
interrupter = Interrupter(resident, pm.collect)

def turn(code, budget, memory=0):
    started = time.thread_time()
    interrupter.arm(started, budget, memory, resident() if memory else 0, 0)
    try:
        value = pm.eval(code)
    except Exception as exc:
        value = type(exc).__name__
    stopped = interrupter.disarm()
    return {"value": value, "stopped": stopped, "cpu_ms": (time.thread_time() - started) * 1000}

MATCH = "(() => { try { return String(/(a+)+b/.test('a'.repeat(24))) } catch (e) { return String(e) } })()"
out = {
    "spin": turn("for (;;) {}", 0.3),
    "caught": turn("try { for (;;) {} } catch (e) { 'caught' }", 0.2),
    "after": turn("[1, 2, 3].map((x) => x * 2).join()", 0.2),
    "match_with_ticks": turn(MATCH, 5.0, 512 << 20),
    "bomb": turn("const keep = []; for (;;) keep.push(new Uint8Array(8 << 20).fill(1))", 5.0, 64 << 20),
}
# What the ticks avoid: ticks from 2 ms on that never stop, all answering "go on".
calls = {"n": 0}
def counted():
    calls["n"] += 1
    return resident()
noisy = Interrupter(counted, tick=0.002, quiet_ticks=10**6)
noisy.arm(time.thread_time(), 5.0, 512 << 20, resident(), 0)
out["match_with_noisy_ticks"] = {"value": pm.eval(MATCH), "ticks": calls["n"]}
noisy.disarm()
noisy.close()
interrupter.close()
print(json.dumps(out), flush=True)
os._exit(0)  # as a host does: pythonmonkey's teardown has crashed at exit
"""


def probe() -> dict[str, Any]:
    return run_on_engine(PROBE)


def test_the_interrupter_on_the_engine() -> None:
    found = probe()
    # Stopped at its budget, within the kernel's tick of the CPU clock; nothing catches it.
    assert found["spin"]["stopped"] == "cpu"
    assert found["spin"]["value"] == "SpiderMonkeyError"
    assert 300 <= found["spin"]["cpu_ms"] < 330, found["spin"]
    assert found["caught"]["stopped"] == "cpu"
    assert found["caught"]["value"] == "SpiderMonkeyError"
    # The context runs new code after a stop.
    assert found["after"] == {**found["after"], "value": "2,4,6", "stopped": None}
    # The ticks back off and stop: a long match completes, restarted a few times at most.
    assert found["match_with_ticks"]["value"] == "false", found["match_with_ticks"]
    assert found["match_with_ticks"]["stopped"] is None
    # A bomb in one turn is stopped by a tick, after a collection.
    assert found["bomb"]["stopped"] == "memory", found["bomb"]
    # SpiderMonkey restarts an interrupted match and gives up at the fifth interrupt.
    noisy = found["match_with_noisy_ticks"]
    assert noisy["value"] == "InternalError: too much recursion", noisy
    assert noisy["ticks"] == 5, noisy
