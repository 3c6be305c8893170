"""Bindings: services the server lends to one run, such as its function's KV namespace.

A run asks with a ``call`` frame (binding, operation, JSON arguments, and bytes when it sends
some: a KV value that is an ArrayBuffer); the supervisor awaits the ``Binding`` the server
attached to that invocation and answers with a ``answered`` frame holding the result (and bytes,
for a ``WithBytes`` result) or an error ``{code, message}``, which the harness throws in
JavaScript as an Error with that ``code``. Bytes cross beside the JSON, as bytes, never inside it
as base64. The binding decides what it is scoped to (the function's KV namespace is
chosen by the server, never named by user code), so this package knows no service by name and
does no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vortex.isolates.subrequests import Subrequest, SubrequestResponse


class BindingError(Exception):
    """A call the binding refused or could not complete, with the code JavaScript sees."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class WithBytes:
    """A binding's result that comes with bytes: JavaScript gets both (``result``, JSON-ready,
    and ``body`` as a Uint8Array)."""

    result: Any
    body: bytes


@dataclass(slots=True)
class Subrequests:
    """A run's count of subrequests (fetches and service calls), shared with the runs its
    service calls start: a tree of calls spends one budget, so a function that calls itself
    twice per call makes at most ``Limits.subrequests`` runs, not 2 to the 16th."""

    made: int = 0


@dataclass(frozen=True, slots=True)
class Caller:
    """What a service binding is told of the run that calls it."""

    hops: int
    """The hop count of the request that started the run (``subrequests.LOOP_HEADER``)."""
    subrequests: Subrequests


@dataclass(frozen=True, slots=True)
class Binding:
    call: Callable[[str, Mapping[str, Any], bytes | None], Awaitable[Any]]
    """``call(operation, arguments, body)`` returns JSON-ready data or ``WithBytes``, or raises
    ``BindingError``; ``body`` is the bytes the call sent, if any."""
    describe: Mapping[str, Any] = field(default_factory=dict)
    """Told to the harness with the run (the limits it checks before sending a call)."""
    service_call: (
        Callable[[Caller, str, Mapping[str, Any], bytes | None], Awaitable[Any]] | None
    ) = None
    """Set for a binding that runs another function (a service binding): called instead of
    ``call``, with the calling run's ``Caller``; each call is one of its subrequests."""
    service_fetch: Callable[[Caller, Subrequest], Awaitable[SubrequestResponse]] | None = None
    """A service binding's ``fetch``: the target's Response, its body streamed as a
    ``fetch()``'s is (``rest``); raises ``BindingError``."""


BINDING_UNAVAILABLE = "binding_unavailable"
"""A call to a binding this run was not given, or that failed in an unexpected way."""
BINDING_CALL_LIMIT_EXCEEDED = "binding_call_limit_exceeded"
SUBREQUEST_LIMIT_EXCEEDED = "subrequest_limit_exceeded"
"""A call to a service binding past the run's subrequests (``Limits.subrequests``)."""
