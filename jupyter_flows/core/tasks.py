"""``Task``: a function plus its orchestration options. Execution lives in ``engine``."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import update_wrapper
from typing import Any, Generic, ParamSpec, TypeVar, overload

from ..exceptions import FlowDefinitionError
from .binding import Definition, unwrap_method
from .caching import NONE, CachePolicy
from .options import (
    RetryDelay,
    check_hooks,
    check_retries,
    check_timeout,
    description_from,
    normalize_retry_delays,
)

__all__ = ["Task", "task"]

P = ParamSpec("P")
R = TypeVar("R")


#: ``core.task_calls`` once loaded (it imports this module, so it cannot be imported at
#: the top; an import statement per call cost ~0.5 us of a task's overhead)
_task_calls: Any = None


def _load_task_calls() -> Any:
    global _task_calls
    from . import task_calls

    _task_calls = task_calls
    return task_calls


class Task(Definition, Generic[P, R]):
    """A task definition. Call it (inside or outside a flow), ``.submit()`` or ``.map()`` it."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        retries: int | None = None,
        retry_delay_seconds: RetryDelay = None,
        retry_jitter_factor: float | None = None,
        retry_condition_fn: Callable[..., bool] | None = None,
        timeout_seconds: float | None = None,
        cache_policy: CachePolicy | None = None,
        cache_key_fn: Callable[..., str | None] | None = None,
        cache_expiration: timedelta | float | None = None,
        refresh_cache: bool = False,
        persist_result: bool | None = None,
        result_serializer: Any = None,
        result_storage: Any = None,
        result_storage_key: str | None = None,
        cache_result_in_memory: bool = True,
        task_run_name: str | Callable[[], str] | None = None,
        log_prints: bool | None = None,
        validate_parameters: bool = False,
        on_completion: Any = None,
        on_failure: Any = None,
        on_running: Any = None,
        on_commit: Any = None,
        on_rollback: Any = None,
        viz_return_value: Any = None,
    ):
        fn, self._descriptor = unwrap_method(fn)
        if not callable(fn):
            raise FlowDefinitionError(f"@task needs a function, got {fn!r}")
        update_wrapper(self, fn)
        self.fn = fn
        self.name: str = name or str(getattr(fn, "__name__", type(fn).__name__))
        owner = f"task {self.name!r}"
        self.description = description_from(fn, description)
        self.tags = frozenset(tags or ())
        self.version = version
        self.retries = check_retries(owner, retries)
        self.retry_delays = normalize_retry_delays(owner, self.retries, retry_delay_seconds)
        if retry_jitter_factor is not None and retry_jitter_factor < 0:
            raise FlowDefinitionError(f"{owner}: retry_jitter_factor must be >= 0")
        self.retry_jitter_factor = retry_jitter_factor
        self.retry_condition_fn = retry_condition_fn
        self.timeout_seconds = check_timeout(owner, timeout_seconds)
        if cache_policy is not None and not isinstance(cache_policy, CachePolicy):
            raise FlowDefinitionError(f"{owner}: cache_policy must be a CachePolicy")
        self.cache_policy = cache_policy
        self.cache_key_fn = cache_key_fn
        if isinstance(cache_expiration, int | float):
            cache_expiration = timedelta(seconds=cache_expiration)
        self.cache_expiration = cache_expiration
        self.refresh_cache = refresh_cache
        # as Prefect: asking for a cache, a storage, a key or a serializer persists results
        if persist_result is None and (
            (cache_policy is not None and cache_policy is not NONE)
            or cache_key_fn is not None
            or result_storage is not None
            or result_storage_key is not None
            or result_serializer is not None
        ):
            persist_result = True
        self.persist_result = persist_result
        from .results import get_serializer, resolve_storage

        self.result_serializer = get_serializer(result_serializer or "pickle")
        self.result_storage = resolve_storage(result_storage)
        self.result_storage_key = result_storage_key
        self.cache_result_in_memory = cache_result_in_memory
        if task_run_name is not None and not (
            isinstance(task_run_name, str) or callable(task_run_name)
        ):
            raise FlowDefinitionError(f"{owner}: task_run_name must be a string or a callable")
        self.task_run_name = task_run_name
        self.viz_return_value = viz_return_value
        self.log_prints = log_prints
        self.validate_parameters = validate_parameters
        self.on_completion_hooks = check_hooks(owner, "on_completion", on_completion)
        self.on_failure_hooks = check_hooks(owner, "on_failure", on_failure)
        self.on_running_hooks = check_hooks(owner, "on_running", on_running)
        self.on_commit_hooks = check_hooks(owner, "on_commit", on_commit)
        self.on_rollback_hooks = check_hooks(owner, "on_rollback", on_rollback)
        self.isasync = inspect.iscoroutinefunction(fn)
        self.isgenerator = inspect.isgeneratorfunction(fn)
        self.task_key = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', self.name)}"
        signature = inspect.signature(fn).parameters.values()
        self._positional = [
            p.name for p in signature if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        # defaults are parameters too (cache keys, run names, ``runtime.task_run.parameters``)
        self._defaults = {
            p.name: p.default
            for p in signature
            if p.default is not p.empty and p.kind is not p.VAR_KEYWORD
        }

    def on_completion(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``@my_task.on_completion``: add a completion hook."""
        return self._add_hook("on_completion_hooks", fn)

    def on_failure(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``@my_task.on_failure``: add a failure hook."""
        return self._add_hook("on_failure_hooks", fn)

    def on_running(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        return self._add_hook("on_running_hooks", fn)

    def on_commit(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``@my_task.on_commit``: called with the transaction when its result commits."""
        return self._add_hook("on_commit_hooks", fn)

    def on_rollback(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``@my_task.on_rollback``: called with the transaction when it rolls back."""
        return self._add_hook("on_rollback_hooks", fn)

    def with_options(self, **options: Any) -> Task[P, R]:
        """A copy with some options changed, e.g. ``my_task.with_options(retries=3)``."""
        current: dict[str, Any] = dict(
            name=self.name,
            description=self.description,
            tags=self.tags,
            version=self.version,
            retries=self.retries,
            retry_delay_seconds=list(self.retry_delays),
            retry_jitter_factor=self.retry_jitter_factor,
            retry_condition_fn=self.retry_condition_fn,
            timeout_seconds=self.timeout_seconds,
            cache_policy=self.cache_policy,
            cache_key_fn=self.cache_key_fn,
            cache_expiration=self.cache_expiration,
            refresh_cache=self.refresh_cache,
            persist_result=self.persist_result,
            result_serializer=self.result_serializer,
            result_storage=self.result_storage,
            result_storage_key=self.result_storage_key,
            cache_result_in_memory=self.cache_result_in_memory,
            task_run_name=self.task_run_name,
            log_prints=self.log_prints,
            validate_parameters=self.validate_parameters,
            on_completion=self.on_completion_hooks,
            on_failure=self.on_failure_hooks,
            on_running=self.on_running_hooks,
            on_commit=self.on_commit_hooks,
            on_rollback=self.on_rollback_hooks,
            viz_return_value=self.viz_return_value,
        )
        current.update(options)
        return self._keep_binding(Task(self.fn, **current))

    def bind_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Argument values by parameter name (cheap; ``*args`` extras are kept by index)."""
        names = self._positional
        inputs = {
            (names[i] if i < len(names) else f"arg{i}"): value for i, value in enumerate(args)
        }
        inputs.update(kwargs)
        if self._defaults:
            for name, default in self._defaults.items():
                if name not in inputs:
                    inputs[name] = default
        return inputs

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the task now and return its result (a task run when inside a flow)."""
        calls = _task_calls or _load_task_calls()
        return calls.call_task(self, self._with_bound(args), kwargs)  # type: ignore[no-any-return]

    def submit(self, *args: Any, wait_for: Iterable[Any] | None = None, **kwargs: Any) -> Any:
        """Start the task concurrently and return a ``TaskFuture``."""
        calls = _task_calls or _load_task_calls()
        return calls.submit_task(self, self._with_bound(args), kwargs, wait_for)

    def map(
        self,
        *args: Any,
        wait_for: Iterable[Any] | None = None,
        deferred: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Submit one run per element of the iterable arguments; ``unmapped(x)`` stays whole.

        ``deferred=True``: queue them as background runs for a task worker (``delay``).
        """
        from .annotations import unmapped
        from .engine import map_task

        bound = () if self._bound is None else (unmapped(self._bound),)
        return map_task(self, (*bound, *args), kwargs, wait_for, deferred=deferred)

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Queue a background run for a task worker; returns a ``PrefectDistributedFuture``."""
        from .background import apply_async

        return apply_async(self, self._with_bound(args), kwargs)

    def apply_async(
        self,
        args: tuple[Any, ...] | None = None,
        kwargs: dict[str, Any] | None = None,
        wait_for: Iterable[Any] | None = None,
    ) -> Any:
        """``delay`` with the arguments as a tuple and a dict, and runs to wait for first."""
        from .background import apply_async

        return apply_async(self, self._with_bound(tuple(args or ())), kwargs, wait_for)

    def serve(self, **options: Any) -> None:
        """Run this task's background runs in this process until Ctrl-C (a task worker)."""
        from .settings import background_api

        background_api().serve(self, **options)

    def __repr__(self) -> str:
        return f"Task(name={self.name!r})"


@overload
def task(__fn: Callable[P, R]) -> Task[P, R]: ...


@overload
def task(__fn: None = None, **options: Any) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(__fn: Callable[P, R] | None = None, **options: Any) -> Any:
    """Make a function a task: ``@task`` or ``@task(retries=3, cache_policy=INPUTS)``."""
    if __fn is not None:
        return Task(__fn, **options)

    def decorator(fn: Callable[P, R]) -> Task[P, R]:
        return Task(fn, **options)

    return decorator
