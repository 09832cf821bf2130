"""A worker's local copies of deployments' source bundles: fetched once per digest.

``SourceCache(directory, fetch).path(digest)`` is the folder a bundle's files are in
(``directory/<digest>``): the first call fetches the bundle (``fetch(digest)``: the
worker's client, or a run process's), checks its sha256 and unpacks it safely
(``execution.source_bundle.unpack``: into a temporary folder renamed into place), so runs
of the same digest, in this process or others, share one folder and never see half of it.
``holds(root, unpacked, digest)`` says whether a folder has a bundle's files byte for byte
(a worker whose root has the deployed files runs there, beside the files next to them).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ..execution.source_bundle import BundleError, digest, pack, unpack, unpacked_files

__all__ = ["SourceCache", "default_cache_dir", "holds"]

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``<jupyter-flows data dir>/source-cache``."""
    from ..core.settings import data_dir

    return data_dir() / "source-cache"


class SourceCache:
    """Unpacked source bundles under ``directory``, fetched with ``fetch`` when missing."""

    def __init__(self, directory: Path, fetch: Callable[[str], bytes]):
        self.directory = Path(directory)
        self.fetch = fetch
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, value: str) -> Path:
        """The folder of bundle ``value``'s files (fetched and unpacked on first use)."""
        if len(value) != 64 or not all(c in "0123456789abcdef" for c in value):
            raise BundleError(f"source_digest {value[:80]!r} is not a sha256")
        dest = self.directory / value
        if dest.is_dir():
            return dest
        with self._guard:
            lock = self._locks.setdefault(value, threading.Lock())
        with lock:  # one fetch per digest in this process; others race on the rename
            if dest.is_dir():
                return dest
            data = self.fetch(value)
            if digest(data) != value:
                raise BundleError(f"the source bundle fetched for {value} is another one")
            unpack(data, dest)
            logger.info("source bundle %s unpacked into %s", value, dest)
        return dest


def holds(root: Path, unpacked: Path, value: str) -> bool:
    """True if ``root`` has the files of bundle ``value`` (unpacked in ``unpacked``) at the
    same paths and byte for byte the same (what a worker on the machine the deployment was
    made from sees): runs may then start in ``root``, with the files beside them."""
    try:
        members = unpacked_files(unpacked)
        if not members or not all((root / member).is_file() for member in members):
            return False
        return digest(pack(root, members)) == value
    except (OSError, BundleError):
        return False
