"""The CLI's pieces that need no server: colour rules, the spinner, formatting, line merging."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from yarl import URL

from vortex.cli.errors import ExitCode, exit_code_for
from vortex.cli.functions import upload_name
from vortex.cli.health import backend_line
from vortex.cli.main import cli
from vortex.cli.output import (
    Printer,
    Spinner,
    bytes_phrase,
    code_frame,
    color_wanted,
    compact_json,
    format_ms,
    pretty_json,
    relative_time,
    short_size,
)
from vortex.cli.run import LiveConsole, in_flight, match_lines
from vortex.client import (
    ClientError,
    CodeSyntaxError,
    InvalidFunctionId,
    InvalidRequest,
    LogLine,
    NotFound,
    ServerError,
    ServerUnreachable,
    UnexpectedResponse,
    VortexClient,
    _api_error,
)

ANSI = "\x1b["


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# Colours and the spinner


@pytest.mark.parametrize(
    ("tty", "environ", "expected"),
    [
        (True, {}, True),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": "anything"}, False),
        (True, {"NO_COLOR": ""}, True),  # no-color.org: only a non-empty value counts
        (True, {"TERM": "dumb"}, False),
        (False, {}, False),
    ],
)
def test_colour_only_on_a_terminal_and_never_with_no_color(
    tty: bool, environ: dict[str, str], expected: bool
) -> None:
    stream = FakeTerminal() if tty else io.StringIO()
    assert color_wanted(stream, environ) is expected


def test_printer_from_env_follows_the_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", FakeTerminal())
    monkeypatch.setattr("sys.stderr", io.StringIO())
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    printer = Printer.from_env()
    assert (printer.color, printer.err_color, printer.interactive) == (True, False, True)
    monkeypatch.setenv("NO_COLOR", "1")
    printer = Printer.from_env()
    assert (printer.color, printer.interactive) == (False, True)


def test_styles_appear_only_when_colour_is_on() -> None:
    assert Printer(color=False).style("x", "red", bold=True) == "x"
    assert Printer(color=True).style("x", "red", bold=True).startswith(ANSI)
    assert ANSI not in Printer(color=False).log_line("error", "bad\nworse")
    assert ANSI in Printer(color=True).log_line("error", "bad")


def test_cli_output_has_no_colour_codes_when_not_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["init"], env={"NO_COLOR": None})
    assert result.exit_code == 0
    assert ANSI not in result.output


def test_log_lines_indent_continuations_as_the_readme_shows() -> None:
    printer = Printer()
    assert printer.log_line("log", 'Result: {\n  "a": 1\n}') == (
        '  [log] Result: {\n    "a": 1\n  }'
    )
    assert printer.log_line("warn", "x\ny", lead="T ", indent="   ") == "T [warn] x\n   y"


async def test_spinner_draws_on_a_terminal_and_clears_its_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stdout", terminal)
    async with Spinner("Uploading...", Printer(interactive=True)):
        await asyncio.sleep(0.2)
    drawn = terminal.getvalue()
    assert drawn.count("Uploading...") >= 2
    assert drawn.endswith("\r\x1b[2K")


async def test_spinner_is_silent_when_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stdout", stream)
    async with Spinner("Uploading...", Printer(interactive=False)):
        await asyncio.sleep(0.1)
    async with Spinner("Uploading...", Printer(interactive=True), enabled=False):
        await asyncio.sleep(0.1)
    assert stream.getvalue() == ""


# Formatting


def test_values_stay_on_one_line_when_they_fit() -> None:
    value = {"message": "Hello from Vortex!", "computed": [0, 1, 4, 9, 16]}
    assert (
        compact_json(value) == '{ "message": "Hello from Vortex!", "computed": [0, 1, 4, 9, 16] }'
    )
    assert pretty_json(value, width=80) == [compact_json(value)]
    assert pretty_json({}, width=1) == ["{}"]
    assert pretty_json("ünïcode", width=80) == ['"ünïcode"']
    assert pretty_json(None) == ["null"]


def test_values_break_when_too_wide() -> None:
    value = {"message": "Hello from Vortex!", "nested": {"computed": [0, 1, 4, 9, 16]}}
    assert pretty_json(value, width=50) == [
        "{",
        '  "message": "Hello from Vortex!",',
        '  "nested": { "computed": [0, 1, 4, 9, 16] }',
        "}",
    ]
    assert pretty_json([["a" * 10, "b" * 10]], width=20) == [
        "[",
        "  [",
        '    "aaaaaaaaaa",',
        '    "bbbbbbbbbb"',
        "  ]",
        "]",
    ]


def test_sizes_and_durations() -> None:
    assert bytes_phrase(1) == "1 byte"
    assert bytes_phrase(430) == "430 bytes"
    assert short_size(430) == "430 B"
    assert short_size(2048) == "2.0 KB"
    assert format_ms(142.4) == "142ms"
    assert format_ms(3.44) == "3.4ms"


def test_relative_times() -> None:
    now = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)

    def ago(**delta: float) -> str:
        return (now - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    assert relative_time(ago(seconds=1), now) == "just now"
    assert relative_time(ago(seconds=42), now) == "42s ago"
    assert relative_time(ago(minutes=5), now) == "5m ago"
    assert relative_time(ago(hours=3), now) == "3h ago"
    assert relative_time(ago(days=2), now) == "2d ago"
    assert relative_time(ago(seconds=-30), now) == "just now"
    assert relative_time("not a time", now) == "not a time"


def test_the_caret_lines_up_under_tabs_and_wide_characters() -> None:
    frame = code_frame("ok\n\tlet 🚀x = ;\n", 2, 11, Printer())
    assert frame[1] == " 2 | \tlet 🚀x = ;"
    # Under the ";": the tab copied, the rocket two columns wide.
    assert frame[2] == "   | \t" + " " * 10 + "^"
    assert code_frame("one line", 5, 1, Printer()) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("index.js", "index.js"),
        ("my handler.js", "my_handler.js"),
        (".hidden.js", "_.hidden.js"),
        ("a" * 150 + ".js", "a" * 100),
    ],
)
def test_upload_names_fit_the_servers_rule(name: str, expected: str) -> None:
    assert upload_name(Path("some/dir") / name) == expected


# Merging the live stream with the response


def line(message: str, timestamp: str = "t", run_id: str | None = "r") -> LogLine:
    return LogLine("log", message, timestamp, run_id)


def test_identical_lines_are_matched_one_for_one() -> None:
    expected = [line("a"), line("a"), line("b")]
    assert match_lines(expected, Counter({line("a").key: 1})) == [True, False, False]
    assert match_lines(expected, Counter()) == [False, False, False]


def test_only_a_missing_tail_is_still_in_flight() -> None:
    expected = [line("a"), line("b"), line("c")]
    assert in_flight(expected, Counter({line("a").key: 1}))
    # "a" never came but "b" and "c" did: the stream keeps order, so "a" is lost, not late.
    assert not in_flight(expected, Counter({line("b").key: 1, line("c").key: 1}))
    assert not in_flight([], Counter())


async def fake_stream(*items: tuple[float, LogLine]) -> AsyncIterator[LogLine]:
    for delay, item in items:
        await asyncio.sleep(delay)
        yield item
    await asyncio.sleep(3600)


async def test_lines_late_on_the_stream_are_waited_for_and_printed_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console = LiveConsole(Printer(), run_id="r")
    expected = [line("a"), line("b")]
    follower = asyncio.create_task(
        console.follow(
            fake_stream((0, line("other run", run_id="x")), (0, line("a")), (0.2, line("b")))
        )
    )
    await asyncio.sleep(0.05)
    await console.settle(expected, grace=2.0)
    follower.cancel()
    console.finish(expected, streamed=True)
    assert capsys.readouterr().out == "  [log] a\n  [log] b\n"


async def test_lines_the_stream_missed_are_printed_from_the_response(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console = LiveConsole(Printer(), run_id="r")
    expected = [line("a"), line("b"), line("c")]
    follower = asyncio.create_task(console.follow(fake_stream((0, line("b")))))
    await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await console.settle(expected, grace=0.3)
    assert 0.2 < loop.time() - started < 1.0  # "c" may still come; "a" never will
    follower.cancel()
    console.finish(expected, streamed=True)
    assert capsys.readouterr().out == (
        "  [log] b\n  (2 lines that did not stream live, from the run's response:)\n"
        "  [log] a\n  [log] c\n"
    )


def test_without_a_stream_every_line_comes_from_the_response(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console = LiveConsole(Printer(), run_id="r")
    console.finish([line("a"), line("b")], streamed=False)
    assert capsys.readouterr().out == "  [log] a\n  [log] b\n"
    console = LiveConsole(Printer(), run_id="r")
    console.finish([], streamed=True)
    assert capsys.readouterr().out == "  (no output)\n"


# The client's error family and URLs


def test_api_errors_map_to_their_kind_and_exit_code() -> None:
    url = URL("http://h/x")

    def error(status: int, code: str) -> ClientError:
        return _api_error(status, {"error": {"code": code, "message": "m"}}, "GET", url)

    cases = [
        (error(404, "function_not_found"), NotFound, ExitCode.NOT_FOUND),
        (error(400, "invalid_function_id"), InvalidFunctionId, ExitCode.USAGE),
        (error(400, "syntax_error"), CodeSyntaxError, ExitCode.FAILED),
        (error(413, "payload_too_large"), InvalidRequest, ExitCode.FAILED),
        (error(503, "pool_unavailable"), ServerError, ExitCode.SERVER_ERROR),
        (error(404, "not_found"), UnexpectedResponse, ExitCode.UNREACHABLE),
    ]
    for exc, kind, exit_code in cases:
        assert type(exc) is kind
        assert exit_code_for(exc) == exit_code
    assert exit_code_for(ServerUnreachable("x")) == ExitCode.UNREACHABLE
    malformed = _api_error(500, {"oops": 1}, "GET", url)
    assert isinstance(malformed, UnexpectedResponse)


def test_syntax_errors_carry_their_position() -> None:
    exc = _api_error(
        400,
        {"error": {"code": "syntax_error", "message": "m", "line": 2, "column": 9}},
        "POST",
        URL("http://h/deploy"),
    )
    assert isinstance(exc, CodeSyntaxError)
    assert (exc.line, exc.column) == (2, 9)
    assert exc.to_json()["error"]["line"] == 2


def test_urls_quote_ids_and_keep_a_base_path() -> None:
    client = VortexClient("http://example.com:9000/vortex/")
    assert str(client._url("execute", "../health")) == (
        "http://example.com:9000/vortex/execute/..%2Fhealth"
    )
    assert str(VortexClient("http://h:1")._url("health")) == "http://h:1/health"
    with pytest.raises(ValueError):
        VortexClient("ftp://h")


def test_health_names_each_backend() -> None:
    printer = Printer()
    assert backend_line({"backend": "local", "ok": True}, printer) == "local ✓"
    assert (
        backend_line({"backend": "redis", "ok": False, "error": "connection refused"}, printer)
        == "redis ✗ (connection refused)"
    )
