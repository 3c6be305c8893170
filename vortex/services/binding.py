"""``env.AUTH`` of a run: a service binding, whose ``fetch`` runs the function it names, and
whose other methods (RPC) call the methods of its ``WorkerEntrypoint`` class.

The harness (``js/src/harness/services.js``) sends ``fetch()`` as the run's fetch machinery
sends one, with the binding's key (a ``Fetch`` frame with ``service``); ``RunRequests`` adds the
calling run (``Caller``: its hop count, from the host's record of the run, and its subrequests,
which the target's run shares). Here the target's active version is looked up by name in the
caller's namespace, now (a binding follows deployments, as on Workers), and started through
the run service as ``POST /execute`` starts a run: its own limits, logs and history entry
(trigger ``service:<caller>``). Its Response goes back as a fetch's does: the head, then the
body as the caller reads it (``TargetBody``, fetchbodies.py), up to the fetch size limit; a body
given up on (its reader cancelled, too large, the caller's run ended) is cancelled in the
target. An RPC call (``rpc``: a method's name and JSON arguments, a binding call) runs the
target's ``runRpc`` (harness ``rpc.js``), whose answer is a Response too, its body ``{"value":
...}`` or ``{"error": {"name", "message"}}`` in JSON, read whole.

Why through the supervisor rather than back through the listener: the call is then a binding
call like any other (counted, cancelled with its run, refused by name), the target is found in
the caller's namespace and nowhere else (a hostname could name any namespace's function), and
no socket, proxy or ``allow_hosts`` is involved. The hop count still bounds a chain of calls,
as it does a chain of fetches (``subrequests.MAX_HOPS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from vortex.errors import FunctionNotFound, VortexError
from vortex.isolates.bindings import (
    BINDING_UNAVAILABLE,
    Binding,
    BindingError,
    Caller,
)
from vortex.isolates.exchange import BodyBroken, HttpRequest, ResponseHead
from vortex.isolates.invocation import Invocation
from vortex.isolates.subrequests import (
    LOOP_DETECTED,
    MAX_HOPS,
    Subrequest,
    SubrequestRefused,
    SubrequestResponse,
)
from vortex.modules.bundle import ModuleBundle
from vortex.services.targets import ServiceTarget
from vortex.serviceworker import takes_events

if TYPE_CHECKING:
    from vortex.functions import Code
    from vortex.runs import RunService
    from vortex.storage.base import FunctionRecord

SERVICE_PREFIX = "service:"
"""A service binding's key among a run's bindings is this + its name in ``env``."""
SERVICE_NOT_FOUND = "service_not_found"
SERVICE_NOT_A_WORKER = "service_not_a_worker"
SERVICE_FAILED = "service_failed"
SERVICE_RESPONSE_TOO_LARGE = "service_response_too_large"
SERVICE_INVALID_OPERATION = "service_invalid_operation"
NO_BODY_STATUS = frozenset({101, 204, 205, 304})


def service_key(name: str) -> str:
    return SERVICE_PREFIX + name


def _loop_response(hops: int) -> SubrequestResponse:
    # What the listener answers to a request that went round as often (httpserve), so that a
    # cycle of bindings ends as a cycle of fetches does: the innermost call gets a 508.
    message = (
        f"The request went through {hops} runs of functions that called it on (service "
        f"bindings or fetch): a loop, refused at {MAX_HOPS}"
    )
    body = orjson.dumps({"error": {"code": LOOP_DETECTED, "message": message}})
    headers = [("content-type", "application/json")]
    return SubrequestResponse(508, "", headers, "", False, body)


class TargetBody:
    """``subrequests.ResponseBody`` over the target run's streamed body, for the caller's
    ``fetch()`` machinery (fetchbodies.py reads it as the caller's run reads). Closed before
    its end (the caller cancelled the body, or its run ended), the target's body stream is
    cancelled, as when a listener's client leaves."""

    def __init__(self, invocation: Invocation, where: str, limit: int) -> None:
        self._invocation = invocation
        self._chunks = invocation.body_chunks()
        self._where = where
        self._limit = limit
        self._total = 0
        self._left = b""

    async def read(self, most: int) -> bytes:
        if not self._left:
            try:
                self._left = await anext(self._chunks)
            except StopAsyncIteration:
                return b""
            except BodyBroken as exc:
                raise SubrequestRefused(f"{self._where}: {exc}") from None
            self._total += len(self._left)
            if self._total > self._limit:
                raise SubrequestRefused(
                    f"{self._where}: the response body is larger than {self._limit} bytes"
                )
        data, self._left = self._left[:most], self._left[most:]
        return data

    def close(self) -> None:
        # At once, read or not (a generator never iterated runs no ``finally`` when closed);
        # the generator, left waiting, is collected with this.
        self._invocation.abandon_body()


async def _needs_a_caller(op: str, args: Mapping[str, Any], body: bytes | None) -> Any:
    # RunRequests calls ``service_call`` with the run; nothing else may call a service.
    raise BindingError(BINDING_UNAVAILABLE, "a service binding is called by a run only")


def _rpc_call(args: Mapping[str, Any]) -> dict[str, Any]:
    method, given = args.get("method"), args.get("args")
    if not isinstance(method, str) or not isinstance(given, list):
        raise BindingError(SERVICE_INVALID_OPERATION, "an RPC call needs a method and arguments")
    return {"method": method, "args": given}


def service_binding(
    runs: RunService, caller: FunctionRecord, name: str, target_of: ServiceTarget, max_bytes: int
) -> Binding:
    """``env.<name>`` of ``caller``'s runs, calling the function ``target_of`` names: ``fetch``
    runs its fetch handler, ``rpc`` a method of its ``WorkerEntrypoint`` class (of its
    default export, or of the named entrypoint's export)."""
    namespace = caller.namespace
    trigger = SERVICE_PREFIX + (caller.name or caller.id)
    service, entrypoint, props = target_of
    where = f"env.{name} (service {service})"
    if entrypoint is not None:
        where = f"env.{name} (service {service}, entrypoint {entrypoint})"

    def too_large() -> BindingError:
        return BindingError(
            SERVICE_RESPONSE_TOO_LARGE,
            f"{where}: the response body is larger than {max_bytes} bytes",
        )

    async def target() -> tuple[FunctionRecord, Code]:
        try:
            pointer = await runs.registry.pointer(namespace, service)
            record = await runs.registry.record(pointer.active_ref.function_id)
            return await runs.registry.code_of(record)
        except FunctionNotFound:
            raise BindingError(
                SERVICE_NOT_FOUND,
                f"{where}: no function named {service!r} in this namespace; deploy it, "
                "then call again",
            ) from None
        except VortexError as exc:
            raise BindingError(exc.code, f"{where}: {exc.message}") from None

    async def start(
        record: FunctionRecord,
        code: Code,
        caller: Caller,
        request: HttpRequest | None = None,
        rpc: dict[str, Any] | None = None,
    ) -> Invocation:
        try:
            started = await runs.start(
                record,
                code,
                str(uuid.uuid4()),
                request,
                trigger=trigger,
                hops=caller.hops + 1,
                rpc=rpc,
                subrequests=caller.subrequests,
                entrypoint=entrypoint,
                props=props,
            )
        except VortexError as exc:
            raise BindingError(exc.code, f"{where}: {exc.message}") from None
        return started.invocation

    async def answered(invocation: Invocation) -> ResponseHead:
        head = await invocation.response
        if head is None:
            # At once for a target that threw with waitUntil work going, as workerd answers.
            outcome = await invocation.caller_outcome
            error = outcome.error or {"code": "no_response", "message": "it returned no Response"}
            raise BindingError(
                SERVICE_FAILED, f"{where} failed: {error['code']}: {error['message']}"
            )
        return head

    async def whole_answer(invocation: Invocation) -> bytes:
        """An RPC call's answer, a Response whose body is the result in JSON, read whole."""
        head = await answered(invocation)
        if not head.streaming:
            if len(head.body or b"") > max_bytes:
                raise too_large()
            return head.body or b""
        chunks: list[bytes] = []
        size = 0
        try:
            # Closed when given up on (too large, the caller's run ended): the target's body
            # is cancelled then, not streamed to its own limit for nobody.
            async with contextlib.aclosing(invocation.body_chunks()) as body:
                async for chunk in body:
                    size += len(chunk)
                    if size > max_bytes:
                        raise too_large()
                    chunks.append(chunk)
        except BodyBroken as exc:
            raise BindingError(SERVICE_FAILED, f"{where}: {exc}") from None
        return b"".join(chunks)

    async def fetch(caller: Caller, request: Subrequest) -> SubrequestResponse:
        """``env.X.fetch()``: the target's Response as a ``fetch()``'s, its body streamed as
        the caller reads it (``TargetBody``)."""
        if caller.hops + 1 >= MAX_HOPS:
            return _loop_response(caller.hops + 1)
        record, code = await target()
        if not takes_events(code):
            raise BindingError(
                SERVICE_NOT_A_WORKER,
                f"{where}: {service} is a script without a fetch handler; a service binding "
                "calls a module's fetch (export default { fetch }) or a fetch listener",
            )
        if entrypoint is not None and not isinstance(code, ModuleBundle):
            raise BindingError(
                SERVICE_NOT_A_WORKER,
                f"{where}: {service} is not a module, so it has no export {entrypoint}; "
                f"export class {entrypoint} extends WorkerEntrypoint {{ ... }}",
            )
        given = HttpRequest(request.method, request.url, list(request.headers), request.body)
        invocation = await start(record, code, caller, request=given)
        try:
            head = await answered(invocation)
        except asyncio.CancelledError:
            # The caller gave up before the head: the body, when it comes, is nobody's.
            invocation.response.add_done_callback(lambda _: invocation.abandon_body())
            raise
        bodyless = head.status in NO_BODY_STATUS or request.method == "HEAD"
        if not head.streaming or bodyless:
            if bodyless and head.streaming:
                invocation.abandon_body()  # nobody will read it
            content = b"" if bodyless else head.body or b""
            if len(content) > max_bytes:
                raise too_large()
            return SubrequestResponse(
                head.status, head.status_text, head.headers, "", False, content
            )
        rest = TargetBody(invocation, where, max_bytes)
        return SubrequestResponse(head.status, head.status_text, head.headers, "", False, b"", rest)

    async def rpc(args: Mapping[str, Any], caller: Caller) -> Any:
        call = _rpc_call(args)
        record, code = await target()
        if not isinstance(code, ModuleBundle):
            raise BindingError(
                SERVICE_NOT_A_WORKER,
                f"{where}: {service} is not a module, so it has no methods to call; "
                "export default class extends WorkerEntrypoint { ... }",
            )
        # The method's result (or the error it threw) comes back as a Response's JSON body.
        return orjson.loads(await whole_answer(await start(record, code, caller, rpc=call)))

    async def call(caller: Caller, op: str, args: Mapping[str, Any], body: bytes | None) -> Any:
        # fetch() comes as a fetch (``service_fetch``), streamed; RPC calls as binding calls.
        if op != "rpc":
            raise BindingError(SERVICE_INVALID_OPERATION, f"{where} has no operation {op!r}")
        hops = caller.hops + 1
        if hops >= MAX_HOPS:
            raise BindingError(
                LOOP_DETECTED,
                f"{where}: the call went through {hops} runs of functions: a loop, refused "
                f"at {MAX_HOPS}",
            )
        return await rpc(args, caller)

    # The harness refuses a request body or RPC arguments over the same limit before sending:
    # a frame past the pipe's own limit would cost the caller's host.
    describe = {"name": name, "service": service, "max_bytes": max_bytes}
    return Binding(_needs_a_caller, describe, service_call=call, service_fetch=fetch)
