"""What ``Flow`` and ``Task`` share as definitions: binding to methods, hook decorators."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Definition", "unwrap_method"]

D = TypeVar("D", bound="Definition")


def unwrap_method(fn: Any) -> tuple[Any, type | None]:
    """``(function, classmethod | staticmethod | None)``: ``@flow`` may sit above either."""
    if isinstance(fn, classmethod | staticmethod):
        return fn.__func__, type(fn)
    return fn, None


class Definition:
    """A flow or task on a method binds to the instance (or class) it is read from."""

    _bound: Any = None  # the instance or class of a bound method
    _descriptor: type | None = None  # classmethod / staticmethod the function came from

    def __get__(self: D, instance: Any, owner: type | None = None) -> D:
        if self._descriptor is classmethod:
            instance = owner if owner is not None else type(instance)
        elif instance is None or self._descriptor is staticmethod:
            return self
        bound = copy.copy(self)
        bound._bound = instance
        return bound

    def _with_bound(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """The call's arguments, after the instance or class of a bound method."""
        return args if self._bound is None else (self._bound, *args)

    def _keep_binding(self: D, copy_: D) -> D:
        copy_._bound, copy_._descriptor = self._bound, self._descriptor
        return copy_

    def _add_hook(self, attribute: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``@definition.on_failure``-style decorators: append ``fn`` to the hooks."""
        setattr(self, attribute, (*getattr(self, attribute), fn))
        return fn
