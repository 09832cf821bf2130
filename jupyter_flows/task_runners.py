"""Prefect's ``prefect.task_runners``: where submitted task runs execute.

``DaskTaskRunner`` lives in ``jupyter_flows.execution.dask_runner`` (Prefect: ``prefect_dask``).
"""

from __future__ import annotations

from .core.runners import (
    ProcessPoolTaskRunner,
    SequentialTaskRunner,
    TaskRunner,
    ThreadPoolTaskRunner,
)

__all__ = [
    "TaskRunner",
    "ThreadPoolTaskRunner",
    "ProcessPoolTaskRunner",
    "SequentialTaskRunner",
    "PrefectTaskRunner",
]

PrefectTaskRunner = ThreadPoolTaskRunner
