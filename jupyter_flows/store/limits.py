"""The bounds of what the REST API takes in: what the run databases can hold, and how much.

One place for the limits of the API's request models (``server.schemas``,
``orchestration.schemas``, the queries of ``store.schemas``) and of its bodies
(``server.handlers``). Response models keep their plain types: rows written before a limit
existed must stay readable.

- Integers fit their columns: ``DbInt`` (PostgreSQL ``INTEGER``, 32 bits: priorities,
  concurrency limits, log levels) and ``DbBigInt`` (``BIGINT``, 64 bits: ids, offsets).
  Narrow them with ``Annotated[DbInt, Field(ge=0)]``; a ``= Field(ge=0)`` default would
  leave the wider bound in force.
- Text holds no NUL character (PostgreSQL refuses it) and no lone surrogate (not UTF-8),
  and has a bounded length: ``Name`` (1 to 200 characters), ``ShortText`` (up to 200),
  ``Text`` (up to 10,000), ``PathText`` (up to 4,096, no part over 255 bytes). Log lines
  and state messages (``LogText``, up to 10,000) keep such characters escaped as
  ``\\x00`` / ``\\udc80``, as the run recorder does, and a worker's log line longer than
  ``MAX_LOG_LENGTH`` is stored as several (``orchestration.schemas.AppendLogs``): a line is
  never refused for what a program printed.
- JSON objects (``JsonObject``: parameters, payloads) hold finite numbers and text as above,
  and encode to at most ``MAX_JSON_BYTES``.
- Datetimes lie in ``[EARLIEST, LATEST)``: far enough from the years 1 and 9999 that no time
  zone or schedule arithmetic leaves Python's range.
- Schedules fire at most once a second (``MIN_INTERVAL_SECONDS``); intervals and windows are
  at most ``MAX_SECONDS`` (ten years).
- Request bodies nest at most ``MAX_JSON_DEPTH`` levels and are at most
  ``DEFAULT_MAX_BODY_BYTES`` long (configurable: ``FlowsApp.max_body_size``).
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

__all__ = [
    "INT_MAX",
    "BIGINT_MAX",
    "MAX_NAME_LENGTH",
    "MAX_TEXT_LENGTH",
    "MAX_LOG_LENGTH",
    "MAX_LOG_LINES",
    "MAX_PATH_LENGTH",
    "MAX_TAGS",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "DEFAULT_MAX_BODY_BYTES",
    "MIN_INTERVAL_SECONDS",
    "MAX_SECONDS",
    "EARLIEST",
    "LATEST",
    "DbInt",
    "DbBigInt",
    "Name",
    "ShortText",
    "Text",
    "LogText",
    "PathText",
    "Tags",
    "JsonObject",
    "DbDateTime",
    "storable_text",
    "storable_path",
    "storable_datetime",
    "too_deep",
    "check_values",
    "check_json_size",
]

INT_MAX = 2**31 - 1  # PostgreSQL INTEGER
BIGINT_MAX = 2**63 - 1  # PostgreSQL BIGINT, SQLite INTEGER
MAX_NAME_LENGTH = 200
MAX_TEXT_LENGTH = 10_000
MAX_LOG_LENGTH = 10_000  # a longer log line is stored as several
MAX_LOG_LINES = 50_000  # log lines in one request
MAX_PATH_LENGTH = 4096  # PATH_MAX
MAX_PATH_PART = 255  # NAME_MAX
MAX_TAGS = 100
MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 64
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
MIN_INTERVAL_SECONDS = 1.0
MAX_SECONDS = 10 * 366 * 24 * 3600.0
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)


def storable_text(value: str) -> str:
    """``value`` if the databases can store it; ``ValueError`` for NUL or lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters (\\u0000)")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must not contain lone surrogates (not UTF-8)") from None
    return value


