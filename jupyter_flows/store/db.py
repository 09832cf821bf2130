"""Where the run database is and how to connect to it (SQLite or PostgreSQL).

SQLite is tuned so that several processes (two kernels, a script, the server) can write
one file: WAL journal, a 30 s busy timeout, ``synchronous=NORMAL``, and write transactions
that start with ``BEGIN IMMEDIATE`` (they take the write lock up front and wait for it,
instead of failing with "database is locked" when a read turns into a write).

Reads never take the write lock, so a long read never makes a writer wait or fail: a
connection with the ``READ_ONLY`` execution options, and a transaction SQLAlchemy begins by
itself for a ``SELECT`` (``with engine.connect() as conn: conn.execute(select(...))``), start
with a plain, deferred ``BEGIN``. Explicit transactions (``engine.begin()``,
``conn.begin()``) and implicit ones whose first statement writes start ``BEGIN IMMEDIATE``.
Write in an explicit transaction: an implicit one that starts with a read and then writes
may still meet "database is locked".
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from jupyter_flows.core.run_environment import RunEnvironment
from jupyter_flows.core.settings import data_dir
from jupyter_flows.exceptions import StoreError

from . import fork_gate

__all__ = [
    "DB_URL_ENV",
    "READ_ONLY",
    "default_db_url",
    "create_db_engine",
    "open_store",
    "mask_url",
    "store_error",
]

logger = logging.getLogger(__name__)

DB_URL_ENV = RunEnvironment.variable("db_url")

#: Execution options for read-only work: on SQLite a plain (deferred) ``BEGIN``, which
#: does not take the write lock.
READ_ONLY: dict[str, Any] = {"flows_read_only": True}

_BUSY_TIMEOUT_S = 30.0
_PG_CONNECT_TIMEOUT_S = 10
_CACHE_KIB = 64 * 1024  # page cache per connection (an upper bound): fewer re-reads of indexes
_PASSWORD_RE = re.compile(r"(://[^:/@]*:)[^@]*@")


def default_db_url() -> str:
    """The run database of this user: ``$JUPYTER_FLOWS_DB_URL``, else a SQLite file.

    The file is ``<data_dir()>/flows.sqlite``; its directory is created if missing.
    """
    url = RunEnvironment.current().db_url
    if url:
        return url
    directory = data_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot create the data directory {directory}: {e}") from None
    return f"sqlite:///{directory / 'flows.sqlite'}"


def mask_url(url: str | URL) -> str:
    """``url`` with its password hidden, for messages and logs."""
    try:
        parsed = make_url(url)
        if parsed.password is None and isinstance(url, str):
            return url  # as written (rendering would escape e.g. SQLite's "file:" URIs)
        return unquote(parsed.render_as_string(hide_password=True))
    except (sa_exc.ArgumentError, ValueError, TypeError):
        return _PASSWORD_RE.sub(r"\1***@", str(url))


def _cause(exc: BaseException) -> str:
    """A one-line description of a database error (the driver's message, no SQL, no links)."""
    cause: BaseException = exc
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        cause = exc.orig
    text = " ".join(str(cause).split()) or type(cause).__name__
    return text


def store_error(action: str, url: str | URL, exc: BaseException) -> StoreError:
    """``StoreError("<action> <masked url>: <cause>")``."""
    return StoreError(f"{action} {mask_url(url)}: {_cause(exc)}")


def database_unavailable(exc: BaseException) -> StoreError | None:
    """A ``StoreError`` if ``exc`` says the database is away (unreachable, restarting,
    read-only, locked, full), not that a request was wrong; else ``None``."""
    if isinstance(exc, sa_exc.TimeoutError):  # no connection free in the pool
        return StoreError(f"the run database is busy: {_cause(exc)}")
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.InternalError):
        return StoreError(f"the run database is unavailable: {_cause(exc)}")
    return None


