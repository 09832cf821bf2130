"""The current task run's attributes, read as module attributes (Prefect's
``prefect.runtime.task_run``): ``from jupyter_flows.runtime import task_run; task_run.name``.

They come from the task run context; outside a task run they are empty (``None``, ``[]``,
``{}``, ``0``). ``$JUPYTER_FLOWS__RUNTIME__TASK_RUN__<NAME>`` overrides an attribute (for
tests), cast to the type of its real value.

Attributes: ``id``, ``name``, ``task_name``, ``tags``, ``parameters``, ``run_count`` (the
attempt: 1, then 2... on retries) and ``api_url`` (the task run on the REST API, ``None``
when the process knows no server).
"""

from __future__ import annotations

from typing import Any

from ..core.context import TaskRunContext
from ._common import api_url as _api_url
from ._common import attribute


def __getattr__(name: str) -> Any:
    return attribute("task_run", FIELDS, name)


def __dir__() -> list[str]:
    return sorted(__all__)


def get_id() -> str | None:
    context = TaskRunContext.get()
    return context.task_run.id if context is not None else None


def get_name() -> str | None:
    context = TaskRunContext.get()
    return context.task_run.name if context is not None else None


def get_task_name() -> str | None:
    context = TaskRunContext.get()
    return context.task.name if context is not None else None


def get_tags() -> list[str]:
    context = TaskRunContext.get()
    return list(context.task_run.tags) if context is not None else []


def get_parameters() -> dict[str, Any]:
    context = TaskRunContext.get()
    return context.parameters if context is not None else {}


def get_run_count() -> int:
    context = TaskRunContext.get()
    return context.run_count if context is not None else 0


def get_task_run_api_url() -> str | None:
    run_id = get_id()
    return _api_url(f"task_runs/{run_id}") if run_id else None


FIELDS = {
    "id": get_id,
    "name": get_name,
    "task_name": get_task_name,
    "tags": get_tags,
    "parameters": get_parameters,
    "run_count": get_run_count,
    "api_url": get_task_run_api_url,
}

#: the attributes (each computed by ``__getattr__`` when read)
__all__ = list(FIELDS)
