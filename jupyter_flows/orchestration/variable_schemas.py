"""Request and response models of variables (Prefect's ``Variable``), named by verb.

A variable's name is Prefect's: 1 to ``MAX_VARIABLE_NAME_LENGTH`` lowercase letters, digits,
dashes and underscores. Its value is any JSON value (text, number, boolean, null, list,
object) of at most ``MAX_VARIABLE_VALUE_BYTES`` of JSON, storable as ``store.limits`` says
(no NUL, no lone surrogate, finite numbers, at most ``MAX_JSON_DEPTH`` levels deep).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..store.limits import (
    MAX_JSON_DEPTH,
    DbBigInt,
    Name,
    Tags,
    check_values,
    storable_text,
    too_deep,
)

__all__ = [
    "MAX_VARIABLE_NAME_LENGTH",
    "MAX_VARIABLE_VALUE_BYTES",
    "VariableName",
    "check_name",
    "check_value",
    "SetVariable",
    "DescribeVariable",
    "ListVariablesQuery",
    "ListVariablesResponse",
]

#: Prefect's bound on a variable's name
MAX_VARIABLE_NAME_LENGTH = 255
#: a value encodes to at most this much JSON (Prefect Cloud: 5,000 characters; ours: 1 MiB)
MAX_VARIABLE_VALUE_BYTES = 1024 * 1024
_NAME = re.compile(r"[a-z0-9_-]+")


def check_name(name: str, field: str = "name") -> str:
    """``name`` if it is a variable's name (Prefect's rule); ``ValueError`` naming ``field``."""
    if not isinstance(name, str):
        raise ValueError(f"{field}: a variable name is text, got {type(name).__name__}")
    if not 1 <= len(name) <= MAX_VARIABLE_NAME_LENGTH:
        raise ValueError(
            f"{field}: a variable name has 1 to {MAX_VARIABLE_NAME_LENGTH} characters "
            f"(got {len(name)})"
        )
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"{field}: a variable name may contain only lowercase letters, digits, dashes "
            f"and underscores (got {name[:80]!r})"
        )
    return name


def check_value(name: str, value: Any) -> Any:
    """``value`` if it can be variable ``name``'s value; ``ValueError`` naming ``value`` and
    the variable (not JSON, too deep, not storable, or over ``MAX_VARIABLE_VALUE_BYTES``)."""
    where = f"value: variable {name!r}"
    deep = too_deep(value)
    if deep is not None:
        raise ValueError(f"{where}: nested deeper than {MAX_JSON_DEPTH} levels (at {deep})")
    try:
        check_values(value)
        size = len(json.dumps(value, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: not a storable JSON value: {exc}") from None
    if size > MAX_VARIABLE_VALUE_BYTES:
        raise ValueError(
            f"{where}: its value encodes to {size} bytes of JSON, more than the "
            f"{MAX_VARIABLE_VALUE_BYTES} a variable may hold"
        )
    return value


def _checked_name(value: str) -> str:
    try:
        return check_name(value)
    except ValueError as exc:  # the field is in pydantic's location already
        raise ValueError(str(exc).removeprefix("name: ")) from None


VariableName = Annotated[
    str, Field(max_length=MAX_VARIABLE_NAME_LENGTH), AfterValidator(_checked_name)
]
_Prefix = Annotated[str, Field(max_length=MAX_VARIABLE_NAME_LENGTH), AfterValidator(storable_text)]


class SetVariable(BaseModel):
    """The body of ``PUT variables/{name}``: the value, its tags, and whether to replace it."""

    model_config = ConfigDict(extra="forbid")

    value: Any = Field(description="any JSON value (null too); at most 1 MiB of JSON")
    tags: Tags | None = Field(default=None, description="default: none")
    overwrite: bool = Field(
        default=False, description="replace an existing variable (else 409 if it exists)"
    )


class DescribeVariable(BaseModel):
    name: str
    value: Any = None
    tags: list[str] = Field(default_factory=list)
    created: datetime
    updated: datetime


class ListVariablesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag: Name | None = Field(default=None, description="only variables with this tag")
    prefix: _Prefix | None = Field(default=None, description="only names starting with this")
    limit: int = Field(default=100, ge=1, le=1000)
    offset: Annotated[DbBigInt, Field(ge=0)] = 0


class ListVariablesResponse(BaseModel):
    items: list[DescribeVariable]
    total: int
