"""``Flow.visualize()``: the flow's task graph, traced without running any task body."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

__all__ = ["tracer"]

# Set while a flow's function is traced: the engine hands task calls to it instead of running.
tracer: ContextVar[Any] = ContextVar("jupyter_flows_visualize_tracer", default=None)
