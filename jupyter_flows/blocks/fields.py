"""Prefect's ``prefect.blocks.fields``: ``SecretDict``, a dict field whose values are secret.

Shown (``repr``, the API, the panel), every value is masked at every level and the keys
stay readable; ``get_secret_value()`` gives the dict back.
"""

from __future__ import annotations

from typing import Any

from pydantic import Secret

__all__ = ["SecretDict"]

_SHOWN = "**********"  # as pydantic shows a SecretStr


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return _SHOWN


class SecretDict(Secret[dict[str, Any]]):
    """A dict of secrets: ``SecretDict({"password": "p@ss"})`` shows ``{'password': '****'}``."""

    def _display(self) -> str:
        return str(_masked(self.get_secret_value()))
