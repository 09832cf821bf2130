"""SQLite write transactions and ``fork()``.

SQLite keeps the locks of a process's connections in that process's memory. A child
forked while a thread of its parent was inside a write transaction inherits "this file
is locked by one of my connections" with no thread left to unlock it: every write of the
child then fails with "database is locked" once the busy timeout ends. So a fork waits
for the parent's write transactions to end (and new ones wait for the fork), bounded by
``WAIT_S`` so that a transaction held open for long delays a fork but never blocks it.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

WAIT_S = 10.0

_cond = threading.Condition()
_writers: dict[int, int] = {}  # id(DBAPI connection) -> thread that began the write
_fork_pending = False


def write_begins(dbapi_connection: Any) -> None:
    """Before ``BEGIN IMMEDIATE`` on ``dbapi_connection``: wait while a fork is pending."""
    with _cond:
        deadline = time.monotonic() + WAIT_S
        while _fork_pending and (remaining := deadline - time.monotonic()) > 0:
            _cond.wait(remaining)
        _writers[id(dbapi_connection)] = threading.get_ident()


def write_ended(dbapi_connection: Any, *_: Any) -> None:
    """The connection went back to the pool (or was closed): its transaction is over."""
    if dbapi_connection is None:
        return
    with _cond:
        if _writers.pop(id(dbapi_connection), None) is not None:
            _cond.notify_all()


def _others_writing(me: int) -> bool:
    return any(thread != me for thread in _writers.values())


def _before_fork() -> None:
    global _fork_pending
    with _cond:
        _fork_pending = True
        me = threading.get_ident()
        _cond.wait_for(lambda: not _others_writing(me), timeout=WAIT_S)


def _after_fork_in_parent() -> None:
    global _fork_pending
    with _cond:
        _fork_pending = False
        _cond.notify_all()


def _after_fork_in_child() -> None:
    global _cond, _fork_pending
    _cond = threading.Condition()  # the parent's may have been held by another thread
    _writers.clear()
    _fork_pending = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
