"""Prefect's "Write transactions" page, through ``jupyter_flows.transactions``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jupyter_flows import flow, task
from jupyter_flows.cache_policies import INPUTS
from jupyter_flows.exceptions import ConfigurationError
from jupyter_flows.locking.filesystem import FileSystemLockManager
from jupyter_flows.locking.memory import MemoryLockManager
from jupyter_flows.results import ResultStore
from jupyter_flows.transactions import (
    CommitMode,
    IsolationLevel,
    TransactionState,
    get_transaction,
    transaction,
)


class TestHooks:
    def test_a_failure_rolls_back_the_completed_tasks_newest_first(self, recorder, tmp_path):
        events = []

        @task
        def write_file(name):
            (tmp_path / name).write_text("data")
            return name

        @write_file.on_rollback
        def delete_file(txn):
            events.append("rollback")
            (tmp_path / txn.get("name")).unlink()

        @task(on_commit=[lambda txn: events.append("commit")])
        def quality_test():
            raise ValueError("bad data")

        @flow
        def pipeline():
            with transaction() as txn:
                txn.set("name", "side-effect.txt")
                write_file("side-effect.txt")
                quality_test()

        with pytest.raises(ValueError, match="bad data"):
            pipeline()
        assert events == ["rollback"]
        assert not (tmp_path / "side-effect.txt").exists()

    def test_commit_hooks_run_when_the_block_ends(self, recorder):
        events = []

        @task
        def step(x):
            events.append(f"ran {x}")
            return x

        @step.on_commit
        def committed(txn):
            events.append("commit")

        @flow
        def pipeline():
            with transaction():
                step(1)
                assert events == ["ran 1"]  # not yet committed: the block is still open
                step(2)
            return events[:]

        assert pipeline() == ["ran 1", "ran 2", "commit", "commit"]

    def test_a_task_outside_any_block_commits_at_once(self, recorder):
        events = []

        @task(on_commit=[lambda txn: events.append(txn.state)])
        def step():
            return 1

        step()
        assert events == [TransactionState.STAGED]  # hooks run during the commit

    def test_results_are_written_at_commit_only(self, recorder, results_dir):
        @task(persist_result=True)
        def load(x):
            return x

        with pytest.raises(RuntimeError):
            with transaction():
                load(1)
                raise RuntimeError("abort")
        assert not list(results_dir.rglob("*")) or not any(
            p.is_file() for p in results_dir.rglob("*") if ".locks" not in p.parts
        )
        with transaction():
            load(1)
        assert any(p.is_file() for p in results_dir.rglob("*"))

    def test_eager_commit_mode_and_nested_values(self, recorder):
        with transaction(commit_mode=CommitMode.EAGER) as outer:
            outer.set("a", 1)
            with transaction() as inner:
                assert get_transaction() is inner
                assert inner.get("a") == 1  # values of enclosing transactions are visible
                assert inner.get("missing", "dflt") == "dflt"
            assert inner.is_committed()
        assert outer.is_committed()
        with pytest.raises(ValueError, match="no value 'x'"):
            with transaction() as txn:
                txn.get("x")


class TestIdempotency:
    def test_a_keyed_transaction_commits_once(self, recorder, tmp_path):
        runs = []

        @task
        def download():
            runs.append(1)
            return "data"

        def pipeline():
            with transaction(key="download-2024-01-01", store=tmp_path) as txn:
                if txn.is_committed():
                    return "skipped"
                download()
                txn.stage("done")
            return "ran"

        assert pipeline() == "ran"
        assert pipeline() == "skipped"
        assert runs == [1]

    def test_serializable_needs_a_key(self):
        with pytest.raises(ConfigurationError, match="needs a key"):
            with transaction(isolation_level=IsolationLevel.SERIALIZABLE):
                pass


COUNTER_SCRIPT = """
import json, sys, time
from pathlib import Path
from jupyter_flows import task
from jupyter_flows.cache_policies import INPUTS
from jupyter_flows.locking.{module} import {manager}

root = Path(sys.argv[1])
manager = {manager}({args})
policy = INPUTS.configure(
    key_storage=root / "cache", isolation_level="SERIALIZABLE", lock_manager=manager
)