def _on_sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy (the ``begin`` hook below) emit BEGIN instead of the sqlite3 module.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
        _set_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
    finally:
        cursor.close()


def _set_wal(cursor: Any) -> None:
    """Switch to WAL; retried, as SQLite fails it at once (no busy handler) while another
    connection creates the same new file."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    delay = 0.002
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


class _ImplicitRead(threading.local):
    """The connection whose next ``begin`` is SQLAlchemy's own, for a ``SELECT``."""

    conn: Connection | None = None


_implicit_read = _ImplicitRead()


_SELECT_TEXT = re.compile(r"\s*SELECT\b", re.IGNORECASE)


def _is_select(statement: Any) -> bool:
    """A ``select()`` (or union), or a ``text("SELECT ...")``."""
    if getattr(statement, "is_select", False):
        return True
    text = getattr(statement, "text", None)
    return isinstance(text, str) and _SELECT_TEXT.match(text) is not None


def _on_sqlite_before_execute(
    conn: Connection, statement: Any, multiparams: Any, params: Any, options: Any
) -> None:
    # fires before SQLAlchemy begins a transaction by itself ("autobegin"); an explicit
    # ``begin()`` has already begun one, so it never gets here with no transaction
    if not conn.in_transaction():
        _implicit_read.conn = conn if _is_select(statement) else None


def _on_sqlite_after_execute(conn: Connection, *args: Any) -> None:
    _implicit_read.conn = None


def _on_sqlite_error(context: Any) -> None:
    _implicit_read.conn = None


def _on_sqlite_begin(conn: Connection) -> None:
    implicit_read = _implicit_read.conn is conn
    _implicit_read.conn = None
    if implicit_read or conn.get_execution_options().get("flows_read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        fork_gate.write_begins(conn.connection.dbapi_connection)
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if in_memory:
        # One shared connection, or every pooled connection would see its own empty DB
        # (so: for tests and experiments, not for concurrent writers and readers).
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        if not url.query.get("uri") and not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise store_error("cannot create the directory of", url, e) from None
        kwargs.setdefault("connect_args", {"timeout": _BUSY_TIMEOUT_S})
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "before_execute", _on_sqlite_before_execute)
    event.listen(engine, "after_execute", _on_sqlite_after_execute)
    event.listen(engine, "handle_error", _on_sqlite_error)
    event.listen(engine, "begin", _on_sqlite_begin)
    if not in_memory:
        for pool_event in ("checkin", "close", "close_detached", "invalidate"):
            event.listen(engine, pool_event, fork_gate.write_ended)
    return engine


def create_db_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``).

    Does not connect. ``postgresql://`` URLs use psycopg 3. Extra ``kwargs`` go to
    ``sqlalchemy.create_engine``. Raises ``StoreError`` for an invalid or unsupported URL.
    """
    try:
        parsed = make_url(url)
    except (sa_exc.ArgumentError, ValueError) as e:
        raise StoreError(f"invalid database URL {mask_url(url)!r}: {_cause(e)}") from None
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed, **kwargs)
        if backend == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            kwargs.setdefault("pool_pre_ping", True)
            kwargs.setdefault("connect_args", {"connect_timeout": _PG_CONNECT_TIMEOUT_S})
            return create_engine(parsed, **kwargs)
    except (sa_exc.SQLAlchemyError, ImportError) as e:
        raise store_error("cannot use the database", parsed, e) from None
    raise StoreError(
        f"unsupported database URL {mask_url(parsed)}: use sqlite:///PATH or "
        "postgresql+psycopg://USER@HOST:PORT/DB"
    )


def open_store(url: str | URL | None = None) -> Engine:
    """An engine for ``url`` (default: ``default_db_url()``) with the schema at head.

    Raises ``StoreError`` naming the URL when the database cannot be reached, is read-only
    and needs a migration, or is not a database.
    """
    from .migrate import upgrade

    engine = create_db_engine(url if url is not None else default_db_url())
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine
