"""What a run asks of the supervisor while it runs: outbound ``fetch()`` and binding calls (KV).

A host sends a ``Fetch`` or ``Call`` frame for the run; the answer goes back as ``Fetched`` or
``Answered`` once the injected ``Fetcher`` or the binding has it, if the run is still there (a
fetch's once the head of its response is in: its body follows as the run reads it,
fetchbodies.py). A service binding's ``fetch()`` is a ``Fetch`` naming the binding, answered by
the function it calls (``Binding.service_fetch``) as a fetch is. Each run's count of both is
limited (``Limits.subrequests``, ``binding_calls``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from vortex.isolates.bindings import (
    BINDING_CALL_LIMIT_EXCEEDED,
    BINDING_UNAVAILABLE,
    SUBREQUEST_LIMIT_EXCEEDED,
    Binding,
    BindingError,
    Caller,
    WithBytes,
)
from vortex.isolates.fetchbodies import Window, send_body
from vortex.isolates.host_process import HostProcess
from vortex.isolates.invocation import Invocation
from vortex.isolates.protocol import Answered, Call, ErrorBody, Fetch, Fetched
from vortex.isolates.subrequests import (
    Fetcher,
    Subrequest,
    SubrequestRefused,
    SubrequestResponse,
)

log = logging.getLogger(__name__)


class RunRequests:
    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    def on_fetch(self, host: HostProcess, invocation: Invocation, message: Fetch) -> None:
        fid = message.fid
        invocation.subrequests.made += 1
        if invocation.subrequests.made > invocation.limits.subrequests:
            limit = invocation.limits.subrequests
            said = f"Too many subrequests: the limit is {limit} per invocation"
            refused: SubrequestRefused | BindingError = SubrequestRefused(said)
            if message.service:
                refused = BindingError(SUBREQUEST_LIMIT_EXCEEDED, said)
            self._answer_fetch(host, invocation, fid, refused)
            return
        request = Subrequest(
            method=message.method,
            url=message.url,
            headers=message.headers,
            body=message.body,
            redirect=message.redirect or "follow",
            hops=message.hops,
        )
        answer: Callable[[], Awaitable[SubrequestResponse]]
        if message.service:
            # env.AUTH.fetch(): the function the binding names answers, not the network.
            binding = invocation.bindings.get(message.service)
            if binding is None or binding.service_fetch is None:
                refusal = BindingError(BINDING_UNAVAILABLE, "this binding is not available")
                self._answer_fetch(host, invocation, fid, refusal)
                return
            answer = functools.partial(
                binding.service_fetch, Caller(message.hops, invocation.subrequests), request
            )
        else:
            answer = functools.partial(self.fetcher, request, invocation.allow_hosts)
        task = asyncio.create_task(self._fetch(host, invocation, fid, request, answer))
        invocation.fetches[fid] = task

    async def _fetch(
        self,
        host: HostProcess,
        invocation: Invocation,
        fid: int,
        request: Subrequest,
        answer: Callable[[], Awaitable[SubrequestResponse]],
    ) -> None:
        try:
            result: SubrequestResponse | SubrequestRefused | BindingError = await answer()
        except (SubrequestRefused, BindingError) as exc:
            result = exc
        except Exception:
            log.exception("outbound fetch of %s failed", request.url)
            result = SubrequestRefused(f"fetch to {request.url} failed: internal error")
        if isinstance(result, (SubrequestRefused, BindingError)) or result.rest is None:
            invocation.fetches.pop(fid, None)
            self._answer_fetch(host, invocation, fid, result)
            return
        # The task stays the fetch's while its body streams: cancelled (the run ended, or it
        # dropped the fetch), it closes the connection to the origin here.
        rest = result.rest
        window = Window(len(result.body))
        try:
            if self._answer_fetch(host, invocation, fid, result):
                invocation.fetch_windows[fid] = window
                await send_body(host, invocation, fid, rest, window)
        finally:
            rest.close()
            invocation.fetches.pop(fid, None)
            invocation.fetch_windows.pop(fid, None)

    @staticmethod
    def _answer_fetch(
        host: HostProcess,
        invocation: Invocation,
        fid: int,
        result: SubrequestResponse | SubrequestRefused | BindingError,
    ) -> bool:
        """Whether the answer was sent (the run is still there)."""
        if not host.alive or invocation.id not in host.runs:
            return False
        if isinstance(result, SubrequestRefused):
            host.send(Fetched(invocation.id, fid, error=str(result)))
            return True
        if isinstance(result, BindingError):
            host.send(Fetched(invocation.id, fid, error=result.message, code=result.code))
            return True
        host.send(
            Fetched(
                invocation.id,
                fid,
                status=result.status,
                status_text=result.status_text,
                headers=result.headers,
                url=result.url,
                redirected=result.redirected,
                body=result.body,
                stream=result.rest is not None,
            )
        )
        return True

    def on_call(self, host: HostProcess, invocation: Invocation, message: Call) -> None:
        cid = message.cid
        binding = invocation.bindings.get(message.binding)
        args = message.args if isinstance(message.args, dict) else {}
        caller = None
        if binding is not None and binding.service_call is not None:
            # Another function's run: a subrequest, as on Workers, and one hop further.
            invocation.subrequests.made += 1
            caller = Caller(message.hops, invocation.subrequests)
            if invocation.subrequests.made > invocation.limits.subrequests:
                limit = invocation.limits.subrequests
                error = BindingError(
                    SUBREQUEST_LIMIT_EXCEEDED,
                    f"Too many subrequests: the limit is {limit} per invocation",
                )
                self._answer_call(host, invocation, cid, error)
                return
        else:
            invocation.binding_calls += 1
        if invocation.binding_calls > invocation.limits.binding_calls:
            limit = invocation.limits.binding_calls
            error = BindingError(
                BINDING_CALL_LIMIT_EXCEEDED,
                f"Too many calls to bindings (KV operations): the limit is {limit} per invocation",
            )
            self._answer_call(host, invocation, cid, error)
        elif binding is None:
            error = BindingError(BINDING_UNAVAILABLE, "this binding is not available to the run")
            self._answer_call(host, invocation, cid, error)
        else:
            task = asyncio.create_task(
                self._call(host, invocation, cid, binding, message.op, args, message.body, caller)
            )
            invocation.calls[cid] = task

    async def _call(
        self,
        host: HostProcess,
        invocation: Invocation,
        cid: int,
        binding: Binding,
        op: str,
        args: dict[str, Any],
        body: bytes | None,
        caller: Caller | None,
    ) -> None:
        try:
            if binding.service_call is not None and caller is not None:
                result: Any = await binding.service_call(caller, op, args, body)
            else:
                result = await binding.call(op, args, body)
        except BindingError as exc:
            result = exc
        except Exception:
            log.exception("binding call %s failed", op)
            result = BindingError(BINDING_UNAVAILABLE, f"{op} failed: internal error")
        invocation.calls.pop(cid, None)
        self._answer_call(host, invocation, cid, result)

    @staticmethod
    def _answer_call(host: HostProcess, invocation: Invocation, cid: int, result: Any) -> None:
        if not host.alive or invocation.id not in host.runs:
            return
        if isinstance(result, BindingError):
            host.send(Answered(invocation.id, cid, error=ErrorBody(result.code, result.message)))
        elif isinstance(result, WithBytes):
            host.send(Answered(invocation.id, cid, result=result.result, body=result.body))
        else:
            host.send(Answered(invocation.id, cid, result=result))
