"""%%task and %flow on a real kernel, checked against what the database recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_flows.store.api import read_flow_run, read_flow_runs


def cell_runs(url: str, flow_name: str = "analysis") -> list[Any]:
    """The notebook's flow runs, oldest first, in full."""
    runs = list(read_flow_runs(flow_name=flow_name, url=url, limit=50))
    assert runs, "no flow run recorded"
    return [read_flow_run(r.id, url=url) for r in reversed(runs)]


def latest_run(url: str, flow_name: str = "analysis") -> Any:
    return read_flow_run(read_flow_runs(flow_name=flow_name, url=url)[0].id, url=url)


def edges_by_name(run: Any) -> set[tuple[str, str]]:
    names = {t.id: t.task_name for t in run.task_runs}
    return {(names[e.upstream_id], names[e.downstream_id]) for e in run.edges}


class TestTaskCells:
    def test_values_land_in_the_namespace_and_edges_are_recorded(
        self, kernel: Any, db_url_of: str
    ) -> None:
        kernel.ok("n = 4")
        r = kernel.ok("%%task load\nimport math\ndata = list(range(n))\nlen(data)")
        assert r.value == "4"
        kernel.ok("%%task clean\ntotal = 0\nfor d in data:\n    total += d\ntotal")
        kernel.ok("%%task scale\ndef f(x):\n    return x * total\nscaled = [f(d) for d in data]")
        kernel.ok(
            "%%task summary\nfrom math import fsum\nresult = fsum(scaled) + math.pi\ndel data"
        )
        assert kernel.ok("print(result > 0, 'data' in dir())").stdout.strip() == "True False"
        # each cell was a flow run of its own, ended with the cell: nothing stays Running
        runs = cell_runs(db_url_of)
        assert [(r.name, r.state_name) for r in runs] == [
            ("load", "Completed"),
            ("clean", "Completed"),
            ("scale", "Completed"),
            ("summary", "Completed"),
        ]
        assert all(r.tags == ["notebook"] and r.end_time is not None for r in runs)
        assert [[t.task_name for t in r.task_runs] for r in runs] == [
            ["load"],
            ["clean"],
            ["scale"],
            ["summary"],
        ]
        assert runs[0].parameters == {"n": 4}  # what the cell read from outside the tasks
        # %flow run: one flow run of all the cells, with the dataflow edges between them
        kernel.ok("%flow run")
        flow = latest_run(db_url_of)
        assert flow.state_name == "Completed" and "flow-run" in flow.tags
        assert edges_by_name(flow) == {
            ("load", "clean"),
            ("load", "scale"),
            ("clean", "scale"),
            ("scale", "summary"),
            ("load", "summary"),
        }

    def test_retries_are_recorded(self, kernel: Any, db_url_of: str) -> None:
        kernel.ok("attempts = []")
        kernel.ok(
            "%%task flaky --retries 2 --retry-delay 0.05\n"
            "attempts.append(1)\n"
            "if len(attempts) < 3:\n    raise ConnectionError('try again')\nok = True"
        )
        run = latest_run(db_url_of)
        assert (run.name, run.state_name) == ("flaky", "Completed")
        flaky = run.task_runs[0]
        assert (flaky.state_name, flaky.run_count) == ("Completed", 3)
        names = [s.name for s in run.task_states if s.run_id == flaky.id]
        assert names.count("AwaitingRetry") == 2 and names.count("Retrying") == 2

    def test_timeout_leaves_the_namespace_and_kernel_usable(
        self, kernel: Any, db_url_of: str
    ) -> None:
        r = kernel.run("%%task slow --timeout 0.5\nimport time\npartial = 1\ntime.sleep(3)")
        assert r.status == "error" and r.ename == "TaskTimeout"
        assert "timeout of 0.5 s" in r.evalue
        assert kernel.ok("print('partial' in dir())").stdout.strip() == "False"
        run = latest_run(db_url_of)
        assert (run.name, run.state_name) == ("slow", "Failed")
        assert "timeout of 0.5 s" in (run.state_message or "")

    def test_failure_shows_the_users_traceback_and_rolls_back(
        self, kernel: Any, db_url_of: str
    ) -> None:
        kernel.ok("y = 'before'")
        r = kernel.run("%%task boom\ny = 'during'\nz = 1\n1 / 0")
        assert (r.status, r.ename) == ("error", "ZeroDivisionError")
        assert "1 / 0" in r.traceback
        for internal in ("task_engine", "calls.py", "cells.py"):
            assert internal not in r.traceback
        out = kernel.ok("print(y, 'z' in dir())").stdout.strip()
        assert out == "before False"
        run = latest_run(db_url_of)  # the cell's flow run ended with it, Failed
        assert (run.name, run.state_name) == ("boom", "Failed")
        assert run.state_message == "ZeroDivisionError: division by zero"
        assert [t.state_name for t in run.task_runs] == ["Failed"]


