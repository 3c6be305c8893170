"""``VORTEX_FUNCTIONS_PUBLIC_URL``: where clients reach the functions when a proxy (TLS, another
port) stands in front of the listener. What Vortex shows and redirects to is that origin; what a
function sees as ``request.url`` is still made of the request (its Host, and the proxy's
``X-Forwarded-Proto`` when trusted)."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from click.testing import CliRunner

from tests.server import ServerProcess
from vortex.cli.serve import serve
from vortex.config import ConfigError, Settings

ECHO = """
export default {
  fetch(request) {
    return Response.json({ url: request.url });
  },
};
"""


@pytest.mark.parametrize(
    ("given", "domain", "hello"),
    [
        ("", "localhost", "http://hello.localhost:8787"),
        ("https://fn.example.com", "fn.example.com", "https://hello.fn.example.com"),
        ("https://FN.Example.com:443/", "fn.example.com", "https://hello.fn.example.com"),
        ("http://fn.example.com:80", "fn.example.com", "http://hello.fn.example.com"),
        ("http://localhost:8788", "localhost", "http://hello.localhost:8788"),
        ("https://fn.example.com:8443", "fn.example.com", "https://hello.fn.example.com:8443"),
    ],
)
def test_the_public_origin_names_the_domain_and_the_urls(
    given: str, domain: str, hello: str
) -> None:
    settings = Settings.from_env({"VORTEX_FUNCTIONS_PUBLIC_URL": given})
    assert settings.functions_domain == domain
    assert settings.function_origin(f"hello.{domain}") == hello


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"VORTEX_FUNCTIONS_PUBLIC_URL": "ftp://fn.example.com"}, "http or https origin"),
        ({"VORTEX_FUNCTIONS_PUBLIC_URL": "fn.example.com"}, "http or https origin"),
        ({"VORTEX_FUNCTIONS_PUBLIC_URL": "https://fn.example.com/app"}, "no path"),
        ({"VORTEX_FUNCTIONS_PUBLIC_URL": "https://fn.example.com?x=1"}, "no path"),
        ({"VORTEX_FUNCTIONS_PUBLIC_URL": "https://me@fn.example.com"}, "no path"),
        ({"VORTEX_FUNCTIONS_PUBLIC_URL": "https://fn.example.com:99999"}, "invalid port"),
        ({"VORTEX_FUNCTIONS_PUBLIC_URL": "http://127.0.0.1:8787"}, "not an address"),
        (
            {
                "VORTEX_FUNCTIONS_PUBLIC_URL": "https://fn.example.com",
                "VORTEX_FUNCTIONS_DOMAIN": "other.example.com",
            },
            "must be the functions domain",
        ),
    ],
)
def test_what_cannot_be_an_origin_of_functions_is_refused(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        Settings.from_env(env)


def test_serve_refuses_a_public_url_outside_its_domain() -> None:
    result = CliRunner().invoke(
        serve,
        ["--functions-public-url", "https://fn.example.com", "--functions-domain", "x.test"],
        env={"VORTEX_FUNCTIONS_PUBLIC_URL": ""},
    )
    assert result.exit_code == 1
    assert "must be the functions domain" in result.output
    assert "Traceback" not in result.output


async def test_deploys_health_and_redirects_show_the_public_origin(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(
        {
            "VORTEX_FUNCTIONS_PUBLIC_URL": "https://fn.example.test",
            "VORTEX_FUNCTIONS_TRUST_PROXY": "1",
        }
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post("/deploy", json={"code": ECHO, "name": "hello"}) as response:
            assert response.status == 200, await response.text()
            deployed = await response.json()
        assert deployed["url"] == "https://hello.fn.example.test"
        async with http.get("/functions/hello") as response:
            assert (await response.json())["url"] == "https://hello.fn.example.test"
        async with http.get("/fn/hello/a%20b?x=1", allow_redirects=False) as response:
            assert response.status == 308
            assert response.headers["Location"] == "https://hello.fn.example.test/a%20b?x=1"
        async with http.get("/health") as response:
            functions = (await response.json())["functions"]
        assert functions["url"] == "https://{name}.fn.example.test"
        assert functions["domain"] == "fn.example.test"
        assert "Functions answer on https://{name}.fn.example.test" in server.log()

        # The listener itself, as the proxy reaches it: the function is named by the Host the
        # proxy passes on, and request.url is the client's, https from X-Forwarded-Proto.
        listener = f"http://127.0.0.1:{server.functions_port}/p?q=1"
        headers = {"Host": "hello.fn.example.test", "X-Forwarded-Proto": "https"}
        async with http.get(listener, headers=headers) as response:
            assert response.status == 200
            assert (await response.json())["url"] == "https://hello.fn.example.test/p?q=1"
        async with http.get(listener, headers={"Host": "hello.localhost"}) as response:
            assert response.status == 404
