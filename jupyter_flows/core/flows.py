"""``Flow``: a function plus its orchestration options. Execution lives in ``engine``."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from functools import update_wrapper
from typing import Any, Generic, ParamSpec, TypeVar, overload

from ..exceptions import FlowDefinitionError
from .binding import Definition, unwrap_method
from .options import (
    RetryDelay,
    check_hooks,
    check_retries,
    check_timeout,
    description_from,
    normalize_retry_delays,
)
from .parameters import ParameterSchema
from .runners import TaskRunner, ThreadPoolTaskRunner
from .settings import deployments_api

__all__ = ["Flow", "flow"]

P = ParamSpec("P")
R = TypeVar("R")


class Flow(Definition, Generic[P, R]):
    """A flow definition. Calling it runs it (and returns its result or raises its error)."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        version: str | None = None,
        tags: Iterable[str] | None = None,
        retries: int | None = None,
        retry_delay_seconds: RetryDelay = None,
        timeout_seconds: float | None = None,
        validate_parameters: bool = True,
        task_runner: TaskRunner | None = None,
        log_prints: bool | None = None,
        persist_result: bool | None = None,
        result_storage: Any = None,
        result_serializer: Any = None,
        cache_result_in_memory: bool = True,
        flow_run_name: str | Callable[..., str] | None = None,
        on_completion: Any = None,
        on_failure: Any = None,
        on_cancellation: Any = None,
        on_crashed: Any = None,
        on_running: Any = None,
    ):
        fn, self._descriptor = unwrap_method(fn)
        if not callable(fn):
            raise FlowDefinitionError(f"@flow needs a function, got {fn!r}")
        update_wrapper(self, fn)
        self.fn = fn
        # as Prefect: a flow is named after its function, with dashes (``my_flow`` -> ``my-flow``)
        default = str(getattr(fn, "__name__", type(fn).__name__)).replace("_", "-")
        self.name: str = name or default.replace("<lambda>", "unknown-lambda")
        owner = f"flow {self.name!r}"
        self.description = description_from(fn, description)
        self.version = version
        self.tags = frozenset(tags or ())
        self.retries = check_retries(owner, retries)
        self.retry_delays = normalize_retry_delays(owner, self.retries, retry_delay_seconds)
        self.timeout_seconds = check_timeout(owner, timeout_seconds)
        self.validate_parameters = validate_parameters
        if task_runner is not None and not isinstance(task_runner, TaskRunner):
            raise FlowDefinitionError(f"{owner}: task_runner must be a TaskRunner instance")
        self.task_runner = task_runner or ThreadPoolTaskRunner()
        self.log_prints = log_prints
        if persist_result is None and (result_storage is not None or result_serializer is not None):
            persist_result = True  # as Prefect: a storage or serializer persists results
        self.persist_result = persist_result
        from .results import get_serializer, resolve_storage

        self.result_storage = resolve_storage(result_storage)
        self.result_serializer = get_serializer(result_serializer or "pickle")
        self.cache_result_in_memory = cache_result_in_memory
        if flow_run_name is not None and not (
            isinstance(flow_run_name, str) or callable(flow_run_name)
        ):
            raise FlowDefinitionError(f"{owner}: flow_run_name must be a string or a callable")
        self.flow_run_name = flow_run_name
        self.on_completion_hooks = check_hooks(owner, "on_completion", on_completion)
        self.on_failure_hooks = check_hooks(owner, "on_failure", on_failure)
        self.on_cancellation_hooks = check_hooks(owner, "on_cancellation", on_cancellation)
        self.on_crashed_hooks = check_hooks(owner, "on_crashed", on_crashed)
        self.on_running_hooks = check_hooks(owner, "on_running", on_running)
        self.isasync = inspect.iscoroutinefunction(fn)
        self.isgenerator = inspect.isgeneratorfunction(fn)
        self.parameters = ParameterSchema(fn, owner)

    def with_options(self, **options: Any) -> Flow[P, R]:
        """A copy with some options changed."""
        current: dict[str, Any] = dict(
            name=self.name,
            description=self.description,
            version=self.version,
            tags=self.tags,
            retries=self.retries,
            retry_delay_seconds=list(self.retry_delays),
            timeout_seconds=self.timeout_seconds,
            validate_parameters=self.validate_parameters,
            task_runner=self.task_runner,
            log_prints=self.log_prints,
            persist_result=self.persist_result,
            result_storage=self.result_storage,
            result_serializer=self.result_serializer,
            cache_result_in_memory=self.cache_result_in_memory,
            flow_run_name=self.flow_run_name,
            on_completion=self.on_completion_hooks,
            on_failure=self.on_failure_hooks,
            on_cancellation=self.on_cancellation_hooks,
            on_crashed=self.on_crashed_hooks,
            on_running=self.on_running_hooks,
        )
        current.update(options)
        return self._keep_binding(Flow(self.fn, **current))

    def recorded_parameters(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters a run records: without ``self``/``cls`` of a bound method."""
        if self._bound is None or not params:
            return params
        first = next(iter(params))
        return {k: v for k, v in params.items() if k != first}

    def on_completion(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``@my_flow.on_completion``: add a completion hook."""
        return self._add_hook("on_completion_hooks", fn)

    def on_failure(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return self._add_hook("on_failure_hooks", fn)

    def on_cancellation(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return self._add_hook("on_cancellation_hooks", fn)

    def on_crashed(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return self._add_hook("on_crashed_hooks", fn)

    def on_running(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return self._add_hook("on_running_hooks", fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the flow. ``return_state=True`` returns the final State instead of the result.

        An async flow returns an awaitable (``await my_flow()``, also in a notebook cell).
        """
        from .engine import call_flow

        return call_flow(self, self._with_bound(args), kwargs)  # type: ignore[no-any-return]

    def visualize(self, *args: Any, **kwargs: Any) -> Any:
        """The flow's task graph, traced without running any task (see ``core.visualize``)."""
        from .visualize import visualize_flow

        return visualize_flow(self, args, kwargs)

    def to_deployment(self, name: str | None = None, **options: Any) -> Any:
        """A deployment of this flow for ``serve(...)`` or ``deploy(...)`` (Prefect's
        options: interval, cron, rrule, schedule(s), parameters, tags, description,
        version, paused, triggers, work_pool_name, job_variables)."""
        return deployments_api().to_deployment(self, name, **options)

    def serve(
        self,
        name: str | None = None,
        *,
        limit: int | None = None,
        pause_on_shutdown: bool = True,
        print_starting_message: bool = True,
        **options: Any,
    ) -> None:
        """Create a deployment of this flow and run its scheduled and requested runs from
        this process until Ctrl-C (Prefect's ``flow.serve``); options as ``to_deployment``."""
        api = deployments_api()
        api.serve(
            api.to_deployment(self, name, **options),
            limit=limit,
            pause_on_shutdown=pause_on_shutdown,
            print_starting_message=print_starting_message,
        )

    def deploy(
        self,
        name: str,
        work_pool_name: str | None = None,
        *,
        url: str | None = None,
        token: str | None = None,
        upload: bool = True,
        **options: Any,
    ) -> Any:
        """Create a deployment of this flow on the running Jupyter server, for the workers of
        ``work_pool_name`` (default ``default``); its id (Prefect's ``flow.deploy``).
        ``upload=False``: its file is not uploaded (workers find it by path)."""
        api = deployments_api()
        made = api.to_deployment(self, name, work_pool_name=work_pool_name, **options)
        return api.deploy(made, url=url, token=token, upload=upload)[0]

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r})"


@overload
def flow(__fn: Callable[P, R]) -> Flow[P, R]: ...


@overload
def flow(__fn: None = None, **options: Any) -> Callable[[Callable[P, R]], Flow[P, R]]: ...


def flow(__fn: Callable[P, R] | None = None, **options: Any) -> Any:
    """Make a function a flow: ``@flow`` or ``@flow(name="etl", retries=2)``."""
    if __fn is not None:
        return Flow(__fn, **options)

    def decorator(fn: Callable[P, R]) -> Flow[P, R]:
        return Flow(fn, **options)

    return decorator
