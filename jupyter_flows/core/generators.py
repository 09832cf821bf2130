"""Generator flows and tasks, as in Prefect 3: calling one yields its values as they come.

The engine runs the run in a thread of its own, over a wrapper that forwards each value the
generator yields to the caller (one at a time: the generator waits for the caller to ask
for the next). The run completes when the generator is exhausted (its ``return`` value is
the run's result) or when the caller stops iterating; it fails if the generator raises.
"""

from __future__ import annotations

import contextvars
import functools
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

__all__ = ["stream_run", "StreamStopped", "with_body"]


class StreamStopped(Exception):
    """The caller stopped iterating: the generator is closed and the run ends."""


def _forwarding(fn: Callable[..., Any], emit: Callable[[Any], None]) -> Callable[..., Any]:
    """A plain function, with ``fn``'s signature, that drives the generator ``fn`` returns."""

    @functools.wraps(fn)
    def drive(*args: Any, **kwargs: Any) -> Any:
        gen = fn(*args, **kwargs)
        try:
            while True:
                try:
                    item = next(gen)
                except StopIteration as done:
                    return done.value
                emit(item)
        except StreamStopped:
            gen.close()
            return None

    return drive


def with_body(definition: Any, body: Callable[..., Any]) -> Any:
    """A copy of a flow or task definition whose function is ``body`` (same name, key...)."""
    import copy

    clone = copy.copy(definition)
    clone.fn = body
    clone.isgenerator = False
    return clone


def stream_run(run: Callable[[Callable[..., Any]], Any], fn: Callable[..., Any]) -> Iterator[Any]:
    """Yield what the generator function ``fn`` yields while ``run(drive)`` runs it.

    ``run`` gets the forwarding function to run in place of ``fn`` (as a flow's or task's
    body) and returns the run's result; its exception is raised to the caller.
    """
    channel: queue.Queue[tuple[str, Any]] = queue.Queue()
    taken = threading.Semaphore(0)
    stopped = threading.Event()

    def emit(item: Any) -> None:
        if stopped.is_set():
            raise StreamStopped
        channel.put(("item", item))
        while not taken.acquire(timeout=0.1):  # wait until the caller took it
            if stopped.is_set():
                raise StreamStopped

    def target() -> None:
        try:
            channel.put(("done", run(_forwarding(fn, emit))))
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
            channel.put(("error", exc))

    ctx = contextvars.copy_context()
    thread = threading.Thread(target=ctx.run, args=(target,), name="jupyter-flows-generator")
    thread.daemon = True
    thread.start()

    def items() -> Generator[Any, None, Any]:
        try:
            while True:
                kind, value = channel.get()
                if kind == "item":
                    taken.release()
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return value
        finally:
            stopped.set()
            taken.release()

    return items()
