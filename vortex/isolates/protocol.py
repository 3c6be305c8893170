"""The protocol between the supervisor (in the server) and its host processes.

Everything that crosses the pipes between them is a frame of this module: a 4-byte big-endian
length, then one msgspec Struct encoded with MessagePack. A frame's kind is its tag (``"t"``,
the first item of its array), and each side decodes into the union of the frames the *other*
side sends, so a frame is typed once it is read: a field of the wrong type, an unknown kind or
a truncated frame is a ``FrameError``, and a host that sends one is killed and replaced as if
it had died (its runs fail with ``host_crashed``; no traceback reaches anyone). Bytes cross as
bytes: request and response bodies, a stream's chunks, outbound fetch bodies and the bytes of
binding calls and their answers (KV values) are never base64'd.

The supervisor sends (``ToHost``):
    Run        start a run: a script, or a module's fetch/scheduled handler (POST /execute,
               the cron, the API); the host answers with Log, Response, Chunk, BodyEnd, Done
    Check      compile code without running it (a deploy's syntax check); answered by Checked
    Fetched    the answer to a run's outbound fetch() (Fetch), once the origin's head is in:
               with its whole body, or ``stream`` set: its body follows as FetchChunk frames
               and a FetchEnd, as the host asks for them (FetchPull)
    FetchChunk a piece of a fetched response's body
    FetchEnd   the end of a fetched body, or the error that broke it (its size limit, a timeout)
    BodyPull   bytes of a run's streamed response body its reader took: room for as many more
               (at most ``exchange.BODY_WINDOW`` are ahead of the reader)
    BodyCancel nobody reads a run's streamed response body any more (the service binding's
               caller that did gave up on it, or ended): its stream is cancelled
    Answered   the answer to a run's binding call (Call: KV)
    Routed     the answer to Resolve: the function a hostname of the listener reaches
    AssetData  the answer to AssetRead: a static asset's bytes
    Warm       a just-deployed function's route, pushed before anyone asks, to make an instance
    Listen     the functions listener's settings, once (the host serves the connections the
               supervisor hands it over the SEQPACKET pair of handoff.py)
    Drain      the host is retired: its listener connections close after their request
    Ping       are you there? answered by Pong between two turns (liveness.py)

A host sends (``ToSupervisor``):
    Ready      once, booted and locked down (and whether it interrupts its own runaways)
    Adopt      a run its own listener started needs the supervisor (a log line, a fetch, a
               binding call are coming): the supervisor makes a handle for it
    Log        a run's console line
    Response   a module run's response head, with its whole body or ``stream`` set
    Chunk      a piece of a streamed response body
    BodyEnd    the end of a streamed body, or the error that broke it
    Failed     a module run's handler threw while its waitUntil work goes on: its caller is
               answered with the failure now, and Done follows once that work settles
    Fetch      a run's outbound fetch(); FetchAbort when its signal aborts it or its body is
               cancelled
    FetchPull  bytes of a fetched body the run has read: room for that many more
    Call       a run's call to one of its bindings (KV)
    Done       a run is over: its output or error, and the CPU time it used
    Ended      in batches: the records of listener runs the supervisor never heard of, and
               the access records of the listener's requests (and how many were dropped)
    Checked    the answer to Check
    Resolve    which function does this hostname reach? (a listener request's first)
    AssetRead  the bytes of a static asset of a function (the host's cache does not hold them)
    Pong       the answer to Ping

What is not a frame: the turn clock (turnclock.py, shared memory the supervisor reads while a
turn runs and the host cannot answer) and the listener's connections (handoff.py).
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any, Literal, TypeAlias, TypeVar

import msgspec

from vortex.isolates.exchange import HttpRequest
from vortex.isolates.limits import Limits

HEADER = struct.Struct(">I")
MAX_FRAME = 64 << 20
_NO_SIZE = bytes(HEADER.size)
T = TypeVar("T")


class FrameError(Exception):
    """The other side sent something that is not a frame; the pipe cannot be trusted any more."""


class FrameTooLarge(Exception):
    """A frame this side was about to send is over ``MAX_FRAME``: it was not sent (the other
    side would take it for a broken pipe and end the process), and the sender refuses what asked
    for it instead (a run's fetch body, a binding call's bytes)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes, over the {MAX_FRAME >> 20} MiB a frame may carry")
        self.size = size


# Arrays, not maps: field names never cross, and no reference cycle can hold a frame (gc=False).
class Frame(msgspec.Struct, tag_field="t", array_like=True, gc=False):
    """A frame of the protocol; its subclasses' tags are the frame kinds."""


