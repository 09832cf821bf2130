"""Prefect's ``prefect.blocks.system``: ``Secret``, a block holding one secret value.

Example::

    from jupyter_flows.blocks.system import Secret

    Secret(value="sk-1234567890").save("openai-key", overwrite=True)
    Secret.load("openai-key").get()  # 'sk-1234567890'
    Secret(value={"user": "etl", "password": "p@ss"}).save("db")  # any JSON value
"""

from __future__ import annotations

import json
from typing import Any, Generic, TypeVar

from pydantic import Field, SecretStr
from pydantic import Secret as PydanticSecret

from .core import Block

__all__ = ["Secret"]

T = TypeVar("T")


class Secret(Block, Generic[T]):
    """A secret value (text, or any JSON value): masked when shown, redacted from run logs.

    ``get()`` returns the value; text that is JSON comes back decoded (``"42"`` -> ``42``),
    as Prefect's.
    """

    value: SecretStr | PydanticSecret[Any] = Field(
        default=...,
        description="A value that should be kept secret.",
        examples=["sk-1234567890", {"username": "johndoe", "password": "s3cr3t"}],
        json_schema_extra={"writeOnly": True, "format": "password"},
    )

    def get(self) -> T:
        """The secret value itself."""
        value = self.value.get_secret_value()
        try:
            return json.loads(value)  # type: ignore[no-any-return]
        except (TypeError, json.JSONDecodeError):
            return value  # type: ignore[return-value]
