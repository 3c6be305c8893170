"""How a host collects the engine's garbage when it chooses to (idle, after a run past its memory
limit, after a few hundred strings handed over): without throwing away its compiled code.

SpiderMonkey keeps the compiled code of a compartment through a collection only when JIT code of
that compartment is running (the innermost JIT activation), or when the realm was created to
always keep it (which pythonmonkey's global is not). A collection asked from Python, with no
JavaScript on the stack, therefore discarded the compiled code of the whole runtime and sent
every function back to the interpreter: the first requests after a host's idle collection
(``idlegc``, after 1.1 s without a run) ran the harness, the web APIs and the function cold; a
hot call of 1.2 µs took 8 µs again, and its first call 280 µs. So the collection is asked from
a JavaScript function that runs in the JIT's first tier, which it reaches after ten calls: the
same garbage goes, the code stays.

A collection from the interrupt callback needs none of this: a script is running then.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

try:
    _MALLOC_TRIM: Callable[[int], int] | None = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):  # not glibc: freed memory shows later, if at all
    _MALLOC_TRIM = None

BENEATH_JAVASCRIPT = "(function collectKeepingCode(collect) { collect(); })"
"""Named so that the frame shows in a stack taken during the collection (tests look for it)."""
WARM_CALLS = 20
"""Calls of the trampoline with nothing to do before each collection, to be sure it runs as
JIT code: SpiderMonkey's baseline interpreter takes a function after 10 calls, and a collection
beneath an interpreted frame finds no JIT activation and keeps nothing. 20 calls cost ~30 µs,
against a collection's 10-90 ms."""


def _nothing() -> None:
    return None


def beneath_javascript(collect: Callable[[], Any]) -> Callable[[], None]:
    """``collect`` (pythonmonkey's), called from a JavaScript function running as JIT code, so
    that the engine keeps its compiled code through the collection."""
    import pythonmonkey as pm

    trampoline: Callable[[Callable[[], Any]], None] = pm.eval(
        BENEATH_JAVASCRIPT, {"mutedErrors": True}
    )

    def collect_keeping_code() -> None:
        for _ in range(WARM_CALLS):
            trampoline(_nothing)
        trampoline(collect)

    return collect_keeping_code


def collect_garbage(collect: Callable[[], Any]) -> None:
    """A full collection, then what it freed handed back to the system: the engine frees with
    malloc, which keeps freed memory (big buffers included) in its arenas, so the host's
    resident size, by which runs and hosts are measured, would not show what was freed."""
    collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
