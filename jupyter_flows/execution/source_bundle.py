"""A deployment's source as a content-addressed bundle: a deterministic ``.tar.gz``.

``pack(root, paths)`` makes the same bytes for the same files (sorted entries, mtime 0, no
owners, modes 0644/0755, gzip without a name or time), so its sha256 (``digest``) names
the source. ``unpack(data, dest)`` refuses an entry that would land outside ``dest``: an
absolute path, a ``..`` component, a link (symbolic or hard) whose target is outside, a
device or FIFO; it unpacks into a temporary directory next to ``dest`` and renames it, so
a refused bundle leaves nothing behind.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import os
import posixpath
import shutil
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..exceptions import FlowsError

__all__ = ["BundleError", "pack", "digest", "unpack", "unpacked_files", "verify", "SKIPPED"]

logger = logging.getLogger(__name__)

#: directory and file names never packed
SKIPPED = frozenset({"__pycache__", ".ipynb_checkpoints", ".git", ".jupyter-flows-outputs"})


class BundleError(FlowsError, ValueError):
    """A source bundle that cannot be packed or is unsafe to unpack (the entry named)."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(root: Path, paths: Iterable[str]) -> list[str]:
    """The relative POSIX paths of the files under ``paths`` (files or directories)."""
    out: set[str] = set()
    for rel in paths:
        path = root / rel
        if path.is_symlink():
            logger.warning("source bundle: skipping the symbolic link %s", path)
            continue
        if path.is_file():
            out.add(Path(rel).as_posix())
            continue
        if not path.is_dir():
            raise BundleError(f"source {rel!r} is not a file or directory under {root}")
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = [d for d in dirnames if d not in SKIPPED]
            for name in filenames:
                full = Path(dirpath) / name
                if name in SKIPPED or name.endswith(".pyc") or full.is_symlink():
                    continue
                out.add(full.relative_to(root).as_posix())
    return sorted(out)


def unpacked_files(folder: Path) -> list[str]:
    """The files of an unpacked bundle, as ``pack`` would list them (no caches, no ``.pyc``
    a run left there)."""
    return _files(folder, ["."])


def pack(root: Path, paths: Iterable[str]) -> bytes:
    """The bundle of ``paths`` (relative to ``root``), byte for byte the same each time."""
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for rel in _files(root, paths):
            path = root / rel
            info = tarfile.TarInfo(rel)
            info.size = path.stat().st_size
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as stream:
                tar.addfile(info, stream)
    return buffer.getvalue()


def _check(member: tarfile.TarInfo, dest: Path) -> None:
    """Refuse an entry that would write, or point, outside ``dest``."""
    name = member.name
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise BundleError(f"source bundle entry {name!r} is an absolute path")
    if ".." in name.replace("\\", "/").split("/"):
        raise BundleError(f"source bundle entry {name!r} has a '..' component")
    if not (member.isfile() or member.isdir() or member.issym()):
        raise BundleError(f"source bundle entry {name!r} is not a file, directory or link")
    if member.issym():
        target = member.linkname
        if target.startswith("/") or os.path.isabs(target):
            raise BundleError(f"source bundle link {name!r} points to an absolute path")
        inside = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if inside == ".." or inside.startswith("../"):
            raise BundleError(f"source bundle link {name!r} points outside the bundle")
    base = dest.resolve()
    where = (dest / name).resolve()  # (through links already unpacked)
    if where != base and base not in where.parents:
        raise BundleError(f"source bundle entry {name!r} lands outside the bundle")
    if member.issym():  # where it points, through links already unpacked
        points = ((dest / name).parent.resolve() / member.linkname).resolve()
        if points != base and base not in points.parents:
            raise BundleError(f"source bundle link {name!r} points outside the bundle")


def verify(data: bytes) -> int:
    """The number of entries of a bundle that ``unpack`` would take; ``BundleError`` if not.

    Checks every entry's name and link target without writing anything (a server checks an
    upload with it; ``unpack`` checks again, also through the links it unpacked).
    """
    dest = Path(tempfile.gettempdir()) / f".jupyter-flows-verify-{os.getpid()}-never-made"
    count = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                _check(member, dest)
                count += 1
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"source bundle cannot be read: {exc}") from None
    return count


def unpack(data: bytes, dest: Path) -> Path:
    """Unpack a bundle into ``dest`` (which must not exist yet); ``BundleError`` if unsafe.

    Nothing is written outside ``dest``; a refused or broken bundle leaves no ``dest``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                for member in tar:
                    _check(member, work)
                    tar.extract(member, work, filter="data")  # (checks again)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BundleError(f"source bundle cannot be unpacked: {exc}") from None
        try:
            work.rename(dest)
        except OSError:
            if not dest.is_dir():  # else: another process unpacked the same digest first
                raise
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest
