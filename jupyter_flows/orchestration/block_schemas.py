"""Request and response models of block documents (Prefect's blocks), and their masking.

A block type's slug and a document's name follow Prefect's rule: 1 to ``MAX_BLOCK_NAME_LENGTH``
lowercase letters, digits and dashes. A document's ``data`` is a JSON object of at most
``MAX_BLOCK_DATA_BYTES``; its ``secret_fields`` are Prefect's paths of the fields to mask:
``"password"``, ``"credentials.token"`` (a nested field), ``"headers.*"`` (every value under
it, at any depth). Shown, a secret field's value is ``MASK`` (``None`` stays ``None``).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..core.redaction import MASK
from ..store.limits import MAX_JSON_DEPTH, DbBigInt, check_values, too_deep

__all__ = [
    "MASK",
    "MAX_BLOCK_NAME_LENGTH",
    "MAX_BLOCK_DATA_BYTES",
    "check_slug",
    "check_name",
    "check_data",
    "check_secret_fields",
    "mask",
    "unmask",
    "SaveBlockDocument",
    "DescribeBlockDocument",
    "ReadBlockDocumentQuery",
    "ListBlockDocumentsQuery",
    "ListBlockDocumentsResponse",
]

MAX_BLOCK_NAME_LENGTH = 255
MAX_BLOCK_DATA_BYTES = 1024 * 1024
_NAME = re.compile(r"[a-z0-9-]+")
_PATH = re.compile(r"[^.*]+(\.[^.*]+)*(\.\*)?")


def _check(value: Any, field: str, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field}: a {what} is text, got {type(value).__name__}")
    if not 1 <= len(value) <= MAX_BLOCK_NAME_LENGTH:
        raise ValueError(
            f"{field}: a {what} has 1 to {MAX_BLOCK_NAME_LENGTH} characters (got {len(value)})"
        )
    if not _NAME.fullmatch(value):
        raise ValueError(
            f"{field}: a {what} may contain only lowercase letters, digits and dashes "
            f"(got {value[:80]!r})"
        )
    return value


def check_slug(slug: Any, field: str = "block_type_slug") -> str:
    """``slug`` if it is a block type's slug; ``ValueError`` naming ``field``."""
    return _check(slug, field, "block type slug")


def check_name(name: Any, field: str = "name") -> str:
    """``name`` if it is a block document's name (Prefect's rule); ``ValueError`` naming it."""
    return _check(name, field, "block document name")