class RunFrame(Frame):
    """A frame about one run, named by ``id``: the supervisor numbers the runs it sends from
    1, a host the runs of its own listener from ``bridge.LOCAL_IDS_FROM``."""

    id: int


class ErrorBody(msgspec.Struct, array_like=True, gc=False):
    """An error as the API shows it (``{"error": {"code", "message"}}``)."""

    code: str
    message: str


class AssetSpec(msgspec.Struct, array_like=True, gc=False):
    """A version's static assets, as a host serves them (``vortex.assets``)."""

    files: dict[str, tuple[str, int]] | None
    """Path → (SHA-256, size); None when the host has this function's already (``known``)."""
    binding: str | None
    not_found_handling: str
    html_handling: str
    run_worker_first: bool | list[str]
    headers: str = ""
    """The ``_headers`` file's text, checked at deploy."""
    redirects: str = ""
    """The ``_redirects`` file's text, checked at deploy."""


class RouteSpec(msgspec.Struct, array_like=True, gc=False):
    """What a host needs to serve a function's requests itself (``isolates.route.Route``)."""

    function_id: str
    module: bool
    code: str | None
    """None when the host already has this function's code (it asked with ``known``)."""
    filename: str
    limits: Limits
    env: dict[str, str]
    bindings: dict[str, dict[str, Any]]
    instance: str
    """The warm instance's key (the function version's id), or "" for a fresh one per run."""
    elsewhere: bool = False
    """With dedicated hosts: the function's namespace has another host (answered 421)."""
    service_worker: bool = False
    """A script in service-worker syntax (``vortex.serviceworker``): it gets the request."""
    assets: AssetSpec | None = None


class RunRecord(msgspec.Struct, array_like=True, gc=False):
    """The record of a listener run the supervisor never heard of (in ``Ended``)."""

    function_id: str
    run_id: str
    output: str | None
    error: dict[str, Any] | None
    cpu_ms: float
    wall_ms: float
    ended_at: float
    """Wall-clock time it ended: records leave in batches, so not when the supervisor hears."""


class AccessRecord(msgspec.Struct, array_like=True, gc=False):
    """One request of a host's listener, made when its answer ended (``httpserve``): what the
    operator's access line says of it (``oplog.listener_request``)."""

    method: str
    """"" when the request was refused before its method was known (not HTTP)."""
    path: str
    """Without the query string (it may carry tokens), cut at 256 characters."""
    status: int
    """As sent, or 408 (head timed out) or 499 (the client went away before the answer)."""
    ms: float
    """Wall time from the request's first byte to its answer's last."""
    hostname: str
    function_id: str | None = None
    run_id: str | None = None
    error: str | None = None
    """The error code of the answer (the host's own refusal, or the run's), if any."""


# -- the supervisor sends ---------------------------------------------------------------------
class Run(RunFrame, tag="run"):
    """Start a run. ``code`` is a script, or the built script of a module whose ``fetch``
    handler gets ``request`` (or whose ``scheduled`` handler gets ``scheduled``); a
    service-worker script gets them as events for its listeners."""

    code: str
    limits: Limits
    filename: str
    kind: Literal["script", "module", "service-worker"]
    env: dict[str, str]
    bindings: dict[str, dict[str, Any]]
    request: HttpRequest | None = None
    scheduled: dict[str, Any] | None = None
    instance: str = ""
    """The key of the module instance to reuse (one per function version), or "" for none."""
    hops: int = 0
    """The hop count of its request (a service binding's call: the caller's, plus one)."""
    rpc: dict[str, Any] | None = None
    """A service binding's RPC call, ``{"method", "args"}``: a module's class gets it instead
    of a request, and answers with a Response whose body is the result in JSON."""
    entrypoint: str = ""
    """The module's export that gets ``request`` or ``rpc`` (a service binding's named
    entrypoint); "" for its default export."""
    props: dict[str, Any] | None = None
    """The run's ``ctx.props`` (a service binding's ``props``); None for an empty object."""


class Check(RunFrame, tag="check"):
    """Compile ``code`` without running it; answered by ``Checked`` with the same id."""

    code: str


class Fetched(RunFrame, tag="fetched"):
    """The answer to ``Fetch`` ``fid``: a response, or ``error`` when it was refused. ``body``
    is the whole body, or with ``stream`` its first bytes: ``FetchChunk`` frames and a
    ``FetchEnd`` follow."""

    fid: int
    error: str | None = None
    status: int = 0
    status_text: str = ""
    headers: list[tuple[str, str]] = []
    url: str = ""
    redirected: bool = False
    body: bytes | None = None
    stream: bool = False
    code: str = ""
    """With ``error``, a service binding's refusal: its code (``service_not_found``...), for
    an ``Error`` with that ``code``; "" for a ``fetch()``'s ``TypeError``."""


