"""The notebook flow: the ``%%task`` cells of one kernel, their DAG and their runs.

Interactive use: each ``%%task`` execution is a flow run of its own (flow: the notebook's
name; run: the cell's task name; tag ``notebook``) holding that cell's task run, and it
ends when the cell ends: Completed, Failed (or Cancelled, Crashed). ``%flow run`` is one
flow run of the cells it runs, in dependency order, with the dataflow edges between them.
Nothing stays Running between cells.

A deployment run (papermill started by a worker's run process, which sets
``JUPYTER_FLOWS_FLOW_RUN_ID``): every cell's task run, and ``%flow run``'s, is recorded
under that one flow run, which the kernel adopts and never ends: the run process records
its final state with papermill's outcome.

Either way, once a flow run is Cancelling (Cancel in the panel) or has ended elsewhere,
cells that have not started end Cancelled (see ``run_watch``).
"""

from __future__ import annotations

import atexit
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

from ..core.context import FlowRunContext
from ..core.dataflow import DataflowGraph, append_cell, build_dataflow, changed_tasks
from ..core.dataflow import TaskCell as DataflowCell
from ..core.open_runs import OpenFlowRun
from ..core.records import TaskInput
from ..core.run_environment import RunEnvironment
from ..core.states import Cancelled, Completed, Crashed, Failed, State
from ..exceptions import FlowDefinitionError
from .cell_output import captured_output, end_output
from .cells import CellOutputs, TaskCell, jsonable_scalars
from .run_watch import RunWatch

__all__ = ["NotebookFlow", "LastRun", "notebook_name", "deployment_run_id"]

logger = logging.getLogger(__name__)
_RUN_ID_ENV = RunEnvironment.variable("flow_run_id")
_deployment_run_id: list[str | None] = []


def notebook_name() -> str:
    """The notebook's name: $JUPYTER_FLOWS_NOTEBOOK, the kernel's session path, or 'notebook'."""
    for value in (RunEnvironment.current().notebook, os.environ.get("JPY_SESSION_NAME")):
        if value:
            return Path(value).stem
    return "notebook"


def deployment_run_id() -> str | None:
    """The worker's flow run this kernel records into ($JUPYTER_FLOWS_FLOW_RUN_ID), if any.

    Read once, then removed from the environment, so processes the notebook starts do not
    record into it too.
    """
    if not _deployment_run_id:
        _deployment_run_id.append(os.environ.pop(_RUN_ID_ENV, None) or None)
    return _deployment_run_id[0]


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


def _flow_state(task: State, watch: RunWatch, seconds: float) -> State:
    """How a one-cell flow run ends, given its task run's state.

    A cell quicker than the recorder's first write is not checked: its run was not in the
    database yet, so nobody can have cancelled it.
    """
    unseen = seconds < getattr(watch.run.recorder, "flush_interval", 0.0)
    cancelled = watch.stopped is not None or (not unseen and watch.check())
    if cancelled or task.is_cancelled():
        note = "the cell completed" if task.is_completed() else task.message
        return Cancelled(message=f"flow run {watch.stopped or 'cancelled'}; {note}")
    if task.is_completed():
        return Completed(message=None if task.name == "Completed" else task.name)
    if task.is_crashed():
        return Crashed(message=task.message)
    return Failed(message=task.message)


