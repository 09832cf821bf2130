"""Local result storage: persisted task results and cache entries, one file per key."""

from __future__ import annotations

import json
import logging
import os
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from ..exceptions import ResultPersistenceError
from .settings import data_dir
from .states import now

__all__ = [
    "Serializer",
    "PickleSerializer",
    "JSONSerializer",
    "CompressedSerializer",
    "ResultStore",
    "ResultRef",
    "LocalFileSystem",
    "get_serializer",
    "resolve_storage",
    "ResultMirror",
    "set_result_mirror_factory",
    "result_mirror",
    "check_result_file",
]

logger = logging.getLogger(__name__)


class ResultMirror(Protocol):
    """A second home of persisted results, for a run process with no database: the
    server (``client.results.ServerResults``), so that a retry or a resumed run on another
    worker reads them. ``content`` is a result file's bytes (header line + payload)."""

    def upload(self, key: str, content: bytes) -> None: ...

    def download(self, key: str) -> bytes | None: ...


_mirror_factory: Callable[[], ResultMirror | None] | None = None


def set_result_mirror_factory(factory: Callable[[], ResultMirror | None] | None) -> None:
    """Register how this process finds its result mirror (the package root does: the core
    never imports the client)."""
    global _mirror_factory
    _mirror_factory = factory


def result_mirror() -> ResultMirror | None:
    """This process's result mirror (None: results live in local storage only)."""
    return _mirror_factory() if _mirror_factory is not None else None


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
    """JSON (pydantic's encoder: models, dataclasses, datetimes...), read back as plain JSON."""

    name = "json"

    def dumps(self, value: Any) -> bytes:
        from pydantic_core import to_json

        return to_json(value)

    def loads(self, data: bytes) -> Any:
        return json.loads(data)


class CompressedSerializer:
    """Another serializer's bytes, compressed with lzma (``"compressed/pickle"``)."""

    def __init__(self, inner: Serializer):
        self.inner = inner
        self.name = f"compressed/{inner.name}"

    def dumps(self, value: Any) -> bytes:
        import lzma

        return lzma.compress(self.inner.dumps(value))

    def loads(self, data: bytes) -> Any:
        import lzma

        return self.inner.loads(lzma.decompress(data))


_SERIALIZERS: dict[str, Serializer] = {"pickle": PickleSerializer(), "json": JSONSerializer()}
for _name in list(_SERIALIZERS):
    _SERIALIZERS[f"compressed/{_name}"] = CompressedSerializer(_SERIALIZERS[_name])


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


class LocalFileSystem:
    """A directory for results, as Prefect's ``LocalFileSystem(basepath=...)`` block."""

    def __init__(self, basepath: str | os.PathLike[str] | None = None):
        self.basepath = (
            str(Path(basepath).expanduser()) if basepath else str(data_dir() / "results")
        )

    def _path(self, path: str) -> Path:
        full = (Path(self.basepath) / path).resolve()
        if not full.is_relative_to(Path(self.basepath).resolve()):
            raise ValueError(f"path {path!r} is outside the basepath {self.basepath!r}")
        return full

    def read_path(self, path: str) -> bytes:
        return self._path(path).read_bytes()

    def write_path(self, path: str, content: bytes) -> str:
        full = self._path(path)
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_bytes(content)
        return str(full)

    def __repr__(self) -> str:
        return f"LocalFileSystem(basepath={self.basepath!r})"


def _is_generated_key(key: str) -> bool:
    return len(key) >= 32 and all(c in "0123456789abcdef" for c in key)


