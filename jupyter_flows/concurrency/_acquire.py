"""The acquisition loop shared by ``sync``, ``asyncio`` and task tag limits.

Prefect's rules: names without a limit are skipped (with ``strict``, none existing raises
``ConcurrencySlotAcquisitionError``; without it a warning is logged), an inactive limit
admits without counting, more slots than a limit has or a rate limit on a limit without
decay raise ``ConcurrencySlotAcquisitionError``, ``timeout_seconds`` raises
``AcquireConcurrencySlotTimeoutError`` (a ``TimeoutError``), and ``max_retries`` denials
more than allowed raise ``ConcurrencySlotAcquisitionError``. A denied attempt is retried
after a back-off (from 10 ms, times 1.5, at most 250 ms, jittered), or after the time a
decaying limit needs to make room.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..exceptions import AcquireConcurrencySlotTimeoutError, ConcurrencySlotAcquisitionError
from ..orchestration.concurrency_schemas import AcquireSlots, DescribeSlotLease, LeaseHolder
from . import _leases
from ._backend import SlotBackend, slot_backend

__all__ = ["Held", "AcquireCancelled", "acquire", "release", "names_of", "holder_of"]

logger = logging.getLogger(__name__)

_FIRST_WAIT = 0.01
_MAX_WAIT = 0.25


def names_of(names: str | Sequence[str]) -> list[str]:
    """``names`` as a list (one name may be given as a string)."""
    return [names] if isinstance(names, str) else list(names)


def holder_of(holder: Any = None) -> LeaseHolder:
    """``holder`` (a ``LeaseHolder``, a mapping or an object with ``type`` and ``id``, as
    Prefect's ``ConcurrencyLeaseHolder``), else the current task run, flow run or process."""
    if isinstance(holder, LeaseHolder):
        return holder
    if holder is not None:
        get = holder.get if isinstance(holder, dict) else lambda k: getattr(holder, k, None)
        return LeaseHolder.model_validate(
            {"type": get("type"), "id": str(get("id")), "name": get("name")}
        )
    from ..core.context import flow_run_context, task_run_context

    trc = task_run_context.get()
    if trc is not None:
        return LeaseHolder(type="task_run", id=trc.task_run.id, name=trc.task_run.name)
    frc = flow_run_context.get()
    if frc is not None:
        return LeaseHolder(type="flow_run", id=frc.flow_run.id, name=frc.flow_run.name)
    from ..orchestration.slots import process_holder

    return process_holder()


class AcquireCancelled(Exception):
    """The wait was cancelled (``cancel`` was set): nothing is held."""


@dataclass
class Held:
    """Slots held under a lease (``lease_id`` is ``None`` when nothing was counted)."""

    backend: SlotBackend
    lease_id: str | None
    limits: list[str]
    occupy: int
    names: tuple[str, ...] = field(default=())


def _warn_missing(names: list[str]) -> None:
    from ..core.run_logging import get_run_logger

    try:
        log: Any = get_run_logger()
    except Exception:  # noqa: BLE001 - outside a run: this module's logger
        log = logger
    log.warning("Concurrency limits %r do not exist - skipping acquisition.", names)


def acquire(
    names: str | Sequence[str],
    occupy: int = 1,
    *,
    mode: Literal["concurrency", "rate_limit"] = "concurrency",
    timeout_seconds: float | None = None,
    max_retries: int | None = None,
    lease_duration: float = 300.0,
    strict: bool = False,
    holder: Any = None,
    suppress_warnings: bool = False,
    cancel: threading.Event | None = None,
    on_denied: Callable[[DescribeSlotLease], None] | None = None,
    backend: SlotBackend | None = None,
) -> Held:
    """Block until ``occupy`` slots of every limit in ``names`` are held (see the module)."""
    listed = names_of(names)
    backend = backend or slot_backend()
    try:
        body = AcquireSlots(
            names=listed,
            slots=occupy,
            mode=mode,
            lease_duration=lease_duration,
            holder=holder_of(holder),
        )
    except ValueError as exc:
        raise ConcurrencySlotAcquisitionError(
            f"Unable to acquire concurrency slots on {listed!r}: {exc}"
        ) from exc
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    wait, denials = _FIRST_WAIT, 0
    while True:
        try:
            reply = backend.acquire(body)
        except ValueError as exc:
            raise ConcurrencySlotAcquisitionError(
                f"Unable to acquire concurrency slots on {listed!r}: {exc}"
            ) from exc
        if reply.acquired:
            break
        denials += 1
        if on_denied is not None and denials == 1:
            on_denied(reply)
        if max_retries is not None and denials > max_retries:
            raise ConcurrencySlotAcquisitionError(
                f"Unable to acquire concurrency slots on {listed!r}: still full after "
                f"{max_retries} retries"
            )
        pause = wait * random.uniform(0.75, 1.25)
        if reply.retry_after is not None:
            pause = max(reply.retry_after, 0.001)
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AcquireConcurrencySlotTimeoutError(
                    "Attempt to acquire concurrency slots timed out after "
                    f"{timeout_seconds} second(s)"
                )
            pause = min(pause, left)
        if cancel is not None:
            if cancel.wait(pause):
                raise AcquireCancelled()
        else:
            time.sleep(pause)
        wait = min(wait * 1.5, _MAX_WAIT)
    if not reply.limits:
        if strict:
            raise ConcurrencySlotAcquisitionError(
                f"Concurrency limits {listed!r} must be created before acquiring slots"
            )
        if not suppress_warnings:
            _warn_missing(listed)
    held = Held(backend, reply.lease_id, reply.limits, occupy, tuple(listed))
    if held.lease_id is not None:
        _leases.hold(held.lease_id, backend, lease_duration, held.names)
    return held


def release(held: Held) -> None:
    """Give the slots back and stop renewing their lease."""
    if held.lease_id is None:
        return
    if _leases.drop(held.lease_id):
        logger.warning("slots on %s had been taken back before release", ", ".join(held.names))
    try:
        held.backend.release(held.lease_id)
    except Exception:  # noqa: BLE001 - the lease expires by itself; never mask the block's outcome
        logger.warning(
            "could not release the slots on %s; they are freed when the lease expires",
            ", ".join(held.names),
            exc_info=True,
        )
