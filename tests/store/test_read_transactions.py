"""On SQLite, reads never take the write lock: a long read open in one thread never makes a
writer (another process) fail with "database is locked", and reads go on while a writer
holds the lock. Explicit write transactions still take it up front (``BEGIN IMMEDIATE``).

Each writer is a separate process using the stdlib ``sqlite3`` with a short busy timeout,
so a read holding the write lock shows up as its "database is locked" error.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from jupyter_flows.orchestration.schemas import ListDeploymentsQuery
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store import RunStore, open_store
from jupyter_flows.store.db import READ_ONLY
from jupyter_flows.store.models import FlowRecord
from tests.server.big_run import insert_big_run

#: inserts one flow row with a 0.5 s busy timeout; prints "ok" or the error
WRITE_ONE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=0.5, isolation_level=None)
try:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO flow (id, name, created) VALUES (?, ?, '2026-01-01 00:00:00')",
                 (sys.argv[2], sys.argv[2]))
    conn.execute("COMMIT")
    print("ok")
except sqlite3.OperationalError as e:
    print(e)
"""

#: takes the write lock, says "locked", holds it until a line on stdin, then commits
HOLD_LOCK = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=5, isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO flow (id, name, created) VALUES ('held', 'held', '2026-01-01')")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
print("committed", flush=True)
"""

FLOW = FlowRecord.__table__  # type: ignore[attr-defined]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "flows.sqlite"


@pytest.fixture
def engine(path: Path) -> Iterator[Engine]:
    engine = open_store(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def write_from_another_process(path: Path, name: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", WRITE_ONE, str(path), name],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip()


class TestLongReads:
    """A read transaction held open in another thread while a process writes."""

    def hold(self, engine: Engine, how: str, path: Path) -> str:
        """Open a read the way ``how`` says, keep it open, write from another process."""
        started, release = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def reader() -> None:
            try:
                if how == "store":  # RunStore's own connection (READ_ONLY)
                    context = RunStore(engine)._connect()
                elif how == "read-only":
                    context = engine.connect().execution_options(**READ_ONLY)
                else:  # what orchestration reads do: connect() and SELECT
                    context = engine.connect()
                with context as conn:
                    conn.execute(select(FLOW)).all()  # the transaction begins here
                    started.set()
                    release.wait(60)
                    conn.execute(select(FLOW)).all()  # still the same open transaction
                    assert conn.in_transaction()
            except BaseException as e:  # noqa: BLE001 - reported by the test
                errors.append(e)
                started.set()

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            assert started.wait(60)
            outcome = write_from_another_process(path, f"writer-{how}")
        finally:
            release.set()
            thread.join(60)
        assert not errors, errors
        return outcome

    @pytest.mark.parametrize("how", ["implicit", "read-only", "store"])
    def test_a_writer_process_is_not_locked_out(self, engine: Engine, path: Path, how: str) -> None:
        assert self.hold(engine, how, path) == "ok"
        with engine.connect() as conn:
            names = set(conn.execute(select(FLOW.c.name)).scalars())
        assert f"writer-{how}" in names

    def test_a_text_select_is_a_read_too(self, engine: Engine, path: Path) -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM flow")).scalar()
            assert write_from_another_process(path, "after-text") == "ok"

    def test_an_explicit_transaction_takes_the_write_lock(self, engine: Engine, path: Path) -> None:
        """The control: what the tests above would see if reads took the lock."""
        with engine.begin() as conn:
            conn.execute(select(FLOW)).all()
            assert "database is locked" in write_from_another_process(path, "during-begin")
        with engine.connect() as conn:  # an implicit transaction that starts by writing
            conn.execute(FLOW.insert().values(id="w", name="w", created=datetime.now(timezone.utc)))
            assert "database is locked" in write_from_another_process(path, "during-insert")
            conn.commit()


class TestReadsWhileAWriterHoldsTheLock:
    """Another process holds the write lock: the reads of the server's services answer
    from the last committed state instead of waiting for it (30 s, then an error)."""

    @pytest.fixture
    def writer(self, engine: Engine, path: Path) -> Iterator[subprocess.Popen[str]]:
        with subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        ) as proc:  # fmt: skip
            assert proc.stdout is not None and proc.stdin is not None
            try:
                assert proc.stdout.readline().strip() == "locked"
                yield proc
            finally:
                if proc.poll() is None:
                    proc.stdin.write("\n")
                    proc.stdin.flush()
                proc.wait(timeout=60)

    def test_store_and_orchestration_reads(
        self, engine: Engine, path: Path, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        big = insert_big_run(engine, 300)
        service = OrchestrationService(engine, tmp_path, tmp_path / "outputs")
        writer: subprocess.Popen[str] = request.getfixturevalue("writer")
        store = RunStore(engine)
        assert store.read_flow_run_detail(big.id).task_run_total == 300
        assert store.read_task_run_page(big.id, limit=10).total == 300
        assert store.read_flow_runs().total == 1
        assert [p.name for p in service.list_work_pools()] == ["default"]
        assert service.list_deployments(ListDeploymentsQuery()).total == 0
        assert service.list_workers() == []
        assert service.list_automations().items == []
        assert writer.poll() is None  # the lock was held all along
        with engine.connect() as conn:  # not committed yet: not seen
            assert conn.execute(select(FLOW.c.id).where(FLOW.c.id == "held")).first() is None
        assert writer.stdin is not None and writer.stdout is not None
        writer.stdin.write("\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "committed"
