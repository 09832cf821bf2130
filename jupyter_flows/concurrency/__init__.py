"""Prefect's ``prefect.concurrency``: global concurrency limits and rate limits.

``sync.concurrency`` / ``asyncio.concurrency`` hold slots of named limits for a block,
``rate_limit`` takes slots of decaying limits. Limits live in the run database (created by
``jupyter flows gcl create``, REST or the panel); task tag limits are the limits named
``tag:TAG``, enforced by the engine for task runs tagged ``TAG``.
"""

from __future__ import annotations

from ..exceptions import AcquireConcurrencySlotTimeoutError, ConcurrencySlotAcquisitionError

__all__ = ["ConcurrencySlotAcquisitionError", "AcquireConcurrencySlotTimeoutError"]
