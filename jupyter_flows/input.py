"""Prefect's ``prefect.input``: ``RunInput``, the base of what a paused flow run waits for
(``pause_flow_run(wait_for_input=MyInput)``): a pydantic model whose JSON schema the Flows
panel turns into a form."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

__all__ = ["RunInput"]


class RunInput(BaseModel):
    """An input a paused run waits for: subclass it with the fields to ask for."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def with_initial_data(cls, description: str | None = None, **defaults: Any) -> type[RunInput]:
        """A copy of this input with these defaults (what the form shows filled in)."""
        fields: dict[str, Any] = {
            name: (info.annotation, defaults.get(name, info.default))
            for name, info in cls.model_fields.items()
        }
        made = create_model(cls.__name__, __base__=cls, **fields)
        if description is not None:
            made.__doc__ = description
        return made
