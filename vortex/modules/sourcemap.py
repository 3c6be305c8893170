"""Positions in a module function's (or a TypeScript script's) built script, mapped back to the
uploaded files.

The host reports frames of module runs as ``vortex-bundle:LINE:COLUMN`` (positions in the built
script, 1-based). This module finds which uploaded file's code holds that line and walks that
file's source map (base64 VLQ, as esbuild writes it) to the original line and column. Frames in
the linker's own lines map to no file and are dropped from stacks.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from vortex.modules.linker import Placement

BUNDLE_NAME = "vortex-bundle"
_FRAME_LINE = re.compile(
    r"^(?P<indent>\s*at .*?)\(" + BUNDLE_NAME + r":(?P<line>\d+):(?P<col>\d+)\)$"
)
_POSITION = re.compile(BUNDLE_NAME + r":(\d+):(\d+)")
_B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64 = {c: i for i, c in enumerate(_B64_CHARS)}

# One segment: (generated column, original line, original column), all 0-based.
Segment = tuple[int, int, int]


def _vlq_values(segment: str) -> list[int]:
    values = []
    shift = value = 0
    for char in segment:
        digit = _B64[char]
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        shift = value = 0
    return values


def decode_mappings(mappings: str) -> list[list[Segment]]:
    """Per generated line, its segments sorted by generated column."""
    lines: list[list[Segment]] = []
    source_line = source_col = 0
    for text in mappings.split(";"):
        column = 0
        segments: list[Segment] = []
        for part in text.split(","):
            if not part:
                continue
            values = _vlq_values(part)
            column += values[0]
            if len(values) >= 4:
                source_line += values[2]
                source_col += values[3]
                segments.append((column, source_line, source_col))
        lines.append(segments)
    return lines


def _vlq(value: int) -> str:
    bits = (-value << 1) | 1 if value < 0 else value << 1
    out = []
    while True:
        digit, bits = bits & 31, bits >> 5
        out.append(_B64_CHARS[digit | (32 if bits else 0)])
        if not bits:
            return "".join(out)


def encode_mappings(lines: Sequence[Sequence[Segment]]) -> str:
    """The inverse of ``decode_mappings``, every segment in source 0 (one file per map)."""
    parts = []
    source_line = source_col = 0
    for segments in lines:
        column = 0
        texts = []
        for generated, line, col in segments:
            texts.append(
                _vlq(generated - column)
                + "A"  # the source index never changes from 0
                + _vlq(line - source_line)
                + _vlq(col - source_col)
            )
            column, source_line, source_col = generated, line, col
        parts.append(",".join(texts))
    return ";".join(parts)


@dataclass
class _File:
    placement: Placement
    lines: list[list[Segment]] | None = None

    def segments(self) -> list[list[Segment]]:
        if self.lines is None:
            self.lines = decode_mappings(self.placement.mappings)
        return self.lines


@dataclass
class BundleMap:
    """Maps positions of one built script; decoded lazily, kept with the cached function."""

    files: list[_File] = field(default_factory=list)

    @classmethod
    def of(cls, placements: Sequence[Placement]) -> BundleMap:
        return cls(sorted((_File(p) for p in placements), key=lambda f: f.placement.start))

    def original(self, line: int, column: int) -> tuple[str, int, int] | None:
        """(file, line, column), 1-based, of a 1-based position in the built script."""
        starts = [f.placement.start for f in self.files]
        index = bisect.bisect_right(starts, line) - 1
        if index < 0:
            return None
        file = self.files[index]
        local = line - file.placement.start
        if local >= file.placement.lines:
            return None
        lines = file.segments()
        if local >= len(lines):
            return None
        segments = lines[local]
        generated = column - 1
        best = None
        for segment in segments:
            if segment[0] > generated:
                break
            best = segment
        if best is None:
            # A position before the line's first mapping: the nearest earlier mapped line.
            for earlier in range(local - 1, -1, -1):
                if lines[earlier]:
                    best = lines[earlier][-1]
                    break
            if best is None:
                return None
            return file.placement.name, best[1] + 1, best[2] + 1
        # The segment's own position: the generated text may differ in length from the source
        # ("check(" becomes "(0, import_check.check)("), so no offset within it is carried over.
        return file.placement.name, best[1] + 1, best[2] + 1

    def rewrite_stack(self, stack: str) -> str:
        """Frames pointed at the uploaded files; frames of the linker itself dropped."""
        if BUNDLE_NAME not in stack:
            return stack
        out = []
        for text in stack.split("\n"):
            match = _FRAME_LINE.match(text)
            if match is None:
                out.append(_POSITION.sub(self._replace, text))
                continue
            found = self.original(int(match["line"]), int(match["col"]))
            if found is None:
                continue
            name, line, column = found
            out.append(f"{match['indent']}({name}:{line}:{column})")
        return "\n".join(out)

    def rewrite_text(self, text: str) -> str:
        """Any bundle position in free text: a log line holding a stack, a message."""
        if BUNDLE_NAME not in text:
            return text
        return self.rewrite_stack(text)

    def rewrite_error(self, error: dict[str, Any]) -> dict[str, Any]:
        """A run error with its message and stack in the uploaded files' positions."""
        return {
            **error,
            "message": self.rewrite_text(str(error.get("message", ""))),
            "stack": self.rewrite_stack(str(error.get("stack", ""))),
        }

    def _replace(self, match: re.Match[str]) -> str:
        found = self.original(int(match[1]), int(match[2]))
        return match[0] if found is None else f"{found[0]}:{found[1]}:{found[2]}"