def check_data(data: Any, what: str) -> dict[str, Any]:
    """``data`` if it can be the values of block document ``what``: a JSON object of at most
    ``MAX_BLOCK_DATA_BYTES`` (``ValueError`` naming ``data``)."""
    where = f"data: block document {what}"
    if not isinstance(data, dict):
        raise ValueError(f"{where}: a JSON object of the block's fields, got {type(data).__name__}")
    deep = too_deep(data)
    if deep is not None:
        raise ValueError(f"{where}: nested deeper than {MAX_JSON_DEPTH} levels (at {deep})")
    try:
        check_values(data)
        size = len(json.dumps(data, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: not a storable JSON object: {exc}") from None
    if size > MAX_BLOCK_DATA_BYTES:
        raise ValueError(
            f"{where}: encodes to {size} bytes of JSON, more than the {MAX_BLOCK_DATA_BYTES} "
            "a block document may hold"
        )
    return data


def check_secret_fields(paths: Any) -> list[str]:
    """``paths`` as a sorted list of secret field paths; ``ValueError`` naming the field."""
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ValueError("secret_fields: a list of field paths (text)")
    for path in paths:
        if len(path) > 1000 or not _PATH.fullmatch(path):
            raise ValueError(
                f"secret_fields: {path[:80]!r} is not a field path ('field', 'a.b' or 'a.*')"
            )
    return sorted(set(paths))


def _all_leaves(value: Any, leaf: Any) -> Any:
    if isinstance(value, dict):
        return {k: _all_leaves(v, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_all_leaves(v, leaf) for v in value]
    return None if value is None else leaf(value)


def _at(node: Any, parts: list[str], change: Any) -> Any:
    """``node`` with ``change(value)`` applied at the path ``parts`` (lists: each item)."""
    if isinstance(node, list):
        return [_at(item, parts, change) for item in node]
    if not isinstance(node, dict) or parts[0] not in node:
        return node
    head, rest = parts[0], parts[1:]
    copy = dict(node)
    if not rest:
        copy[head] = None if node[head] is None else change(node[head])
    elif rest == ["*"]:
        copy[head] = _all_leaves(node[head], change)
    else:
        copy[head] = _at(node[head], rest, change)
    return copy


def mask(data: dict[str, Any], secret_fields: list[str]) -> dict[str, Any]:
    """``data`` with the value of each secret field shown as ``MASK``."""
    for path in secret_fields:
        data = _at(data, path.split("."), lambda _: MASK)
    return data


def _get(node: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _set(node: dict[str, Any], parts: list[str], value: Any) -> dict[str, Any]:
    copy = dict(node)
    head = parts[0]
    copy[head] = value if len(parts) == 1 else _set(copy[head], parts[1:], value)
    return copy


def _restore(new: Any, old: Any) -> Any:
    """``new`` with each ``MASK`` in it replaced by what ``old`` has at the same place."""
    if new == MASK:
        return new if old is None else old
    if isinstance(new, dict) and isinstance(old, dict):
        return {k: _restore(v, old.get(k)) for k, v in new.items()}
    if isinstance(new, list) and isinstance(old, list):
        return [_restore(v, old[i] if i < len(old) else None) for i, v in enumerate(new)]
    return new


def unmask(new: dict[str, Any], old: dict[str, Any], secret_fields: list[str]) -> dict[str, Any]:
    """``new`` where each secret value still ``MASK`` (a document read masked, edited, saved
    back) is the value ``old`` had there, as Prefect's server does."""
    for path in secret_fields:
        parts = path.removesuffix(".*").split(".")
        if _reachable(new, parts):
            new = _set(new, parts, _restore(_get(new, parts), _get(old, parts)))
    return new


def _reachable(node: Any, parts: list[str]) -> bool:
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _checked(check: Any) -> Any:
    def validate(value: Any) -> Any:
        try:
            return check(value)
        except ValueError as exc:  # pydantic already names the field
            raise ValueError(str(exc).partition(": ")[2]) from None

    return AfterValidator(validate)


BlockTypeSlug = Annotated[str, Field(max_length=MAX_BLOCK_NAME_LENGTH), _checked(check_slug)]


class SaveBlockDocument(BaseModel):
    """The body of ``PUT block_documents/{slug}/{name}``: the values, which of them are
    secret, and whether to replace an existing document."""

    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(description="the block's fields, a JSON object up to 1 MiB")
    secret_fields: list[str] = Field(
        default_factory=list,
        description="paths of the secret fields ('password', 'a.b', 'headers.*'): masked "
        "when shown; on overwrite, a secret value sent as '********' keeps the stored one",
    )
    overwrite: bool = Field(
        default=False, description="replace an existing document (else 409 if it exists)"
    )


class DescribeBlockDocument(BaseModel):
    id: str
    name: str
    block_type_slug: str
    data: dict[str, Any] = Field(description="secret fields masked unless include_secrets")
    secret_fields: list[str] = Field(default_factory=list)
    secrets_included: bool = Field(
        default=False, description="the secret fields hold their values (not masked)"
    )
    created: datetime
    updated: datetime


class ReadBlockDocumentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_secrets: bool = Field(
        default=False,
        description="the secret values themselves: needs the 'write' permission (403 else)",
    )


class ListBlockDocumentsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    block_type: BlockTypeSlug | None = Field(
        default=None, description="only documents of this block type slug"
    )
    limit: int = Field(default=100, ge=1, le=1000)
    offset: Annotated[DbBigInt, Field(ge=0)] = 0


class ListBlockDocumentsResponse(BaseModel):
    items: list[DescribeBlockDocument] = Field(description="secret fields always masked")
    total: int
