"""Schemathesis over every operation of the served OpenAPI document (issue 13).

A real ``jupyter server`` with the extension on 127.0.0.1 (the e2e harness), on SQLite and
on PostgreSQL (which refuses NUL characters and integers past its columns), seeded with a
recorded flow run (task runs, logs), a deployment and its run, a pool, an event and an
automation, whose ids schemathesis uses for half of its path parameters. The run is bounded
(``MAX_EXAMPLES`` per operation, a fixed seed, two workers) and asserts what matters: no
response >= 500 and no response that breaks its own schema (nor its status codes, content
types and headers). What it may report is Jupyter's own conventions (403 for a missing
token where OpenAPI expects 401, 405 without ``Allow``) and requests the document cannot
describe as refused (a 404 for an id, cross-field rules, ``store.limits``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows import flow, task
from jupyter_flows.core import settings
from jupyter_flows.store.recorder import SqlRecorder
from tests.e2e.harness import TOKEN, Env, stop_all

ST = Path(sys.executable).with_name("st")  # schemathesis' CLI, from the test extras
# deeper runs by hand: JUPYTER_FLOWS_FUZZ_EXAMPLES=200 JUPYTER_FLOWS_FUZZ_SEED=7 pytest ...
SEED = int(os.environ.get("JUPYTER_FLOWS_FUZZ_SEED", "42"))
MAX_EXAMPLES = int(os.environ.get("JUPYTER_FLOWS_FUZZ_EXAMPLES", "25"))
#: checks whose failures are Jupyter's conventions or what a schema cannot say
TOLERATED = frozenset(
    {
        "missing_required_header",  # Jupyter answers 403 (not 401) without a token
        "unsupported_method",  # and 405 without an Allow header
        "positive_data_acceptance",  # ids that do not exist, cross-field rules, limits
        "negative_data_rejection",  # lax parsing: "0" is a datetime, 0 is false
    }
)


@task
def fuzz_double(x: int) -> int:
    return 2 * x


@flow(name="fuzz-seed", tags=["fuzz"])
def fuzz_seed(n: int = 2) -> int:
    print("a log line")
    return fuzz_double(n) + fuzz_double(n + 1)


def _call(env: Env, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{env.url}/jupyter-flows/api/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
    return json.loads(text) if text else None


def _seed(env: Env) -> dict[str, list[str]]:
    """Data for the fuzzer to find, by path parameter."""
    recorder = SqlRecorder.from_url(env.db_url)
    previous = settings.set_recorder(recorder)
    try:
        recorded = fuzz_seed(return_state=True).run_id
        recorder.flush()
    finally:
        settings.set_recorder(previous)
        recorder.close()
    deployment = _call(
        env,
        "POST",
        "deployments",
        {
            "name": "etl",
            "entrypoint": "etl.py:etl",
            "tags": ["fuzz"],
            "schedules": [{"cron": "0 6 * * *"}],
        },
    )
    run = _call(env, "POST", "deployments/etl/run", {"parameters": {"n": 3}})
    _call(env, "POST", "work_pools", {"name": "gpu", "concurrency_limit": 2})
    _call(env, "POST", "events", {"event": "fuzz.seed", "payload": {"k": "v"}})
    automation = _call(
        env,
        "POST",
        "automations",
        {
            "name": "on-seed",
            "trigger": {"event": "fuzz.seed"},
            "action": {"type": "pause-deployment", "deployment": "etl"},
        },
    )
    detail = _call(env, "GET", f"flow_runs/{recorded}")
    return {
        "deployment_id": ["etl", deployment["id"]],
        "flow_run_id": [str(recorded), run["id"]],
        "task_run_id": [t["id"] for t in detail["task_runs"]],
        "name": ["default", "gpu"],
        "automation_id": ["on-seed", automation["id"]],
    }


def _config(path: Path, ids: dict[str, list[str]]) -> Path:
    lines = []
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for name in ids:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}')
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[Env]:
    """A real server on SQLite, then on PostgreSQL (no scheduler, no embedded worker:
    nothing moves but the fuzzer)."""
    env = Env(tmp_path, db_url=db_url)
    try:
        env.start_server("--FlowsApp.scheduler_enabled=False")
        yield env
    finally:
        stop_all(env, tmp_path)


def _summary(ndjson: Path) -> tuple[int, Counter[int], Counter[str], list[str]]:
    """(cases, responses by status, failed checks by name, examples of intolerable ones)."""
    cases, statuses, failed, examples = 0, Counter[int](), Counter[str](), []
    for line in ndjson.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for interaction in recorder.get("interactions", {}).values():
            cases += 1
            response = interaction.get("response")
            statuses[response["status_code"] if response else 0] += 1
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                failed[check["name"]] += 1
                if check["name"] not in TOLERATED and len(examples) < 5:
                    request = recorder["interactions"][case_id]["request"]
                    info = check.get("failure_info", {}).get("failure", {})
                    examples.append(
                        f"{check['name']}: {request['method']} {request['uri']}"
                        f" -> {info.get('title')}: {info.get('message', '')[:300]}"
                    )
    return cases, statuses, failed, examples


class TestFuzz:
    def test_every_operation_answers_without_server_errors_or_schema_violations(
        self, server: Env, tmp_path: Path, record_property: Any
    ) -> None:
        if not ST.exists():
            message = f"schemathesis is not installed ({ST}): pip install -e '.[test]'"
            if os.environ.get("CI"):
                pytest.fail(message)
            pytest.skip(message)
        config = _config(tmp_path / "schemathesis.toml", _seed(server))
        ndjson, report = tmp_path / "fuzz.ndjson", tmp_path / "fuzz.json"
        command = [
            str(ST),
            "--config-file",
            str(config),
            "--no-color",
            "run",
            f"{server.url}/jupyter-flows/api/openapi.json",
            "--url",
            server.url,
            "-H",
            f"Authorization: token {TOKEN}",
            "-n",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--workers",
            "2",
            "--checks",
            "all",
            "--continue-on-failure",
            "--suppress-health-check",
            "all",
            "--generation-database",
            "none",
            "--request-timeout",
            "30",
            "--report",
            "ndjson,json",
            "--report-ndjson-path",
            str(ndjson),
            "--report-json-path",
            str(report),
        ]
        start = time.monotonic()
        done = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
        )
        seconds = time.monotonic() - start
        assert ndjson.exists() and report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
        operations = json.loads(report.read_text())["operations"]
        cases, statuses, failed, examples = _summary(ndjson)
        server_errors = sum(n for status, n in statuses.items() if status >= 500)
        figures = (
            f"schemathesis: {operations['tested']}/{operations['total']} operations,"
            f" {cases} cases in {seconds:.0f} s; responses {dict(sorted(statuses.items()))};"
            f" failed checks {dict(failed)}"
        )
        print(figures)
        record_property("fuzz", figures)
        assert operations["tested"] == operations["total"] >= 40, figures
        assert cases >= 1000, figures
        assert server_errors == 0, figures + "\n" + "\n".join(examples)
        intolerable = {name: n for name, n in failed.items() if name not in TOLERATED}
        assert not intolerable, figures + "\n" + "\n".join(examples)
        assert _call(server, "GET", "health")["status"] == "ok"  # it is still up
