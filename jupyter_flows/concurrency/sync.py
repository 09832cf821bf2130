"""Prefect's ``prefect.concurrency.sync``: ``concurrency`` and ``rate_limit``.

Example::

    from jupyter_flows.concurrency.sync import concurrency, rate_limit

    with concurrency("database", occupy=1):  # waits while the limit's slots are all held
        run_query()

    rate_limit("external-api")  # waits until the decaying limit has a free slot

Limits are created with ``jupyter flows gcl create NAME --limit N`` (or REST). Slots are held
under a lease this process renews in the background; a process killed without releasing
frees them when the lease expires (``lease_duration`` seconds).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..exceptions import AcquireConcurrencySlotTimeoutError, ConcurrencySlotAcquisitionError
from ._acquire import acquire, release

__all__ = [
    "concurrency",
    "rate_limit",
    "ConcurrencySlotAcquisitionError",
    "AcquireConcurrencySlotTimeoutError",
]


@contextmanager
def concurrency(
    names: str | Sequence[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    max_retries: int | None = None,
    lease_duration: float = 300,
    strict: bool = False,
    holder: Any = None,
    suppress_warnings: bool = False,
) -> Iterator[None]:
    """Hold ``occupy`` slots of every limit in ``names`` (all or none) for the block.

    Waits while any of them is full: at most ``timeout_seconds`` (then ``TimeoutError``,
    ``AcquireConcurrencySlotTimeoutError``) and ``max_retries`` retries (then
    ``ConcurrencySlotAcquisitionError``). A name without a limit is skipped: with
    ``strict``, none existing raises ``ConcurrencySlotAcquisitionError``, else a warning is
    logged. ``holder`` (``{"type": "task_run" | "flow_run" | "deployment" | "process",
    "id": ...}``) is who the panel shows holding them; by default the current task run,
    flow run or process.
    """
    if not names:
        yield
        return
    held = acquire(
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
        release(held)


def rate_limit(
    names: str | Sequence[str],
    occupy: int = 1,
    timeout_seconds: float | None = None,
    strict: bool = False,
) -> None:
    """Block until ``occupy`` slots of every limit in ``names`` are taken; they are never
    released but decay (every limit needs ``slot_decay_per_second`` > 0, else
    ``ConcurrencySlotAcquisitionError``)."""
    if not names:
        return
    acquire(names, occupy, mode="rate_limit", timeout_seconds=timeout_seconds, strict=strict)
