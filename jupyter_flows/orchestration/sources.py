"""Where a server keeps deployments' source bundles: files named by their digest.

``SourceStore(directory, max_bytes)``: ``put`` checks the body against the digest it is
stored under and against the size limit (``FlowsApp.max_source_bytes``), ``read`` gives a
bundle back, ``unpacked`` the per-digest directory its files are unpacked into (safely:
``execution.source_bundle.unpack``). Bundles are files, never database rows.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

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

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_SOURCE_BYTES):
        self.directory = Path(directory)
        self.max_bytes = max_bytes

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
        if path.is_file():
            return StoredSource(value, len(data), created=False)
        try:
            verify(data)  # an entry with '..', an absolute path, a link outside: refused
        except BundleError as exc:
            raise BundleError(f"body: {exc}") from None
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        logger.info("stored source bundle %s (%d bytes)", value, len(data))
        return StoredSource(value, len(data), created=True)

    def read(self, value: str) -> bytes:
        path = self._file(value)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no source bundle {value}") from None

    def exists(self, value: str) -> bool:
        return self._file(value).is_file()

    def unpacked(self, value: str) -> Path:
        """The directory of bundle ``value``'s files (unpacked on first use)."""
        dest = self.directory / "unpacked" / check_digest(value)
        if dest.is_dir():
            return dest
        return unpack(self.read(value), dest)