class TestCaching:
    def test_cache_hit_after_kernel_restart(self, kernel: Any, tmp_path: Path) -> None:
        marker = tmp_path / "side-effects.txt"
        cell = (
            f"%%task expensive --cache\n"
            f"open({str(marker)!r}, 'a').write('ran\\n')\n"
            f"answer = sum(range(k))"
        )
        kernel.ok("k = 10")
        kernel.ok(cell)
        kernel.restart()
        kernel.ok("%load_ext jupyter_flows")
        kernel.ok("k = 10")
        r = kernel.ok(cell)
        assert "Cached" in r.stderr
        assert marker.read_text() == "ran\n"  # not run again
        assert kernel.ok("print(answer)").stdout.strip() == "45"
        kernel.ok("k = 11")
        kernel.ok(cell)  # a changed input is a miss
        assert marker.read_text() == "ran\nran\n"


class TestFlowMagic:
    def test_run_and_stale(self, kernel: Any, db_url_of: str) -> None:
        kernel.ok("a_in = 1\nc_in = 5")
        kernel.ok("%%task a\na = a_in + 1")
        kernel.ok("%%task b\nb = a * 2")
        kernel.ok("%%task c\nc = c_in * 3")
        kernel.ok("%flow run")
        full = latest_run(db_url_of)
        assert [t.task_name for t in full.task_runs] == ["a", "b", "c"]
        assert edges_by_name(full) == {("a", "b")}
        assert full.state_name == "Completed"

        kernel.ok("c_in = 6")
        kernel.ok("%flow run --stale")
        stale = latest_run(db_url_of)
        assert [t.task_name for t in stale.task_runs] == ["c"]

        # a re-run by hand with new code: a is up to date, b (its input changed) is stale
        kernel.ok("%%task a\na = a_in + 100")
        kernel.ok("%flow run --stale --parallel")
        latest = latest_run(db_url_of)
        assert [t.task_name for t in latest.task_runs] == ["b"]
        assert kernel.ok("print(b)").stdout.strip() == "202"
        r = kernel.ok("%flow run --stale")
        assert "nothing is stale" in r.stderr
        status = kernel.ok("%flow status").value or ""
        assert "a" in status and "Completed" in status

    def test_report_and_runs(self, kernel: Any, tmp_path: Path) -> None:
        kernel.ok("%%task only\nx = 1")
        out = tmp_path / "report.html"
        kernel.ok(f"%flow report -o {out}")
        assert "<svg" in out.read_text()
        assert "analysis" in (kernel.ok("%flow runs").value or "")


