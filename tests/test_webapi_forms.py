"""Blob, File and FormData, and form bodies both ways (multipart/form-data and urlencoded)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp

from tests.jsrun import Run, js
from tests.server import ServerProcess

Deploy = Callable[..., Awaitable[str]]


async def test_blob_and_file(run: Run) -> None:
    out = await js(
        run,
        """
        const blob = new Blob(['héllo ', new Uint8Array([119, 111]), new Blob(['rld'])], { type: 'Text/Plain' });
        const file = new File([blob], 'a.txt', { type: 'text/plain', lastModified: 42 });
        const slice = blob.slice(-5, -1, 'X/Y');
        const chunks = [];
        for await (const chunk of blob.stream()) chunks.push(...chunk);
        Vortex.return({
          size: blob.size, type: blob.type, text: await blob.text(),
          bytes: [...await blob.slice(0, 2).bytes()],
          slice: [await slice.text(), slice.type], empty: await blob.slice(5, 2).text(),
          buffer: (await blob.arrayBuffer()).byteLength, streamed: chunks.length,
          file: [file.name, file.lastModified, file.size, file instanceof Blob, String(file)],
          fresh: typeof new File([], 'f').lastModified,
          tag: Object.prototype.toString.call(blob),
          badType: new Blob([], { type: 'tëxt' }).type,
          native: await new Blob(['a\\r\\nb\\rc'], { endings: 'native' }).text(),
          errors: [() => new Blob('abc'), () => new File(['x']), () => Blob.prototype.text.call({})]
            .map((f) => { try { f(); return 'no error'; } catch (e) { return e.name; } }),
        });
        """,
    )
    assert out == {
        "size": 12,
        "type": "text/plain",
        "text": "héllo world",
        "bytes": [104, 195],
        "slice": ["worl", "x/y"],
        "empty": "",
        "buffer": 12,
        "streamed": 12,
        "file": ["a.txt", 42, 12, True, "[object File]"],
        "fresh": "number",
        "tag": "[object Blob]",
        "badType": "",
        "native": "a\nb\nc",
        "errors": ["TypeError", "TypeError", "no error"],  # text() rejects, it does not throw
    }


async def test_form_data_entries(run: Run) -> None:
    out = await js(
        run,
        """
        const form = new FormData();
        form.append('a', '1');
        form.append('a', 2);
        form.append('f', new Blob(['x'], { type: 'text/plain' }));
        form.append('g', new File(['y'], 'y.txt'), 'renamed.txt');
        form.set('b', 'only');
        form.append('a', '3');
        form.set('a', 'one');
        const f = form.get('f');
        let thrown;
        try { form.append('x', 'not a blob', 'name.txt'); } catch (e) { thrown = e.name; }
        Vortex.return({
          entries: [...form].map(([k, v]) => [k, typeof v === 'string' ? v : v.name]),
          all: form.getAll('a'), has: [form.has('b'), form.has('z')], missing: form.get('z'),
          file: [f instanceof File, f.name, f.type, await f.text()],
          keys: [...form.keys()], thrown,
          afterDelete: (form.delete('a'), [...form.keys()]),
        });
        """,
    )
    assert out == {
        "entries": [["a", "one"], ["f", "blob"], ["g", "renamed.txt"], ["b", "only"]],
        "all": ["one"],
        "has": [True, False],
        "missing": None,
        "file": [True, "blob", "text/plain", "x"],
        "keys": ["a", "f", "g", "b"],
        "thrown": "TypeError",
        "afterDelete": ["f", "g", "b"],
    }


async def test_form_bodies_both_ways(run: Run) -> None:
    out = await js(
        run,
        """
        const form = new FormData();
        form.append('name', 'ann "the" \\n coder');
        form.append('upload', new File([new Uint8Array([0, 255, 13, 10])], 'bin.dat', { type: 'application/x-thing' }));
        const request = new Request('http://example.com/', { method: 'POST', body: form });
        const type = request.headers.get('content-type');
        const raw = await request.clone().text();
        const parsed = await request.formData();
        const file = parsed.get('upload');
        const urlencoded = await new Response('a=1&b=x+y&a=%C3%A9', {
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
        }).formData();
        const blob = await new Response('{}', { headers: { 'content-type': 'application/json' } }).blob();
        let refused;
        try { await new Response('x', { headers: { 'content-type': 'text/plain' } }).formData(); }
        catch (e) { refused = e.name; }
        Vortex.return({
          multipart: /^multipart\\/form-data; boundary=\\S+$/.test(type),
          crlf: raw.includes('name="name"\\r\\n\\r\\nann "the" \\r\\n coder\\r\\n'),
          name: parsed.get('name'),
          file: [file.name, file.type, [...await file.bytes()]],
          urlencoded: [...urlencoded],
          blob: [blob.type, await blob.text()],
          refused,
          blobBody: new Request('http://x/', { method: 'POST', body: new Blob(['b'], { type: 'a/b' }) })
            .headers.get('content-type'),
        });
        """,
    )
    assert out == {
        "multipart": True,
        "crlf": True,
        "name": 'ann "the" \r\n coder',
        "file": ["bin.dat", "application/x-thing", [0, 255, 13, 10]],
        "urlencoded": [["a", "1"], ["b", "x y"], ["a", "é"]],
        "blob": ["application/json", "{}"],
        "refused": "TypeError",
        "blobBody": "a/b",
    }


FORMS = """export default { async fetch(request) {
  if (request.method === 'POST') {
    const form = await request.formData();
    const out = {};
    for (const [key, value] of form) {
      out[key] = typeof value === 'string' ? value : [value.name, value.type, await value.text()];
    }
    return Response.json(out);
  }
  const form = new FormData();
  form.append('greeting', 'hello');
  form.append('file', new File(['file body'], 'note.txt', { type: 'text/plain' }));
  return new Response(form);
} };
"""


async def test_forms_on_the_wire(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(FORMS, filename="index.mjs")
    url = server.fn_url(function_id)
    # A multipart body made by another client is read ...
    form = aiohttp.FormData()
    form.add_field("text", "plain välue")
    form.add_field("doc", b"\x00bytes\r\n", filename="d.bin", content_type="application/x-d")
    async with http.post(url, data=form) as response:
        assert await response.json() == {
            "text": "plain välue",
            "doc": ["d.bin", "application/x-d", "\x00bytes\r\n"],
        }
    async with http.post(url, data={"a": "1", "b": "two words"}) as response:
        assert await response.json() == {"a": "1", "b": "two words"}
    # ... and one a function sends is read by another client.
    async with http.get(url) as response:
        assert response.content_type == "multipart/form-data"
        reader = aiohttp.MultipartReader.from_response(response)
        parts = []
        while (part := await reader.next()) is not None:
            assert isinstance(part, aiohttp.BodyPartReader)
            parts.append((part.name, part.filename, await part.text()))
    assert parts == [("greeting", None, "hello"), ("file", "note.txt", "file body")]
