"""Alembic environment: run on the connection handed over by ``store.migrate`` (online only)."""

from __future__ import annotations

import logging

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from jupyter_flows.store import models  # noqa: F401  (registers the tables)
from jupyter_flows.store.db import create_db_engine

logger = logging.getLogger(__name__)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set config.attributes['connection'] or the sqlalchemy.url option")
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("jupyter-flows migrations run online only")
run_migrations_online()
