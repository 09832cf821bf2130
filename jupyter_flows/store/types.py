"""Column types and the value converters the fast write path uses instead of them."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import types
from sqlalchemy.engine.interfaces import Dialect

__all__ = ["UTCDateTime", "datetime_converter", "to_json", "clean_text"]

logger = logging.getLogger(__name__)

_UTC = timezone.utc


class UTCDateTime(types.TypeDecorator[datetime]):
    """Aware datetimes stored as UTC, read back as aware UTC datetimes.

    PostgreSQL keeps them in ``timestamptz``. SQLite has no date type: there they are
    ``REAL`` seconds since the Unix epoch (exact to the microsecond until the year 2106,
    ordered, usable with SQLite's ``datetime(x, 'unixepoch')``), which the recorder can
    write without formatting text for every value.
    """

    impl = types.DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def __repr__(self) -> str:
        return "UTCDateTime()"

    def load_dialect_impl(self, dialect: Dialect) -> types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(types.Float())
        return dialect.type_descriptor(types.DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: use an aware datetime (e.g. UTC)")
        if dialect.name == "sqlite":
            return value.timestamp()
        return value.astimezone(_UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, _UTC)
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(moment, datetime):
            raise TypeError(f"not a timestamp: {value!r}")
        if moment.utcoffset() is None:
            return moment.replace(tzinfo=_UTC)
        return moment.astimezone(_UTC)


def _epoch_seconds(value: datetime | None) -> float | None:
    """What ``UTCDateTime`` stores on SQLite, without SQLAlchemy's per-value processing.

    The recorder must not lose records over a naive datetime: it is taken as UTC.
    """
    if value is None:
        return None
    if value.tzinfo is not _UTC and value.utcoffset() is None:
        value = value.replace(tzinfo=_UTC)
    return value.timestamp()


def _aware_datetime(value: datetime | None) -> datetime | None:
    if value is not None and value.utcoffset() is None:
        return value.replace(tzinfo=_UTC)
    return value


def datetime_converter(dialect_name: str) -> Callable[[datetime | None], Any]:
    """How the raw-SQL write path passes a datetime to ``dialect_name``'s driver."""
    return _epoch_seconds if dialect_name == "sqlite" else _aware_datetime


_EMPTY_LIST = "[]"
_EMPTY_DICT = "{}"


def to_json(value: Any) -> str:
    """JSON text of a column value (what SQLAlchemy's ``JSON`` type would store)."""
    if not value:
        if isinstance(value, list):
            return _EMPTY_LIST
        if isinstance(value, dict):
            return _EMPTY_DICT
    try:
        return json.dumps(value, default=repr, allow_nan=False)
    except ValueError:  # NaN/inf (not JSON, PostgreSQL rejects them) or a circular reference
        return json.dumps(_jsonable(value, 0), default=repr, allow_nan=False)


def _jsonable(value: Any, depth: int) -> Any:
    if depth > 50:
        return repr(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def clean_text(value: str) -> str:
    """Free text the databases accept: no NUL characters (PostgreSQL rejects them), no lone
    surrogates (not encodable as UTF-8); both are escaped as ``\\x00``/``\\udc80``."""
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value
