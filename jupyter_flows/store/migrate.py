"""Schema migrations (alembic), driven from code, serialized across processes.

Opening a database that is already at ``HEAD`` costs one query and never imports alembic.
Otherwise the upgrade runs in one transaction that holds a lock (SQLite: the write lock of
``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so processes opening a new database at
the same time wait for each other instead of failing; the later ones find it at head.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from jupyter_flows.exceptions import StoreError

from .db import READ_ONLY, mask_url, store_error

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["HEAD", "MIGRATIONS_DIR", "alembic_config", "current_revision", "upgrade"]

logger = logging.getLogger(__name__)

#: The newest revision in ``migrations/versions`` (a test checks they agree).
HEAD = "0023"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

_VERSION_TABLE = "alembic_version"
_PG_LOCK_KEY = 0x6A_66_6C_77  # "jflw": the advisory lock that serializes migrations


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic ``Config`` for the migrations (no ``alembic.ini``); imports alembic."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _revision(conn: Connection) -> str | None:
    if not conn.dialect.has_table(conn, _VERSION_TABLE):
        return None
    value = conn.exec_driver_sql(f"SELECT version_num FROM {_VERSION_TABLE}").scalar()
    return None if value is None else str(value)


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database (``None`` for an empty one)."""
    with engine.connect().execution_options(**READ_ONLY) as conn:
        return _revision(conn)


def upgrade(engine: Engine) -> None:
    """Bring the database of ``engine`` to ``HEAD`` in place; raises ``StoreError``."""
    try:
        revision = current_revision(engine)
        if revision == HEAD:
            return
        _upgrade_locked(engine)
    except sa_exc.SQLAlchemyError as e:
        raise store_error("cannot open the run database", engine.url, e) from None


def _upgrade_locked(engine: Engine) -> None:
    from alembic import command
    from alembic.util import CommandError

    with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, i.e. wait for the write lock
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})")
        revision = _revision(conn)
        if revision == HEAD:
            return
        logger.info("migrating %s from %s to %s", mask_url(engine.url), revision, HEAD)
        try:
            command.upgrade(alembic_config(conn), "head")
        except CommandError as e:
            raise StoreError(
                f"cannot migrate the run database {mask_url(engine.url)} "
                f"(at revision {revision}, this jupyter-flows knows up to {HEAD}): {e}"
            ) from None
