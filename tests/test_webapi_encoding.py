"""TextEncoder, TextDecoder (@exodus/bytes), atob and btoa against the Encoding and HTML
Standards."""

from __future__ import annotations

from tests.jsrun import Run, js


async def test_text_encoder(run: Run) -> None:
    out = await js(
        run,
        """
        const e = new TextEncoder();
        const target = new Uint8Array(4);
        const into = e.encodeInto('a€', target);
        Vortex.return({
          encoding: e.encoding,
          euro: [...e.encode('€')],
          astral: [...e.encode('😀')],
          lone: [...e.encode('\\uD800')],
          empty: e.encode().length,
          into: [into.read, into.written, ...target],
        });
        """,
    )
    assert out == {
        "encoding": "utf-8",
        "euro": [226, 130, 172],
        "astral": [240, 159, 152, 128],
        "lone": [239, 191, 189],
        "empty": 0,
        "into": [2, 4, 97, 226, 130, 172],
    }


async def test_text_decoder_replaces_invalid_bytes(run: Run) -> None:
    out = await js(
        run,
        """
        const d = new TextDecoder();
        const show = (bytes) => [...d.decode(new Uint8Array(bytes))].map((c) => c.codePointAt(0).toString(16));
        Vortex.return({
          encoding: d.encoding, fatal: d.fatal, ignoreBOM: d.ignoreBOM,
          truncatedAtEnd: show([0xff, 0x41, 0xe2, 0x82]),
          badContinuation: show([0xe2, 0x41]),
          overlong: show([0xc0, 0xaf]),
          surrogate: show([0xed, 0xa0, 0x80]),
          tooHigh: show([0xf4, 0x90, 0x80, 0x80]),
          bom: d.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])),
          keptBom: new TextDecoder('utf-8', { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])).length,
          fromBuffer: d.decode(new Uint8Array([104, 105]).buffer),
          fromView: d.decode(new DataView(new Uint8Array([120, 104, 105]).buffer, 1)),
          nothing: d.decode(),
        });
        """,
    )
    assert out == {
        "encoding": "utf-8",
        "fatal": False,
        "ignoreBOM": False,
        "truncatedAtEnd": ["fffd", "41", "fffd"],
        "badContinuation": ["fffd", "41"],
        "overlong": ["fffd", "fffd"],
        "surrogate": ["fffd", "fffd", "fffd"],
        "tooHigh": ["fffd", "fffd", "fffd", "fffd"],
        "bom": "A",
        "keptBom": 2,
        "fromBuffer": "hi",
        "fromView": "hi",
        "nothing": "",
    }


async def test_text_decoder_fatal_streaming_and_labels(run: Run) -> None:
    out = await js(
        run,
        """
        const fatal = new TextDecoder('utf-8', { fatal: true });
        let error;
        try { fatal.decode(new Uint8Array([0x41, 0xff])); } catch (e) { error = e.name; }
        const s = new TextDecoder();
        const parts = [s.decode(new Uint8Array([0xe2, 0x82]), { stream: true }), s.decode(new Uint8Array([0xac]), { stream: true }), s.decode()];
        const latin = new TextDecoder('latin1');
        let unknown;
        try { new TextDecoder('no-such-encoding'); } catch (e) { unknown = e.name; }
        Vortex.return({
          error, fatalFlag: fatal.fatal, parts,
          latin: [latin.encoding, latin.decode(new Uint8Array([0x80, 0xe9]))],
          utf16: new TextDecoder('utf-16le').decode(new Uint8Array([0x41, 0, 0xac, 0x20])),
          label: new TextDecoder(' UTF8 ').encoding,
          unknown,
        });
        """,
    )
    assert out == {
        "error": "TypeError",
        "fatalFlag": True,
        "parts": ["", "€", ""],
        "latin": ["windows-1252", "€é"],
        "utf16": "A€",
        "label": "utf-8",
        "unknown": "RangeError",
    }


async def test_atob_and_btoa(run: Run) -> None:
    out = await js(
        run,
        """
        const attempt = (f) => { try { return f(); } catch (e) { return e.name + '/' + e.code; } };
        Vortex.return([
          btoa('hello'), btoa(''), btoa('\\xff\\xfe'), btoa('ab'),
          attempt(() => btoa('€')),
          atob('aGVsbG8='), atob(' aGV sbG8 '), atob('aGk'), atob('aGk='), atob(''),
          attempt(() => atob('a')), attempt(() => atob('aGk==')), attempt(() => atob('a$==')),
          [...atob('//4=')].map((c) => c.charCodeAt(0)),
        ]);
        """,
    )
    assert out == [
        "aGVsbG8=",
        "",
        "//4=",
        "YWI=",
        "InvalidCharacterError/5",
        "hello",
        "hello",
        "hi",
        "hi",
        "",
        "InvalidCharacterError/5",
        "InvalidCharacterError/5",
        "InvalidCharacterError/5",
        [255, 254],
    ]
