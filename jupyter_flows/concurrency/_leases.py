"""One background thread per process renews the leases this process holds.

Each lease is renewed every third of its duration, so one missed renewal (a slow database,
a server restarting) does not lose it. A lease that is gone when renewed (it expired and
its slots were taken back) is logged and no longer renewed: its holder no longer holds the
slots. A process killed with ``kill -9`` renews nothing: its leases expire, and the next
acquisition of their limits takes the slots back.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

from ._backend import SlotBackend

__all__ = ["hold", "drop", "lost"]

logger = logging.getLogger(__name__)


@dataclass
class _Lease:
    backend: SlotBackend
    duration: float
    due: float
    names: tuple[str, ...]
    lost: bool = False


_lock = threading.Condition()
_leases: dict[str, _Lease] = {}
_thread: threading.Thread | None = None


def _after_fork_in_child() -> None:
    global _lock, _thread
    _lock = threading.Condition()
    _leases.clear()  # the parent's leases are the parent's to renew
    _thread = None


os.register_at_fork(after_in_child=_after_fork_in_child)


def hold(lease_id: str, backend: SlotBackend, duration: float, names: tuple[str, ...]) -> None:
    """Renew ``lease_id`` until ``drop``."""
    global _thread
    with _lock:
        _leases[lease_id] = _Lease(backend, duration, time.monotonic() + duration / 3, names)
        if _thread is None:
            _thread = threading.Thread(target=_run, name="jupyter-flows-leases", daemon=True)
            _thread.start()
        _lock.notify()


def drop(lease_id: str) -> bool:
    """Stop renewing ``lease_id``; whether it was lost meanwhile."""
    with _lock:
        lease = _leases.pop(lease_id, None)
    return bool(lease and lease.lost)


def lost(lease_id: str) -> bool:
    with _lock:
        lease = _leases.get(lease_id)
        return bool(lease and lease.lost)


def _run() -> None:
    while True:
        with _lock:
            now = time.monotonic()
            due = [(i, le) for i, le in _leases.items() if le.due <= now and not le.lost]
            if not due:
                upcoming = [le.due for le in _leases.values() if not le.lost]
                _lock.wait(timeout=max(0.01, min(upcoming) - now) if upcoming else None)
                continue
        for lease_id, lease in due:
            _renew(lease_id, lease)


def _renew(lease_id: str, lease: _Lease) -> None:
    try:
        renewed = lease.backend.renew(lease_id, lease.duration)
    except Exception:  # noqa: BLE001 - transient (database busy, server away): try again soon
        logger.warning("could not renew the lease of %s; retrying", lease.names, exc_info=True)
        lease.due = time.monotonic() + min(1.0, lease.duration / 10)
        return
    if renewed:
        lease.due = time.monotonic() + lease.duration / 3
        return
    lease.lost = True
    logger.warning(
        "the lease of concurrency slots on %s expired before it was renewed: they were "
        "taken back and may be held by others now",
        ", ".join(lease.names),
    )
