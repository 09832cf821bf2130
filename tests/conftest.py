"""Shared fixtures: run databases (a real PostgreSQL server and SQLite files).

``postgres_url`` starts a throwaway PostgreSQL server once per session (initdb + pg_ctl,
as the ``postgres`` user when running as root); ``db_url`` runs a test on SQLite and on
PostgreSQL, each time on a new, empty database.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)

PG_DB = "flows"


def _pg_bindir() -> Path | None:
    candidates = [os.environ.get("PGBIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    """Run as the ``postgres`` user when we are root (initdb refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def _run(args: list[str]) -> None:
    result = subprocess.run(_as_postgres(args), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql+psycopg://postgres@127.0.0.1:PORT/flows``: a server for the session."""
    bindir = _pg_bindir()
    if bindir is None:
        message = "PostgreSQL binaries (initdb, pg_ctl) not found; set PGBIN"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    workdir = Path(tempfile.mkdtemp(prefix="jupyter-flows-pg-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    data, port = workdir / "data", _free_port()
    _run(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        + ["-E", "UTF8", "--no-sync"]
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    pg_ctl = str(bindir / "pg_ctl")
    _run(
        [pg_ctl, "-D", str(data), "-l", str(workdir / "server.log"), "-o", options]
        + ["-w", "-t", "30", "start"]
    )
    try:
        _run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", PG_DB]
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{PG_DB}"
    finally:
        _run([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(workdir, ignore_errors=True)


def _admin(postgres_url: str, sql: str) -> None:
    import psycopg

    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)


def set_read_only(url: str, on: bool) -> None:
    """Make a PostgreSQL database read-only (a real fault: writes fail, reads go on), or
    writable again; its open connections are ended so the next ones see it."""
    base, name = url.rsplit("/", 1)
    admin = f"{base}/postgres"  # not the database itself: it refuses ALTER once read-only
    setting = "= on" if on else "TO DEFAULT"
    _admin(admin, f"ALTER DATABASE {name} SET default_transaction_read_only {setting}")
    _admin(
        admin,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        f" WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """A new, empty database on the session's PostgreSQL server (dropped afterwards)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    _admin(postgres_url, f"CREATE DATABASE {name}")
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _admin(postgres_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty run database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'flows.sqlite'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture(autouse=True)
def _isolated_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Keep every test's default run database out of the real Jupyter data dir."""
    home = tmp_path_factory.mktemp("flows-home")
    monkeypatch.setenv("JUPYTER_FLOWS_HOME", str(home))
    monkeypatch.delenv("JUPYTER_FLOWS_DB_URL", raising=False)
    from jupyter_flows.core import settings, task_engine

    settings.reset_recorder()  # the process recorder follows the new default database
    monkeypatch.setattr(task_engine, "_result_store", None)
    yield home
    settings.reset_recorder()
