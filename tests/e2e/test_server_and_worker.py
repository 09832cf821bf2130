"""End to end: a real `jupyter server` process, a separate `jupyter flows worker` process, the CLI.

Schedules create runs on time, a worker executes them, pause/cancel work, a killed worker's
run ends Crashed, and a restarted server keeps its data and creates no duplicate runs.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.e2e.harness import PY, TOKEN, Env
from tests.helpers import wait, write_notebook


class TestEndToEnd:
    def test_schedules_workers_cancel_crash_restart(self, e2e: Env) -> None:
        e2e.start_server()
        deployed = e2e.cli(
            "deploy", "quick.ipynb", "--name", "every2", "--interval", "2", "--param", "n=4"
        )
        assert deployed.returncode == 0, deployed.stderr
        dep = e2e.get("deployments/every2")["id"]
        worker = e2e.start_worker()
        wait(
            lambda: len([r for r in e2e.runs(dep) if r["state_name"] == "Completed"]) >= 2,
            120,
            "two scheduled runs completed",
        )
        done = next(r for r in e2e.runs(dep) if r["state_name"] == "Completed")
        assert done["parameters"] == {"n": 4}
        output = e2e.root / ".jupyter-flows-outputs" / done["id"] / "quick.ipynb"
        assert output.exists() and '"result = n * 2"' in output.read_text()
        html = e2e.get_text(f"flow_runs/{done['id']}/output?format=html")
        assert "<html" in html and "result" in html
        times = [r["expected_start_time"] for r in e2e.runs(dep)]
        assert max(Counter(times).values()) == 1

        assert e2e.cli("deployments", "pause", "every2").returncode == 0
        time.sleep(1)
        before = len(e2e.runs(dep))
        time.sleep(5)
        assert len(e2e.runs(dep)) == before  # paused: no new runs

        assert e2e.cli("deploy", "slow.ipynb", "--name", "slow").returncode == 0
        started = e2e.cli("run", "slow")
        assert started.returncode == 0, started.stderr
        run_id = e2e.get("flow_runs?flow_name=slow&limit=1")["items"][0]["id"]
        wait(lambda: e2e.state(run_id) == "Running", 90, "the slow run to start")
        assert e2e.cli("cancel", run_id).returncode == 0
        wait(lambda: e2e.state(run_id) == "Cancelled", 60, "cancellation")

        e2e.cli("run", "slow")
        crash_id = e2e.get("flow_runs?flow_name=slow&limit=1")["items"][0]["id"]
        wait(lambda: e2e.state(crash_id) == "Running", 90, "the second slow run")
        worker.kill()  # kill -9: no goodbye, no more heartbeats
        worker.wait(timeout=10)
        wait(lambda: e2e.state(crash_id) == "Crashed", 60, "the run to be marked Crashed")

        total = len(e2e.runs(dep))
        e2e.stop_server()
        e2e.start_server()  # restart: same database
        assert len(e2e.runs(dep)) == total  # nothing lost
        assert e2e.cli("deployments", "resume", "every2").returncode == 0
        time.sleep(5)
        times = [r["expected_start_time"] for r in e2e.runs(dep)]
        assert max(Counter(times).values()) == 1  # and no duplicates

    def test_an_automation_chains_two_deployments(self, e2e: Env) -> None:
        e2e.start_server()
        e2e.start_worker()
        for name in ("upstream", "downstream"):
            assert e2e.cli("deploy", "etl.py:etl", "--name", name).returncode == 0
        created = e2e.cli(
            "automations", "create", "chain", "--on", "flow-run.Completed",
            "--match", "deployment=upstream", "--run", "downstream", "--param", "n=21",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        assert "when flow-run.Completed (deployment=upstream) -> run downstream" in created.stdout
        watched = e2e.cli("run", "upstream", "--param", "n=1", "--watch", "--timeout", "120")
        assert watched.returncode == 0, watched.stdout + watched.stderr
        downstream = e2e.get("deployments/downstream")["id"]

        def chained() -> list[dict[str, Any]]:
            return [r for r in e2e.runs(downstream) if r["state_name"] == "Completed"]

        done = wait(chained, 120, "the automation's run of downstream to complete")
        assert [r["parameters"] for r in done] == [{"n": 21}]
        assert "automation:chain" in done[0]["tags"]
        listed = e2e.cli("automations", "ls")
        assert "chain" in listed.stdout and "fired 1x" in listed.stdout, listed.stdout
        events = e2e.cli("events", "ls", "--event", "automation.*")
        assert "automation.triggered" in events.stdout and done[0]["id"] in events.stdout

        emitted = e2e.cli("events", "emit", "upload.done", "--payload", '{"rows": 3}')
        assert emitted.returncode == 0 and "upload.done" in emitted.stdout
        assert e2e.cli("automations", "disable", "chain").stdout.strip() == "chain: disabled"

        # an event emitted (by a kernel, into the database) while the server is down is
        # handled once it is back: nothing is lost
        created = e2e.cli(
            "automations", "create", "on-upload", "--on", "upload.done",
            "--run", "downstream", "--param", "n={{ event.rows }}",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        e2e.stop_server()
        code = "import jupyter_flows; jupyter_flows.emit_event('upload.done', payload={'rows': 5})"
        subprocess.run([PY, "-c", code], env=e2e.env, check=True, timeout=120)
        e2e.start_server()

        def uploaded() -> list[dict[str, Any]]:
            return [r for r in e2e.runs(downstream) if r["parameters"] == {"n": 5}]

        assert len(wait(uploaded, 60, "the run for the event emitted while down")) == 1
        # bad input: one line naming the problem, nothing created
        bad = e2e.cli("events", "emit", "x", "--payload", "{oops")
        assert bad.returncode == 2 and "--payload is not JSON" in bad.stderr
        bad = e2e.cli("automations", "create", "b", "--on", "has space", "--run", "downstream")
        assert bad.returncode == 1 and "trigger.event" in bad.stderr, bad.stderr
        bad = e2e.cli("automations", "create", "b", "--on", "x", "--run", "nowhere")
        assert bad.returncode == 1 and "no deployment 'nowhere'" in bad.stderr, bad.stderr
        bad = e2e.cli("automations", "create", "b", "--on", "x")
        assert bad.returncode == 2 and "--run, --pause, --resume" in bad.stderr
        assert [a["name"] for a in e2e.get("automations")["items"]] == ["chain", "on-upload"]

    def test_a_worker_on_another_database_is_told(self, e2e: Env, tmp_path: Path) -> None:
        e2e.start_server()

        def first_lines(db_url: str) -> str:
            """The worker's log up to the line saying it polls."""
            env = dict(e2e.env, JUPYTER_FLOWS_DB_URL=db_url)
            args = ["worker", "--url", e2e.url, "--token", TOKEN, "--name", "other"]
            proc = subprocess.Popen(
                [PY, "-m", "jupyter_flows.cli.app", *args],
                env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
            )  # fmt: skip
            e2e.procs.append(proc)
            assert proc.stderr is not None
            lines = []
            for line in proc.stderr:
                lines.append(line)
                if "polls pool" in line:
                    break
            proc.terminate()
            proc.communicate(timeout=30)  # and close the pipe
            return "".join(lines)

        elsewhere = first_lines(f"sqlite:///{tmp_path / 'elsewhere.sqlite'}")
        assert "elsewhere.sqlite, but the server reads" in elsewhere, elsewhere
        assert "JUPYTER_FLOWS_DB_URL" in elsewhere
        assert "but the server reads" not in first_lines(e2e.db_url)

    def test_a_worker_without_database_records_through_the_server(
        self, e2e: Env, tmp_path: Path
    ) -> None:
        (e2e.root / "tasks.py").write_text(
            "from jupyter_flows import flow, get_run_logger, task\n"
            "@task\ndef double(xs: list[int]) -> list[int]:\n"
            "    get_run_logger().info('doubling %d values', len(xs))\n    return xs + xs\n"
            "@flow\ndef twice(n: int) -> int:\n    return len(double(double([n])))\n"
        )
        write_notebook(
            e2e.root / "cells.ipynb", "n = 2", "%load_ext jupyter_flows",
            "%%task load\nvalues = list(range(n))", "%%task total\nresult = sum(values)",
        )  # fmt: skip
        e2e.start_server()
        # the worker's machine: its own home, no database URL, only the server's URL and token
        env = {k: v for k, v in e2e.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
        env["JUPYTER_FLOWS_HOME"] = str(tmp_path / "elsewhere")
        worker = subprocess.Popen(
            [PY, "-m", "jupyter_flows.cli.app", "worker", "--url", e2e.url, "--token", TOKEN,
             "--poll-interval", "0.5", "--root", str(e2e.root), "--name", "remote"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        e2e.procs.append(worker)
        for entrypoint, name in (("tasks.py:twice", "twice"), ("cells.ipynb", "cells")):
            assert e2e.cli("deploy", entrypoint, "--name", name, "--param", "n=3").returncode == 0
            watched = e2e.cli("run", name, "--watch", "--timeout", "120")
            assert watched.returncode == 0, watched.stdout + watched.stderr
        runs = {r["flow_name"]: r for r in e2e.get("flow_runs?limit=10")["items"]}
        twice = e2e.get(f"flow_runs/{runs['twice']['id']}")
        assert [t["state_name"] for t in twice["task_runs"]] == ["Completed", "Completed"]
        assert twice["worker"] == "remote" and len(twice["edges"]) == 1
        logs = e2e.get(f"flow_runs/{twice['id']}/logs")["items"]
        assert any("doubling 2 values" in line["message"] for line in logs)
        cells = e2e.get(f"flow_runs/{runs['cells']['id']}")
        assert {t["task_name"]: t["state_name"] for t in cells["task_runs"]} == {
            "load": "Completed",
            "total": "Completed",
        }
        assert not (tmp_path / "elsewhere" / "flows.sqlite").exists()  # nothing stayed behind

    def test_python_entrypoint_run_now_with_watch(self, e2e: Env) -> None:
        e2e.start_server()
        assert e2e.cli("deploy", "etl.py:etl", "--name", "etl").returncode == 0
        bad = e2e.cli("run", "etl", "--param", "m=1")
        assert bad.returncode == 1 and "unknown parameter 'm'" in bad.stderr
        e2e.start_worker()
        watched = e2e.cli("run", "etl", "--param", "n=21", "--watch", "--timeout", "120")
        assert watched.returncode == 0, watched.stdout + watched.stderr
        assert "Completed" in watched.stdout

    def test_notebook_deploy_magic_and_worker_sigterm(self, e2e: Env) -> None:
        from tests.kernel.conftest import KernelSession

        e2e.start_server()
        kernel = KernelSession(dict(e2e.env, JUPYTER_FLOWS_URL=e2e.url, JUPYTER_FLOWS_TOKEN=TOKEN))
        try:
            kernel.ok("%load_ext jupyter_flows")
            r = kernel.ok('%flow deploy --path slow.ipynb --name from-notebook --cron "0 6 * * *"')
            assert "from-notebook" in (r.value or "")
            bad = kernel.run("%flow deploy --path slow.ipynb --name x --param size=3")
            assert bad.status == "error" and "size" in bad.stderr + (bad.evalue or "")
        finally:
            kernel.shutdown()
        dep = e2e.get("deployments/from-notebook")
        assert dep["schedules"][0]["cron"] == "0 6 * * *"

        worker = e2e.start_worker()
        assert e2e.cli("run", "from-notebook").returncode == 0
        run_id = e2e.get("flow_runs?flow_name=slow&limit=1")["items"][0]["id"]
        wait(lambda: e2e.state(run_id) == "Running", 90, "the run to start")
        worker.send_signal(signal.SIGTERM)  # graceful: stop claiming, grace, then Crashed
        assert worker.wait(timeout=60) == 0
        wait(lambda: e2e.state(run_id) == "Crashed", 30, "the interrupted run to end Crashed")
        assert "shut down" in e2e.get(f"flow_runs/{run_id}")["state_message"]
