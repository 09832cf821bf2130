"""Transactions, as Prefect's ``prefect.transactions``: results and side effects as one unit.

Inside ``with transaction():`` each task run stages its result; when the block ends without
an exception the results are written and the tasks' ``on_commit`` hooks run; if it raises,
the ``on_rollback`` hooks of the tasks that had completed run, newest first, and nothing is
written. A transaction with a ``key`` whose record already exists is committed already
(``txn.is_committed()``), so a keyed block is idempotent. ``IsolationLevel.SERIALIZABLE``
takes the store's lock on the key for the transaction's lifetime: concurrent transactions
with the same key (threads, processes, machines: see ``core.locking``) run one at a time,
and the later ones find the record the first wrote.
"""

from __future__ import annotations

import enum
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from ..exceptions import ConfigurationError
from .results import ResultStore, get_serializer, resolve_storage

__all__ = [
    "CommitMode",
    "IsolationLevel",
    "TransactionState",
    "Transaction",
    "transaction",
    "get_transaction",
]

logger = logging.getLogger(__name__)
_UNSET: Any = object()


class CommitMode(enum.Enum):
    EAGER = "EAGER"  # commit when this transaction ends
    LAZY = "LAZY"  # commit with the outermost transaction
    OFF = "OFF"  # never commit (hooks never run)


class IsolationLevel(enum.Enum):
    READ_COMMITTED = "READ_COMMITTED"
    SERIALIZABLE = "SERIALIZABLE"