def storable_path(value: str) -> str:
    """``value`` if it is storable text and a path the file system can take (no component
    longer than ``MAX_PATH_PART`` bytes)."""
    storable_text(value)
    if any(len(part.encode()) > MAX_PATH_PART for part in value.split("/")):
        raise ValueError(f"a path component is longer than {MAX_PATH_PART} bytes")
    return value


def _escaped_text(value: str) -> str:
    from .types import clean_text  # here: the API models stay free of SQLAlchemy

    return clean_text(value)


def storable_datetime(value: datetime) -> datetime:
    """``value`` if it lies in ``[EARLIEST, LATEST)`` (naive: taken as UTC for the check)."""
    aware = value if value.utcoffset() is not None else value.replace(tzinfo=timezone.utc)
    if not EARLIEST <= aware < LATEST:
        raise ValueError(
            f"must lie between {EARLIEST.year} and {LATEST.year} (got {value.isoformat()})"
        )
    return value


def _problem(value: Any) -> str | None:
    """What keeps one JSON scalar out of the databases, if anything."""
    if isinstance(value, str):
        try:
            storable_text(value)
        except ValueError as exc:
            return str(exc)
    elif isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a JSON number"
    elif isinstance(value, datetime):
        try:
            storable_datetime(value)
        except ValueError as exc:
            return str(exc)
    return None


def _children(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [(str(i), v) for i, v in enumerate(value)]
    if isinstance(value, BaseModel):
        return [(name, getattr(value, name)) for name in type(value).model_fields]
    return []


def check_values(value: Any, where: str = "") -> None:
    """``ValueError`` naming the path (``a.b.0``) of the first value in ``value`` (a JSON
    value or a model) that the databases cannot store: text with NUL or lone surrogates, a
    non-finite number, a datetime out of range (dict keys are text too)."""
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            for key in item:
                if isinstance(key, str) and (problem := _problem(key)) is not None:
                    where_key = f"{path}: key" if path else "key"
                    raise ValueError(f"{where_key} {key!r} {problem}")
        children = _children(item)
        if children:
            stack.extend((f"{path}.{k}" if path else k, v) for k, v in reversed(children))
        elif (problem := _problem(item)) is not None:
            raise ValueError(f"{path}: {problem}" if path else problem)


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> str | None:
    """The path of the first container nested deeper than ``limit`` levels, if any."""
    stack: list[tuple[int, str, Any]] = [(1, "", value)]
    while stack:
        depth, path, item = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            return path or "the body"
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in pairs:
            if isinstance(child, dict | list):
                stack.append((depth + 1, f"{path}.{key}" if path else str(key), child))
    return None


def check_json_size(value: Any, where: str = "") -> None:
    """``ValueError`` if ``value`` encodes to more than ``MAX_JSON_BYTES`` of JSON."""
    size = len(json.dumps(value, separators=(",", ":"), default=str))
    if size > MAX_JSON_BYTES:
        problem = f"encodes to {size} bytes of JSON, more than {MAX_JSON_BYTES}"
        raise ValueError(f"{where}: {problem}" if where else problem)


def _json_object(value: dict[str, Any]) -> dict[str, Any]:
    check_values(value)
    check_json_size(value)
    return value


DbInt = Annotated[int, Field(ge=-INT_MAX - 1, le=INT_MAX)]
DbBigInt = Annotated[int, Field(ge=-BIGINT_MAX - 1, le=BIGINT_MAX)]
ShortText = Annotated[str, Field(max_length=MAX_NAME_LENGTH), AfterValidator(storable_text)]
Name = Annotated[ShortText, Field(min_length=1)]
Text = Annotated[str, Field(max_length=MAX_TEXT_LENGTH), AfterValidator(storable_text)]
PathText = Annotated[str, Field(max_length=MAX_PATH_LENGTH), AfterValidator(storable_path)]
LogText = Annotated[str, Field(max_length=MAX_LOG_LENGTH), AfterValidator(_escaped_text)]
Tags = Annotated[list[ShortText], Field(max_length=MAX_TAGS)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_json_object)]
DbDateTime = Annotated[datetime, AfterValidator(storable_datetime)]
