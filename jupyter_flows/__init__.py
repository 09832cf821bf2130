"""jupyter-flows: notebook-native workflow orchestration (flows, tasks, retries, caching).

``import jupyter_flows`` stays light: the database, Jupyter server and IPython parts are
imported only when first used.
"""

from __future__ import annotations

import sys
from typing import Any

from ._version import __version__
from .core import prior_runs as _prior_runs
from .core import results as _results
from .core import settings as _settings
from .core import tag_limits as _tag_limits
from .core.annotations import allow_failure, quote
from .core.caching import DEFAULT, FLOW_PARAMETERS, INPUTS, NONE, RUN_ID, TASK_SOURCE
from .core.engine import cancel_flow_run
from .core.flows import Flow, flow
from .core.futures import TaskFuture, unmapped, wait
from .core.options import exponential_backoff
from .core.run_environment import RunEnvironment as _RunEnvironment
from .core.run_logging import get_run_logger
from .core.runners import SequentialTaskRunner, TaskRunner, ThreadPoolTaskRunner
from .core.states import State, StateType
from .core.tags import tags
from .core.tasks import Task, task

__all__ = [
    "__version__",
    "flow",
    "task",
    "Flow",
    "Task",
    "State",
    "StateType",
    "TaskFuture",
    "TaskRunner",
    "ThreadPoolTaskRunner",
    "SequentialTaskRunner",
    "unmapped",
    "allow_failure",
    "quote",
    "tags",
    "wait",
    "get_run_logger",
    "exponential_backoff",
    "cancel_flow_run",
    "read_flow_runs",
    "deploy",
    "serve",
    "get_client",
    "emit_event",
    "read_flow_run",
    "INPUTS",
    "TASK_SOURCE",
    "FLOW_PARAMETERS",
    "RUN_ID",
    "NONE",
    "DEFAULT",
]


def _default_recorder() -> Any:
    from .workers.http_recorder import from_environment

    over_http = from_environment()  # a run process of a worker that reaches only the server
    if over_http is not None:
        return over_http
    from .store.recorder import SqlRecorder

    return SqlRecorder.from_default_url()


_settings.set_recorder_factory(_default_recorder)


def _deployments_api() -> Any:
    from .deployments import runner

    return runner


_settings.set_deployments_api(_deployments_api)


def _prior_task_results(flow_run_id: str) -> Any:
    if _RunEnvironment.current().records_over_http():  # no database: ask the server
        from .client.results import prior_task_results

        return prior_task_results(flow_run_id)
    from .store.results import completed_task_results

    return completed_task_results(flow_run_id)


_prior_runs.set_prior_run_loader(_prior_task_results)


def _result_mirror() -> Any:
    if not _RunEnvironment.current().records_over_http():
        return None
    from .client.results import mirror_from_environment

    return mirror_from_environment()


_results.set_result_mirror_factory(_result_mirror)


def _background_api() -> Any:
    from . import task_worker

    return task_worker


_settings.set_background_api(_background_api)


def serve(*deployments: Any, **options: Any) -> None:
    """Serve deployments made with ``flow.to_deployment(...)`` from this process until
    Ctrl-C (Prefect's ``serve``); options: limit, pause_on_shutdown, print_starting_message."""
    from .deployments.runner import serve as _serve

    _serve(*deployments, **options)


def _default_tag_limiter() -> Any:
    from .concurrency._tags import TagLimiter

    return TagLimiter()


_tag_limits.set_tag_limiter_factory(_default_tag_limiter)


def read_flow_runs(**filters: Any) -> Any:
    """Recent flow runs from the default database, newest first: a list of run summaries
    with the page as attributes (``.total``, ``.limit``, ``.offset``, ``.next_offset``).

    Filters: flow_name, state, tags, deployment_id, since, until, limit (50), offset, url;
    see ``jupyter_flows.store.api.read_flow_runs``.
    """
    from .store import api

    return api.read_flow_runs(**filters)


def deploy(target: Any, *more: Any, **options: Any) -> Any:
    """Create a deployment on a running server: ``deploy(etl, "nightly", cron="0 6 * * *")``,
    or, as Prefect's ``deploy``, ``deploy(etl.to_deployment("nightly"), ...,
    work_pool_name="default")`` (returns their ids).

    Options: cron, interval, timezone, parameters, work_pool, tags, description, version,
    schedules, paused, triggers (run it when events happen), url, token, upload (default
    True: the notebook or flow file found here is uploaded for the workers).
    """
    from .deployments.runner import RunnerDeployment
    from .deployments.runner import deploy as _deploy_many

    if isinstance(target, RunnerDeployment):
        return _deploy_many(target, *more, **options)
    from .client.deploy import deploy as _deploy

    return _deploy(target, *more, **options)


def get_client(sync_client: bool = False, url: str | None = None, token: str | None = None) -> Any:
    """The REST client of the running Jupyter server (Prefect's ``get_client``): async by
    default (``async with get_client() as client: await client.read_flow_runs()``), a
    ``FlowsClient`` with ``sync_client=True``."""
    from .client.get_client import get_client as _get_client

    return _get_client(sync_client, url, token)


def emit_event(
    event: str,
    resource: str | dict[str, str] | None = None,
    occurred: Any = None,
    related: list[Any] | None = None,
    payload: dict[str, Any] | None = None,
    id: Any = None,
    follows: Any = None,
) -> Any:
    """Record an event in the default database (Prefect's signature); returns its ``Event``.

    ``emit_event("upload.done", {"prefect.resource.id": "bucket/raw"}, payload={"rows": 5})``:
    ``resource`` is a dict of labels with ``"prefect.resource.id"`` (or
    ``"jupyter_flows.resource.id"``), or just the id; ``related`` a list of such dicts with
    ``"prefect.resource.role"``; ``id`` the event's UUID (default: a new one); ``follows``
    an ``Event`` it comes after. Inside a flow run the resource defaults to the run and the
    payload names it, so ``emit_event("data.arrived", payload={...})`` is enough.
    Automations whose trigger matches it fire: the Jupyter server reads new events every
    second. A dict without a resource id as second argument (a payload) is a ``TypeError``.
    """
    from .orchestration.events import emit

    return emit(event, resource, occurred, related, payload, id, follows)


def __getattr__(name: str) -> Any:
    """Prefect names that cannot exist here raise an ``ImportError`` saying what to use."""
    from ._cloud_only import unavailable

    raise unavailable(__name__, name)


def read_flow_run(flow_run_id: str) -> Any:
    """One flow run with its task runs, state history, logs and DAG."""
    from .store import api

    return api.read_flow_run(flow_run_id)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_flows``: the ``%%task`` and ``%flow`` magics."""
    from .kernel.extension import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .kernel.extension import unload_ipython_extension as unload

    unload(ipython)


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """The Jupyter server extension (imported only by a Jupyter server)."""
    from .server.app import FlowsApp

    return [{"module": "jupyter_flows.server.app", "app": FlowsApp}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension shipped in ``jupyter_flows/labextension``."""
    return [{"src": "labextension", "dest": "jupyter-flows"}]


def _kernel_shell() -> Any:
    """The IPython shell when this process is a Jupyter kernel (None in a script or a
    terminal IPython): looked up in ``sys.modules``, nothing imported."""
    if "ipykernel" not in sys.modules:
        return None
    get_ipython = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return shell if getattr(shell, "kernel", None) is not None else None


if (_shell := _kernel_shell()) is not None:  # a notebook: flows draw their graph live
    from .kernel.extension import show_run_graphs as _show_run_graphs

    _show_run_graphs(_shell)
