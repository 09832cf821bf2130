"""``DatabaseLockManager``: transaction locks in the run database, across machines.

A lock is a row of ``lock`` (the key is its primary key, so two holders can never both
insert it). A holder that dies keeps its lock until ``hold_timeout`` (default 5 minutes)
passes; then the next holder takes it over.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, insert, or_, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from jupyter_flows.core.locking import poll_until

from .models import LockRecord

__all__ = ["DatabaseLockManager"]

LOCK = LockRecord.__table__  # type: ignore[attr-defined]
_POLL = 0.05


def _now() -> datetime:
    return datetime.now(timezone.utc)


class DatabaseLockManager:
    """Locks shared by every process and machine that uses the database ``url``."""

    def __init__(self, url: str | None = None, default_hold_timeout: float | None = 300.0) -> None:
        self.url = url
        self.default_hold_timeout = default_hold_timeout
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from .api import run_store

            self._engine = run_store(self.url).engine
        return self._engine

    def _try_acquire(self, key: str, holder: str, hold_timeout: float | None) -> bool:
        now = _now()
        hold = hold_timeout if hold_timeout is not None else self.default_hold_timeout
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(LOCK).where(
                        LOCK.c.key == key, LOCK.c.expires.is_not(None), LOCK.c.expires <= now
                    )
                )
                current = conn.execute(select(LOCK.c.holder).where(LOCK.c.key == key)).first()
                if current is not None:
                    return bool(current.holder == holder)
                conn.execute(
                    insert(LOCK).values(
                        key=key,
                        holder=holder,
                        acquired=now,
                        expires=now + timedelta(seconds=hold) if hold is not None else None,
                    )
                )
            return True
        except sa_exc.IntegrityError:  # another holder inserted it first
            return False

    def acquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        return poll_until(
            lambda: self._try_acquire(key, holder, hold_timeout), acquire_timeout, _POLL
        )

    def release_lock(self, key: str, holder: str) -> None:
        with self.engine.begin() as conn:
            gone = conn.execute(delete(LOCK).where(LOCK.c.key == key, LOCK.c.holder == holder))
        if gone.rowcount == 0:
            raise ValueError(f"{holder!r} does not hold the lock on {key!r}")

    def _holder(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(LOCK.c.holder).where(
                    LOCK.c.key == key, or_(LOCK.c.expires.is_(None), LOCK.c.expires > _now())
                )
            ).first()
        return None if row is None else str(row.holder)

    def is_locked(self, key: str) -> bool:
        return self._holder(key) is not None

    def is_lock_holder(self, key: str, holder: str) -> bool:
        return self._holder(key) == holder

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        return poll_until(lambda: not self.is_locked(key), timeout, _POLL)
