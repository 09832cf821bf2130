"""DaskTaskRunner against a real dask.distributed LocalCluster (two worker processes)."""

from __future__ import annotations

import os

import pytest

from jupyter_flows import flow, get_run_logger, read_flow_run, task
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


@task(log_prints=True)
def chatty(x: int) -> int:
    log = get_run_logger()
    log.info("on a Dask worker: %d", x)
    print(f"printed on Dask: {x}")
    log.warning("careful with %d", x)
    return os.getpid()


@task
def prints(x: int) -> int:
    print(f"inherited log_prints {x}")
    return os.getpid()


class StockError(ValueError):
    pass


@task
def out_of_stock(sku: str) -> None:
    raise StockError(f"no {sku}")


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

    def test_task_logs_and_prints_on_workers_reach_the_run_logs(self) -> None:
        @flow(task_runner=DaskTaskRunner(cluster_kwargs=CLUSTER))
        def talk() -> list[int]:
            return [f.result() for f in chatty.map([1, 2])]

        state = talk(return_state=True)
        assert os.getpid() not in set(state.result())
        run = read_flow_run(state.run_id)
        assert len(run.task_runs) == 2
        for task_run in run.task_runs:
            x = task_run.dynamic_key + 1
            logs = [log for log in run.logs if log.task_run_id == task_run.id]
            assert [(log.level, log.message) for log in logs] == [
                (20, f"on a Dask worker: {x}"),
                (20, f"printed on Dask: {x}"),
                (30, f"careful with {x}"),
            ]
            assert {log.logger for log in logs} == {"jupyter_flows.task_runs"}
            assert {log.flow_run_id for log in logs} == {run.id}

    def test_flow_log_prints_reach_workers_and_exception_types_are_kept(self) -> None:
        @flow(task_runner=DaskTaskRunner(cluster_kwargs=CLUSTER), log_prints=True)
        def shop() -> int:
            out_of_stock.submit("A-1").wait()
            return prints(7)

        state = shop(return_state=True)
        assert state.result() != os.getpid()
        run = read_flow_run(state.run_id)
        by_name = {t.task_name: t for t in run.task_runs}
        printed = [log.message for log in run.logs if log.task_run_id == by_name["prints"].id]
        assert printed == ["inherited log_prints 7"]
        assert by_name["out_of_stock"].state_name == "Failed"
        assert by_name["out_of_stock"].state_message == "StockError: no A-1"

        @flow(task_runner=DaskTaskRunner(cluster_kwargs=CLUSTER))
        def shop_raises() -> None:
            out_of_stock("B-2")

        with pytest.raises(StockError, match="no B-2"):
            shop_raises()
