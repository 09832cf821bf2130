"""Where servers keep deployments' source bundles: the database, and a file cache each.

``SourceStore(directory, max_bytes, engine)``: ``put`` checks the body against the digest it
is stored under and against the size limit (``FlowsApp.max_source_bytes``) and stores it in
the ``source_bundle`` table (so that every server of the database serves what one of them
was sent) and as ``<digest>.tar.gz`` under ``directory``; ``read`` gives a bundle back (the
file, else the row, then cached as the file); ``unpacked`` the per-digest directory its
files are unpacked into (safely: ``execution.source_bundle.unpack``). Without an engine
(tests, a store of one process) bundles are the files only.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..exceptions import NotFound, TooLarge
from ..execution.source_bundle import BundleError, digest, unpack, verify

__all__ = [
    "SourceStore",
    "SourceTooLarge",
    "StoredSource",
    "check_digest",
    "DEFAULT_MAX_SOURCE_BYTES",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_SOURCE_BYTES = 50 * 1024 * 1024
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class SourceTooLarge(BundleError, TooLarge):
    """A bundle over the server's limit (the API answers 413)."""


@dataclass(frozen=True)
class StoredSource:
    digest: str
    size: int
    created: bool  # False: the same bundle was stored before


def check_digest(value: str) -> str:
    if not _DIGEST.match(value):
        raise ValueError(f"digest: {value[:80]!r} is not a sha256 (64 lowercase hex digits)")
    return value


class SourceStore:
    """Bundles under ``directory`` as ``<digest>.tar.gz``, unpacked under ``unpacked/``."""

    def __init__(
        self, directory: Path, max_bytes: int = DEFAULT_MAX_SOURCE_BYTES, engine: Any = None
    ):
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.engine = engine

    def _file(self, value: str) -> Path:
        return self.directory / f"{check_digest(value)}.tar.gz"

    def put(self, value: str, data: bytes) -> StoredSource:
        """Store ``data`` as bundle ``value``; ``BundleError`` if it is not that bundle."""
        path = self._file(value)
        if len(data) > self.max_bytes:
            raise SourceTooLarge(
                f"body: the source bundle is {len(data)} bytes, more than "
                f"{self.max_bytes} (FlowsApp.max_source_bytes)"
            )
        actual = digest(data)
        if actual != value:
            raise BundleError(f"digest: {value} is not the sha256 of the body ({actual})")
        if path.is_file() and self._row_exists(value):
            return StoredSource(value, len(data), created=False)
        try:
            verify(data)  # an entry with '..', an absolute path, a link outside: refused
        except BundleError as exc:
            raise BundleError(f"body: {exc}") from None
        created = self._insert_row(value, data)
        self._write_file(path, data)
        if created:
            logger.info("stored source bundle %s (%d bytes)", value, len(data))
        return StoredSource(value, len(data), created=created)

    def _row_exists(self, value: str) -> bool:
        if self.engine is None:
            return True
        from ._tables import SOURCE_BUNDLE

        with self.engine.connect() as conn:
            query = select(SOURCE_BUNDLE.c.digest).where(SOURCE_BUNDLE.c.digest == value)
            return conn.execute(query).first() is not None

    def _insert_row(self, value: str, data: bytes) -> bool:
        """Store the bundle's row; False if it was there (from this or another server)."""
        if self.engine is None:
            return not self._file(value).is_file()
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        from ._tables import SOURCE_BUNDLE, now

        with self.engine.begin() as conn:
            insert_of = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            row = {"digest": value, "size": len(data), "content": data, "created": now()}
            statement = (
                insert_of(SOURCE_BUNDLE)
                .values(row)
                .on_conflict_do_nothing(index_elements=["digest"])
                .returning(SOURCE_BUNDLE.c.digest)
            )
            return conn.execute(statement).first() is not None

    def _write_file(self, path: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, value: str) -> bytes:
        path = self._file(value)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        data = self._read_row(value)
        if data is None:
            raise NotFound(f"no source bundle {value}")
        self._write_file(path, data)  # cached: another server was sent it
        return data

    def _read_row(self, value: str) -> bytes | None:
        if self.engine is None:
            return None
        from ._tables import SOURCE_BUNDLE

        with self.engine.connect() as conn:
            query = select(SOURCE_BUNDLE.c.content).where(SOURCE_BUNDLE.c.digest == value)
            found = conn.execute(query).scalar()
        return None if found is None else bytes(found)

    def exists(self, value: str) -> bool:
        return self._file(value).is_file() or (self.engine is not None and self._row_exists(value))

    def unpacked(self, value: str) -> Path:
        """The directory of bundle ``value``'s files (unpacked on first use)."""
        dest = self.directory / "unpacked" / check_digest(value)
        if dest.is_dir():
            return dest
        return unpack(self.read(value), dest)
