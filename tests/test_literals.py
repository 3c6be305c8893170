"""The escaping of what SES's textual check refuses, in literals and comments only."""

from __future__ import annotations

import pytest

from vortex.modules.literals import escape_refused_text


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("log(fn, '-->', x)", r"log(fn, '--\x3e', x)"),
        ('a = "<!-- c -->"; x-- > y', r'a = "<\x21-- c --\x3e"; x-- > y'),
        ("t = `a --> ${f(`<!-- ${'-->'}`)}`", r"t = `a --\x3e ${f(`<\x21-- ${'--\x3e'}`)}`"),
        ("if (a) /-->/.test(s)", r"if (a) /--\x3e/.test(s)"),
        ("return /import(x)/g", r"return /impor\x74(x)/g"),
        ("q = a.return / 2 / 3; w = '-->'", r"q = a.return / 2 / 3; w = '--\x3e'"),
        ("Symbol.for('a') / 2; s = 'eval(1)'", r"Symbol.for('a') / 2; s = 'eva\x6c(1)'"),
        ("a = [1] / 2; b = '-->'", r"a = [1] / 2; b = '--\x3e'"),
        ("x\n/* import( --> */\n// <!--\n", "x\n/* impor\\x74( --\\x3e */\n// <\\x21--\n"),
        ("s = '\\<!--'", r"s = '\<\x21--'"),  # never the character after a backslash
        ("o.import(1); p = 'import (x)'", r"o.import(1); p = 'impor\x74 (x)'"),
    ],
)
def test_escaped_inside_literals_and_comments(code: str, expected: str) -> None:
    assert escape_refused_text(code)[0] == expected


@pytest.mark.parametrize(
    "code",
    [
        "import('x')",  # a real dynamic import stays, for SES to refuse
        "x = y-->z",  # code: esbuild never prints it so; left for the check
        "eval(code)",
        "eval(code)\n{ x() }",  # a call, then a block: its ")" is followed by "{" too
        "if (a) eval(x); { y }",
        "f(eval(x)) {",
        "o.eval(x) {}",  # a property: SES never looks at it
        "s = 'unterminated -->",  # unreadable: left as it is
        "const plain = 1 / 2;",
    ],
)
def test_code_is_never_touched(code: str) -> None:
    assert escape_refused_text(code) == (code, [])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # @upstash/redis's Script class, as esbuild prints it
        ("class S {\n  async eval(keys, args) {\n", 'class S {\n  async "eval"(keys, args) {\n'),
        ("o = { eval(a = f(1)) {}, import(x) {} }", 'o = { "eval"(a = f(1)) {}, "import"(x) {} }'),
        ("class A { static *eval () /* c */ {} }", 'class A { static *"eval" () /* c */ {} }'),
        ("({ eval(s = '-->') {} })", "({ \"eval\"(s = '--\\x3e') {} })"),
    ],
)
def test_methods_named_eval_or_import_are_quoted(code: str, expected: str) -> None:
    assert escape_refused_text(code)[0] == expected