class ResultStore:
    """Files under ``<data dir>/results``: a JSON header line, then the serialized value.

    Generated keys (cache keys, run ids) are spread over sub-directories; a user's key
    (``result_storage_key="{parameters[name]}.pkl"``) is the file's path under the root.
    ``lock_manager`` serves transactions with ``IsolationLevel.SERIALIZABLE``.
    """

    def __init__(self, root: Path | None = None, lock_manager: Any = None):
        self.root = root if root is not None else data_dir() / "results"
        self._lock_manager = lock_manager

    @property
    def lock_manager(self) -> Any:
        """The store's lock manager (default: lock files beside the results)."""
        if self._lock_manager is None:
            from .locking import FileSystemLockManager

            self._lock_manager = FileSystemLockManager(self.root / ".locks")
        return self._lock_manager

    def path(self, key: str) -> Path:
        if _is_generated_key(key):
            return self.root / key[:2] / key
        full = (self.root / key).resolve()
        if not full.is_relative_to(self.root.resolve()):
            raise ResultPersistenceError(f"result key {key!r} points outside {self.root}")
        return full

    def exists(self, key: str) -> bool:
        return self.read(key)[0]

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
        content = json.dumps(header).encode() + b"\n" + payload
        path = self.write_bytes(key, content)
        mirror = result_mirror()
        if mirror is not None:
            try:
                mirror.upload(key, content)
            except Exception as exc:  # noqa: BLE001 - the local copy still serves this run
                logger.warning("result %s is not on the server (%s): a retry elsewhere "
                               "runs its task again", key, exc)  # fmt: skip
        return StoredResult(str(path), expires)

    def write_bytes(self, key: str, content: bytes) -> Path:
        """Store a result file's ``content`` under ``key`` atomically (a temporary file
        renamed); its path. Raises ResultPersistenceError naming the cause."""
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(content)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ResultPersistenceError(f"result could not be written to {path}: {exc}") from exc
        return path

    def copy(self, source: str, key: str) -> StoredResult | None:
        """Store the result of ``source`` (here, else from the mirror) under ``key`` too, in
        the mirror as well; None if ``source`` is in neither."""
        content = self.read_bytes(source)
        if content is None:
            content = _from_mirror(source)
        if content is None:
            return None
        path = self.write_bytes(key, content)
        mirror = result_mirror()
        if mirror is not None:
            try:
                mirror.upload(key, content)
            except Exception as exc:  # noqa: BLE001 - the local copy still serves this run
                logger.warning("result %s is not on the server: %s", key, exc)
        return StoredResult(str(path), None)

    def read_bytes(self, key: str) -> bytes | None:
        """The stored content of ``key``, or None."""
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def read(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` for a valid, unexpired entry; ``(False, None)`` otherwise.

        A corrupt or unreadable file is a miss (logged), never an error. A key missing here
        is looked up in the process's result mirror (the server), and kept here if found.
        """
        path = self.path(key)
        if not path.exists():
            content = _from_mirror(key)
            if content is None:
                return False, None
            try:
                self.write_bytes(key, content)
            except ResultPersistenceError as exc:
                logger.debug("result %s from the server is not kept locally: %s", key, exc)
            return parse_result(content, f"{key} (from the server)")
        return read_result_file(path)


def _from_mirror(key: str) -> bytes | None:
    mirror = result_mirror()
    if mirror is None:
        return None
    try:
        return mirror.download(key)
    except Exception as exc:  # noqa: BLE001 - a miss: the task runs again
        logger.warning("cannot read result %s from the server: %s", key, exc)
        return None


def check_result_file(content: bytes) -> str | None:
    """Why ``content`` is not a result file (header line + payload), or None."""
    head, newline, _ = content.partition(b"\n")
    if not newline:
        return "no header line"
    try:
        header = json.loads(head)
    except ValueError:
        return "the header line is not JSON"
    if not isinstance(header, dict) or not isinstance(header.get("serializer"), str):
        return "the header line names no serializer"
    try:
        get_serializer(header["serializer"])
        if header.get("expires") is not None:
            datetime.fromisoformat(header["expires"])
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def read_result_file(path: Path) -> tuple[bool, Any]:
    """``(True, value)`` for the valid, unexpired result file ``path``, else ``(False, None)``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return False, None
    except OSError as exc:
        logger.warning("cannot read cached result %s: %s; treating as a miss", path, exc)
        return False, None
    return parse_result(raw, str(path))


def parse_result(raw: bytes, where: str) -> tuple[bool, Any]:
    """``(True, value)`` of a result file's bytes if valid and unexpired, else a miss."""
    try:
        head, _, payload = raw.partition(b"\n")
        header = json.loads(head)
        if header.get("expires") and datetime.fromisoformat(header["expires"]) <= now():
            return False, None
        return True, get_serializer(header["serializer"]).loads(payload)
    except Exception as exc:  # noqa: BLE001 - corrupt entry
        logger.warning(
            "corrupt cached result %s (%s: %s); treating as a miss",
            where,
            type(exc).__name__,
            exc,
        )
        return False, None


@dataclass(frozen=True)
class ResultRef:
    """A persisted result not kept in memory: ``State.result()`` reads it from storage.

    ``root`` + ``key`` name it in a ``ResultStore``; ``location`` names its file directly (a
    result recorded in the run database, read back by another process).
    """

    key: str
    root: str | None = None
    location: str | None = None

    def load_result(self) -> Any:
        if self.location is not None:
            hit, value = read_result_file(Path(self.location))
            if not hit and not Path(self.location).exists():  # another worker's file
                content = _from_mirror(self.key)
                if content is not None:
                    hit, value = parse_result(content, f"{self.key} (from the server)")
        else:
            hit, value = ResultStore(Path(self.root) if self.root else None).read(self.key)
        if not hit:
            from ..exceptions import MissingResult

            where = self.location or self.root
            raise MissingResult(f"the result {self.key!r} is no longer in {where}")
        return value

    def copy_to(self, key: str) -> StoredResult | None:
        """This result's file stored again under ``key`` in its store (None: it is gone)."""
        return ResultStore(Path(self.root) if self.root else None).copy(self.key, key)


_BLOCK_SLUGS = frozenset(
    {"local-file-system", "remote-file-system", "s3-bucket", "gcs-bucket", "azure-blob-storage"}
)


def resolve_storage(storage: Any) -> ResultStore | None:
    """A ``ResultStore`` from a ``result_storage`` option: a path, a LocalFileSystem or a store."""
    if storage is None or isinstance(storage, ResultStore):
        return storage
    if isinstance(storage, LocalFileSystem):
        return ResultStore(Path(storage.basepath))
    if isinstance(storage, str) and storage.split("/", 1)[0] in _BLOCK_SLUGS:
        raise ValueError(
            f"result_storage={storage!r} names a saved Prefect block; blocks are not "
            "available here: pass LocalFileSystem(basepath=...) or a directory path"
        )
    if isinstance(storage, str | os.PathLike):
        return ResultStore(Path(storage).expanduser())
    basepath = getattr(storage, "basepath", None)
    if basepath is not None:
        return ResultStore(Path(basepath))
    raise ValueError(
        f"result_storage must be a path, a LocalFileSystem or a ResultStore, got {storage!r}"
    )