class TransactionState(enum.Enum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    STAGED = "STAGED"
    COMMITTED = "COMMITTED"
    ROLLED_BACK = "ROLLED_BACK"


_current: ContextVar[Transaction | None] = ContextVar("jupyter_flows_transaction", default=None)


def get_transaction() -> Transaction | None:
    """The innermost active transaction, or None."""
    return _current.get()


class Transaction:
    """One unit of work; see the module's docstring. Use ``transaction()`` to make one."""

    def __init__(
        self,
        key: str | None = None,
        store: ResultStore | None = None,
        commit_mode: CommitMode | None = None,
        isolation_level: IsolationLevel | None = None,
        overwrite: bool = False,
        write_on_commit: bool = True,
        serializer: Any = None,
    ):
        self.key = key
        self.store = store
        self.commit_mode = commit_mode
        self.isolation_level = isolation_level
        self.overwrite = overwrite
        self.write_on_commit = write_on_commit
        self.serializer = get_serializer(serializer or "pickle")
        self.state = TransactionState.PENDING
        self.parent: Transaction | None = None
        self.children: list[Transaction] = []
        self.on_commit_hooks: list[Callable[[Transaction], Any]] = []
        self.on_rollback_hooks: list[Callable[[Transaction], Any]] = []
        self._values: dict[str, Any] = {}
        self._staged: Any = _UNSET
        self._committed_value: Any = _UNSET
        self._after_write: Callable[[Any], None] | None = None
        self._holder = f"{os.getpid()}-{threading.get_ident()}-{id(self)}"
        self._locked = False
        self._token: Token[Transaction | None] | None = None
        self.expires_in: Any = None

    # -- the context manager
    def __enter__(self) -> Transaction:
        if self.state is not TransactionState.PENDING:
            raise RuntimeError("a transaction can be entered once")
        self.parent = _current.get()
        if self.commit_mode is None:
            self.commit_mode = self.parent.commit_mode if self.parent else CommitMode.LAZY
        if self.store is None and self.key is not None:
            self.store = self.parent.store if self.parent and self.parent.store else ResultStore()
        self._lock()
        try:
            if self.key is not None and not self.overwrite and self.store is not None:
                hit, value = self.store.read(self.key)
                if hit:
                    self._committed_value = value
        except BaseException:
            self._unlock()
            raise
        self._token = _current.set(self)
        committed = self._committed_value is not _UNSET
        self.state = TransactionState.COMMITTED if committed else TransactionState.ACTIVE
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        try:
            if exc is not None:
                self.rollback()
            elif self.state is TransactionState.COMMITTED:
                pass
            elif self.commit_mode is CommitMode.EAGER or self.parent is None:
                self.commit()
            elif self.commit_mode is CommitMode.LAZY:
                self.parent.children.append(self)
                if self.state is TransactionState.ACTIVE:
                    self.state = TransactionState.STAGED
        finally:
            if self._token is not None:
                _current.reset(self._token)
            self._unlock()

    def _lock(self) -> None:
        if self.isolation_level is not IsolationLevel.SERIALIZABLE:
            return
        if self.key is None or self.store is None:
            raise ConfigurationError("a SERIALIZABLE transaction needs a key and a store")
        self.store.lock_manager.acquire_lock(self.key, self._holder)
        self._locked = True

    def _unlock(self) -> None:
        if self._locked and self.store is not None and self.key is not None:
            self._locked = False
            self.store.lock_manager.release_lock(self.key, self._holder)

    # -- values shared within a transaction
    def set(self, name: str, value: Any) -> None:
        """Keep ``value`` under ``name`` for this transaction and the ones nested in it."""
        self._values[name] = value

    def get(self, name: str, default: Any = _UNSET) -> Any:
        """A value set here or in an enclosing transaction; ``default`` or ValueError."""
        txn: Transaction | None = self
        while txn is not None:
            if name in txn._values:
                return txn._values[name]
            txn = txn.parent
        if default is _UNSET:
            raise ValueError(f"no value {name!r} in this transaction")
        return default

    # -- states
    def is_committed(self) -> bool:
        return self.state is TransactionState.COMMITTED

    def is_rolled_back(self) -> bool:
        return self.state is TransactionState.ROLLED_BACK

    def is_staged(self) -> bool:
        return self.state is TransactionState.STAGED

    def is_active(self) -> bool:
        return self.state is TransactionState.ACTIVE

    def is_pending(self) -> bool:
        return self.state is TransactionState.PENDING

    def read(self) -> Any:
        """The committed record's value (None if there is none)."""
        if self._committed_value is not _UNSET:
            return self._committed_value
        if self.key is None or self.store is None:
            return None
        return self.store.read(self.key)[1]

    def stage(
        self,
        value: Any,
        on_commit_hooks: Any = (),
        on_rollback_hooks: Any = (),
        after_write: Callable[[Any], None] | None = None,
    ) -> None:
        """Hold ``value`` to be written at commit, with the hooks to run then (or on rollback)."""
        if self.state is TransactionState.COMMITTED:
            return
        self._staged = value
        self.on_commit_hooks.extend(on_commit_hooks)
        self.on_rollback_hooks.extend(on_rollback_hooks)
        self._after_write = after_write
        self.state = TransactionState.STAGED

    def commit(self) -> bool:
        """Commit the children, write the staged value, run the commit hooks."""
        if self.state in (TransactionState.ROLLED_BACK, TransactionState.COMMITTED):
            return False
        if self.commit_mode is CommitMode.OFF:
            return False
        try:
            for child in self.children:
                child.commit()
            if self.write_on_commit and self.key is not None and self.store is not None:
                # a keyed transaction leaves its record even if nothing was staged (as Prefect):
                # the next one with this key finds it committed
                value = None if self._staged is _UNSET else self._staged
                stored = self.store.write(self.key, value, self.serializer, self.expires_in)
                if self._after_write is not None:
                    self._after_write(stored)
            for hook in self.on_commit_hooks:
                hook(self)
        except Exception:
            logger.exception("transaction %r failed to commit; rolling back", self.key)
            self.rollback()
            raise
        self.state = TransactionState.COMMITTED
        return True

    def rollback(self) -> bool:
        """Roll back the children (newest first) and run the rollback hooks."""
        if self.state in (TransactionState.ROLLED_BACK, TransactionState.COMMITTED):
            return False
        for child in reversed(self.children):
            child.rollback()
        for hook in self.on_rollback_hooks:
            try:
                hook(self)
            except Exception:  # noqa: BLE001 - every hook gets its turn
                logger.exception("on_rollback hook %s raised", getattr(hook, "__name__", hook))
        self.state = TransactionState.ROLLED_BACK
        return True

    def __repr__(self) -> str:
        return f"Transaction(key={self.key!r}, state={self.state.value})"


@contextmanager
def transaction(
    key: str | None = None,
    store: Any = None,
    commit_mode: CommitMode | None = None,
    isolation_level: IsolationLevel | None = None,
    overwrite: bool = False,
    write_on_commit: bool = True,
) -> Iterator[Transaction]:
    """``with transaction(key="daily-load") as txn:`` run tasks as one unit (see above)."""
    with Transaction(
        key,
        resolve_storage(store),
        commit_mode,
        isolation_level,
        overwrite,
        write_on_commit,
    ) as txn:
        yield txn
