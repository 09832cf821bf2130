"""Secret values this process knows, and their redaction from what runs log and print.

Once a block with secret fields exists in a process (made, saved or loaded: see
``jupyter_flows.blocks``), its secret values are registered here, and the run log path
replaces each of them with ``MASK`` before a record is made: the run loggers' records
(``get_run_logger``, ``print`` with ``log_prints``, tracebacks), and everything a worker's
run process prints (the worker stores it as run logs). The database, reports and the panel
never see them. Values shorter than ``MIN_SECRET_LENGTH`` characters are not redacted
(masking every ``"1"`` of a log would hide more than it protects).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from typing import IO, Any

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "register_secrets",
    "redact",
    "has_secrets",
    "forget_secrets",
    "RedactingStream",
]

MASK = "********"
MIN_SECRET_LENGTH = 4

_lock = threading.Lock()
_values: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _forms(value: str) -> set[str]:
    """``value`` and how it shows when printed escaped (JSON, ``repr``)."""
    forms = {value, json.dumps(value)[1:-1], repr(value)[1:-1]}
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


def _leaves(value: Any) -> Iterable[str]:
    """The texts of a secret value: itself, or the leaves of a JSON-like value."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, bytes):
        try:
            yield value.decode()
        except UnicodeDecodeError:
            return
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def register_secrets(*values: Any) -> None:
    """Redact these values (texts, numbers, or the leaves of dicts and lists) from now on."""
    global _pattern
    new = set()
    for value in values:
        for leaf in _leaves(value):
            new |= _forms(leaf)
    with _lock:
        if new <= _values:
            return
        _values.update(new)
        ordered = sorted(_values, key=len, reverse=True)  # the longest form first
        _pattern = re.compile("|".join(re.escape(v) for v in ordered))


def has_secrets() -> bool:
    return _pattern is not None


def redact(text: str) -> str:
    """``text`` with every registered secret value replaced by ``MASK``."""
    pattern = _pattern
    if pattern is None or not text:
        return text
    return pattern.sub(MASK, text)


def forget_secrets() -> None:
    """Forget every registered value (for tests)."""
    global _pattern
    with _lock:
        _values.clear()
        _pattern = None


class RedactingStream:
    """A text stream that writes whole lines, redacted, to ``inner`` (a worker's run process
    wraps its stdout and stderr: the worker stores every line as a run log).

    A secret split across two ``write`` calls is still found: text is held until its line
    ends (or ``flush``).
    """

    def __init__(self, inner: IO[str]):
        self._inner = inner
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            if "\n" in self._pending:
                lines, _, self._pending = self._pending.rpartition("\n")
                self._inner.write(redact(lines + "\n"))
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self._inner.write(redact(self._pending))
                self._pending = ""
        self._inner.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, fileno, isatty...
        return getattr(self._inner, name)
