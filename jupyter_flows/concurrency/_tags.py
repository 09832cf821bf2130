"""Task tag limits (Prefect's tag-based concurrency): the global limits named ``tag:TAG``.

A task run tagged ``db`` holds a slot of limit ``tag:db`` from before it runs until its
final state (across its retries), leased to it (type ``task_run``) for 60 s at a time. Tags
without a limit are remembered per flow run for ``UNLIMITED_TTL`` seconds, so a flow of many
tagged tasks asks once (a limit created meanwhile applies to its later task runs after
that). A limit of 0 never admits: the task run ends Failed at once, as Prefect aborts it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..exceptions import ConcurrencySlotAcquisitionError, RunCancelled
from ..orchestration.concurrency_schemas import TAG_PREFIX, LeaseHolder, tag_limit_name
from ._acquire import AcquireCancelled, acquire, release

__all__ = ["TagLimiter", "UNLIMITED_TTL", "LEASE_SECONDS"]

logger = logging.getLogger(__name__)

UNLIMITED_TTL = 10.0
LEASE_SECONDS = 60.0
_ZERO = re.compile(r"more than the limit of 0 of '" + re.escape(TAG_PREFIX) + r"([^']*)'")


def _tags(limits: Sequence[str]) -> str:
    return ", ".join(n.removeprefix(TAG_PREFIX) for n in limits)


class TagLimiter:
    """Holds tag-limit slots for task runs (``core.tag_limits.TagLimiter``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._unlimited: dict[tuple[str | None, str], float] = {}

    def hold(
        self,
        tags: Sequence[str],
        run: Any,
        waiting: Callable[[str], None],
        cancel: threading.Event,
    ) -> Callable[[], None] | None:
        now = time.monotonic()
        flow_run = run.flow_run_id
        unlimited = self._unlimited
        todo = [t for t in tags if unlimited.get((flow_run, t), 0.0) <= now]
        if not todo:
            return None
        holder = LeaseHolder(type="task_run", id=run.id, name=run.name)
        try:
            held = acquire(
                [tag_limit_name(t) for t in todo],
                1,
                lease_duration=LEASE_SECONDS,
                holder=holder,
                suppress_warnings=True,
                cancel=cancel,
                on_denied=lambda reply: waiting(
                    f"Concurrency limit for the {_tags(reply.limits)} tag has been reached"
                ),
            )
        except AcquireCancelled:
            raise RunCancelled("flow run cancelled") from None
        except ConcurrencySlotAcquisitionError as exc:
            zero = _ZERO.search(str(exc))
            if zero is None:
                raise
            raise ConcurrencySlotAcquisitionError(
                f'The concurrency limit on tag "{zero.group(1)}" is 0 and will deadlock if '
                "the task tries to run again."
            ) from None
        limited = set(held.limits)
        with self._lock:
            if len(unlimited) > 10_000:
                unlimited.clear()
            for tag in todo:
                if tag_limit_name(tag) not in limited:
                    unlimited[(flow_run, tag)] = now + UNLIMITED_TTL
        if held.lease_id is None:
            return None
        return lambda: release(held)
