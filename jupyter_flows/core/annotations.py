"""Argument annotations, as Prefect's ``prefect.utilities.annotations``.

``unmapped(x)`` passes ``x`` whole to every run of ``task.map``; ``allow_failure(f)`` lets a
task start even if the upstream run ``f`` failed (it then receives the exception);
``quote(x)`` / ``opaque(x)`` pass ``x`` without looking inside it (no futures are resolved,
no edges recorded: fast for a big DataFrame or dict). Each is a one-element tuple, as in
Prefect, so other tools can unpack it.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Generic, TypeVar

__all__ = ["BaseAnnotation", "unmapped", "allow_failure", "quote", "opaque", "NotSet"]

T = TypeVar("T")


class BaseAnnotation(tuple, Generic[T]):  # type: ignore[type-arg]
    """A wrapper of one value; ``.value`` / ``.unwrap()`` return it."""

    __slots__ = ()

    def __new__(cls, value: T) -> BaseAnnotation[T]:
        return super().__new__(cls, (value,))

    value = property(itemgetter(0))

    def unwrap(self) -> T:
        return self[0]  # type: ignore[no-any-return]

    def rewrap(self, value: T) -> BaseAnnotation[T]:
        return type(self)(value)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and tuple.__eq__(self, other)  # type: ignore[arg-type]

    def __hash__(self) -> int:
        return tuple.__hash__(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self[0]!r})"


class unmapped(BaseAnnotation[T]):  # noqa: N801 - Prefect's name
    """An argument of ``task.map`` passed whole to every mapped run."""

    def __getitem__(self, _: object) -> T:  # type: ignore[override]
        return tuple.__getitem__(self, 0)  # type: ignore[no-any-return]


class allow_failure(BaseAnnotation[T]):  # noqa: N801 - Prefect's name
    """An upstream future or state whose failure does not stop the downstream task."""


class quote(BaseAnnotation[T]):  # noqa: N801 - Prefect's name
    """A value passed as is: not introspected for futures, no edges recorded."""

    def unquote(self) -> T:
        return self.unwrap()


class opaque(quote[T]):  # noqa: N801
    """Same as ``quote``: the value is opaque to the engine."""


class _NotSetType:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NotSet"

    def __bool__(self) -> bool:
        return False


NotSet: Any = _NotSetType()
