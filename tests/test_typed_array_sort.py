"""A typed array past two million elements is sorted in chunks (js/src/harness/sorting.js), so
that its run can be stopped; these check that the result is the engine's order all the same:
numbers ascending, -0 before +0, NaN last, every element kept. Each kind is one run, on a
server of the module's own with room for the checks' CPU."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

ONE_HOST_ENV = {"VORTEX_CPU_LIMIT_MS": "5000"}


async def js(api: aiohttp.ClientSession, code: str) -> Any:
    async with api.post("/deploy", json={"code": code}) as r:
        function_id = (await r.json())["function_id"]
    async with api.post(f"/execute/{function_id}") as r:
        body = await r.json()
    assert "error" not in body, body["error"]
    return body["output"]


CHECK = """
const n = 2 * (1 << 20) + 12345;  // two whole chunks and a short one
const a = new %(kind)s(n);
const specials = [NaN, -0, 0, Infinity, -Infinity, 1.5, -1.5, -0, NaN];
const offset = a instanceof Int32Array ? 2 ** 31 : 0;
for (let i = 0; i < n; i++) {
  const r = (Math.imul(i, 2654435761) >>> 0) / 2 ** 32;
  if (typeof a[0] === 'bigint') a[i] = BigInt(Math.floor((r - 0.5) * 2 ** 40));
  else if (%(float)s) a[i] = i %% 101 < specials.length ? specials[i %% 101] : (r - 0.5) * 1e6;
  else a[i] = Math.floor(r * 2 ** 32) - offset;
}
// Order-free fingerprints of the contents: the bits of every element, summed and xored.
const bits = () => {
  const words = new Uint32Array(a.buffer);
  let sum = 0, xor = 0;
  for (let i = 0; i < words.length; i++) { sum = (sum + words[i]) | 0; xor ^= words[i]; }
  return sum + ':' + xor;
};
const rank = (x) => (x !== x ? 2 : x === 0 && 1 / x < 0 ? -1 : 0);
const before = bits();
const sorted = a.toSorted();
const unchanged = bits() === before;
const returned = a.sort() === a;
let misplaced = 0;
for (let i = 1; i < n; i++) {
  const x = a[i - 1], y = a[i];
  if (y < x || (x === y && rank(x) > rank(y)) || (rank(x) === 2 && rank(y) !== 2)) misplaced++;
}
let differs = 0;
for (let i = 0; i < n; i++) if (!Object.is(a[i], sorted[i])) differs++;
Vortex.return({ misplaced, differs, unchanged, returned, same: bits() === before,
  kind: Object.prototype.toString.call(sorted), last: String(a[n - 1]) });
"""

KINDS = {
    "Int32Array": False,
    "Uint32Array": False,
    "Float32Array": True,
    "Float64Array": True,
    "BigInt64Array": False,
    "BigUint64Array": False,
}


@pytest.mark.parametrize("kind", KINDS)
async def test_a_long_typed_array_sorts_in_the_engines_order(
    api: aiohttp.ClientSession, kind: str
) -> None:
    float_kind = KINDS[kind]
    result = await js(api, CHECK % {"kind": kind, "float": "true" if float_kind else "false"})
    assert result == {
        "misplaced": 0,
        "differs": 0,  # toSorted gave the same order, on a copy
        "unchanged": True,
        "returned": True,
        "same": True,
        "kind": f"[object {kind}]",
        "last": "NaN" if float_kind else result["last"],
    }


async def test_sort_keeps_the_engines_face(api: aiohttp.ClientSession) -> None:
    result = await js(
        api,
        """
        const sort = Float64Array.prototype.sort;
        let incompatible;
        try { sort.call({ length: 3e6 }); } catch (e) { incompatible = e.constructor.name; }
        let notCallable;
        try { new Float64Array(3e6).sort(42); } catch (e) { notCallable = e.constructor.name; }
        const small = new Float64Array([3, NaN, -0, 0, 1]).sort();
        const compared = Array.from(new Float64Array([1, 3, 2]).sort((x, y) => y - x));
        Vortex.return([sort.name, sort.length, String(sort).includes('[native code]'),
          incompatible, notCallable, Array.from(small, String), Object.is(small[0], -0), compared]);
        """,
    )
    assert result == [
        "sort",
        1,
        True,
        "TypeError",
        "TypeError",
        ["0", "0", "1", "3", "NaN"],
        True,
        [3, 2, 1],
    ]
