"""Prefect's ``prefect.context``: the current flow and task run contexts.

``FlowRunContext.get()`` / ``TaskRunContext.get()`` return the current context or ``None``;
``get_run_context()`` the task run's inside a task, else the flow run's, else it raises
``MissingContextError``. What Prefect users read works: ``FlowRunContext.get().flow_run.name``,
``.flow_run.id``, ``.flow_run.parameters``, ``.flow.name``, ``.parameters``;
``TaskRunContext.get().task_run.name``, ``.task_run.id``, ``.task.name``, ``.parameters``.
"""

from __future__ import annotations

from .core.context import FlowRunContext, TaskRunContext, get_run_context
from .core.remote_body import with_context
from .exceptions import MissingContextError

__all__ = [
    "FlowRunContext",
    "TaskRunContext",
    "get_run_context",
    "with_context",
    "MissingContextError",
]