class FetchChunk(RunFrame, tag="fetch_chunk"):
    """The next bytes of fetch ``fid``'s body; never more than the host made room for."""

    fid: int
    data: bytes


class FetchEnd(RunFrame, tag="fetch_end"):
    """Fetch ``fid``'s body is over: whole (``error`` None), or broken off."""

    fid: int
    error: str | None = None


class BodyPull(RunFrame, tag="body_pull"):
    """The reader of the run's streamed response body took ``size`` more bytes of it."""

    size: int


class BodyCancel(RunFrame, tag="body_cancel"):
    """Nobody reads the run's streamed response body any more: its stream is cancelled at its
    next chunk, as when a listener's client leaves (a passed-through fetch closes its origin's
    connection), rather than fill the supervisor up to the run's limit for nobody."""


class Answered(RunFrame, tag="answered"):
    """The answer to ``Call`` ``cid``: the binding's result (any JSON value) and the bytes that
    come with it, if any, or ``error``."""

    cid: int
    result: Any = None
    error: ErrorBody | None = None
    body: bytes | None = None


class Routed(Frame, tag="route"):
    """The answer to ``Resolve`` ``rid``: the route, or the error the client gets."""

    rid: int
    route: RouteSpec | None = None
    status: int = 404
    error: ErrorBody | None = None
    matched: str = ""
    """A custom domain's hostname: the path pattern of the route (``/v1/*``)."""
    paths: list[str] | None = None
    """A custom domain's hostname: all its path patterns, most specific first; None for a
    hostname of the functions domain (one function for every path)."""


class Warm(Frame, tag="warm"):
    """A function just deployed: its route for ``hostnames``, to make its instance now."""

    hostnames: list[str]
    route: RouteSpec


class Listen(Frame, tag="listen"):
    """The functions listener's settings (``httpserve.ListenerConfig``)."""

    max_body_bytes: int
    header_timeout: float
    idle_timeout: float
    trust_proxy: bool
    debug_host_header: bool
    error_details: bool = True
    """Whether a thrown error's name and message are in a failed run's answer."""
    access_records: bool = True
    """Whether to send an ``AccessRecord`` per request (the server logs access lines)."""
    ws_lifetime: float = 3600.0
    asset_cache_bytes: int = 16 << 20
    """Static assets' bytes a host keeps (``hostassets``)."""
    """Seconds a WebSocket stays open at most (``wsconn.MAX_LIFETIME``)."""


class Drain(Frame, tag="drain"):
    """The host takes no new run; its listener connections close after their request."""


class Ping(Frame, tag="ping"):
    """Liveness: the host answers ``Pong`` with the same ``seq`` when its loop is free."""

    seq: int


# -- a host sends -------------------------------------------------------------------------------
class Ready(Frame, tag="ready"):
    """The host booted; ``interrupts``: it stops its own runaway turns (interrupt.py)."""

    pid: int
    interrupts: bool


class Adopt(RunFrame, tag="adopt"):
    """A listener run of this host needs the supervisor from now on."""

    function_id: str
    run_id: str


class Log(RunFrame, tag="log"):
    level: str
    message: str
    timestamp: str


class Response(RunFrame, tag="response"):
    """A module run's response head; ``body`` is whole, or ``stream``: chunks follow."""

    status: int
    status_text: str
    headers: list[tuple[str, str]]
    body: bytes | None
    stream: bool


class Chunk(RunFrame, tag="chunk"):
    data: bytes


class BodyEnd(RunFrame, tag="body_end"):
    """A streamed body is over: whole (``error`` None), or broken off."""

    error: str | None


class Failed(RunFrame, tag="failed"):
    """The run's handler threw (or its promise rejected) while its ``waitUntil`` work goes on:
    whoever waits for its response is answered with ``error`` now; ``Done`` comes later."""

    error: dict[str, Any]
    cpu_ms: float
    """The CPU time the run used so far."""


class Fetch(RunFrame, tag="fetch"):
    """A run's outbound ``fetch()`` number ``fid``; answered by ``Fetched``."""

    fid: int
    method: str
    url: str
    headers: list[tuple[str, str]]
    redirect: str
    body: bytes | None
    hops: int = 0
    """The hop count of the request that started the run (``subrequests.LOOP_HEADER``)."""
    service: str = ""
    """The key of a service binding (``env.AUTH.fetch``): the request goes to the function it
    names, not to the network; "" for a ``fetch()``."""


class FetchAbort(RunFrame, tag="fetch_abort"):
    """Fetch ``fid`` is not wanted any more: before its head (its signal aborted) or after
    (its body was cancelled): the supervisor closes the connection to the origin."""

    fid: int


