"""Prefect's ``prefect.logging``: ``get_run_logger``, ``disable_run_logger``, ``get_logger``.

``get_run_logger()`` inside a flow or task run stores each line with the run (and shows it
on stderr once); its records propagate, so the application's handlers and pytest's
``caplog`` see them. ``with disable_run_logger(): my_task.fn(...)`` tests a task's function
alone.
"""

from __future__ import annotations

from .core.run_logging import disable_run_logger, get_logger, get_run_logger

__all__ = ["get_run_logger", "disable_run_logger", "get_logger"]
