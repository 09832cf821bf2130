"""Prefect's "Configure results" page: storage, keys, serializers, results in memory or not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from jupyter_flows import flow, task
from jupyter_flows.exceptions import FlowDefinitionError
from jupyter_flows.filesystems import LocalFileSystem
from jupyter_flows.results import ResultRef


class TestStorageAndKeys:
    def test_result_storage_path_and_templated_key(self, recorder, tmp_path):
        @task(
            result_storage=LocalFileSystem(basepath=str(tmp_path)),
            result_storage_key="{parameters[name]}.pkl",
        )
        def greet(name):
            return f"hello {name}"

        @flow
        def pipeline():
            return greet("marvin"), greet("ford")

        assert pipeline() == ("hello marvin", "hello ford")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["ford.pkl", "marvin.pkl"]
        (info, _) = sorted(recorder.results, key=lambda r: r.key, reverse=True)
        assert info.location == str(tmp_path / "marvin.pkl")

    def test_a_storage_key_is_also_the_cache_key(self, recorder, tmp_path):
        calls = []

        @task(
            result_storage=str(tmp_path),
            result_storage_key="daily-{flow_run.flow_name}.json",
            result_serializer="json",
        )
        def load():
            calls.append(1)
            return {"rows": 3}

        @flow
        def etl():
            return load()

        assert etl() == {"rows": 3} and etl() == {"rows": 3}
        assert calls == [1]
        head, _, body = (tmp_path / "daily-etl.json").read_bytes().partition(b"\n")
        assert json.loads(head)["serializer"] == "json" and json.loads(body) == {"rows": 3}

    def test_a_key_outside_the_storage_is_refused(self, recorder, tmp_path):
        @task(result_storage=str(tmp_path), result_storage_key="../{parameters[x]}")
        def load(x):
            return x

        state = load("escape", return_state=True)
        assert state.is_failed() and "outside" in state.message

    def test_compressed_serializer(self, recorder, tmp_path):
        @task(
            result_storage=str(tmp_path),
            result_serializer="compressed/pickle",
            result_storage_key="big",
        )
        def big():
            return "x" * 100_000

        assert big() == "x" * 100_000
        assert (tmp_path / "big").stat().st_size < 10_000

    def test_unknown_serializer_and_bad_run_name_option_are_definition_errors(self):
        with pytest.raises(ValueError, match="unknown serializer 'yaml'"):
            task(result_serializer="yaml")(lambda: 1)
        with pytest.raises(FlowDefinitionError, match="task_run_name"):
            task(task_run_name=3)(lambda: 1)


class TestInMemory:
    def test_cache_result_in_memory_false_reads_from_storage(self, recorder, tmp_path):
        @task(persist_result=True, cache_result_in_memory=False, result_storage=str(tmp_path))
        def load():
            return [1, 2, 3]

        state = load(return_state=True)
        assert isinstance(state.data, ResultRef)  # the value is not held by the state
        assert state.result() == [1, 2, 3]
        assert load() == [1, 2, 3]

    def test_flow_results_persist_and_load(self, recorder, tmp_path):
        @flow(result_storage=str(tmp_path), cache_result_in_memory=False)
        def pipeline(x: int):
            return {"x": x}

        state = pipeline(4, return_state=True)
        assert isinstance(state.data, ResultRef) and state.result() == {"x": 4}
        run = recorder.flow_run("pipeline")
        (info,) = [r for r in recorder.results if r.flow_run_id == run.id]
        assert info.task_run_id is None and info.location.startswith(str(tmp_path))


WRITER = """
from jupyter_flows import flow, task

@task(persist_result=True)
def compute(x):
    return x * 7

@flow(persist_result=True)
def pipeline(x: int):
    return compute(x) + 1

state = pipeline(6, return_state=True)
print(state.run_id)
"""

READER = """
import sys
from jupyter_flows import read_flow_run
run = read_flow_run(sys.argv[1])
print(run.state.name, run.state.result(), [t.state.result() for t in run.task_runs])
"""


def test_results_are_readable_after_the_process_exits(tmp_path, db_url):
    """A new process reads the flow's and its task's persisted results through their states."""
    env = {**os.environ, "JUPYTER_FLOWS_HOME": str(tmp_path), "JUPYTER_FLOWS_DB_URL": db_url}
    env.pop("JUPYTER_FLOWS_RECORD", None)

    def run(script, *args):
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(script), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip().splitlines()[-1]

    run_id = run(WRITER)
    assert run(READER, run_id) == "Completed 43 [42]"


def test_a_block_slug_as_storage_is_a_clear_error():
    with pytest.raises(ValueError, match="names a saved Prefect block.*LocalFileSystem"):
        task(result_storage="local-file-system/my-storage")(lambda: 1)
