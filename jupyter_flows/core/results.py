"""Local result storage: persisted task results and cache entries, one file per key."""

from __future__ import annotations

import json
import logging
import os
import pickle
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from ..exceptions import ResultPersistenceError
from .settings import data_dir
from .states import now

__all__ = ["Serializer", "PickleSerializer", "JSONSerializer", "ResultStore", "get_serializer"]

logger = logging.getLogger(__name__)


class Serializer(Protocol):
    name: str

    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class PickleSerializer:
    """cloudpickle (handles lambdas and notebook-defined classes), read back with pickle."""

    name = "pickle"

    def dumps(self, value: Any) -> bytes:
        import cloudpickle

        data: bytes = cloudpickle.dumps(value, protocol=4)
        return data

    def loads(self, data: bytes) -> Any:
        return pickle.loads(data)


class JSONSerializer:
    name = "json"

    def dumps(self, value: Any) -> bytes:
        return json.dumps(value).encode()

    def loads(self, data: bytes) -> Any:
        return json.loads(data)


_SERIALIZERS: dict[str, Serializer] = {"pickle": PickleSerializer(), "json": JSONSerializer()}


def get_serializer(name_or_obj: str | Serializer) -> Serializer:
    if not isinstance(name_or_obj, str):
        return name_or_obj
    try:
        return _SERIALIZERS[name_or_obj]
    except KeyError:
        raise ValueError(
            f"unknown serializer {name_or_obj!r}; use one of {sorted(_SERIALIZERS)}"
        ) from None


@dataclass(frozen=True)
class StoredResult:
    location: str
    expires: datetime | None


class ResultStore:
    """Files under ``<data dir>/results``: a JSON header line, then the serialized value."""

    def __init__(self, root: Path | None = None):
        self.root = root if root is not None else data_dir() / "results"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def write(
        self, key: str, value: Any, serializer: Serializer, expires_in: timedelta | None = None
    ) -> StoredResult:
        """Serialize and store atomically; raises ResultPersistenceError naming the cause."""
        try:
            payload = serializer.dumps(value)
        except Exception as exc:  # noqa: BLE001 - any serializer failure
            raise ResultPersistenceError(
                f"result could not be serialized with {serializer.name!r}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        expires = now() + expires_in if expires_in is not None else None
        header = {
            "serializer": serializer.name,
            "expires": expires.isoformat() if expires else None,
        }
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(json.dumps(header).encode() + b"\n" + payload)
            os.replace(tmp, path)
        except OSError as exc:
            raise ResultPersistenceError(f"result could not be written to {path}: {exc}") from exc
        return StoredResult(str(path), expires)

    def read(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` for a valid, unexpired entry; ``(False, None)`` otherwise.

        A corrupt or unreadable file is a miss (logged), never an error.
        """
        path = self.path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return False, None
        except OSError as exc:
            logger.warning("cannot read cached result %s: %s; treating as a miss", path, exc)
            return False, None
        try:
            head, _, payload = raw.partition(b"\n")
            header = json.loads(head)
            if header.get("expires") and datetime.fromisoformat(header["expires"]) <= now():
                return False, None
            return True, get_serializer(header["serializer"]).loads(payload)
        except Exception as exc:  # noqa: BLE001 - corrupt entry
            logger.warning(
                "corrupt cached result %s (%s: %s); treating as a miss",
                path,
                type(exc).__name__,
                exc,
            )
            return False, None
