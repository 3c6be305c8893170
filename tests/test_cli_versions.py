"""``vortex deploy --name``, ``versions``, ``rollback``, ``run NAME``, ``runs`` and ``delete NAME``
against the shared real server."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from tests.test_cli import Invoke, invoke  # noqa: F401  (the fixture)


def deploy_named(invoke: Invoke, code: str, name: str) -> dict[str, object]:  # noqa: F811
    Path("index.js").write_text(code)
    result = invoke("deploy", "index.js", "--name", name, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def test_named_functions_from_the_cli(invoke: Invoke) -> None:  # noqa: F811
    name = f"cli-{uuid.uuid4().hex[:10]}"
    Path("index.js").write_text('console.log("first"); Vortex.return(1);')
    result = invoke("deploy", "index.js", "--name", name)
    assert result.exit_code == 0, result.stderr
    assert f"Name: {name}" in result.stdout and "Version: 1 (active)" in result.stdout
    assert f"vortex run {name}" in result.stdout
    second = deploy_named(invoke, 'console.log("second"); Vortex.return(2);', name)
    assert second["version"] == 2 and second["name"] == name

    result = invoke("run", name)
    assert result.exit_code == 0, result.stderr
    assert "second" in result.stdout and "📦 Return Value:\n  2\n" in result.stdout

    result = invoke("versions", name)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["VERSION", "ID", "CREATED"]
    assert re.match(r"^\* 2\s+\S+.*active$", lines[1]) and re.match(r"^  1\s", lines[2])

    result = invoke("rollback", name)
    assert result.exit_code == 0, result.stderr
    assert f"{name} now runs version 1" in result.stdout
    assert "📦 Return Value:\n  1\n" in invoke("run", name).stdout
    result = invoke("rollback", name, "--to", "2", "--json")
    assert json.loads(result.stdout)["active"] == 2
    result = invoke("rollback", name, "--to", "7")
    assert result.exit_code == 4 and "has no version 7" in result.stderr

    result = invoke("list")
    assert re.search(rf"\s{name}:v2\s", result.stdout)

    result = invoke("runs", name)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "RUN",
        "ID",
        "WHEN",
        "VERSION",
        "TRIGGER",
        "DURATION",
        "CPU",
        "OUTCOME",
    ]
    assert len(lines) == 3  # two runs, newest (version 1) first
    assert lines[1].split()[3:5] == ["1", "execute"] and lines[1].endswith("✓ ok")
    result = invoke("runs", name, "--json")
    runs = json.loads(result.stdout)["runs"]
    assert [r["version"] for r in runs] == [1, 2] and all(r["ok"] for r in runs)

    result = invoke("delete", name)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"✓ Deleted function {name} (2 versions)\n"
    result = invoke("run", name)
    assert result.exit_code == 4
    assert result.stderr.strip().endswith(f"no function named {name}")


def test_a_failed_run_shows_in_runs(invoke: Invoke) -> None:  # noqa: F811
    name = f"cli-{uuid.uuid4().hex[:10]}"
    deploy_named(invoke, 'throw new Error("nope");', name)
    assert invoke("run", name).exit_code == 1
    result = invoke("runs", name)
    assert result.stdout.splitlines()[1].endswith("✗ function_error")
    assert invoke("runs", f"cli-{uuid.uuid4().hex[:10]}").exit_code == 4
    result = invoke("deploy", "index.js", "--name", "Bad_Name")
    assert result.exit_code == 1 and '"name" must be' in result.stderr


def test_deploy_with_a_schedule(invoke: Invoke) -> None:  # noqa: F811
    name = f"cron-{uuid.uuid4().hex[:10]}"
    Path("job.js").write_text('console.log("tick");')
    result = invoke("deploy", "job.js", "--name", name, "--schedule", "*/5  * * * *")
    assert result.exit_code == 0, result.stderr
    assert "Schedule: */5  * * * * (UTC)" in result.stdout
    result = invoke("deploy", "job.js", "--schedule", "every day")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "five fields" in result.stderr and "Traceback" not in result.stderr


def test_a_new_version_keeps_its_settings_unless_cleared(invoke: Invoke) -> None:  # noqa: F811
    name = f"cli-{uuid.uuid4().hex[:10]}"
    Path("index.js").write_text("Vortex.return(Vortex.env.REGION ?? null);")
    first = invoke(
        "deploy", "index.js", "--name", name, "--env", "REGION=eu", "--schedule", "@daily"
    )
    assert first.exit_code == 0, first.stderr
    result = invoke("deploy", "index.js", "--name", name)
    assert result.exit_code == 0, result.stderr
    assert "Kept from the previous version: env, schedule" in result.stdout
    assert '📦 Return Value:\n  "eu"\n' in invoke("run", name).stdout
    result = invoke("deploy", "index.js", "--name", name, "--clear", "env", "--json")
    assert json.loads(result.stdout)["kept"] == ["schedule"]
    assert "📦 Return Value:\n  null\n" in invoke("run", name).stdout
    assert invoke("delete", name).exit_code == 0


def test_deploy_with_several_schedules(invoke: Invoke) -> None:  # noqa: F811
    name = f"cron-{uuid.uuid4().hex[:10]}"
    Path("job.js").write_text('console.log("tick");')
    crons = ("*/5 * * * *", "0 0 * * *")
    result = invoke("deploy", "job.js", "--name", name, "--cron", crons[0], "--cron", crons[1])
    assert result.exit_code == 0, result.stderr
    assert "Schedules: */5 * * * *, 0 0 * * * (UTC)" in result.stdout
    assert listed(invoke, name)["schedules"] == list(crons)
    assert listed(invoke, name)["schedule"] == crons[0]
    six = [arg for m in range(6) for arg in ("--schedule", f"{m} * * * *")]
    result = invoke("deploy", "job.js", "--name", name, *six)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "at most 5" in result.stderr and "Traceback" not in result.stderr
    result = invoke("deploy", "job.js", "--name", name, "--clear", "schedule", "--json")
    assert result.exit_code == 0, result.stderr
    assert listed(invoke, name)["schedules"] == []
    assert invoke("delete", name).exit_code == 0


def listed(invoke: Invoke, name: str) -> dict[str, object]:  # noqa: F811
    functions = json.loads(invoke("list", "--json").stdout)["functions"]
    found: dict[str, object] = next(f for f in functions if f.get("name") == name)
    return found
