"""DaskTaskRunner against a real dask.distributed LocalCluster (two worker processes)."""

from __future__ import annotations

import os

import pytest

from jupyter_flows import flow, read_flow_run, task
from jupyter_flows.execution.dask_runner import DaskTaskRunner

CLUSTER = {"n_workers": 2, "threads_per_worker": 1, "processes": True}


@task
def where(x: int) -> tuple[int, int]:
    return os.getpid(), x * 2


@task(retries=1)
def fails_once(marker: str) -> str:
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first attempt fails")
    return "ok"


@task(timeout_seconds=0.5)
def sleeps() -> None:
    import time

    time.sleep(30)


class TestDaskTaskRunner:
    def test_tasks_run_on_cluster_processes_and_are_recorded(self) -> None:
        @flow(task_runner=DaskTaskRunner(cluster_kwargs=CLUSTER))
        def fan_out() -> list[tuple[int, int]]:
            return [f.result() for f in where.map(range(6))]

        state = fan_out(return_state=True)
        results = state.result()
        assert [value for _pid, value in results] == [0, 2, 4, 6, 8, 10]
        pids = {pid for pid, _ in results}
        assert os.getpid() not in pids  # bodies ran in the cluster's worker processes
        run = read_flow_run(state.run_id)
        assert run.state_name == "Completed"
        assert len(run.task_runs) == 6
        assert {t.state_name for t in run.task_runs} == {"Completed"}

    def test_retries_and_timeouts_are_enforced_locally(self, tmp_path: object) -> None:
        marker = os.path.join(str(tmp_path), "marker")

        @flow(task_runner=DaskTaskRunner(cluster_kwargs=CLUSTER))
        def flaky() -> tuple[str, str]:
            first = fails_once.submit(marker)
            slow = sleeps.submit()
            return first.result(), slow.state.name if slow.wait() else "?"

        state = flaky(return_state=True)
        value, slow_state = state.result()
        assert value == "ok"
        assert slow_state == "TimedOut"
        run = read_flow_run(state.run_id)
        by_name = {t.task_name: t for t in run.task_runs}
        assert by_name["fails_once"].run_count == 2
        assert by_name["sleeps"].state_name == "TimedOut"

    def test_existing_cluster_by_address(self) -> None:
        from distributed import LocalCluster

        with LocalCluster(
            n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster:

            @flow(task_runner=DaskTaskRunner(address=cluster.scheduler_address))
            def one() -> int:
                return where(21)[1]

            assert one() == 42

    def test_missing_dask_gives_a_clear_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import sys

        monkeypatch.setitem(sys.modules, "distributed", None)
        with pytest.raises(ImportError, match=r"jupyter-flows\[dask\]"):
            DaskTaskRunner()
