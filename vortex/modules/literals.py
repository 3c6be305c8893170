"""Escapes, inside string, template and regular expression literals and comments, the text that
SES's source check refuses anywhere: ``<!--``, ``-->``, ``import(`` and ``eval(``.

SES cannot parse, so ``Compartment.evaluate`` rejects any source holding those sequences, even in
a string (``SES_HTML_COMMENT_REJECTED``, ``SES_IMPORT_REJECTED``, ``SES_EVAL_REJECTED``); its
optional "evasions" rewrite them everywhere, changing what the strings hold. Many libraries hold
such strings (Hono's logger prints ``"-->"``, test harnesses build HTML comments). esbuild's
output never has them in code (it prints ``x-- > y``, ``a < !--b``, and drops comments), so
what is left is in literals, where one character written as an escape (``--\\x3e``,
``<\\x21--``, ``impor\\x74(``, ``eva\\x6c(``) keeps the value and loses the sequence.

In code, one more: a method named ``eval`` or ``import`` (``async eval(keys, args) {`` in
@upstash/redis's ``Script`` class) reads to SES as a call. Its name is written as a string
(``async "eval"(keys, args) {``), which names the same method. It is quoted only when its
parameters are followed by ``{``, which no call is in esbuild's output; were a call ever taken
for one, it would call a string, a ``TypeError``, never an eval.

The scan is lexical, not a parse: a regular expression is told from a division by the token
before it. A wrong guess can only put an escape into code, where ``\\xHH`` is a syntax error the
deploy check reports, never a program that means something else; and a real ``import(`` in code
is never touched, so SES still refuses it. The one visible change: the raw strings of a tagged
template (``String.raw``) show the escape.
"""

from __future__ import annotations

import dataclasses
import re

from vortex.modules.esbuild import Transformed
from vortex.modules.sourcemap import decode_mappings, encode_mappings

_REFUSED = re.compile(r"<!--|-->|(?:^|[^.]|\.\.\.)\bimport\s*(?:\(|/[/*])|(?:^|[^.])\beval\s*\(")
"""What SES's checks look for (ses/src/transforms.js), as a quick test that there is work."""
_IN_LITERAL = re.compile(r"<(!)--|--(>)|\bimpor(t)(?=\s*(?:\(|/[/*]))|\beva(l)(?=\s*\()", re.ASCII)
"""The one character of each sequence that is escaped: never one that a backslash precedes."""

_SPACE = re.compile(r"[\s\ufeff]+")
_LINE_BREAK = re.compile(r"[\n\r\u2028\u2029]")
_LINE_COMMENT = re.compile(r"//[^\n\r\u2028\u2029]*|#![^\n\r\u2028\u2029]*")
_BLOCK_COMMENT = re.compile(r"/\*[\s\S]*?\*/")
_STRING = re.compile(r"'(?:[^'\\\n\r]|\\[\s\S])*'|\"(?:[^\"\\\n\r]|\\[\s\S])*\"")
_TEMPLATE_PART = re.compile(r"(?:[^`\\$]|\\[\s\S]|\$(?!\{))*(?:`|\$\{)")
_REGEX = re.compile(
    r"/(?![*/])(?:[^\\/\[\n\r]|\\[^\n\r]|\[(?:[^\]\\\n\r]|\\[^\n\r])*\])+/[A-Za-z]*"
)
_WORD = re.compile(r"(?:[\w$]|\\u[0-9a-fA-F]{4}|\\u\{[0-9a-fA-F]+\}|[^\x00-\x7f\s])+")
_PUNCTUATOR = re.compile(r"\?\.(?!\d)|\.\.\.|\+\+|--|\S")

_BEFORE_EXPRESSION = frozenset(
    {"return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case"}
    | {"do", "else", "yield", "await", "extends"}
)
"""Keywords after which a ``/`` starts a regular expression."""
_CONTROL = frozenset({"if", "while", "for", "with"})
"""Keywords whose ``(...)`` may be followed by a statement starting with a regular expression."""


class _Unreadable(Exception):
    """An unterminated literal or comment: the source is left as it is, for the check to refuse."""


_METHOD_NAMES = frozenset({"eval", "import"})
"""Names SES takes for a call when a method has them."""

Edit = tuple[int, str]
"""The offset of one character of the code and what it is written as instead."""


def _escape(text: str, start: int, end: int, edits: list[Edit]) -> None:
    for match in _IN_LITERAL.finditer(text, start, end):
        group = match.lastindex
        assert group is not None
        offset = match.start(group)
        edits.append((offset, f"\\x{ord(text[offset]):02x}"))


def _quote_name(code: str, name: tuple[int, int], edits: list[Edit]) -> None:
    first, last = name
    edits += [(first, '"' + code[first]), (last, code[last] + '"')]


def _must(pattern: re.Pattern[str], text: str, at: int) -> int:
    match = pattern.match(text, at)
    if match is None:
        raise _Unreadable
    return match.end()


