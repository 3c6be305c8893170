"""URL and URLSearchParams (whatwg-url) against the URL Standard."""

from __future__ import annotations

from tests.jsrun import Run, js


async def test_relative_urls_resolve_against_a_base(run: Run) -> None:
    out = await js(
        run,
        """
        const base = 'http://example.com/a/b/c?q#f';
        Vortex.return([
          new URL('../d?x#y', base).href,
          new URL('//other.org/p', 'https://example.com/').href,
          new URL('?q=1', 'http://h/p/x').href,
          new URL('#frag', base).href,
          new URL('', base).href,
          new URL('/root', base).href,
          new URL('g;x?y#s', base).href,
        ]);
        """,
    )
    assert out == [
        "http://example.com/a/d?x#y",
        "https://other.org/p",
        "http://h/p/x?q=1",
        "http://example.com/a/b/c?q#frag",
        "http://example.com/a/b/c?q",
        "http://example.com/root",
        "http://example.com/a/b/g;x?y#s",
    ]


async def test_odd_hosts_are_normalised(run: Run) -> None:
    out = await js(
        run,
        """
        const host = (u) => new URL(u).host;
        Vortex.return([
          host('HTTP://EXAMPLE.COM:80/'),
          host('https://example.com:443/'),
          host('http://example.com:8080/'),
          host('http://0x7f.1/'),
          host('http://2130706433/'),
          host('http://0177.0.0.1/'),
          host('http://[::FFFF:127.0.0.1]/'),
          host('http://[0:0::1]:81/'),
          new URL('http://münchen.de/').hostname,
          new URL('http://EXAMPLE.com./').hostname,
        ]);
        """,
    )
    assert out == [
        "example.com",
        "example.com",
        "example.com:8080",
        "127.0.0.1",
        "127.0.0.1",
        "127.0.0.1",
        "[::ffff:7f00:1]",
        "[::1]:81",
        "xn--mnchen-3ya.de",
        "example.com.",
    ]


async def test_invalid_urls_throw_type_errors(run: Run) -> None:
    out = await js(
        run,
        """
        const results = [];
        for (const input of ['/relative', 'http://exa mple.com/', 'http://[::1/', 'http://256.256.256.256/', '']) {
          try { new URL(input); results.push('parsed'); } catch (e) { results.push(e instanceof TypeError); }
        }
        results.push(URL.canParse('http://ok/'), URL.canParse('nope'));
        Vortex.return(results);
        """,
    )
    assert out == [True, True, True, True, True, True, False]


async def test_percent_encoding_of_each_component(run: Run) -> None:
    out = await js(
        run,
        """
        const u = new URL('http://user:pa ss@h/a b/%7e/ü?c d=é&x=<>#e f`');
        Vortex.return({
          href: u.href, pathname: u.pathname, search: u.search, hash: u.hash,
          password: u.password,
          dots: new URL('http://h/a/./b/../c/%2e%2E/d').pathname,
          encoded: encodeURIComponent('a b'),
        });
        """,
    )
    assert out == {
        "href": "http://user:pa%20ss@h/a%20b/%7e/%C3%BC?c%20d=%C3%A9&x=%3C%3E#e%20f%60",
        "pathname": "/a%20b/%7e/%C3%BC",
        "search": "?c%20d=%C3%A9&x=%3C%3E",
        "hash": "#e%20f%60",
        "password": "pa%20ss",
        "dots": "/a/d",
        "encoded": "a%20b",
    }


async def test_setters_and_search_params_stay_in_step(run: Run) -> None:
    out = await js(
        run,
        """
        const u = new URL('https://example.com/path?a=1');
        u.searchParams.append('b', 'two words');
        u.searchParams.set('a', '&=');
        u.hash = 'top';
        u.pathname = '/new path';
        u.port = '8443';
        const before = u.href;
        u.search = '?z=9';
        Vortex.return([before, u.searchParams.get('z'), u.origin, u.protocol, JSON.stringify(u)]);
        """,
    )
    assert out == [
        "https://example.com:8443/new%20path?a=%26%3D&b=two+words#top",
        "9",
        "https://example.com:8443",
        "https:",
        '"https://example.com:8443/new%20path?z=9#top"',
    ]


async def test_url_search_params(run: Run) -> None:
    out = await js(
        run,
        """
        const p = new URLSearchParams('?a=1&b=2&a=3&plus=a+b%20c&empty=&noval');
        const q = new URLSearchParams({ q: 'a b&c', emoji: '☃' });
        const r = new URLSearchParams([['z', '1'], ['a', '2'], ['z', '0']]);
        r.sort();
        p.delete('b');
        Vortex.return({
          all: p.getAll('a'), plus: p.get('plus'), empty: p.get('empty'), noval: p.get('noval'),
          missing: p.get('missing'), has: p.has('a'), size: p.size,
          q: q.toString(), sorted: [...r], keys: [...p.keys()],
        });
        """,
    )
    assert out == {
        "all": ["1", "3"],
        "plus": "a b c",
        "empty": "",
        "noval": "",
        "missing": None,
        "has": True,
        "size": 5,
        "q": "q=a+b%26c&emoji=%E2%98%83",
        "sorted": [["a", "2"], ["z", "1"], ["z", "0"]],
        "keys": ["a", "a", "plus", "empty", "noval"],
    }
