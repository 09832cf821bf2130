"""End to end on several hosts (#12): each part in its own network namespace, on one bridge.

Hosts: PostgreSQL; jupyter servers A and B (our extension, the same database); a Dask
scheduler and two Dask workers; a ``jupyter flows worker`` of a ``dask`` pool (talks to A)
and a process-pool worker (talks to B), both with worker tokens and no database access;
and a client, which deploys with ``jupyter flows deploy`` through A and runs through B.
Everything talks TCP over the hosts' ``10.251.0.x`` addresses; the files are shared (one
file system), so the deployed directory is a temp dir of the test's. Each host's output is
in ``<its tmp dir>/multihost0/<host>.log`` (pytest keeps the last three runs' tmp dirs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.e2e.multihost import FINAL, Site, pg_bindir, start
from tests.e2e.netns import Network, unavailable
from tests.helpers import wait, write_notebook

FLOWS = """
import os
import time
from pathlib import Path

from jupyter_flows import flow, task


@task
def double(x: int) -> int:
    return 2 * x


@flow(log_prints=True)
def etl(n: int = 1) -> int:
    print("etl of", n)
    return double(double(n))


@flow(log_prints=True)
def blocker(marker: str) -> str:
    path = Path(marker)
    if path.exists():  # a later attempt: the first one was killed
        print("again after", path.read_text())
        return "again"
    path.write_text(str(os.getpid()))
    print("blocking in", os.getpid(), flush=True)
    time.sleep(600)  # until the test kills its Dask worker
    return "once"
