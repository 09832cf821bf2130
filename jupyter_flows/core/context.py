"""Run contexts: how a task knows it runs inside a flow (``contextvars``, thread-safe)."""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import MissingContextError
from .records import FlowRunInfo, RunRecorder, TaskRunInfo

if TYPE_CHECKING:
    from .flows import Flow
    from .runners import TaskRunner
    from .tasks import Task

__all__ = [
    "FlowRunContext",
    "TaskRunContext",
    "flow_run_context",
    "task_run_context",
    "get_run_context",
    "ambient_flow_run",
    "set_ambient_flow_run",
]

_SMALL_INTS = range(-5, 257)
#: results tracked between two sweeps for results only the flow run still holds, at least
SWEEP_EVERY = 64
#: ... or bytes of them (``sys.getsizeof``, shallow)
SWEEP_BYTES = 8 << 20
#: ``sys.getrefcount`` of a result held only by the table's entry (its tuple's reference and
#: getrefcount's own argument)
_ONLY_OURS = 2


@dataclass(eq=False)
class FlowRunContext:
    """Everything the engine shares between the tasks of one flow run.

    ``FlowRunContext.get()`` is the current one (Prefect's API): ``.flow_run.id``,
    ``.flow_run.name``, ``.flow.name``, ``.parameters`` (the validated call arguments).
    """

    flow: Flow[..., Any]
    flow_run: FlowRunInfo
    recorder: RunRecorder
    task_runner: TaskRunner
    parameters: dict[str, Any]
    log_prints: bool = False
    cancel_event: threading.Event = field(default_factory=threading.Event)
    futures: list[Any] = field(default_factory=list)
    _counters: dict[str, itertools.count[int]] = field(default_factory=dict)
    _result_owner: dict[int, tuple[str, Any]] = field(default_factory=dict)
    _tracked: list[int] = field(default_factory=lambda: [0, 0, SWEEP_EVERY])  # n, bytes, next
    #: the attempt running now (1, then 2... on retries); set by whoever runs the flow body
    run_count: int = 1
    #: the flow run's parent context, for a subflow made while its parent's is current
    parent: FlowRunContext | None = field(default=None, repr=False)
    #: a retry from failure: the earlier run whose completed task runs are reused
    prior: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        outer = flow_run_context.get()
        parent_id = self.flow_run.parent_flow_run_id
        if self.parent is None and outer is not None and outer.flow_run.id == parent_id:
            self.parent = outer

    @classmethod
    def get(cls) -> FlowRunContext | None:
        """The flow run context of the caller, or ``None`` outside any flow run."""
        return flow_run_context.get()

    @property
    def root(self) -> FlowRunContext:
        """The outermost flow run context of this one's chain of parents (itself if none)."""
        context = self
        while context.parent is not None:
            context = context.parent
        return context

    def next_dynamic_key(self, task_key: str) -> int:
        """0, 1, 2... per task within this flow run (``add-0``, ``add-1``...)."""
        counter = self._counters.get(task_key)
        if counter is None:
            counter = self._counters.setdefault(task_key, itertools.count())
        return next(counter)

    def track_result(self, task_run_id: str, value: Any) -> None:
        """Remember which task run produced ``value`` so passing it on records an edge.

        The value is held (its ``id`` must stay its own), but only while someone else holds
        it too: from time to time the results only this table still holds are let go (a
        flow of 300 tasks that each return 1 MiB and keep nothing does not keep 300 MiB).
        """
        if value is None or value is True or value is False:
            return
        if type(value) is int and value in _SMALL_INTS:
            return
        self._result_owner[id(value)] = (task_run_id, value)
        tracked = self._tracked
        tracked[0] += 1
        tracked[1] += sys.getsizeof(value, 0)
        if tracked[0] >= tracked[2] or tracked[1] >= SWEEP_BYTES:
            self._let_go()

    def _let_go(self) -> None:
        """Drop the results nobody but this table holds (they can never be passed on)."""
        owners = self._result_owner
        for key, entry in list(owners.items()):
            if sys.getrefcount(entry[1]) <= _ONLY_OURS and owners.get(key) is entry:
                del owners[key]
        # the next sweep after as many new results as survived (amortised O(1) per result)
        self._tracked[:] = [0, 0, max(SWEEP_EVERY, len(owners))]

    def result_owner(self, value: Any) -> str | None:
        entry = self._result_owner.get(id(value))
        if entry is not None and entry[1] is value:
            return entry[0]
        return None


@dataclass(eq=False)
class TaskRunContext:
    """The running task: available to ``cache_key_fn``, hooks and ``get_run_logger``.

    ``TaskRunContext.get()`` is the current one (Prefect's API): ``.task_run.id``,
    ``.task_run.name``, ``.task.name``, ``.parameters``, ``.run_count``.
    """

    task: Task[..., Any]
    task_run: TaskRunInfo
    parameters: dict[str, Any]
    flow_run_context: FlowRunContext | None
    log_prints: bool = False
    run_count: int = 0

    @classmethod
    def get(cls) -> TaskRunContext | None:
        """The task run context of the caller, or ``None`` outside any task run.

        A subflow called from a task body is not in that task run: inside it, this is
        ``None`` (the task run belongs to another flow run context).
        """
        context = task_run_context.get()
        if context is None or context.flow_run_context is not flow_run_context.get():
            return None
        return context


def get_run_context() -> TaskRunContext | FlowRunContext:
    """The task run context inside a task run, else the flow run context (Prefect's API).

    Raises
    ------
    MissingContextError
        Outside any flow or task run.
    """
    context: TaskRunContext | FlowRunContext | None = TaskRunContext.get()
    if context is None:
        context = FlowRunContext.get()
    if context is None:
        raise MissingContextError(
            "there is no active flow or task run context (get_run_context() was called "
            "outside a @flow or @task run)"
        )
    return context


flow_run_context: ContextVar[FlowRunContext | None] = ContextVar(
    "jupyter_flows_flow_run", default=None
)
task_run_context: ContextVar[TaskRunContext | None] = ContextVar(
    "jupyter_flows_task_run", default=None
)

# Set while ``Flow.visualize()`` traces a flow: the engine hands task calls to it (core.visualize).
visualize_tracer: ContextVar[Any] = ContextVar("jupyter_flows_visualize_tracer", default=None)

#: The flow run this process runs outside any flow body (a notebook kernel's adopted
#: deployment run, whose cells are not one function): set by the kernel side.
_ambient: Callable[[], FlowRunContext | None] | None = None


def set_ambient_flow_run(provider: Callable[[], FlowRunContext | None] | None) -> None:
    """Register who knows the process's ambient flow run (``None``: nobody)."""
    global _ambient
    _ambient = provider


def ambient_flow_run() -> FlowRunContext | None:
    """The context of the flow run this process runs outside any flow body, if any: what a
    notebook's plain cell calling ``pause_flow_run``/``suspend_flow_run`` pauses."""
    return _ambient() if _ambient is not None else None
