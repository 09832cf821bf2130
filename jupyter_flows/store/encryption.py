"""The key that encrypts block documents at rest, and Fernet encryption with it.

The key is a file, never a row of the database it protects: a copy of the database (a
backup, a dump of PostgreSQL) holds ciphertext only. Where it is:

1. the path given explicitly (``FlowsApp.secrets_key_file``, which the server also exports
   to the kernels and workers it starts),
2. else ``$JUPYTER_FLOWS_SECRETS_KEY_FILE``,
3. else ``<data dir>/secrets.key`` (``core.settings.data_dir``: ``$JUPYTER_FLOWS_HOME`` or
   ``<jupyter data dir>/jupyter_flows``).

It is made on first use (mode 0600, 32 random bytes as a Fernet key), atomically, so
processes starting together agree on one key. Each document records the key's
``fingerprint`` (a hash of the key: it reveals nothing of it), so a wrong or lost key is a
``SecretsKeyError`` naming the file, never garbage. ``cryptography`` is imported on first
use only.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.run_environment import RunEnvironment
from ..core.settings import data_dir
from ..exceptions import SecretsKeyError

__all__ = ["KEY_FILE_NAME", "key_file", "SecretsKey", "load_key"]

logger = logging.getLogger(__name__)

KEY_FILE_NAME = "secrets.key"


def key_file(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Where the key is: ``explicit``, else ``$JUPYTER_FLOWS_SECRETS_KEY_FILE``, else
    ``<data dir>/secrets.key``."""
    chosen = explicit or RunEnvironment.current().secrets_key_file
    return Path(chosen).expanduser() if chosen else data_dir() / KEY_FILE_NAME


@dataclass(frozen=True)
class SecretsKey:
    """A Fernet key read from ``path``."""

    path: Path
    key: bytes

    @property
    def fingerprint(self) -> str:
        """16 hex digits naming the key (what documents record)."""
        return hashlib.sha256(b"jupyter-flows block key\0" + self.key).hexdigest()[:16]

    def _fernet(self) -> Any:
        from cryptography.fernet import Fernet

        return Fernet(self.key)

    def encrypt(self, plaintext: bytes) -> str:
        return str(self._fernet().encrypt(plaintext).decode("ascii"))

    def decrypt(self, token: str, fingerprint: str, what: str) -> bytes:
        """The plaintext of ``token`` (``what`` names the document in errors)."""
        from cryptography.fernet import InvalidToken

        if fingerprint != self.fingerprint:
            raise SecretsKeyError(
                f"{what} was encrypted with key {fingerprint}, but the key file {self.path} "
                f"holds key {self.fingerprint}: restore the key file it was saved with "
                "(FlowsApp.secrets_key_file / JUPYTER_FLOWS_SECRETS_KEY_FILE); without it "
                "the document cannot be read (delete it and save it again)",
                str(self.path),
            )
        try:
            return bytes(self._fernet().decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError):
            raise SecretsKeyError(
                f"{what} does not decrypt with the key in {self.path} although it names "
                "that key: the stored document is damaged (delete it and save it again)",
                str(self.path),
            ) from None


def _read(path: Path) -> SecretsKey:
    try:
        mode = path.stat().st_mode
        raw = path.read_bytes().strip()
    except OSError as exc:
        raise SecretsKeyError(
            f"cannot read the secrets key file {path}: {exc.strerror or exc}", str(path)
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("the secrets key file %s is readable by others: chmod 600 it", path)
    from cryptography.fernet import Fernet

    try:
        Fernet(raw)
    except ValueError:
        raise SecretsKeyError(
            f"the secrets key file {path} does not hold a key (32 url-safe base64-encoded "
            "bytes): restore it, or point FlowsApp.secrets_key_file / "
            "JUPYTER_FLOWS_SECRETS_KEY_FILE at the right file",
            str(path),
        ) from None
    return SecretsKey(path, raw)


def _create(path: Path) -> None:
    """Write a new key to ``path`` unless a file is there (atomic: link, never overwrite)."""
    from cryptography.fernet import Fernet

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secrets-", suffix=".tmp")
    except OSError as exc:
        raise SecretsKeyError(
            f"cannot create the secrets key file {path}: {exc.strerror or exc}", str(path)
        ) from None
    try:
        os.chmod(tmp, 0o600)  # (mkstemp does too; say it)
        with os.fdopen(fd, "wb") as out:
            out.write(Fernet.generate_key() + b"\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # fails if another process made it first: theirs wins
            logger.info("created the secrets key file %s", path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def load_key(path: Path, create: bool) -> SecretsKey:
    """The key in ``path``; with ``create``, made first if there is no file.

    Raises ``SecretsKeyError`` naming the file: missing (without ``create``), unreadable, or
    not a key.
    """
    if not path.exists():
        if not create:
            raise SecretsKeyError(
                f"the secrets key file {path} does not exist, so the block documents saved "
                "with it cannot be decrypted (was it lost, or is this process looking in the "
                "wrong place? set FlowsApp.secrets_key_file / JUPYTER_FLOWS_SECRETS_KEY_FILE)",
                str(path),
            )
        _create(path)
    return _read(path)
