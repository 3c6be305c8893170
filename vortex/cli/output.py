"""What the CLI prints and how it looks.

Colours appear only on a terminal and never when ``NO_COLOR`` is set (https://no-color.org);
the spinner only on a terminal. Everything else here is plain formatting: sizes, durations,
relative times, JSON values, tables and the code frame under a syntax error.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import json
import os
import shutil
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, NamedTuple

import click

LEVEL_COLORS: dict[str, str] = {
    "info": "cyan",
    "warn": "yellow",
    "error": "red",
    "debug": "bright_black",
}


def tolerate_narrow_encodings() -> None:
    """Under a locale that is not UTF-8 (latin-1, ASCII), print what the streams cannot encode
    (the CLI's own ✓ and →, a function's emoji) as escapes: by default it is an error, and every
    command failed on its first line."""
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper) or is_utf8(stream):
            continue
        if stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


def is_utf8(stream: IO[Any] | None) -> bool:
    encoding = getattr(stream, "encoding", None)
    try:
        return not isinstance(encoding, str) or codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def is_terminal(stream: IO[Any] | None, environ: Mapping[str, str]) -> bool:
    if stream is None or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def color_wanted(stream: IO[Any] | None, environ: Mapping[str, str]) -> bool:
    # no-color.org: any non-empty NO_COLOR turns colour off, whatever the terminal.
    return not environ.get("NO_COLOR") and is_terminal(stream, environ)


class Styled(NamedTuple):
    text: str
    fg: str | None = None
    bold: bool = False
    dim: bool = False


@dataclass(frozen=True)
class Printer:
    color: bool = False
    err_color: bool = False
    interactive: bool = False
    """stdout is a terminal: worth animating (the spinner) and sizing to its width."""
    ascii_json: bool = False
    """stdout is not UTF-8: JSON is written with \\uXXXX escapes (the same text, still JSON)."""

    @classmethod
    def from_env(cls) -> Printer:
        environ = os.environ
        return cls(
            color=color_wanted(sys.stdout, environ),
            err_color=color_wanted(sys.stderr, environ),
            interactive=is_terminal(sys.stdout, environ),
            ascii_json=not is_utf8(sys.stdout),
        )

    def style(
        self, text: str, fg: str | None = None, *, bold: bool = False, dim: bool = False
    ) -> str:
        if not self.color:
            return text
        return click.style(text, fg=fg, bold=bold or None, dim=dim or None)

    def err_style(
        self, text: str, fg: str | None = None, *, bold: bool = False, dim: bool = False
    ) -> str:
        if not self.err_color:
            return text
        return click.style(text, fg=fg, bold=bold or None, dim=dim or None)

    def out(self, text: str = "") -> None:
        click.echo(text, color=self.color)

    def err(self, text: str = "") -> None:
        click.echo(text, err=True, color=self.err_color)

    def ok(self, text: str) -> None:
        self.out(f"{self.style('✓', 'green', bold=True)} {text}")

    def step(self, text: str) -> None:
        self.out(f"{self.style('→', 'cyan', bold=True)} {text}")

    def warn(self, text: str) -> None:
        self.out(f"{self.style('!', 'yellow', bold=True)} {text}")

    def fail(self, text: str) -> None:
        self.out(f"{self.style('✗', 'red', bold=True)} {text}")

    def error(self, message: str) -> None:
        """The one line a failed command leaves on stderr."""
        self.err(f"{self.err_style('Error:', 'red', bold=True)} {message}")

    def json(self, data: Any) -> None:
        self.out(json.dumps(data, indent=2, ensure_ascii=self.ascii_json))

    def json_line(self, data: Any) -> None:
        self.out(json.dumps(data, ensure_ascii=self.ascii_json, separators=(",", ":")))

    def width(self) -> int:
        if not self.interactive:
            return 80
        return max(40, shutil.get_terminal_size((80, 24)).columns)

    def log_line(
        self, level: str, message: str, *, lead: str = "  ", indent: str | None = None
    ) -> str:
        """``  [log] message``; continuation lines keep the indent, as the README shows."""
        label = self.style(f"[{level}]", LEVEL_COLORS.get(level), bold=level == "error")
        first, *rest = message.split("\n")
        if level in ("warn", "error"):
            first = self.style(first, LEVEL_COLORS[level])
            rest = [self.style(part, LEVEL_COLORS[level]) for part in rest]
        indent = lead if indent is None else indent
        return "\n".join([f"{lead}{label} {first}", *(f"{indent}{part}" for part in rest)])


class Spinner:
    """A one-line animation on stdout while awaiting something; nothing at all when disabled."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, text: str, printer: Printer, *, enabled: bool | None = None) -> None:
        self.text = text
        self.printer = printer
        self.enabled = printer.interactive if enabled is None else enabled
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Spinner:
        if self.enabled:
            self._task = asyncio.create_task(self._spin())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._write("\r\x1b[2K")

    async def _spin(self) -> None:
        frame = 0
        while True:
            glyph = self.printer.style(self.FRAMES[frame % len(self.FRAMES)], "cyan")
            self._write(f"\r{glyph} {self.text}")
            frame += 1
            await asyncio.sleep(0.08)

    @staticmethod
    def _write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()


