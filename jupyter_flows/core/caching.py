"""Composable cache policies (``INPUTS + TASK_SOURCE``), as in Prefect.

A policy turns a task run into a cache key (or ``None``: don't cache). Policies combine
with ``+``; a combined key is None if any part is None.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .hashing import function_fingerprint, hash_objects, stable_hash

if TYPE_CHECKING:
    from .context import TaskRunContext

__all__ = [
    "CachePolicy",
    "Inputs",
    "TaskSource",
    "FlowParameters",
    "RunId",
    "NoCache",
    "CompoundCachePolicy",
    "CacheKeyFnPolicy",
    "INPUTS",
    "TASK_SOURCE",
    "FLOW_PARAMETERS",
    "RUN_ID",
    "NONE",
    "NO_CACHE",
    "DEFAULT",
]


class CachePolicy:
    """Base class. Subclasses implement ``compute_key``.

    ``policy.configure(key_storage=, isolation_level=, lock_manager=)`` (as Prefect) returns a
    copy whose records live in ``key_storage`` (a path, ``LocalFileSystem`` or ``ResultStore``)
    and whose runs with the same key are serialized (``IsolationLevel.SERIALIZABLE``).
    """

    key_storage: Any = None
    isolation_level: Any = None

    def compute_key(self, context: TaskRunContext, inputs: dict[str, Any]) -> str | None:
        raise NotImplementedError

    def configure(
        self, key_storage: Any = None, isolation_level: Any = None, lock_manager: Any = None
    ) -> CachePolicy:
        from .results import ResultStore, resolve_storage

        configured = copy.copy(self)
        store = resolve_storage(key_storage) if key_storage is not None else self.key_storage
        if lock_manager is not None:
            store = ResultStore(store.root if store is not None else None, lock_manager)
        object.__setattr__(configured, "key_storage", store)
        if isolation_level is not None:
            from .transactions import IsolationLevel

            object.__setattr__(configured, "isolation_level", IsolationLevel(isolation_level))
        return configured

    def __add__(self, other: CachePolicy) -> CachePolicy:
        mine = self.policies if isinstance(self, CompoundCachePolicy) else (self,)
        theirs = other.policies if isinstance(other, CompoundCachePolicy) else (other,)
        if any(isinstance(p, NoCache) for p in (*mine, *theirs)):
            return NONE
        return CompoundCachePolicy(tuple(dict.fromkeys((*mine, *theirs))))


def _first(item: tuple[str, Any]) -> str:
    return item[0]


@dataclass(frozen=True)
class Inputs(CachePolicy):
    """Key on the task's argument values; ``exclude`` names arguments to ignore."""

    exclude: tuple[str, ...] = ()

    def compute_key(self, context: TaskRunContext, inputs: dict[str, Any]) -> str | None:
        items = sorted(((k, v) for k, v in inputs.items() if k not in self.exclude), key=_first)
        return hash_objects(items)

    def __sub__(self, name: str) -> Inputs:
        return Inputs((*self.exclude, name))


@dataclass(frozen=True)
class TaskSource(CachePolicy):
    """Key on the function's source and the globals it reads (works in notebooks/REPLs)."""

    def compute_key(self, context: TaskRunContext, inputs: dict[str, Any]) -> str | None:
        return function_fingerprint(context.task.fn)


@dataclass(frozen=True)
class FlowParameters(CachePolicy):
    """Key on the enclosing flow run's parameters."""

    def compute_key(self, context: TaskRunContext, inputs: dict[str, Any]) -> str | None:
        frc = context.flow_run_context
        return hash_objects(sorted(frc.parameters.items())) if frc is not None else "no-flow"


@dataclass(frozen=True)
class RunId(CachePolicy):
    """Key on the flow run id: caching only within one flow run."""

    def compute_key(self, context: TaskRunContext, inputs: dict[str, Any]) -> str | None:
        return context.task_run.flow_run_id or context.task_run.id


@dataclass(frozen=True)
class NoCache(CachePolicy):
    """Never cache."""

    def compute_key(self, context: TaskRunContext, inputs: dict[str, Any]) -> str | None:
        return None


@dataclass(frozen=True)
class CacheKeyFnPolicy(CachePolicy):
    """Key from a function ``(context, inputs) -> str | None`` (what ``cache_key_fn=`` makes)."""

    cache_key_fn: Any = None

    def compute_key(self, context: TaskRunContext, inputs: dict[str, Any]) -> str | None:
        return self.cache_key_fn(context, inputs) if self.cache_key_fn is not None else None


@dataclass(frozen=True)
class CompoundCachePolicy(CachePolicy):
    policies: tuple[CachePolicy, ...]

    def compute_key(self, context: TaskRunContext, inputs: dict[str, Any]) -> str | None:
        keys = []
        for policy in self.policies:
            key = policy.compute_key(context, inputs)
            if key is None:
                return None
            keys.append(key)
        return stable_hash(*keys)


INPUTS = Inputs()
TASK_SOURCE = TaskSource()
FLOW_PARAMETERS = FlowParameters()
RUN_ID = RunId()
NONE = NoCache()
NO_CACHE = NONE  # Prefect's name
DEFAULT = INPUTS + TASK_SOURCE + RUN_ID
