"""``LiveRunObserver``: feeds a RunGraphWidget from the engine's run events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..core.records import (
    ArtifactInfo,
    FlowRunInfo,
    LogInfo,
    ResultInfo,
    RunKind,
    TaskRunInfo,
)
from ..core.states import State

__all__ = ["LiveRunObserver"]


class LiveRunObserver:
    """A RunRecorder-shaped observer (``core.settings.add_observer``) for one flow run.

    ``flow_run_id=None`` binds to the first top-level flow run it sees. With
    ``node_key="task_name"`` task runs update existing nodes named by their task (the
    notebook DAG); with ``"id"`` each task run becomes a node.
    """

    def __init__(self, widget: Any, flow_run_id: str | None = None, node_key: str = "id"):
        if node_key not in ("id", "task_name"):
            raise ValueError("node_key must be 'id' or 'task_name'")
        self.widget = widget
        self.flow_run_id = flow_run_id
        self.node_key = node_key
        self._node_of: dict[str, str] = {}
        self._started: dict[str, datetime] = {}

    def flow_run_created(self, run: FlowRunInfo) -> None:
        if self.flow_run_id is None and run.parent_flow_run_id is None:
            self.flow_run_id = run.id

    def task_run_created(self, run: TaskRunInfo) -> None:
        if self.flow_run_id is None or run.flow_run_id != self.flow_run_id:
            return
        node = run.task_name if self.node_key == "task_name" else run.id
        self._node_of[run.id] = node
        if self.node_key == "id":
            self.widget.add_node(
                node,
                name=run.name,
                task_name=run.task_name,
                task_key=run.task_key,
                state_name="Pending",
            )
            for edge in run.inputs:
                upstream = self._node_of.get(edge.upstream_id)
                if upstream is not None:
                    self.widget.add_edge(upstream, node)
        self.widget.update_node(node, state="Pending", attempts=0, message=None)

    def set_state(self, kind: RunKind, run_id: str, state: State, run_count: int) -> None:
        if kind != "task":
            return
        node = self._node_of.get(run_id)
        if node is None:
            return
        attrs: dict[str, Any] = {"state": state.name, "attempts": run_count}
        if state.name in ("Running", "Retrying") and run_id not in self._started:
            self._started[run_id] = state.timestamp
        if state.is_final():
            started = self._started.get(run_id)
            if started is not None:
                attrs["duration"] = round((state.timestamp - started).total_seconds(), 3)
            attrs["message"] = state.message
        self.widget.update_node(node, **attrs)

    def log(self, record: LogInfo) -> None:
        pass

    def result_stored(self, info: ResultInfo) -> None:
        pass

    def artifact_saved(self, info: ArtifactInfo) -> None:
        pass

    def flush(self) -> None:
        self.widget.flush()
