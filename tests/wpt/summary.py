"""A run's figures as Markdown: passed/total per area and per directory, the units below 100%."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from tests.wpt.runner import UnitResult


@dataclass
class Tally:
    units: int = 0
    passed: int = 0
    total: int = 0
    cpu_ms: float = 0.0

    def add(self, result: UnitResult) -> None:
        self.units += 1
        self.passed += result.passed
        self.total += len(result.subtests)
        self.cpu_ms += result.cpu_ms

    @property
    def percent(self) -> str:
        return f"{100 * self.passed / self.total:.1f}%" if self.total else "–"

    def row(self, name: str) -> str:
        cpu = f"{self.cpu_ms:,.0f}"
        return f"| {name} | {self.units} | {self.passed} | {self.total} | {self.percent} | {cpu} |"


def area_of(directory: str) -> str:
    """The area a directory's figures add up to: its top directory (fetch/api for fetch)."""
    parts = directory.split("/")
    return "/".join(parts[:2]) if parts[0] in ("fetch", "html") else parts[0]


def render(
    results: Sequence[UnitResult],
    seconds: float,
    concurrency: int,
    regressions: Sequence[str] = (),
    improvements: Sequence[str] = (),
) -> str:
    overall = Tally()
    areas: dict[str, Tally] = defaultdict(Tally)
    directories: dict[str, Tally] = defaultdict(Tally)
    for result in results:
        overall.add(result)
        areas[area_of(result.unit.directory)].add(result)
        directories[result.unit.directory].add(result)
    files = len({result.unit.path for result in results})
    lines = [
        "# web-platform-tests on Vortex",
        "",
        f"{len(results)} units ({files} files and their variants): {overall.passed}/"
        f"{overall.total} subtests passed ({overall.percent}), in {seconds:.0f} s, "
        f"{concurrency} units at a time.",
        "",
        "| area or directory | units | passed | subtests | % | CPU ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for area in sorted(areas, key=str.lower):
        lines.append(areas[area].row(f"**{area}**"))
        inside = [d for d in directories if area_of(d) == area]
        if inside != [area]:
            lines.extend(directories[d].row(d) for d in sorted(inside, key=str.lower))
    lines += ["", "## Units below 100%", ""]
    for result in sorted(results, key=lambda r: r.unit.id.lower()):
        if result.error is not None or result.passed < len(result.subtests):
            note = f" — {result.error}" if result.error else ""
            lines.append(f"- `{result.unit.id}`: {result.passed}/{len(result.subtests)}{note}")
    lines += ["", "## The most CPU", ""]
    for result in sorted(results, key=lambda r: -r.cpu_ms)[:5]:
        lines.append(
            f"- `{result.unit.id}`: {result.cpu_ms:,.0f} ms ({len(result.subtests)} subtests)"
        )
    for title, items in (("Regressions", regressions), ("Improvements", improvements)):
        if items:
            lines += ["", f"## {title}", "", *(f"- {item}" for item in items)]
    return "\n".join(lines) + "\n"
