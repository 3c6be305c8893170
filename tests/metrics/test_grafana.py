"""docs/grafana/vortex.json stays true: every query names series a real server exports, with
labels those series have.

The server is asked after a run of a named function, so the run series exist. PromQL is read
with a small tokenizer, enough for the queries a dashboard holds: metric names (what is not a
function, keyword, label or string), label matchers ``{label=...}`` and groupings
``by (label, ...)``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.server import REPO, ServerProcess
from tests.test_versions import call, deploy, unique_name

DASHBOARD = REPO / "docs" / "grafana" / "vortex.json"
TARGET_LABELS = {"job", "instance"}
"""Added by Prometheus to every scraped series, not by the server."""
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "rate", "irate", "increase", "histogram_quantile",
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "label_values", "topk", "bottomk", "abs", "clamp_min", "clamp_max",
}  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{([^{}]*)\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring)\s*\(([^()]*)\)")
_WORD = re.compile(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b")


def queries(dashboard: dict[str, Any]) -> list[str]:
    found = [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            found.append(query["query"] if isinstance(query, dict) else query)
    return found


def metrics_of(expr: str) -> set[str]:
    """The series an expression names (``$__rate_interval`` and strings set aside)."""
    bare = _MATCHERS.sub("", _GROUPING.sub("", _STRING.sub('""', expr.replace("$", " "))))
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    words = set(_WORD.findall(bare))
    return {w for w in words if w not in PROMQL_WORDS and not w.startswith("__")}


def labels_of(expr: str) -> set[str]:
    """Labels the expression matches on or groups by (``le`` of histograms included)."""
    labels: set[str] = set()
    for matchers in _MATCHERS.findall(_STRING.sub('""', expr)):
        labels.update(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
    for grouping in _GROUPING.findall(expr):
        labels.update(label.strip() for label in grouping.split(",") if label.strip())
    label_values = re.match(r"label_values\(\s*\w+\s*,\s*(\w+)\s*\)", expr)
    if label_values:
        labels.add(label_values[1])
    return labels


def test_the_tokenizer() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (name, le) (rate(vortex_run_duration_seconds_bucket"
        '{name=~"$name",outcome!="ok"}[$__rate_interval])))'
    )
    assert metrics_of(expr) == {"vortex_run_duration_seconds_bucket"}
    assert labels_of(expr) == {"name", "le", "outcome"}
    assert metrics_of("sum(rate(vortex_nope_total[5m])) / sum(vortex_pool_max_hosts)") == {
        "vortex_nope_total",
        "vortex_pool_max_hosts",
    }
    assert labels_of("label_values(vortex_runs_total, name)") == {"name"}


async def test_every_query_names_a_series_the_server_exports(
    http: aiohttp.ClientSession, server: ServerProcess
) -> None:
    name = unique_name()
    await deploy(http, "Vortex.return(1);", name=name)
    await call(http, "POST", f"/execute/{name}")
    async with http.get("/metrics") as response:
        text = await response.text()
    exported: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            exported.setdefault(sample.name, set()).update(sample.labels)
    assert ("vortex_runs_total" in exported) and "name" in exported["vortex_runs_total"]

    dashboard = json.loads(Path(DASHBOARD).read_text())
    exprs = queries(dashboard)
    assert len(exprs) >= 15
    for expr in exprs:
        # label_values(metric, label): its second argument is a label, not a series.
        named = metrics_of(re.sub(r"label_values\((\w+)\s*,\s*\w+\)", r"\1", expr))
        assert named, f"no series in {expr!r}"
        missing = named - set(exported)
        assert not missing, f"{expr!r} names {missing}, which /metrics does not export"
        have = set().union(*(exported[m] for m in named)) | TARGET_LABELS
        unknown = labels_of(expr) - have
        assert not unknown, f"{expr!r} uses the labels {unknown}, which {named} do not have"


def test_the_dashboard_is_grafana_json() -> None:
    dashboard = json.loads(Path(DASHBOARD).read_text())
    assert dashboard["uid"] and dashboard["title"] == "Vortex" and dashboard["schemaVersion"] >= 36
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}"
    names = [v["name"] for v in dashboard["templating"]["list"]]
    assert "name" in names and "DS_PROMETHEUS" in names
