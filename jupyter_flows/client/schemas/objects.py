"""Prefect's ``prefect.client.schemas.objects``: what hooks receive.

A hook gets ``(flow, flow_run, state)`` or ``(task, task_run, state)``: ``flow_run`` and
``task_run`` are the engine's run records (``FlowRunInfo``, ``TaskRunInfo``).
"""

from __future__ import annotations

from ...core.records import FlowRunInfo as FlowRun
from ...core.records import TaskRunInfo as TaskRun
from ...core.states import State, StateType

__all__ = ["FlowRun", "TaskRun", "State", "StateType"]
