"""Calling user functions: sync or async, with or without a timeout, in any thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import ctypes
import threading
from collections.abc import Callable
from typing import Any

from ..exceptions import TaskTimeout

__all__ = ["call_function", "run_coroutine_sync"]


def _has_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_coroutine_sync(coro_fn: Callable[[], Any]) -> Any:
    """Run a coroutine to completion from sync code, even inside a running loop (Jupyter)."""
    if not _has_running_loop():
        return asyncio.run(coro_fn())
    ctx = contextvars.copy_context()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="jupyter-flows-async") as ex:
        return ex.submit(ctx.run, lambda: asyncio.run(coro_fn())).result()


def _interrupt_thread(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    """Ask a thread to stop by raising ``exc_type`` in it at its next bytecode."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type)
        )


class _TimeoutInterrupt(BaseException):
    """Raised inside a timed-out worker thread so it stops (never seen by users)."""


def call_function(
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    is_async: bool,
    timeout: float | None,
    name: str,
    caller: Callable[[Callable[..., Any], tuple[Any, ...], dict[str, Any]], Any] | None = None,
) -> Any:
    """Call ``fn`` and return its result; raise ``TaskTimeout`` after ``timeout`` seconds.

    Sync functions with a timeout run in a daemon thread that is interrupted when time is up,
    so the caller never hangs.
    """
    if is_async:

        async def runner() -> Any:
            if timeout is None:
                return await fn(*args, **kwargs)
            try:
                return await asyncio.wait_for(fn(*args, **kwargs), timeout)
            except asyncio.TimeoutError:
                raise TaskTimeout(name, timeout) from None

        return run_coroutine_sync(runner)
    if caller is None:
        if timeout is None:
            return fn(*args, **kwargs)
        return _call_with_thread_timeout(lambda: fn(*args, **kwargs), timeout, name)
    if timeout is None:
        return caller(fn, args, kwargs)
    return _call_with_thread_timeout(lambda: caller(fn, args, kwargs), timeout, name)


def _call_with_thread_timeout(call: Callable[[], Any], timeout: float, name: str) -> Any:
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            future.set_result(ctx.run(call))
        except _TimeoutInterrupt:
            pass
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            if not future.done():
                future.set_exception(exc)

    thread = threading.Thread(target=target, name=f"jupyter-flows-timeout-{name}", daemon=True)
    thread.start()
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        _interrupt_thread(thread, _TimeoutInterrupt)
        raise TaskTimeout(name, timeout) from None