"""


def _needs(reason: str | None) -> None:
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    _needs(unavailable())
    bindir = pg_bindir()
    _needs(None if bindir else "PostgreSQL binaries (initdb) not found")
    _needs(None if shutil.which("runuser") else "no `runuser` (util-linux) to run PostgreSQL")
    assert bindir is not None
    tmp = tmp_path_factory.mktemp("multihost")
    pgdir = Path(tempfile.mkdtemp(prefix="jupyter-flows-mh-pg-"))  # the postgres user's
    # the deployed directory: a temp dir of the test's, the same path on every host
    # (one file system). TODO(#12, branch upload): deploy with --upload and assert the
    # workers' hosts read the uploaded copy instead.
    project = tmp / "project"
    project.mkdir()
    (project / "flows.py").write_text(FLOWS)
    write_notebook(
        project / "cells.ipynb",
        "n = 2",
        "%load_ext jupyter_flows",
        "%%task load\nvalues = list(range(n))",
        "%%task total\nresult = sum(values)\nprint('total is', result)",
    )
    net = Network()
    try:
        yield start(net, tmp, project, pgdir, bindir)
    finally:
        net.close()
        shutil.rmtree(pgdir, ignore_errors=True)


def _deployment(site: Site, name: str) -> str:
    return str(site.get("b", f"deployments/{name}")["id"])


def _same_on_both(site: Site, run_id: str) -> dict[str, Any]:
    """The run, its task runs and its logs read through A and through B: the same."""
    seen = {
        server: (
            site.get(server, f"flow_runs/{run_id}"),
            site.get(server, f"flow_runs/{run_id}/task_runs?limit=500"),
            site.logs(server, run_id),
        )
        for server in ("a", "b")
    }
    assert seen["a"] == seen["b"]
    return dict(seen["a"][0])


def _history(site: Site, run_id: str) -> list[str]:
    """The state types of a flow run, in the order PostgreSQL holds them."""
    rows = site.sql(f"SELECT type FROM run_state WHERE run_id = '{run_id}' ORDER BY id")
    return [row[0] for row in rows]


def _exactly_once(site: Site, run_ids: list[str]) -> None:
    """In PostgreSQL itself: no record of these runs (or any run) is there twice."""
    ids = ", ".join(f"'{run_id}'" for run_id in run_ids)
    # none of these runs' task runs (no task retries here) went through a state twice
    assert (
        site.sql(
            "SELECT run_id, type, count(*) FROM run_state WHERE run_kind = 'task'"
            f" AND flow_run_id IN ({ids}) GROUP BY run_id, type HAVING count(*) > 1"
        )
        == []
    )
    assert (
        site.sql(
            "SELECT run_id, type, name, timestamp, message, count(*) FROM run_state"
            " GROUP BY run_id, type, name, timestamp, message HAVING count(*) > 1"
        )
        == []
    )
    assert (
        site.sql(
            "SELECT flow_run_id, task_key, dynamic_key, count(*) FROM task_run"
            " GROUP BY flow_run_id, task_key, dynamic_key HAVING count(*) > 1"
        )
        == []
    )
    assert (
        site.sql(
            "SELECT flow_run_id, task_run_id, logger, message, timestamp, count(*) FROM run_log"
            " GROUP BY flow_run_id, task_run_id, logger, message, timestamp HAVING count(*) > 1"
        )
        == []
    )
    assert site.sql(f"SELECT count(*) FROM flow_run WHERE id IN ({ids})") == [[len(run_ids)]]
    # each run and task run: one final state row, and its row shows its last state
    finals = site.sql(
        "SELECT s.run_id, count(*) FROM run_state s"
        f" WHERE (s.run_id IN ({ids}) OR s.flow_run_id IN ({ids}))"
        f" AND s.type IN ({', '.join(repr(t) for t in sorted(FINAL))}) GROUP BY s.run_id"
    )
    assert finals and all(count == 1 for _, count in finals), finals
    last = site.sql(
        "SELECT r.id, r.state_type, s.type FROM flow_run r JOIN run_state s ON s.id ="
        f" (SELECT max(id) FROM run_state WHERE run_id = r.id) WHERE r.id IN ({ids})"
    )
    assert len(last) == len(run_ids) and all(row[1] == row[2] for row in last), last


class TestMultiHost:
    def test_the_hosts_are_apart(self, site: Site) -> None:
        """Each host has its own loopback and only the test network: no route out."""
        assert site.client.http("GET", "http://127.0.0.1:8888/jupyter-flows/api/health")[0] == 0
        for host in site.hosts.values():
            routes = host.run(["ip", "-4", "route", "show"], timeout=30).stdout.split("\n")
            assert [r.split()[0] for r in routes if r.strip()] == ["10.251.0.0/24"], routes

    def test_runs_through_both_servers_and_both_pools(self, site: Site) -> None:
        with ThreadPoolExecutor() as pool:  # three clients deploying at once
            deploys = [
                pool.submit(site.cli, "a", "deploy", entrypoint, "--name", name, "--pool", to)
                for entrypoint, name, to in (
                    ("flows.py:etl", "etl-dask", "cluster"),
                    ("cells.ipynb", "cells-dask", "cluster"),
                    ("flows.py:etl", "etl-proc", "default"),
                )
            ]
            for deployed in deploys:
                deployed.result()
        runs = {
            "etl-dask": site.run(_deployment(site, "etl-dask"), parameters={"n": 3}),
            "cells-dask": site.run(_deployment(site, "cells-dask"), parameters={"n": 4}),
            "etl-proc": site.run(_deployment(site, "etl-proc"), parameters={"n": 5}),
        }
        for name, run_id in runs.items():
            done = site.final(run_id)
            assert done["state_name"] == "Completed", (name, done)
            seen = _same_on_both(site, run_id)
            assert seen["worker"] == ("procpool" if name == "etl-proc" else "daskpool")
        tasks = {
            name: [t["task_name"] for t in site.get("a", f"flow_runs/{r}/task_runs")["items"]]
            for name, r in runs.items()
        }
        assert tasks == {
            "etl-dask": ["double", "double"],
            "cells-dask": ["load", "total"],
            "etl-proc": ["double", "double"],
        }
        for server in ("a", "b"):  # uploaded through one server, served by both
            output = site.get(server, f"flow_runs/{runs['cells-dask']}/output")
            assert output["nbformat"] == 4 and len(output["cells"]) >= 2, server
        logs = site.logs("a", runs["cells-dask"])
        assert sum("total is 6" in line for line in logs) == 1, logs
        assert sum("etl of 5" in line for line in site.logs("b", runs["etl-proc"])) == 1
        assert sum("etl of 3" in line for line in site.logs("b", runs["etl-dask"])) == 1
        for run_id in runs.values():
            assert _history(site, run_id) == ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED"]
        _exactly_once(site, list(runs.values()))
        rows = site.sql(
            "SELECT flow_run_id, count(*) FROM task_run WHERE flow_run_id IN"
            f" ({', '.join(repr(r) for r in runs.values())}) GROUP BY flow_run_id"
        )
        assert sorted(count for _, count in rows) == [2, 2, 2]

    def _kill_the_dask_worker_running(self, site: Site, run_id: str) -> tuple[str, int]:
        """``kill -9`` the process group of the Dask worker whose host runs the run: that
        host, and the pid of the run process it had started."""
        line = wait(
            lambda: next((m for m in site.logs("b", run_id) if "blocking in" in m), None),
            180,
            "the run blocks on a Dask worker",
        )
        pid = int(line.split("blocking in")[1].split()[0])
        ns = subprocess.run(
            ["ip", "netns", "identify", str(pid)], capture_output=True, text=True, check=True
        ).stdout.strip()
        host = next(name for name in site.dask_workers if site.hosts[name].ns == ns)
        site.net.kill_group(site.dask_workers.pop(host))
        return host, pid

    def test_a_killed_dask_worker_is_retried_or_crashes_as_configured(self, site: Site) -> None:
        site.cli("a", "deploy", "flows.py:blocker", "--name", "blocker", "--pool", "cluster")
        dep = _deployment(site, "blocker")
        retried_marker, crashed_marker = site.tmp / "retried", site.tmp / "crashed"
        retried = site.run(
            dep, parameters={"marker": str(retried_marker)}, job_variables={"retries": 1}
        )
        killed, orphan = self._kill_the_dask_worker_running(site, retried)
        done = site.final(retried)
        assert done["state_name"] == "Completed", done
        lines = site.logs("a", retried)
        assert sum("again after" in line for line in lines) == 1, lines
        other = next(name for name in site.dask_workers if name != killed)
        assert any(
            line.startswith(f"attempt 2 on tcp://{site.hosts[other].address}:") for line in lines
        ), lines
        # the killed worker's run process stopped itself (its parent was gone)
        wait(lambda: not psutil.pid_exists(orphan), 30, "the first attempt's process ends")
        site.start_dask_worker(killed)  # its host restarts it

        crashed = site.run(dep, parameters={"marker": str(crashed_marker)})  # retries 0
        _, orphan = self._kill_the_dask_worker_running(site, crashed)
        done = site.final(crashed)
        assert done["state_type"] == "CRASHED", done
        assert "Dask worker" in (done["state_message"] or ""), done
        assert not any("again after" in line for line in site.logs("b", crashed))
        wait(lambda: not psutil.pid_exists(orphan), 30, "the killed run's process ends")
        for run_id in (retried, crashed):
            _same_on_both(site, run_id)
        # the retried run's second attempt took its Running over: one Running row
        assert _history(site, retried) == ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED"]
        assert _history(site, crashed) == ["SCHEDULED", "PENDING", "RUNNING", "CRASHED"]
        _exactly_once(site, [retried, crashed])
