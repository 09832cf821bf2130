"""Prefect's ``prefect.concurrency.asyncio``: ``async with concurrency(...)`` and
``await rate_limit(...)``.

The same acquisition as ``sync``, waited for on a thread (the store and the client are
synchronous) so the event loop keeps running; cancelling the awaiting task stops the wait
and releases whatever it got.

Example::

    from jupyter_flows.concurrency.asyncio import concurrency

    async def fetch(url):
        async with concurrency("external-api", occupy=1):
            return await client.get(url)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from ..exceptions import AcquireConcurrencySlotTimeoutError, ConcurrencySlotAcquisitionError
from ._acquire import Held, acquire, release

__all__ = [
    "concurrency",
    "rate_limit",
    "ConcurrencySlotAcquisitionError",
    "AcquireConcurrencySlotTimeoutError",
]


async def _acquire(names: str | Sequence[str], occupy: int, **options: Any) -> Held | None:
    cancel = threading.Event()
    job = asyncio.ensure_future(asyncio.to_thread(acquire, names, occupy, cancel=cancel,
                                                  **options))  # fmt: skip
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        cancel.set()
        try:
            got = await job
        except Exception:  # noqa: BLE001 - AcquireCancelled, or a failure: cancelled anyway
            raise asyncio.CancelledError() from None
        await asyncio.to_thread(release, got)
        raise


@asynccontextmanager
async def concurrency(
    names: str | Sequence[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    max_retries: int | None = None,
    lease_duration: float = 300,
    strict: bool = False,
    holder: Any = None,
    suppress_warnings: bool = False,
) -> AsyncIterator[None]:
    """Hold ``occupy`` slots of every limit in ``names`` for the block (as ``sync``)."""
    if not names:
        yield
        return
    held = await _acquire(
        names,
        occupy,
        timeout_seconds=timeout_seconds,
        max_retries=max_retries,
        lease_duration=lease_duration,
        strict=strict,
        holder=holder,
        suppress_warnings=suppress_warnings,
    )
    try:
        yield
    finally:
        if held is not None:
            await asyncio.to_thread(release, held)


async def rate_limit(
    names: str | Sequence[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    strict: bool = False,
) -> None:
    """Wait until ``occupy`` slots of every (decaying) limit in ``names`` are taken."""
    if not names:
        return
    await _acquire(names, occupy, mode="rate_limit", timeout_seconds=timeout_seconds,
                   strict=strict)  # fmt: skip
