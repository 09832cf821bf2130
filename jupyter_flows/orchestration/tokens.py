"""Scoped credentials: a worker's token (one pool, one worker name) and a run's token (one
flow run), signed with a key the servers of a database share. Neither opens anything else.

``jf1.<claims>.<signature>``: the claims are URL-safe base64 JSON, the signature an
HMAC-SHA256 of them. A worker gets its token from an operator (``jupyter flows workers
token``); a run process gets its run's token from the server with the claim.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import exc as sa_exc
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from ._tables import SERVER_KEY

__all__ = ["Grant", "Tokens", "PREFIX", "claims_of"]

PREFIX = "jf1."
_KEY_NAME = "token-signing"


@dataclass(frozen=True)
class Grant:
    """What a scoped token allows: a worker (``pool``, ``worker``) or one flow run."""

    kind: Literal["worker", "run"]
    pool: str
    worker: str
    run_id: str | None = None

    @property
    def subject(self) -> str:
        """The name requests are logged under."""
        return f"run:{self.run_id}" if self.kind == "run" else f"worker:{self.pool}/{self.worker}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token: str) -> Grant | None:
    """What a token says it grants, unverified (a worker reads its own pool and name from
    it; only ``Tokens.verify`` makes it a credential)."""
    if not token.startswith(PREFIX):
        return None
    claims = token[len(PREFIX) :].partition(".")[0]
    try:
        values = json.loads(_unb64(claims))
        kind = values["k"]
        if kind == "worker":
            return Grant("worker", str(values["p"]), str(values["w"]))
        if kind == "run":
            return Grant("run", str(values["p"]), str(values["w"]), str(values["r"]))
    except (ValueError, KeyError, TypeError):
        return None
    return None


class Tokens:
    """Mints and verifies scoped tokens with the database's shared key."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._key: bytes | None = None

    def worker_token(self, pool: str, worker: str) -> str:
        return self._mint({"k": "worker", "p": pool, "w": worker})

    def run_token(self, run_id: str, pool: str, worker: str) -> str:
        return self._mint({"k": "run", "r": run_id, "p": pool, "w": worker})

    def verify(self, token: str) -> Grant | None:
        """The grant of a token this database's servers signed, else ``None``."""
        if not token.startswith(PREFIX):
            return None
        claims, _, signature = token[len(PREFIX) :].partition(".")
        try:
            if not hmac.compare_digest(_unb64(signature), self._sign(claims.encode())):
                return None
        except ValueError:  # not base64
            return None
        return claims_of(token)

    def _mint(self, claims: dict[str, str]) -> str:
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        return f"{PREFIX}{body}.{_b64(self._sign(body.encode()))}"

    def _sign(self, data: bytes) -> bytes:
        return hmac.new(self._signing_key(), data, hashlib.sha256).digest()

    def _signing_key(self) -> bytes:
        if self._key is None:
            self._key = _unb64(self._load_or_create())
        return self._key

    def _load_or_create(self) -> str:
        def read() -> str | None:
            with self.engine.connect() as conn:
                found = conn.execute(
                    select(SERVER_KEY.c.value).where(SERVER_KEY.c.name == _KEY_NAME)
                ).scalar()
            return None if found is None else str(found)

        found = read()
        if found is not None:
            return found
        try:  # the first server to need it makes it; the others read that one
            with self.engine.begin() as conn:
                conn.execute(
                    insert(SERVER_KEY).values(name=_KEY_NAME, value=_b64(secrets.token_bytes(32)))
                )
        except sa_exc.IntegrityError:
            pass
        found = read()
        assert found is not None
        return found
