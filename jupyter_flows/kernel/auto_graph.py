"""Show a live run graph under a notebook cell that calls a ``@flow`` (kernel side only)."""

from __future__ import annotations

import threading
from typing import Any

from ..core.records import (
    ArtifactInfo,
    FlowRunInfo,
    LogInfo,
    ResultInfo,
    RunKind,
    TaskRunInfo,
)
from ..core.run_environment import RunEnvironment
from ..core.states import State

__all__ = ["AutoGraph", "auto_graph_enabled", "set_auto_graph"]

#: ``%flow config --auto-graph on|off`` in this kernel (``None``: the environment decides)
_chosen: list[bool] = []


def auto_graph_enabled() -> bool:
    """On unless turned off here (``%flow config --auto-graph off``) or by
    ``JUPYTER_FLOWS_AUTO_GRAPH=0``."""
    return _chosen[-1] if _chosen else RunEnvironment.current().auto_graph


def set_auto_graph(on: bool) -> None:
    """Turn the live graph of ``@flow`` calls on or off in this kernel."""
    _chosen[:] = [on]


class AutoGraph:
    """An observer: for each top-level flow run started in the kernel's main thread,
    display a ``RunGraphWidget`` and keep it updated until the run ends."""

    def __init__(self) -> None:
        self._live: dict[str, Any] = {}  # flow run id -> LiveRunObserver
        self._handles: dict[str, tuple[Any, Any]] = {}  # flow run id -> (widget, DisplayHandle)

    def flow_run_created(self, run: FlowRunInfo) -> None:
        if run.parent_flow_run_id is not None or not auto_graph_enabled():
            return
        if threading.current_thread() is not threading.main_thread():
            return  # async flows run off the loop thread; shown by %flow graph instead
        if "notebook" in run.tags:
            return  # %%task cells and %flow run have their own display
        from IPython.display import display

        from ..widgets.observer import LiveRunObserver
        from ..widgets.run_graph import RunGraphWidget

        widget = RunGraphWidget(title=f"flow run {run.name} ({run.flow_name})")
        observer = LiveRunObserver(widget, flow_run_id=run.id)
        self._live[run.id] = observer
        self._handles[run.id] = (widget, display(widget, display_id=True))

    def task_run_created(self, run: TaskRunInfo) -> None:
        for observer in list(self._live.values()):
            observer.task_run_created(run)

    def set_state(self, kind: RunKind, run_id: str, state: State, run_count: int) -> None:
        if kind == "flow" and run_id in self._live and state.is_final():
            self._live.pop(run_id).flush()
            widget, handle = self._handles.pop(run_id)
            if handle is not None:
                handle.update(widget)  # the static SVG (no frontend) with the final states
            return
        for observer in list(self._live.values()):
            observer.set_state(kind, run_id, state, run_count)

    def log(self, record: LogInfo) -> None:
        pass

    def result_stored(self, info: ResultInfo) -> None:
        pass

    def artifact_saved(self, info: ArtifactInfo) -> None:
        pass

    def flush(self) -> None:
        for observer in list(self._live.values()):
            observer.flush()