class TestBadInput:
    def test_unknown_option(self, kernel: Any) -> None:
        r = kernel.run("%%task --bogus 3\nx = 1")
        assert r.status == "error" and "bogus" in (r.evalue or "") + r.traceback + r.stderr

    def test_syntax_error_points_at_the_line(self, kernel: Any) -> None:
        r = kernel.run("%%task broken\nx = 1\ny = (\n")
        assert r.ename == "SyntaxError"

    def test_cycle(self, kernel: Any) -> None:
        kernel.ok("%%task p --after q\np = 1")
        r = kernel.run("%%task q --after p\nq = 2")
        assert r.status == "error" and "cycle" in ((r.evalue or "") + r.stderr).lower()
        kernel.ok("%%task other\nz = 3")  # the notebook still works

    def test_same_name_in_two_cells(self, kernel: Any) -> None:
        kernel.ok("%%task dup\nx = 1", metadata={"cellId": "cell-1"})
        r = kernel.run("%%task dup\ny = 2", metadata={"cellId": "cell-2"})
        assert r.status == "error" and "already used" in (r.evalue or "") + r.stderr
        kernel.ok("%%task dup\nx = 10", metadata={"cellId": "cell-1"})  # re-running is fine

    def test_unreachable_database_warns_and_still_runs(self, kernel_env: dict[str, str]) -> None:
        from tests.kernel.conftest import KernelSession

        env = dict(kernel_env, JUPYTER_FLOWS_DB_URL="postgresql+psycopg://nobody@127.0.0.1:9/none")
        session = KernelSession(env)
        try:
            session.ok("%load_ext jupyter_flows")
            r = session.ok("%%task t\nvalue = 41 + 1\nvalue")
            assert r.value == "42"
            assert "NOT recorded" in r.stderr and "127.0.0.1:9" in r.stderr
        finally:
            session.shutdown()


class TestAutoGraph:
    FLOW = (
        "from jupyter_flows import flow, task\n"
        "@task\ndef inc(x): return [x + 1]\n"
        "@flow\ndef little():\n    return inc(inc(1)[0])\n"
    )

    def test_flow_call_shows_a_live_graph(self, kernel: Any) -> None:
        kernel.ok(self.FLOW)
        r = kernel.ok("little()")
        displays = [o for o in r.outputs if o["type"] == "display_data"]
        assert len(displays) == 1
        data = displays[0]["data"]
        assert "application/vnd.jupyter.widget-view+json" in data
        assert "<svg" in data["text/html"]
        assert r.value == "[3]"
        state = kernel.ok(
            "import jupyter_flows.kernel.extension as e\nprint(len(e._auto_graph._live))"
        )
        assert state.stdout.strip() == "0"  # the finished run's observer was released

    def test_importing_jupyter_flows_is_enough(self, kernel_env: dict[str, str]) -> None:
        from tests.kernel.conftest import KernelSession

        session = KernelSession(kernel_env)  # no %load_ext
        try:
            session.ok(self.FLOW)
            r = session.ok("little()")
            displays = [o for o in r.outputs if o["type"] == "display_data"]
            assert len(displays) == 1 and "<svg" in displays[0]["data"]["text/html"]
            magics = session.ok("'task' in get_ipython().magics_manager.magics['cell']")
            assert magics.value == "False"  # only the graph: the magics wait for %load_ext
        finally:
            session.shutdown()

    def test_can_be_turned_off(self, kernel: Any) -> None:
        kernel.ok(self.FLOW)
        assert "off" in (kernel.ok("%flow config --auto-graph off").value or "")
        r = kernel.ok("little()")
        assert not [o for o in r.outputs if o["type"] == "display_data"]


class TestConfiguredExtension:
    def test_interactive_shell_app_extensions(self, kernel_env: dict[str, str]) -> None:
        from tests.kernel.conftest import KernelSession

        session = KernelSession(
            kernel_env, extra_arguments=["--InteractiveShellApp.extensions=jupyter_flows"]
        )
        try:  # no %load_ext: the kernel's configuration loaded it
            assert session.ok("%%task configured\nx = 6 * 7\nx").value == "42"
        finally:
            session.shutdown()
