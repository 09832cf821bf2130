"""Fixtures of the core engine tests: a real in-memory ``RunRecorder`` and a private data dir.

``MemoryRecorder`` is a complete implementation of ``jupyter_flows.core.records.RunRecorder``
(the SQL one lives in ``jupyter_flows.store`` and is tested in ``tests/store``). Engine tests
assert on what it recorded: runs, every state transition in order, logs and result metadata.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_flows.core import settings, task_engine
from jupyter_flows.core.records import (
    ArtifactInfo,
    FlowRunInfo,
    LogInfo,
    ResultInfo,
    RunKind,
    TaskRunInfo,
)
from jupyter_flows.core.states import State


class MemoryRecorder:
    """Keeps everything the engine reports, in arrival order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.flow_runs: dict[str, FlowRunInfo] = {}
        self.task_runs: dict[str, TaskRunInfo] = {}
        self.transitions: list[tuple[RunKind, str, State, int]] = []
        self.logs: list[LogInfo] = []
        self.results: list[ResultInfo] = []
        self.artifacts: list[ArtifactInfo] = []
        self.flushes = 0

    # -- the RunRecorder protocol

    def flow_run_created(self, run: FlowRunInfo) -> None:
        with self._lock:
            self.flow_runs[run.id] = run

    def task_run_created(self, run: TaskRunInfo) -> None:
        with self._lock:
            self.task_runs[run.id] = run

    def set_state(self, kind: RunKind, run_id: str, state: State, run_count: int) -> None:
        with self._lock:
            self.transitions.append((kind, run_id, state, run_count))

    def log(self, record: LogInfo) -> None:
        with self._lock:
            self.logs.append(record)

    def result_stored(self, info: ResultInfo) -> None:
        with self._lock:
            self.results.append(info)

    def artifact_saved(self, info: ArtifactInfo) -> None:
        with self._lock:
            self.artifacts.append(info)

    def flush(self) -> None:
        with self._lock:
            self.flushes += 1

    # -- queries for assertions

    def states(self, run_id: str) -> list[State]:
        """Every state of one run, in the order it was set."""
        with self._lock:
            return [state for _kind, rid, state, _n in self.transitions if rid == run_id]

    def state_names(self, run_id: str) -> list[str]:
        return [state.name for state in self.states(run_id)]

    def run_counts(self, run_id: str) -> list[int]:
        with self._lock:
            return [n for _kind, rid, _state, n in self.transitions if rid == run_id]

    def final(self, run_id: str) -> State:
        states = self.states(run_id)
        assert states, f"no state recorded for run {run_id}"
        return states[-1]

    def flow_runs_of(self, flow_name: str) -> list[FlowRunInfo]:
        with self._lock:
            runs = [r for r in self.flow_runs.values() if r.flow_name == flow_name]
        return sorted(runs, key=lambda r: r.created)

    def flow_run(self, flow_name: str) -> FlowRunInfo:
        """The one run of ``flow_name`` (fails the test if there are several)."""
        runs = self.flow_runs_of(flow_name)
        assert len(runs) == 1, f"expected one run of flow {flow_name!r}, got {len(runs)}"
        return runs[0]

    def task_runs_of(self, task_name: str, flow_run_id: str | None = None) -> list[TaskRunInfo]:
        with self._lock:
            runs = [
                r
                for r in self.task_runs.values()
                if r.task_name == task_name
                and (flow_run_id is None or r.flow_run_id == flow_run_id)
            ]
        return sorted(runs, key=lambda r: (r.created, r.dynamic_key))

    def task_run(self, task_name: str) -> TaskRunInfo:
        """The one run of ``task_name`` (fails the test if there are several)."""
        runs = self.task_runs_of(task_name)
        assert len(runs) == 1, f"expected one run of task {task_name!r}, got {len(runs)}"
        return runs[0]

    def messages(
        self, *, flow_run_id: str | None = None, task_run_id: str | None = None
    ) -> list[str]:
        """Log messages of a task run, or of a flow run itself (not its tasks)."""
        with self._lock:
            logs = list(self.logs)
        if task_run_id is not None:
            return [log.message for log in logs if log.task_run_id == task_run_id]
        return [
            log.message
            for log in logs
            if log.flow_run_id == flow_run_id and log.task_run_id is None
        ]


@pytest.fixture(autouse=True)
def recorder(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryRecorder]:
    """Install a fresh ``MemoryRecorder`` and a private ``JUPYTER_FLOWS_HOME`` for each test."""
    home = tmp_path / "jupyter_flows_home"
    monkeypatch.setenv("JUPYTER_FLOWS_HOME", str(home))
    monkeypatch.delenv("JUPYTER_FLOWS_RECORD", raising=False)
    monkeypatch.setattr(task_engine, "_result_store", None)  # built again under ``home``
    memory = MemoryRecorder()
    previous = settings.set_recorder(memory)
    try:
        yield memory
    finally:
        settings.set_recorder(previous)


@pytest.fixture
def results_dir(recorder: MemoryRecorder) -> Any:
    """Where this test's persisted results and cache entries are written."""
    return settings.data_dir() / "results"