def _literal_offsets(code: str) -> list[Edit]:
    """The characters to write otherwise: escapes in literals, quotes around method names."""
    edits: list[Edit] = []
    at, size = 0, len(code)
    regex_ok = True
    after_dot = False
    parens: list[bool] = []  # per open "(": did a control keyword precede it
    braces: list[bool] = []  # per open "{" or "${": is it a template substitution
    after_control = False  # the last token is if, while, for or with (not a property)
    # Offsets of the first and last characters of a word eval/import: of the one before the "("
    # of each depth, of the last token, of the one whose parameters the last token closed.
    names: dict[int, tuple[int, int]] = {}
    name_before: tuple[int, int] | None = None
    method_name: tuple[int, int] | None = None
    closed_at = 0  # where that ")" ends
    while at < size:
        space = _SPACE.match(code, at)
        if space is not None:
            at = space.end()
            continue
        char = code[at]
        if code.startswith("//", at) or (at == 0 and code.startswith("#!")):
            end = _must(_LINE_COMMENT, code, at)
            _escape(code, at, end, edits)
            at = end
            continue
        if code.startswith("/*", at):
            end = _must(_BLOCK_COMMENT, code, at)
            _escape(code, at, end, edits)
            at = end
            continue
        control = False
        # What the token before said, for this one only (comments and spaces are no tokens).
        named, name_before = name_before, None
        closed, method_name = method_name, None
        if char in "'\"":
            end = _must(_STRING, code, at)
            _escape(code, at, end, edits)
            at, regex_ok = end, False
        elif char == "`" or (char == "}" and braces and braces[-1]):
            if char == "}":
                braces.pop()
            end = _must(_TEMPLATE_PART, code, at + 1)
            _escape(code, at, end, edits)
            if code.startswith("${", end - 2):
                braces.append(True)
                regex_ok = True
            else:
                regex_ok = False
            at = end
        elif char == "/" and regex_ok:
            end = _must(_REGEX, code, at)
            _escape(code, at, end, edits)
            at, regex_ok = end, False
        elif (match := _WORD.match(code, at)) is not None:
            word = match.group()
            regex_ok = word in _BEFORE_EXPRESSION and not after_dot
            control = word in _CONTROL and not after_dot
            if word in _METHOD_NAMES and not after_dot:
                name_before = (at, match.end() - 1)
            at = match.end()
        else:
            punctuator = _PUNCTUATOR.match(code, at)
            assert punctuator is not None  # \S matches what no other branch took
            token = punctuator.group()
            at = punctuator.end()
            if token == "(":
                parens.append(after_control)
                if named is not None:
                    names[len(parens)] = named
            elif token == "{":
                braces.append(False)
                # On another line, "{" may open a block after a call (a line break ends it).
                if closed is not None and not _LINE_BREAK.search(code, closed_at, at):
                    _quote_name(code, closed, edits)
            if token == ")":
                method_name, closed_at = names.pop(len(parens), None), at
                regex_ok = parens.pop() if parens else False
            elif token == "}":
                if braces:
                    braces.pop()
                regex_ok = True
            else:
                regex_ok = token not in ("]", "++", "--")
            after_dot = token in (".", "?.")
            after_control = False
            continue
        after_dot = False
        after_control = control
    return edits


def escape_refused_text(code: str) -> tuple[str, list[Edit]]:
    """``code`` with the refused sequences in its literals and comments escaped and its methods
    named eval or import quoted, and the edits: each character (by its offset in ``code``)
    written otherwise."""
    if _REFUSED.search(code) is None:
        return code, []
    try:
        edits = _literal_offsets(code)
    except _Unreadable:
        return code, []
    if not edits:
        return code, []
    edits.sort()
    parts: list[str] = []
    last = 0
    for offset, written in edits:
        parts += [code[last:offset], written]
        last = offset + 1
    parts.append(code[last:])
    return "".join(parts), edits


def escaped(transformed: Transformed) -> Transformed:
    """A file's esbuild output with the refused text escaped, its source map shifted to match."""
    code, edits = escape_refused_text(transformed.code)
    if not edits:
        return transformed
    lines = decode_mappings(transformed.mappings)
    starts = [0] + [i + 1 for i, char in enumerate(transformed.code) if char == "\n"]
    shifts: dict[int, list[tuple[int, int]]] = {}
    line = 0
    for offset, written in edits:
        while line + 1 < len(starts) and starts[line + 1] <= offset:
            line += 1
        # Source map columns count UTF-16 units, as JavaScript does.
        before = transformed.code[starts[line] : offset]
        column = len(before.encode("utf-16-le")) // 2
        shifts.setdefault(line, []).append((column, len(written) - 1))
    for number, columns in shifts.items():
        if number < len(lines):
            lines[number] = [
                (
                    generated + sum(grown for c, grown in columns if c < generated),
                    at_line,
                    at_column,
                )
                for generated, at_line, at_column in lines[number]
            ]
    return dataclasses.replace(transformed, code=code, mappings=encode_mappings(lines))