@task(cache_policy=policy)
def expensive(x):
    log = root / "computed.log"
    with open(log, "a") as f:
        f.write("start\\n")
    time.sleep(0.3)
    with open(log, "a") as f:
        f.write("end\\n")
    return x * 2

print(json.dumps(expensive(21)))
"""


def _run_concurrently(script: str, root: Path, n: int = 4) -> list[str]:
    env = {**os.environ, "JUPYTER_FLOWS_RECORD": "0"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(root)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outs.append(out.strip().splitlines()[-1])
    return outs


class TestIsolation:
    def test_filesystem_locks_serialize_processes(self, tmp_path):
        """Four processes race on one key: one computes, the others read its record."""
        script = textwrap.dedent(COUNTER_SCRIPT).format(
            module="filesystem",
            manager="FileSystemLockManager",
            args="root / 'locks'",
        )
        assert _run_concurrently(script, tmp_path) == ["42"] * 4
        assert (tmp_path / "computed.log").read_text() == "start\nend\n"

    def test_database_locks_serialize_processes(self, tmp_path, db_url):
        script = textwrap.dedent(COUNTER_SCRIPT).format(
            module="database", manager="DatabaseLockManager", args=repr(db_url)
        )
        from jupyter_flows.store.api import run_store

        run_store(db_url)  # the database, migrated to the newest schema
        assert _run_concurrently(script, tmp_path) == ["42"] * 4
        assert (tmp_path / "computed.log").read_text() == "start\nend\n"

    def test_without_isolation_every_racer_computes(self, tmp_path):
        script = (
            textwrap.dedent(COUNTER_SCRIPT)
            .format(module="memory", manager="MemoryLockManager", args="")
            .replace('isolation_level="SERIALIZABLE", ', "")
        )
        assert _run_concurrently(script, tmp_path) == ["42"] * 4
        assert (tmp_path / "computed.log").read_text().count("start") > 1

    def test_memory_lock_manager_threads(self):
        import threading

        manager = MemoryLockManager()
        assert manager.acquire_lock("k", "a")
        assert not manager.acquire_lock("k", "b", acquire_timeout=0.05)
        released = threading.Timer(0.1, manager.release_lock, ("k", "a"))
        released.start()
        assert manager.acquire_lock("k", "b", acquire_timeout=5)
        assert manager.is_lock_holder("k", "b")
        with pytest.raises(ValueError, match="does not hold"):
            manager.release_lock("k", "a")
        manager.release_lock("k", "b")
        assert not manager.is_locked("k")
        assert manager.acquire_lock("e", "a", hold_timeout=0.01)
        assert manager.wait_for_lock("e", timeout=5)  # the hold expired
        assert manager.acquire_lock("e", "b")

    def test_a_dead_holders_file_lock_is_released(self, tmp_path):
        manager = FileSystemLockManager(tmp_path / "locks")
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, time\n"
                "from jupyter_flows.locking.filesystem import FileSystemLockManager\n"
                f"m = FileSystemLockManager({str(tmp_path / 'locks')!r})\n"
                "m.acquire_lock('k', 'x')\n"
                "print('locked', flush=True)\n"
                "time.sleep(60)\n",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout.readline().strip() == "locked"
        assert manager.is_locked("k")
        assert not manager.acquire_lock("k", "me", acquire_timeout=0.1)
        holder.kill()  # kill -9: the kernel drops its flock
        holder.wait()
        holder.stdout.close()
        assert manager.acquire_lock("k", "me", acquire_timeout=10)
        manager.release_lock("k", "me")


def test_a_result_store_has_a_lock_manager_by_default(tmp_path):
    store = ResultStore(tmp_path)
    assert isinstance(store.lock_manager, FileSystemLockManager)
    with transaction(key="k", store=store, isolation_level=IsolationLevel.SERIALIZABLE) as txn:
        assert store.lock_manager.is_locked("k")
        txn.stage(1)
    assert not store.lock_manager.is_locked("k")
    assert ResultStore(tmp_path).read("k") == (True, 1)
    assert INPUTS.configure(key_storage=tmp_path).key_storage.root == tmp_path
