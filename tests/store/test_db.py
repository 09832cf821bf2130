"""Opening the run database: URLs, migrations, and clear errors for unusable databases."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from jupyter_flows.exceptions import StoreError
from jupyter_flows.store import (
    HEAD,
    RunStore,
    SqlRecorder,
    create_db_engine,
    current_revision,
    default_db_url,
    mask_url,
    open_store,
    upgrade,
)
from jupyter_flows.store.migrate import alembic_config
from jupyter_flows.store.models import TABLE_NAMES

from . import builders as b


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestUrls:
    def test_default_url_is_a_sqlite_file_in_the_data_dir(self, _isolated_data_dir: Path) -> None:
        url = default_db_url()
        assert url == f"sqlite:///{_isolated_data_dir / 'flows.sqlite'}"
        assert _isolated_data_dir.is_dir()

    def test_default_url_creates_the_data_dir(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        home = tmp_path / "a" / "b"
        monkeypatch.setenv("JUPYTER_FLOWS_HOME", str(home))
        assert default_db_url() == f"sqlite:///{home / 'flows.sqlite'}"
        assert home.is_dir()

    def test_env_var_wins(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", "postgresql+psycopg://u@h/db")
        assert default_db_url() == "postgresql+psycopg://u@h/db"

    def test_mask_url_hides_the_password(self) -> None:
        masked = mask_url("postgresql+psycopg://flows:s3cret@db.example:5432/flows")
        assert "s3cret" not in masked
        assert masked == "postgresql+psycopg://flows:***@db.example:5432/flows"

    def test_sqlite_engine_settings(self, tmp_path: Path) -> None:
        engine = create_db_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
        try:
            with engine.connect() as conn:
                pragma = conn.exec_driver_sql
                assert pragma("PRAGMA journal_mode").scalar() == "wal"
                assert pragma("PRAGMA busy_timeout").scalar() == 30000
                assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
                assert pragma("PRAGMA foreign_keys").scalar() == 1
        finally:
            engine.dispose()

    def test_postgresql_scheme_uses_psycopg(self) -> None:
        engine = create_db_engine("postgresql://u@127.0.0.1:1/db")
        assert engine.url.drivername == "postgresql+psycopg"
        engine.dispose()

    def test_in_memory_database(self) -> None:
        engine = open_store("sqlite://")
        try:
            recorder = SqlRecorder(engine, flush_interval=60)
            recorder.flow_run_created(b.flow_run())
            recorder.close()
            assert RunStore(engine).read_flow_runs().total == 1
        finally:
            engine.dispose()


class TestMigrations:
    def test_open_store_migrates_to_head(self, db_url: str) -> None:
        engine = open_store(db_url)
        try:
            assert current_revision(engine) == HEAD
            upgrade(engine)  # idempotent
            assert current_revision(engine) == HEAD
        finally:
            engine.dispose()

    def test_migrations_create_exactly_the_model_tables(self, db_url: str) -> None:
        engine = open_store(db_url)
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                assert compare_metadata(context, SQLModel.metadata) == []
                tables = set(engine.dialect.get_table_names(conn))
            assert tables == {*TABLE_NAMES, "alembic_version"}
        finally:
            engine.dispose()

    def test_0004_moves_the_output_path_out_of_the_state_message(self, db_url: str) -> None:
        from alembic import command

        engine = create_db_engine(db_url)
        try:
            with engine.begin() as conn:
                command.upgrade(alembic_config(conn), "0003")
                for run_id, message in (("a", "output: /out/a/nb.ipynb"), ("b", "all good")):
                    conn.exec_driver_sql(
                        "INSERT INTO flow_run (id, name, flow_name, parameters, tags, created,"
                        " run_count, total_run_time, state_message) VALUES"
                        f" ('{run_id}', 'r', 'f', '{{}}', '[]', CURRENT_TIMESTAMP, 0, 0,"
                        f" '{message}')"
                    )
            upgrade(engine)
            with engine.connect() as conn:
                rows = conn.exec_driver_sql(
                    "SELECT id, output_path FROM flow_run ORDER BY id"
                ).fetchall()
            assert [tuple(r) for r in rows] == [("a", "/out/a/nb.ipynb"), ("b", None)]
        finally:
            engine.dispose()

    def test_head_constant_is_the_newest_revision(self) -> None:
        assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD

    def test_opening_a_database_at_head_does_not_import_alembic(self, db_url: str) -> None:
        open_store(db_url).dispose()
        code = (
            "import sys\n"
            "from jupyter_flows.store import open_store\n"
            f"open_store({db_url!r}).dispose()\n"
            "print('alembic' in sys.modules)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "False"

    def test_concurrent_first_opens_all_succeed(self, db_url: str) -> None:
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def open_once() -> None:
            start.wait()
            try:
                open_store(db_url).dispose()
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=open_once) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        engine = create_db_engine(db_url)
        assert current_revision(engine) == HEAD
        engine.dispose()

    def test_database_from_a_newer_version_is_refused(self, db_url: str) -> None:
        engine = open_store(db_url)
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
        engine.dispose()
        with pytest.raises(StoreError, match="9999"):
            open_store(db_url)


class TestOpenErrors:
    def test_unreachable_postgres(self) -> None:
        url = f"postgresql+psycopg://flows:s3cret@127.0.0.1:{_free_port()}/flows"
        with pytest.raises(StoreError) as info:
            open_store(url)
        message = str(info.value)
        assert mask_url(url) in message
        assert "s3cret" not in message
        assert "\n" not in message
        assert "refused" in message.lower() or "failed" in message.lower()

    def test_directory_that_cannot_be_created(self) -> None:
        # Fails as root too: nothing can be created under /proc.
        url = "sqlite:////proc/jupyter-flows-missing/flows.sqlite"
        with pytest.raises(StoreError, match="/proc/jupyter-flows-missing"):
            open_store(url)

    def test_read_only_database_that_needs_a_migration(self, tmp_path: Path) -> None:
        path = tmp_path / "empty.sqlite"
        path.touch()
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
        with pytest.raises(StoreError) as info:
            open_store(url)
        assert "empty.sqlite" in str(info.value)
        assert "readonly" in str(info.value) or "read-only" in str(info.value)

    def test_read_only_database_at_head_reads_but_refuses_writes(self, tmp_path: Path) -> None:
        path = tmp_path / "flows.sqlite"
        SqlRecorder.from_url(f"sqlite:///{path}").close()
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
        engine = open_store(url)
        try:
            assert RunStore(engine).read_flow_runs().total == 0
            recorder = SqlRecorder(engine)
            recorder.flow_run_created(b.flow_run())
            with pytest.raises(StoreError, match="readonly") as info:
                recorder.flush()
            assert "flows.sqlite" in str(info.value)
            assert recorder._batcher.pending > 0  # kept for a retry
            recorder._batcher.reset()
            recorder.close()
        finally:
            engine.dispose()

    def test_file_that_is_not_a_database(self, tmp_path: Path) -> None:
        path = tmp_path / "notes.txt"
        path.write_text("these are not the tables you are looking for\n" * 200)
        with pytest.raises(StoreError, match="not a database") as info:
            open_store(f"sqlite:///{path}")
        assert "notes.txt" in str(info.value)

    def test_directory_instead_of_a_file(self, tmp_path: Path) -> None:
        with pytest.raises(StoreError, match="unable to open"):
            open_store(f"sqlite:///{tmp_path}")

    @pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
    def test_unsupported_or_invalid_url(self, url: str) -> None:
        with pytest.raises(StoreError):
            create_db_engine(url)
