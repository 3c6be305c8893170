"""A response's ``Content-Encoding`` on the listener, as workerd treats it: a body is what the
code reads, and the listener encodes it on the way out (``encodeBody: "automatic"``), unless the
code says it is encoded already (``"manual"``). ``return fetch(origin)`` of a compressing origin
once sent the decompressed body labelled gzip: ``curl --compressed`` and browsers failed on it."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import aiohttp
import brotli

from tests.server import ServerProcess

TEXT = "hello, encoded world " * 40

RESPONSES = f"""
const TEXT = {TEXT!r};
export default {{
  async fetch(request) {{
    const url = new URL(request.url);
    const encoding = url.searchParams.get('e');
    const headers = {{ 'content-type': 'text/plain', 'content-encoding': encoding }};
    if (url.pathname === '/whole') return new Response(TEXT, {{ headers }});
    if (url.pathname === '/stream') {{
      const bytes = new TextEncoder().encode(TEXT);
      let at = 0;
      const body = new ReadableStream({{
        pull(controller) {{
          if (at >= bytes.length) return controller.close();
          controller.enqueue(bytes.subarray(at, at + 100));
          at += 100;
        }},
      }});
      return new Response(body, {{ headers }});
    }}
    if (url.pathname === '/manual') {{
      const packed = new Response(TEXT).body.pipeThrough(new CompressionStream('gzip'));
      return new Response(packed, {{ headers, encodeBody: 'manual' }});
    }}
    if (url.pathname === '/bogus') {{
      try {{ new Response('x', {{ encodeBody: 'gzip' }}); }} catch (e) {{ return new Response(e.name + ': ' + e.message); }}
    }}
    if (url.pathname === '/redirect') return new Response(request.redirect);
    return new Response(null, {{ status: 204, headers }});
  }},
}};
"""

DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "deflate": zlib.decompress,
    "br": brotli.decompress,
}


async def _raw(
    http: aiohttp.ClientSession, url: str, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    async with http.request(method, url) as response:
        return response.status, dict(response.headers), await response.read()


async def test_a_body_is_put_into_the_encoding_its_headers_name(
    server: ServerProcess, deploy: Callable[..., object]
) -> None:
    function_id = await deploy(RESPONSES, filename="index.mjs")  # type: ignore[misc]
    # The client's own decoding is off: the bytes on the wire are what is checked.
    async with aiohttp.ClientSession(auto_decompress=False) as http:
        for path in ("/whole", "/stream"):
            for encoding, decode in DECODERS.items():
                url = server.fn_url(function_id, f"{path}?e={encoding}")
                status, headers, body = await _raw(http, url)
                assert (status, headers["Content-Encoding"]) == (200, encoding), url
                assert decode(body).decode() == TEXT, url
                assert len(body) < len(TEXT), url
        # A stream's length is unknown until encoded; a whole body states the encoded one.
        status, headers, body = await _raw(http, server.fn_url(function_id, "/whole?e=gzip"))
        assert headers["Content-Length"] == str(len(body))
        status, headers, body = await _raw(http, server.fn_url(function_id, "/stream?e=gzip"))
        assert headers["Transfer-Encoding"] == "chunked"
        # Already encoded by the code: sent as it is, decoded once.
        status, headers, body = await _raw(http, server.fn_url(function_id, "/manual?e=gzip"))
        assert gzip.decompress(body).decode() == TEXT
        # An encoding the listener does not make is taken to be the body's already.
        status, headers, body = await _raw(http, server.fn_url(function_id, "/whole?e=zstd"))
        assert (headers["Content-Encoding"], body.decode()) == ("zstd", TEXT)
        status, headers, body = await _raw(
            http, server.fn_url(function_id, "/whole?e=gzip"), method="HEAD"
        )
        assert (status, headers["Content-Encoding"], body) == (200, "gzip", b"")
        status, headers, body = await _raw(http, server.fn_url(function_id, "/none?e=gzip"))
        assert (status, body) == (204, b"")
    async with aiohttp.ClientSession() as http:
        async with http.get(server.fn_url(function_id, "/whole?e=gzip")) as response:
            assert await response.text() == TEXT  # as a browser reads it
        async with http.get(server.fn_url(function_id, "/bogus")) as response:
            assert await response.text() == (
                "TypeError: Failed to construct 'Response': encodeBody must be "
                '"automatic" or "manual", not "gzip"'
            )


async def test_a_request_that_came_in_leaves_redirects_to_the_client(
    server: ServerProcess, deploy: Callable[..., object]
) -> None:
    """As on Workers: ``fetch(request)`` hands an origin's 3xx back rather than following it."""
    function_id = await deploy(RESPONSES, filename="index.mjs")  # type: ignore[misc]
    async with (
        aiohttp.ClientSession() as http,
        http.get(server.fn_url(function_id, "/redirect")) as response,
    ):
        assert await response.text() == "manual"
