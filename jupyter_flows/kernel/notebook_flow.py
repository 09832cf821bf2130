"""The notebook flow: the ``%%task`` cells of one kernel session, their DAG and their runs.

Interactive use records each ``%%task`` execution as a task run of one *session* flow run
(named after the notebook), which ends when the kernel shuts down. ``%flow run`` starts a
new flow run that executes the cells in dependency order. Under papermill the session run
is the notebook's run, with the parameters the notebook was given.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.dataflow import DataflowGraph, build_dataflow, changed_tasks
from ..core.dataflow import TaskCell as DataflowCell
from ..core.open_runs import OpenFlowRun
from ..core.records import TaskInput
from ..core.states import Completed, Failed, State
from ..exceptions import FlowDefinitionError
from .cells import CellOutputs, TaskCell, jsonable_scalars

__all__ = ["NotebookFlow", "LastRun", "notebook_name"]

logger = logging.getLogger(__name__)


def notebook_name() -> str:
    """The notebook's name: $JUPYTER_FLOWS_NOTEBOOK, the kernel's session path, or 'notebook'."""
    for var in ("JUPYTER_FLOWS_NOTEBOOK", "JPY_SESSION_NAME"):
        value = os.environ.get(var)
        if value:
            return Path(value).stem
    return "notebook"


@dataclass
class LastRun:
    """The latest run of one task cell."""

    state: State
    task_run_id: str | None
    flow_run_id: str
    source_hash: str
    input_fingerprint: str | None
    duration: float
    attempts: int


class NotebookFlow:
    """All ``%%task`` cells of this kernel: registry, dataflow DAG, session run, re-runs."""

    def __init__(
        self,
        user_ns: dict[str, Any],
        compiler: Callable[..., Any],
        name: str | None = None,
        cell_filename: Callable[[str], str] | None = None,
    ):
        self.user_ns = user_ns
        self.compiler = compiler
        self.name = name or notebook_name()
        self.cell_filename = cell_filename or (lambda source: f"<task {hash(source)}>")
        self.cells: dict[str, TaskCell] = {}
        self.last: dict[str, LastRun] = {}
        self._session: OpenFlowRun | None = None
        self._lock = threading.RLock()
        self.observers: list[Any] = []
        self._dataflow: tuple[Any, DataflowGraph] | None = None

    # ------------------------------------------------------------------ registry

    def register(self, cell: TaskCell) -> None:
        """Add or replace a task cell; a name taken by another cell is an error."""
        with self._lock:
            known = self.cells.get(cell.name)
            if (
                known is not None
                and cell.cell_id is not None
                and known.cell_id is not None
                and known.cell_id != cell.cell_id
            ):
                raise FlowDefinitionError(
                    f"task name {cell.name!r} is already used by another cell; "
                    "give this cell its own name: %%task NAME"
                )
            self.cells[cell.name] = cell

    def dataflow(self) -> DataflowGraph:
        """The DAG of the registered cells (cached until a cell changes)."""
        with self._lock:
            key = tuple(
                (c.name, c.source_hash, tuple(c.options.get("after", ())))
                for c in self.cells.values()
            )
            if self._dataflow is None or self._dataflow[0] != key:
                cells = [DataflowCell(c.name, c.source, c.names) for c in self.cells.values()]
                after = [  # a dependency on a task not run yet applies once it exists
                    (dep, c.name)
                    for c in self.cells.values()
                    for dep in c.options.get("after", ())
                    if dep in self.cells
                ]
                self._dataflow = (key, build_dataflow(cells, extra_edges=after))
            return self._dataflow[1]

    # ------------------------------------------------------------------ runs

    def session(self) -> OpenFlowRun:
        """The session flow run, started on first use and ended at kernel shutdown."""
        with self._lock:
            if self._session is None or self._session.state.is_final():
                # a deployment run: the worker created this flow run; record into it once
                run_id = os.environ.pop("JUPYTER_FLOWS_FLOW_RUN_ID", None) or None
                self._session = OpenFlowRun(
                    self.name,
                    parameters=self._parameters(),
                    tags=["notebook"],
                    description=f"notebook {self.name}",
                    flow_run_id=run_id,
                )
                atexit.register(self.end_session)
            return self._session

    def _parameters(self) -> dict[str, Any]:
        injected = os.environ.get("JUPYTER_FLOWS_PARAMETERS")
        if injected:
            try:
                value = json.loads(injected)
                if isinstance(value, dict):
                    return value
            except ValueError:
                logger.warning("ignoring JUPYTER_FLOWS_PARAMETERS: not a JSON object")
        inputs: set[str] = set()
        for cell in self.cells.values():
            inputs |= cell.names.reads
        defined_by_tasks = {n for c in self.cells.values() for n in c.names.defines}
        return jsonable_scalars(self.user_ns, inputs - defined_by_tasks)

    def end_session(self) -> State | None:
        """End the session run: Failed if the latest run of any task failed."""
        with self._lock:
            run, self._session = self._session, None
        if run is None or run.state.is_final():
            return None
        failed = [
            n
            for n, last in self.last.items()
            if last.flow_run_id == run.id and not last.state.is_completed()
        ]
        state = Failed(message=f"task(s) failed: {', '.join(failed)}") if failed else Completed()
        return run.finish(state)

    def _upstream(self, cell: TaskCell, run: OpenFlowRun, graph: DataflowGraph) -> list[TaskInput]:
        edges = []
        for upstream in graph.graph.predecessors(cell.name):
            last = self.last.get(upstream)
            if last is not None and last.task_run_id and last.flow_run_id == run.id:
                names = graph.graph.edges[upstream, cell.name].get("names", [])
                edges.append(TaskInput(last.task_run_id, "data", ",".join(names) or None))
        return edges

    def run_cell(self, cell: TaskCell, run: OpenFlowRun | None = None) -> tuple[State, Any]:
        """Run one task cell as a task run; returns its state and the cell's value."""
        run = run or self.session()
        graph = self.dataflow()
        fingerprint = cell.input_fingerprint(self.user_ns)
        body, expr = cell.compile(self.compiler, self.cell_filename(cell.source))
        task = cell.make_task(self.user_ns, body, expr)
        cell.attempts = 0
        started = time.perf_counter()
        state = run.run_task(task, upstream=self._upstream(cell, run, graph))
        duration = time.perf_counter() - started
        value = None
        if state.is_completed() and isinstance(state.data, CellOutputs):
            outputs: CellOutputs = state.data
            if state.name == "Cached":  # the function did not run: restore its outputs
                self.user_ns.update(outputs.names)
                for name in outputs.deleted:
                    self.user_ns.pop(name, None)
            value = outputs.value
        elif not state.is_completed():
            cell.restore(self.user_ns)
        attempts = cell.attempts
        self.last[cell.name] = LastRun(
            state, state.run_id, run.id, cell.source_hash, fingerprint, duration, attempts
        )
        run.recorder.flush()  # when a task cell returns, its records are committed
        return state, value

    def stale(self) -> list[str]:
        """Tasks to re-run: changed source or inputs, never succeeded, or downstream of those."""
        graph = self.dataflow()
        changed = set()
        for name, cell in self.cells.items():
            last = self.last.get(name)
            if (
                last is None
                or not last.state.is_completed()
                or last.source_hash != cell.source_hash
                or last.input_fingerprint is None
                or last.input_fingerprint != cell.input_fingerprint(self.user_ns)
            ):
                changed.add(name)
        return changed_tasks(graph, changed)

    def run_all(
        self, names: list[str] | None = None, parallel: bool = False, max_workers: int = 4
    ) -> tuple[OpenFlowRun, dict[str, State]]:
        """Run the given tasks (default: all) in dependency order as a new flow run."""
        graph = self.dataflow()
        order = [n for n in graph.order if names is None or n in names]
        run = OpenFlowRun(self.name, parameters=self._parameters(), tags=["notebook", "flow-run"])
        for observer in self.observers:
            observer.started(run, order)
        states: dict[str, State] = {}
        if not parallel:
            for name in order:
                states[name], _value = self.run_cell(self.cells[name], run)
                if not states[name].is_completed():
                    break
        else:
            states = self._run_parallel(order, graph, run, max_workers)
        failed = [n for n, s in states.items() if not s.is_completed()]
        skipped = [n for n in order if n not in states]
        message = None
        if failed:
            message = f"failed: {', '.join(failed)}" + (
                f"; not run: {', '.join(skipped)}" if skipped else ""
            )
        run.finish(Failed(message=message) if failed else Completed())
        return run, states

    def _run_parallel(
        self, order: list[str], graph: DataflowGraph, run: OpenFlowRun, max_workers: int
    ) -> dict[str, State]:
        states: dict[str, State] = {}
        remaining = list(order)
        running: dict[Future[tuple[State, Any]], str] = {}
        with ThreadPoolExecutor(max_workers) as pool:
            while remaining or running:
                for name in list(remaining):
                    preds = [p for p in graph.graph.predecessors(name) if p in order]
                    if any(p in states and not states[p].is_completed() for p in preds):
                        remaining.remove(name)  # an upstream failed: not run
                    elif all(p in states for p in preds):
                        remaining.remove(name)
                        running[pool.submit(self.run_cell, self.cells[name], run)] = name
                if not running:
                    break
                done, _ = wait_futures(running, return_when=FIRST_COMPLETED)
                for future in done:
                    states[running.pop(future)] = future.result()[0]
        return states
