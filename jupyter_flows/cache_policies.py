"""Prefect's ``prefect.cache_policies``: composable cache-key policies."""

from __future__ import annotations

from .core.caching import (
    DEFAULT,
    FLOW_PARAMETERS,
    INPUTS,
    NO_CACHE,
    NONE,
    RUN_ID,
    TASK_SOURCE,
    CacheKeyFnPolicy,
    CachePolicy,
    CompoundCachePolicy,
    FlowParameters,
    Inputs,
    NoCache,
    RunId,
    TaskSource,
)

__all__ = [
    "CachePolicy",
    "CompoundCachePolicy",
    "CacheKeyFnPolicy",
    "Inputs",
    "TaskSource",
    "FlowParameters",
    "RunId",
    "NoCache",
    "DEFAULT",
    "INPUTS",
    "TASK_SOURCE",
    "FLOW_PARAMETERS",
    "RUN_ID",
    "NONE",
    "NO_CACHE",
]
