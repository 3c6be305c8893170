"""The Dockerfile and docker-compose.yml are not built here (no Docker engine): what they promise
about Vortex is checked by reading them against the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from vortex.config import Settings

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
LISTENER = Settings().functions_port


def _nodes() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services: dict[str, dict[str, Any]] = compose["services"]
    return {name: service for name, service in services.items() if name.startswith("vortex")}


def test_each_node_publishes_its_functions_listener_and_says_where() -> None:
    nodes = _nodes()
    assert len(nodes) == 2
    for name, node in nodes.items():
        published = dict(port.split(":") for port in node["ports"])
        host_port = {inside: outside for outside, inside in published.items()}[str(LISTENER)]
        public = node["environment"]["VORTEX_FUNCTIONS_PUBLIC_URL"]
        assert public == f"http://localhost:{host_port}", name


def test_the_nodes_seal_secrets_with_one_key() -> None:
    keys = {node["environment"]["VORTEX_SECRETS_KEY"] for node in _nodes().values()}
    assert len(keys) == 1
    assert keys.pop().startswith("${VORTEX_SECRETS_KEY:?")  # compose refuses to start without it


def test_every_variable_the_deployment_files_set_is_one_vortex_reads() -> None:
    source = "".join(path.read_text() for path in (ROOT / "vortex").rglob("*.py"))
    dockerfile = (ROOT / "Dockerfile").read_text()
    named = set(re.findall(r"\b(VORTEX_[A-Z_]+)=", dockerfile))
    for node in _nodes().values():
        named |= {name for name in node["environment"] if name.startswith("VORTEX_")}
    assert named
    unknown = sorted(name for name in named if f'"{name}"' not in source)
    assert not unknown


def test_the_image_exposes_the_api_and_the_functions_listener() -> None:
    exposed = re.search(r"^EXPOSE (.+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert exposed is not None
    assert set(exposed.group(1).split()) == {str(Settings().port), str(LISTENER)}
