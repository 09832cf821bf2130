"""Several processes on one SQLite file: concurrent writers, and a writer killed with -9."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from jupyter_flows.store import RunStore

WRITER = str(Path(__file__).with_name("_writer_process.py"))


def _writer(
    url: str, n_tasks: int, label: str, flush_every: int, *wait: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WRITER, url, str(n_tasks), label, str(flush_every), *wait],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class TestProcesses:
    def test_two_writers_on_a_new_sqlite_file(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'shared.sqlite'}"  # created by the writers themselves
        writers = [_writer(url, 2000, label, 50, "--wait") for label in ("first", "second")]
        for writer in writers:  # both opened (and one migrated) the new file: start together
            assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        for writer in writers:
            out, err = writer.communicate(timeout=120)
            assert writer.returncode == 0, err
            assert out.splitlines()[-1] == "done"
            assert out.count("flushed") == 40
            assert "locked" not in err

        store = RunStore.from_url(url)
        try:
            page = store.read_flow_runs()
            assert sorted(r.flow_name for r in page.items) == ["first", "second"]
            for run in page.items:
                assert run.state_name == "Completed"
                tasks = store.read_task_runs(run.id)
                assert len(tasks) == 2000
                assert {t.state_name for t in tasks} == {"Completed"}
                assert {t.name for t in tasks} == {f"{run.flow_name}-{i}" for i in range(1, 2001)}
        finally:
            store.engine.dispose()
        with sqlite3.connect(tmp_path / "shared.sqlite") as conn:
            assert conn.execute("SELECT count(*) FROM run_state").fetchone()[0] == 2 * (6000 + 2)

    def test_kill_9_keeps_everything_flushed(self, tmp_path: Path) -> None:
        path = tmp_path / "crash.sqlite"
        writer = _writer(f"sqlite:///{path}", 10**7, "victim", 100)
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n"
        flushed = 0
        for line in writer.stdout:
            flushed = int(line.split()[1])
            if flushed >= 3000:
                break
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=30)
        assert writer.returncode == -signal.SIGKILL
        assert flushed >= 3000

        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            names = {row[0] for row in conn.execute("SELECT name FROM task_run")}
            assert {f"victim-{i}" for i in range(1, flushed + 1)} <= names
            completed = conn.execute(
                "SELECT count(*) FROM task_run WHERE state_name = 'Completed'"
            ).fetchone()[0]
            assert completed >= flushed

    def test_records_are_flushed_at_exit(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'exit.sqlite'}"
        code = (
            "from datetime import datetime, timezone\n"
            "from jupyter_flows.core.records import FlowRunInfo\n"
            "from jupyter_flows.store import SqlRecorder\n"
            f"recorder = SqlRecorder.from_url({url!r}, flush_interval=60)\n"
            "now = datetime.now(timezone.utc)\n"
            "recorder.flow_run_created(FlowRunInfo('a' * 32, 'r', 'f', None, None, [], {}, now))\n"
        )
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        store = RunStore.from_url(url)
        try:
            assert [r.id for r in store.read_flow_runs().items] == ["a" * 32]
        finally:
            store.engine.dispose()
