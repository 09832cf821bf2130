"""Prefect's ``prefect.runtime``: the current run's attributes, read as module attributes.

``from jupyter_flows.runtime import flow_run, task_run, deployment``, then e.g.
``flow_run.name``, ``task_run.run_count``, ``deployment.parameters``. Each attribute is
computed when read: inside a run from its run context, in a worker's run process from what
the worker handed it, elsewhere empty. ``$JUPYTER_FLOWS__RUNTIME__<MODULE>__<NAME>``
overrides one (Prefect's ``PREFECT__RUNTIME__...``), e.g.
``JUPYTER_FLOWS__RUNTIME__FLOW_RUN__NAME=test-run``.
"""

from __future__ import annotations

from . import deployment, flow_run, task_run

__all__ = ["deployment", "flow_run", "task_run"]