class NotebookFlow:
    """All ``%%task`` cells of this kernel: registry, dataflow DAG, their flow runs."""

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
        self._deployment: OpenFlowRun | None = None
        self._lock = threading.RLock()
        self._dataflow: DataflowGraph | None = None
        #: cells registered after the others since the DAG was last built or extended
        self._appended: list[str] = []
        #: a cell changed in place, or declared edges changed: build the DAG again
        self._rebuild = False
        #: names cells wait for with ``--after`` (a cell of that name changes the DAG)
        self._awaited: set[str] = set()
        #: the names task cells define (None: to compute again)
        self._defined: set[str] | None = None

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
            after = tuple(cell.options.get("after", ()))
            if known is not None:  # run again: the DAG changes only if the cell did
                same = known.source_hash == cell.source_hash
                if not (same and tuple(known.options.get("after", ())) == after):
                    self._rebuild = True
            elif after or cell.name in self._awaited:  # declared edges: the whole DAG again
                self._rebuild = True
            else:
                self._appended.append(cell.name)
            self._awaited.update(after)
            if known is None and self._defined is not None:
                self._defined |= cell.names.defines
            else:
                self._defined = None

    def unregister(self, cell: TaskCell, previous: TaskCell | None) -> None:
        """Take back ``register(cell)`` (it was refused): ``previous`` is that name's cell again."""
        with self._lock:
            if self.cells.get(cell.name) is cell:
                if previous is None:
                    del self.cells[cell.name]
                else:
                    self.cells[cell.name] = previous
                self._rebuild, self._defined = True, None

    def dataflow(self) -> DataflowGraph:
        """The DAG of the registered cells (cached until a cell changes; cells added after
        the others extend it, at the cost of one cell each, not of the notebook)."""
        with self._lock:
            if self._dataflow is not None and not self._rebuild:
                for name in self._appended:
                    cell = self.cells[name]
                    append_cell(self._dataflow, DataflowCell(cell.name, cell.source, cell.names))
            else:
                cells = [DataflowCell(c.name, c.source, c.names) for c in self.cells.values()]
                after = [  # a dependency on a task not run yet applies once it exists
                    (dep, c.name)
                    for c in self.cells.values()
                    for dep in c.options.get("after", ())
                    if dep in self.cells
                ]
                self._dataflow = build_dataflow(cells, extra_edges=after)
            self._appended, self._rebuild = [], False
            return self._dataflow

    # ------------------------------------------------------------------ runs

    def deployment_run(self) -> OpenFlowRun | None:
        """The worker's flow run, adopted on first use (None in interactive use)."""
        run_id = deployment_run_id()
        if run_id is None:
            return None
        with self._lock:
            if self._deployment is None:
                from ..core.run_environment import RunEnvironment

                env = RunEnvironment.current()
                self._deployment = OpenFlowRun(
                    self.name,
                    run_name=env.flow_run_name,
                    parameters=self._parameters(self.cells.values()),
                    tags=["notebook"],
                    description=f"notebook {self.name}",
                    flow_run_id=run_id,
                    deployment_id=env.deployment_id,
                    adopted=True,
                )
                atexit.register(self.close)
            return self._deployment

    def ambient_context(self) -> FlowRunContext | None:
        """The adopted deployment run's context (None in interactive use): what a plain
        cell's ``pause_flow_run``/``suspend_flow_run`` pauses."""
        run = self.deployment_run()
        return run.context if run is not None else None

    def close(self) -> None:
        """Flush what the adopted deployment run recorded (its process ends it)."""
        with self._lock:
            run = self._deployment
        if run is not None:
            run.finish()

    def _new_run(self, run_name: str | None, cells: Any, tags: list[str]) -> OpenFlowRun:
        return OpenFlowRun(
            self.name,
            run_name=run_name,
            parameters=self._parameters(cells),
            tags=tags,
            description=f"notebook {self.name}",
        )

    def _parameters(self, cells: Any) -> dict[str, Any]:
        """Injected parameters (papermill), else the JSON-able scalars the cells read."""
        injected = RunEnvironment.current().parameters
        if injected is not None:
            return injected
        inputs: set[str] = set()
        for cell in cells:
            inputs |= cell.names.reads
        with self._lock:
            if self._defined is None:
                self._defined = {n for c in self.cells.values() for n in c.names.defines}
            defined_by_tasks = self._defined
        return jsonable_scalars(self.user_ns, inputs - defined_by_tasks)

    def _upstream(self, cell: TaskCell, run: OpenFlowRun, graph: DataflowGraph) -> list[TaskInput]:
        edges = []  # within one flow run only: a run's graph holds its own task runs
        for upstream in graph.graph.predecessors(cell.name):
            last = self.last.get(upstream)
            if last is not None and last.task_run_id and last.flow_run_id == run.id:
                names = graph.graph.edges[upstream, cell.name].get("names", [])
                edges.append(TaskInput(last.task_run_id, "data", ",".join(names) or None))
        return edges

    def run_cell(self, cell: TaskCell, run: OpenFlowRun | None = None) -> tuple[State, Any]:
        """Run one task cell as a task run; returns its state and the cell's value.

        Without ``run``: in a deployment run, as a task run of it (not started if that run
        was cancelled); else as a flow run of its own that ends with the cell.
        """
        if run is not None:
            return self._run_task(cell, run)
        deployment = self.deployment_run()
        if deployment is not None:
            with RunWatch(deployment) as watch:
                watch.check()  # cancelled meanwhile: this cell ends Cancelled, unrun
                return self._run_task(cell, deployment)
        own = self._new_run(cell.name, [cell], ["notebook"])
        started = time.perf_counter()
        try:
            with RunWatch(own) as watch:
                state, value = self._run_task(cell, own, flush=False)  # finish() flushes
        except BaseException as exc:  # an interrupt: the task run is Crashed, and so is this
            own.finish(Crashed(message=f"{type(exc).__name__}: {exc}".rstrip(": ")))
            raise
        own.finish(_flow_state(state, watch, time.perf_counter() - started))
        return state, value

    def _run_task(self, cell: TaskCell, run: OpenFlowRun, flush: bool = True) -> tuple[State, Any]:
        graph = self.dataflow()
        fingerprint = cell.input_fingerprint(self.user_ns)
        body, expr = cell.compile(self.compiler, self.cell_filename(cell.source))
        task = cell.make_task(self.user_ns, body, expr)
        cell.attempts = 0
        cell.snapshot = {}  # no attempt yet: nothing to roll back
        started = time.perf_counter()
        with captured_output():
            state = run.run_task(task, upstream=self._upstream(cell, run, graph))
            end_output(state.run_id)  # what it printed after its last newline
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
        if flush:  # when a task cell returns, its records are committed
            run.recorder.flush()
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
    ) -> tuple[OpenFlowRun, dict[str, State], State]:
        """Run the given tasks (default: all) in dependency order as one flow run.

        A new flow run, or the deployment run (which then goes on). Returns the run, each
        task's state and how the tasks ended (the run's final state, if it is ours).
        """
        graph = self.dataflow()
        order = [n for n in graph.order if names is None or n in names]
        cells = [self.cells[n] for n in order]
        run = self.deployment_run() or self._new_run(None, cells, ["notebook", "flow-run"])
        states: dict[str, State] = {}
        try:
            with RunWatch(run) as watch, captured_output():
                if parallel:
                    states = self._run_parallel(order, graph, run, max_workers, watch)
                else:
                    for name in order:
                        watch.check()  # cancelled: this and the next cells end Cancelled
                        states[name], _value = self._run_task(self.cells[name], run)
                        if not states[name].is_completed() and not watch.stopped:
                            break
                watch.check()
        except BaseException as exc:
            if not run.adopted:
                run.finish(Crashed(message=f"{type(exc).__name__}: {exc}".rstrip(": ")))
            raise
        outcome = self._outcome(order, states, watch)
        if not run.adopted:
            outcome = run.finish(outcome)
        return run, states, outcome

    @staticmethod
    def _outcome(order: list[str], states: dict[str, State], watch: RunWatch) -> State:
        cancelled = [n for n, s in states.items() if s.is_cancelled()]
        failed = [n for n, s in states.items() if not s.is_completed() and n not in cancelled]
        skipped = [n for n in order if n not in states]
        parts = [
            f"{label}: {', '.join(tasks)}"
            for label, tasks in (("failed", failed), ("cancelled", cancelled), ("not run", skipped))
            if tasks
        ]
        if watch.stopped:
            return Cancelled(message="; ".join([f"flow run {watch.stopped}", *parts]))
        if failed or cancelled:
            return Failed(message="; ".join(parts))
        return Completed()

    def _run_parallel(
        self,
        order: list[str],
        graph: DataflowGraph,
        run: OpenFlowRun,
        max_workers: int,
        watch: RunWatch,
    ) -> dict[str, State]:
        states: dict[str, State] = {}
        remaining = list(order)
        running: dict[Future[tuple[State, Any]], str] = {}
        with ThreadPoolExecutor(max_workers) as pool:
            while remaining or running:
                watch.check()  # cancelled: the cells started from now on end Cancelled
                for name in list(remaining):
                    preds = [p for p in graph.graph.predecessors(name) if p in order]
                    if any(p in states and not states[p].is_completed() for p in preds):
                        remaining.remove(name)  # an upstream failed: not run
                    elif all(p in states for p in preds):
                        remaining.remove(name)
                        running[pool.submit(self._run_task, self.cells[name], run)] = name
                if not running:
                    break
                done, _ = wait_futures(running, return_when=FIRST_COMPLETED)
                for future in done:
                    states[running.pop(future)] = future.result()[0]
        return states