class FetchPull(RunFrame, tag="fetch_pull"):
    """The run read ``size`` more bytes of fetch ``fid``'s body: the supervisor may send that
    many more (``fetchbodies.WINDOW`` in flight at most)."""

    fid: int
    size: int


class Call(RunFrame, tag="call"):
    """A run's call ``cid`` to its binding ``binding`` (KV); answered by ``Answered``."""

    cid: int
    binding: str
    op: str
    args: Any
    body: bytes | None = None
    """Bytes the call sends besides its JSON arguments (a KV value put as an ArrayBuffer)."""
    hops: int = 0
    """The hop count of the request that started the run, as in ``Fetch``."""


class Done(RunFrame, tag="done"):
    """The run is over. ``output`` is the JSON text given to ``Vortex.return``; ``wall_ms``
    is set for a listener run (it began in the host, before the supervisor heard of it)."""

    output: str | None
    error: dict[str, Any] | None
    cpu_ms: float
    wall_ms: float | None = None


class Ended(Frame, tag="ended"):
    """Records of listener runs that ended without needing the supervisor, and of requests."""

    runs: list[RunRecord]
    access: list[AccessRecord] = []
    dropped: int = 0
    """Access records dropped since the last batch: the pipe to the supervisor was full."""


class Checked(RunFrame, tag="checked"):
    """None if the code compiles, else ``{"message", "line", "column"}``."""

    problem: dict[str, Any] | None


class Resolve(Frame, tag="resolve"):
    """Which function answers ``hostname``? ``known``: the function whose code the host has
    for it, not to be sent again."""

    rid: int
    hostname: str
    known: str | None
    path: str = ""
    """The request's target (path and query): a custom domain's routes depend on it."""


class AssetRead(Frame, tag="asset_read"):
    """The bytes of one of ``function_id``'s static assets, by content hash: the supervisor
    answers only for a hash of that version's own manifest."""

    rid: int
    function_id: str
    digest: str


class AssetData(Frame, tag="asset"):
    rid: int
    body: bytes | None = None
    error: ErrorBody | None = None


class Pong(Frame, tag="pong"):
    seq: int


ToHost: TypeAlias = (
    Run
    | Check
    | Fetched
    | FetchChunk
    | FetchEnd
    | BodyPull
    | BodyCancel
    | Answered
    | Routed
    | Warm
    | Listen
    | Drain
    | Ping
    | AssetData
)
ToSupervisor: TypeAlias = (
    Ready
    | Adopt
    | Log
    | Response
    | Chunk
    | BodyEnd
    | Failed
    | Fetch
    | FetchAbort
    | FetchPull
    | Call
    | Done
    | Ended
    | Checked
    | Resolve
    | AssetRead
    | Pong
)

_encoder = msgspec.msgpack.Encoder()
# Each side reads only what the other side may send: anything else fails to decode.
FOR_HOST: msgspec.msgpack.Decoder[ToHost] = msgspec.msgpack.Decoder(ToHost)
FOR_SUPERVISOR: msgspec.msgpack.Decoder[ToSupervisor] = msgspec.msgpack.Decoder(ToSupervisor)


class Outbox:
    """Frames waiting to leave in one write, encoded straight into one buffer: a write to a
    pipe is a system call, and the frames of one loop iteration (the runs of a burst of
    requests, a run's response and its end) need only one."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def __bool__(self) -> bool:
        return bool(self._buffer)

    def add(self, frame: Frame) -> None:
        """Raises ``UnicodeEncodeError`` for a string with a lone surrogate (legal in
        JavaScript, not in UTF-8), and ``FrameTooLarge``, leaving the outbox as it was."""
        buffer = self._buffer
        start = len(buffer)
        buffer += _NO_SIZE
        try:
            _encoder.encode_into(frame, buffer, -1)
        except BaseException:
            del buffer[start:]
            raise
        size = len(buffer) - start - HEADER.size
        if size > MAX_FRAME:
            del buffer[start:]
            raise FrameTooLarge(size)
        HEADER.pack_into(buffer, start, size)

    def take(self) -> bytearray:
        data, self._buffer = self._buffer, bytearray()
        return data


async def read(reader: asyncio.StreamReader, decoder: msgspec.msgpack.Decoder[T]) -> T | None:
    """The next frame, typed by ``decoder`` (``FOR_HOST`` or ``FOR_SUPERVISOR``), or None at a
    clean end of stream."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise FrameError("stream ended inside a frame header") from None
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise FrameError(f"frame of {size} bytes is over the limit")
    try:
        body = await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise FrameError("stream ended inside a frame") from None
    try:
        return decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise FrameError(f"not a frame: {exc}") from None
