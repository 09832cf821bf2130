"""Prefect's ``prefect.transactions``."""

from __future__ import annotations

from .core.transactions import (
    CommitMode,
    IsolationLevel,
    Transaction,
    TransactionState,
    get_transaction,
    transaction,
)

__all__ = [
    "CommitMode",
    "IsolationLevel",
    "Transaction",
    "TransactionState",
    "get_transaction",
    "transaction",
]
