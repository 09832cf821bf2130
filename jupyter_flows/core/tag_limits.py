"""Task tag concurrency limits as the engine sees them: a hook the package root fills.

The core never imports the store or the client: ``jupyter_flows`` registers a factory of the
limiter (``jupyter_flows.concurrency._tags.TagLimiter``), built on first use by a tagged
task run. Untagged task runs never get here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from ..exceptions import ConcurrencySlotAcquisitionError, RunCancelled
from .records import TaskRunInfo
from .run_environment import RunEnvironment
from .states import AwaitingConcurrencySlot, Cancelled, Failed, State

__all__ = ["TagLimiter", "set_tag_limiter_factory", "tag_limiter", "hold_tag_slots"]


class TagLimiter(Protocol):
    def hold(
        self,
        tags: Sequence[str],
        run: TaskRunInfo,
        waiting: Callable[[str], None],
        cancel: threading.Event,
    ) -> Callable[[], None] | None:
        """Block until ``run`` holds a slot of the limit of each of ``tags`` that has one;
        the release, or ``None`` if no tag has a limit.

        Calls ``waiting(message)`` once if it has to wait. Raises
        ``ConcurrencySlotAcquisitionError`` for a limit that can never admit (0 slots) and
        ``RunCancelled`` if ``cancel`` is set while it waits.
        """
        ...


_lock = threading.Lock()
_factory: Callable[[], TagLimiter] | None = None
_limiter: TagLimiter | None = None
_built = False


def _after_fork_in_child() -> None:
    global _lock, _limiter, _built
    _lock = threading.Lock()
    _limiter, _built = None, False


os.register_at_fork(after_in_child=_after_fork_in_child)


def set_tag_limiter_factory(factory: Callable[[], TagLimiter] | None) -> None:
    """Register how to build the limiter on first use; forget the one built."""
    global _factory, _limiter, _built
    with _lock:
        _factory, _limiter, _built = factory, None, False


def tag_limiter() -> TagLimiter | None:
    """The process's limiter (``None``: no factory, or a process that records nothing)."""
    global _limiter, _built
    if _built:
        return _limiter
    with _lock:
        if not _built:
            if _factory is not None and RunEnvironment.current().record:
                _limiter = _factory()
            _built = True
        return _limiter


def hold_tag_slots(
    run: TaskRunInfo,
    cancel: threading.Event | None,
    set_state: Callable[[State, int], None],
) -> Callable[[], None] | State | None:
    """Wait in ``AwaitingConcurrencySlot`` while a limit of the run's tags is full; the
    release of the slots held, ``None`` (no tag has a limit), or the final state recorded
    if the run cannot start (a limit of 0, cancelled while waiting, limits unreadable)."""
    limiter = tag_limiter()
    if limiter is None:
        return None

    def waiting(message: str) -> None:
        set_state(AwaitingConcurrencySlot(message=message), 0)

    try:
        return limiter.hold(run.tags, run, waiting, cancel or threading.Event())
    except RunCancelled:
        state = Cancelled(RunCancelled("flow run cancelled"), message="flow run cancelled")
    except ConcurrencySlotAcquisitionError as exc:
        state = Failed(exc, message=str(exc))
    except Exception as exc:  # noqa: BLE001 - e.g. the database away: the run cannot start
        message = f"task run tag limits could not be checked: {type(exc).__name__}: {exc}"
        state = Failed(ConcurrencySlotAcquisitionError(message), message=message)
    set_state(state, 0)
    return state
