"""Lock managers for serializable transactions, as Prefect's ``prefect.locking``.

``MemoryLockManager`` serializes threads of one process; ``FileSystemLockManager`` also
processes of one machine (``fcntl.flock`` on a file per key: the kernel releases the lock of
a process that dies, so a crash never leaves a key locked). Across machines, use the run
database's lock manager (``jupyter_flows.locking.database.DatabaseLockManager``).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

__all__ = ["LockManager", "MemoryLockManager", "FileSystemLockManager", "poll_until"]

_POLL = 0.01


def poll_until(done: Callable[[], bool], timeout: float | None, interval: float = _POLL) -> bool:
    """Call ``done`` every ``interval`` s until it is true (True) or ``timeout`` s pass (False)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not done():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


class LockManager(Protocol):
    def acquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool: ...

    def release_lock(self, key: str, holder: str) -> None: ...

    def is_locked(self, key: str) -> bool: ...

    def is_lock_holder(self, key: str, holder: str) -> bool: ...

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool: ...


class MemoryLockManager:
    """Locks held in this process; a hold timeout lets another holder take an expired lock."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held: dict[str, tuple[str, float | None]] = {}

    def _expired(self, key: str) -> bool:
        entry = self._held.get(key)
        return entry is not None and entry[1] is not None and entry[1] <= time.monotonic()

    def _holds(self, key: str, holder: str) -> bool:
        entry = self._held.get(key)
        return entry is not None and entry[0] == holder and not self._expired(key)

    def _wait_until_free(self, key: str, timeout: float | None) -> bool:
        """Wait (holding ``_cond``) until nobody holds ``key``; False after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while key in self._held and not self._expired(key):
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            self._cond.wait(min(left, 0.1) if left is not None else 0.1)
        return True

    def acquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        with self._cond:
            if self._holds(key, holder):
                return True
            if not self._wait_until_free(key, acquire_timeout):
                return False
            expires = None if hold_timeout is None else time.monotonic() + hold_timeout
            self._held[key] = (holder, expires)
            return True

    def release_lock(self, key: str, holder: str) -> None:
        with self._cond:
            entry = self._held.get(key)
            if entry is None or entry[0] != holder:
                raise ValueError(f"{holder!r} does not hold the lock on {key!r}")
            del self._held[key]
            self._cond.notify_all()

    def is_locked(self, key: str) -> bool:
        with self._cond:
            return key in self._held and not self._expired(key)

    def is_lock_holder(self, key: str, holder: str) -> bool:
        with self._cond:
            return self._holds(key, holder)

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        with self._cond:
            return self._wait_until_free(key, timeout)


class FileSystemLockManager:
    """One lock file per key under ``lock_files_directory``, locked with ``flock``."""

    def __init__(self, lock_files_directory: str | os.PathLike[str]):
        self.lock_files_directory = Path(lock_files_directory).expanduser()
        self._local = MemoryLockManager()  # threads of this process queue here first
        self._files: dict[str, Any] = {}

    def _path(self, key: str) -> Path:
        return self.lock_files_directory / (hashlib.sha256(key.encode()).hexdigest() + ".lock")

    def acquire_lock(
        self,
        key: str,
        holder: str,
        acquire_timeout: float | None = None,
        hold_timeout: float | None = None,
    ) -> bool:
        import fcntl

        started = time.monotonic()
        if self._local.is_lock_holder(key, holder):
            return True
        if not self._local.acquire_lock(key, holder, acquire_timeout):
            return False
        self.lock_files_directory.mkdir(parents=True, exist_ok=True)
        f = open(self._path(key), "a+b")  # noqa: SIM115 - held until release

        def locked() -> bool:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        left = None if acquire_timeout is None else acquire_timeout - (time.monotonic() - started)
        if not poll_until(locked, left):
            f.close()
            self._local.release_lock(key, holder)
            return False
        self._files[key] = f
        return True

    def release_lock(self, key: str, holder: str) -> None:
        import fcntl

        self._local.release_lock(key, holder)  # raises if not the holder
        f = self._files.pop(key, None)
        if f is not None:
            fcntl.flock(f, fcntl.LOCK_UN)
            f.close()

    def is_locked(self, key: str) -> bool:
        import fcntl

        if self._local.is_locked(key):
            return True
        path = self._path(key)
        if not path.exists():
            return False
        with open(path, "a+b") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(f, fcntl.LOCK_UN)
            return False

    def is_lock_holder(self, key: str, holder: str) -> bool:
        return self._local.is_lock_holder(key, holder) and key in self._files

    def wait_for_lock(self, key: str, timeout: float | None = None) -> bool:
        return poll_until(lambda: not self.is_locked(key), timeout)
