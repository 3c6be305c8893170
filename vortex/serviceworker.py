"""Scripts written in Cloudflare Workers' older service-worker syntax.

``addEventListener('fetch', (event) => event.respondWith(...))`` at a script's top level: such a
script is sent to the hosts as ``kind="service-worker"`` (the harness's
``js/src/harness/serviceworker.js``), with the request or the cron tick that a module's handlers
would get. What makes it one is decided in two steps. Here, cheaply and once per code: its
source calls ``addEventListener`` with ``'fetch'`` or ``'scheduled'`` as a literal first
argument (as hand-written Workers and wrangler's bundles do). Then in the host, by what its top
level did: having registered such a listener and not called ``Vortex.return``, it is served as a
Worker; otherwise it ends as any script does. A script that does not mention the call never
goes there, so plain scripts run exactly as they always have.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vortex.cache import BoundedCache
from vortex.modules.bundle import ModuleBundle
from vortex.modules.script import BuiltScript
from vortex.storage.base import FunctionKind

if TYPE_CHECKING:
    from vortex.functions import Code  # which imports this module

_REGISTERS = re.compile(r"""\baddEventListener\s*\(\s*(['"`])(?:fetch|scheduled)\1""")


_SEEN: BoundedCache[tuple[int, int], bool] = BoundedCache(1024)
"""Answers by the script's length and hash, not by the script: a cache keyed on the text kept
up to its size of scripts alive (each up to the code limit) after the code cache dropped them.
Python's string hash is keyed per process and cached on the string, so the key costs nothing
after a script's first run and no one can make two scripts collide on purpose."""


def _registers(script: str) -> bool:
    key = (len(script), hash(script))
    found = _SEEN.get(key)
    if found is None:
        found = _REGISTERS.search(script) is not None
        _SEEN.put(key, found)
    return found


def is_service_worker(code: Code) -> bool:
    """Whether ``code`` is a script that registers a ``fetch`` or ``scheduled`` listener."""
    if isinstance(code, ModuleBundle):
        return False
    return _registers(code.script if isinstance(code, BuiltScript) else code)


def kind_of(code: Code) -> FunctionKind:
    """What a function of ``code`` is, as its record keeps it and the API shows it."""
    if isinstance(code, ModuleBundle):
        return "module"
    return "service-worker" if is_service_worker(code) else "script"


def takes_events(code: Code) -> bool:
    """Whether ``code`` handles requests and cron ticks itself: a module, or a service worker."""
    return isinstance(code, ModuleBundle) or is_service_worker(code)