def bytes_phrase(size: int) -> str:
    return "1 byte" if size == 1 else f"{size} bytes"


def short_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def format_ms(ms: float) -> str:
    """``142ms`` as the README shows; a tenth of a millisecond below 10 ms, where it matters."""
    return f"{ms:.1f}ms" if ms < 10 else f"{ms:.0f}ms"


def parse_timestamp(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def relative_time(text: str, now: datetime | None = None) -> str:
    moment = parse_timestamp(text)
    if moment is None:
        return text
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 0:
        # Clocks of client and server disagree; a time in the future reads best as "now".
        seconds = 0
    if seconds < 5:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m"), (1, "s")):
        if seconds >= size:
            if unit == "d" and seconds >= 30 * 86400:
                return moment.astimezone().strftime("%Y-%m-%d")
            return f"{int(seconds // size)}{unit} ago"
    return "just now"


def clock_time(text: str) -> str:
    """A log timestamp as local time of day, ``HH:MM:SS.mmm``."""
    moment = parse_timestamp(text)
    if moment is None:
        return text
    return moment.astimezone().strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def compact_json(value: Any) -> str:
    """One line in the README's style: ``{ "a": 1, "b": [0, 1] }``."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = ", ".join(f"{_json_scalar(k)}: {compact_json(v)}" for k, v in value.items())
        return f"{{ {items} }}"
    if isinstance(value, list):
        return "[" + ", ".join(compact_json(v) for v in value) + "]"
    return _json_scalar(value)


def pretty_json(value: Any, width: int = 80, indent: int = 2) -> list[str]:
    """Containers stay on one line when they fit in ``width``, and break otherwise."""
    return _pretty(value, 0, width, indent, suffix="").split("\n")


def _pretty(value: Any, depth: int, width: int, indent: int, suffix: str, key: str = "") -> str:
    pad = " " * (indent * depth)
    one_line = f"{pad}{key}{compact_json(value)}{suffix}"
    if not isinstance(value, dict | list) or not value or len(one_line) <= width:
        return one_line
    if isinstance(value, dict):
        opener, closer = "{", "}"
        items = [(f"{_json_scalar(k)}: ", v) for k, v in value.items()]
    else:
        opener, closer = "[", "]"
        items = [("", v) for v in value]
    lines = [f"{pad}{key}{opener}"]
    for index, (item_key, item) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        lines.append(_pretty(item, depth + 1, width, indent, comma, item_key))
    lines.append(f"{pad}{closer}{suffix}")
    return "\n".join(lines)


def _json_scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def display_width(text: str) -> int:
    """Terminal columns: wide (CJK, emoji) characters take two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def table(headers: Sequence[str], rows: Iterable[Sequence[Styled]], printer: Printer) -> list[str]:
    body = [list(row) for row in rows]
    widths = [display_width(h) for h in headers]
    for row in body:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], display_width(cell.text))
    lines = [
        "  ".join(
            printer.style(_pad(h, w), bold=True) for h, w in zip(headers, widths, strict=True)
        ).rstrip()
    ]
    for row in body:
        cells = []
        for index, cell in enumerate(row):
            last = index == len(row) - 1
            text = cell.text if last else _pad(cell.text, widths[index])
            cells.append(printer.style(text, cell.fg, bold=cell.bold, dim=cell.dim))
        lines.append("  ".join(cells))
    return lines


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def code_frame(source: str, line: int, column: int | None, printer: Printer) -> list[str]:
    """The offending source line with a caret under the column (both 1-based)."""
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return []
    text = lines[line - 1].rstrip("\r")
    gutter = len(str(line))
    bar = printer.err_style("|", "blue", bold=True)
    number = printer.err_style(str(line), "blue", bold=True)
    frame = [f" {' ' * gutter} {bar}", f" {number} {bar} {text}"]
    if column is not None and column >= 1:
        before = text[: column - 1]
        # Tabs are copied so the caret lines up however wide the terminal draws them.
        lead = "".join("\t" if char == "\t" else " " * display_width(char) for char in before)
        caret = printer.err_style("^", "red", bold=True)
        frame.append(f" {' ' * gutter} {bar} {lead}{caret}")
    return frame
