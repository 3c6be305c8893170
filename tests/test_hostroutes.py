"""A host's route table, without processes: a hostname of the functions domain is one route; a
custom domain's hostname a route per path pattern, matched in the host once the supervisor told
it the hostname's patterns. And the path matching both sides share."""

from __future__ import annotations

import asyncio

import pytest

from vortex.isolates.hostroutes import RouteError, RouteTable
from vortex.isolates.limits import Limits
from vortex.isolates.pathmatch import first_match, path_of
from vortex.isolates.protocol import ErrorBody, Frame, Resolve, Routed, RouteSpec


def spec(function_id: str) -> RouteSpec:
    return RouteSpec(function_id, True, "code", "index.mjs", Limits(), {}, {}, function_id)


class Supervisor:
    def __init__(self) -> None:
        self.asked: list[Resolve] = []
        self.generation = 0

    def send(self, frame: Frame) -> None:
        assert isinstance(frame, Resolve)
        self.asked.append(frame)

    def table(self) -> RouteTable:
        return RouteTable(self.send, lambda text: text, lambda: self.generation)


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("/v1/items?q=1", "/v1/items?q=1"),
        ("http://api.example.com/v1/x?a", "/v1/x?a"),
        ("http://api.example.com", "/"),
        ("*", "/"),
        ("/v1/../admin/x", "/admin/x"),
        ("/v1/%2e%2E/admin", "/admin"),
        ("/a/./b/", "/a/b/"),
        ("/a/..", "/"),
        ("/v1/x/..?q=/..", "/v1/?q=/.."),
    ],
)
def test_the_path_a_route_is_matched_against(target: str, path: str) -> None:
    assert path_of(target) == path


def test_the_most_specific_pattern_first() -> None:
    patterns = ("/about", "/v1/v2/*", "/v1/*", "/*")
    assert first_match(patterns, "/v1/v2/x") == "/v1/v2/*"
    assert first_match(patterns, "/v1/x") == "/v1/*"
    assert first_match(patterns, "/about") == "/about"
    assert first_match(patterns, "/about?x=1") == "/*"
    assert first_match(("/v1/*",), "/v1") is None


async def test_a_custom_domain_is_matched_by_path_in_the_host() -> None:
    supervisor = Supervisor()
    table = supervisor.table()
    host = "api.example.com"
    assert table.lookup(host, b"/v1/a") is None
    # Two paths of a hostname never seen: two questions, not one answer for both.
    first, second = table.resolve(host, b"/v1/a"), table.resolve(host, b"/v2/a")
    assert table.resolve(host, b"/v1/a") is first
    assert [(q.hostname, q.path) for q in supervisor.asked] == [(host, "/v1/a"), (host, "/v2/a")]
    paths = ["/v1/*", "/*"]
    table.answered(Routed(supervisor.asked[0].rid, spec("one"), matched="/v1/*", paths=paths))
    table.answered(Routed(supervisor.asked[1].rid, spec("two"), matched="/*", paths=paths))
    assert (await first).function_id == "one" and (await second).function_id == "two"

    # From now on the host matches the paths itself.
    for target, function_id in [(b"/v1/b?x", "one"), (b"/", "two"), (b"/v1/../x", "two")]:
        route = table.lookup(host, target)
        assert route is not None and route.function_id == function_id, target
    # A change of routes (here or on another node) makes it ask again, with what it has.
    supervisor.generation += 1
    assert table.lookup(host, b"/v1/b") is None
    # The patterns may have changed too: each path is its own question until they are known.
    asked = table.resolve(host, b"/v1/b")
    assert table.resolve(host, b"/v1/c") is not asked
    assert len(supervisor.asked) == 4 and supervisor.asked[2].known == "one"
    table.answered(Routed(supervisor.asked[2].rid, spec("one"), matched="/v1/*", paths=paths))
    await asked
    # Known again: a pattern whose route is not kept yet is one question for its paths.
    table.resolve(host, b"/other")
    assert table.resolve(host, b"/more") is table.resolve(host, b"/other")
    assert len(supervisor.asked) == 5 and supervisor.asked[4].known == "two"


async def test_new_patterns_drop_the_routes_of_the_old() -> None:
    supervisor = Supervisor()
    table = supervisor.table()
    host = "api.example.com"
    asked = table.resolve(host, b"/v1/a")
    table.answered(Routed(supervisor.asked[0].rid, spec("all"), matched="/*", paths=["/*"]))
    await asked
    supervisor.generation += 1
    asked = table.resolve(host, b"/v2/a")
    new = ["/v2/*", "/*"]
    table.answered(Routed(supervisor.asked[1].rid, spec("v2"), matched="/v2/*", paths=new))
    await asked
    assert table.lookup(host, b"/v2/x") is not None
    # "/*" was asked before the change: it is asked again, not taken from the old patterns.
    assert table.lookup(host, b"/other") is None


async def test_a_domain_hostname_is_one_route_for_every_path() -> None:
    supervisor = Supervisor()
    table = supervisor.table()
    asked = table.resolve("hello.localhost", b"/a")
    table.answered(Routed(supervisor.asked[0].rid, spec("hello")))
    await asked
    for target in (b"/a", b"/b?c", b"http://hello.localhost/x"):
        route = table.lookup("hello.localhost", target)
        assert route is not None and route.function_id == "hello"
    supervisor.generation += 1
    # Once known as one function's, its questions are shared whatever the path.
    assert table.resolve("hello.localhost", b"/a") is table.resolve("hello.localhost", b"/z")
    refused = table.resolve("nobody.example.net", b"/")
    error = ErrorBody("function_not_found", "no function answers")
    table.answered(Routed(supervisor.asked[-1].rid, error=error))
    with pytest.raises(RouteError) as raised:
        await asyncio.wait_for(refused, 1)
    assert (raised.value.status, raised.value.code) == (404, "function_not_found")


async def test_a_retired_host_answers_every_question_once_nobody_will() -> None:
    """Once the supervisor stops listening, a question in flight and any new one are answered
    at once: the route the host had, or a 503 to send the request again, never a wait until
    the host exits."""
    supervisor = Supervisor()
    table = supervisor.table()
    asked = table.resolve("hello.localhost", b"/")
    table.answered(Routed(supervisor.asked[0].rid, spec("hello")))
    await asked
    supervisor.generation += 1  # a change: the route is asked for again
    in_flight = table.resolve("hello.localhost", b"/")
    unknown = table.resolve("other.localhost", b"/")
    table.orphan()
    assert (await asyncio.wait_for(in_flight, 1)).function_id == "hello"
    with pytest.raises(RouteError) as raised:
        await asyncio.wait_for(unknown, 1)
    assert (raised.value.status, raised.value.code) == (503, "pool_unavailable")
    later = table.resolve("hello.localhost", b"/")
    assert later.done() and later.result().function_id == "hello"
    asked_before = len(supervisor.asked)
    assert table.resolve("new.localhost", b"/").done()
    assert len(supervisor.asked) == asked_before  # nothing sent to a supervisor that is gone
