"""Persisted results of remote runs (workers with no database) reach the server: a run that
failed on one worker is retried on another whose result directory is empty, and reuses the
completed task runs' results (their bodies do not run again); a suspended run resumed on
another worker reuses its own, without duplicated task runs (real server, workers, runs)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import Env, stop_all
from tests.helpers import wait

ETL = """
from pathlib import Path
from jupyter_flows import flow, task

HERE = Path(__file__).parent


def note(name: str) -> None:
    with open(HERE / "calls.log", "a") as f:
        f.write(name + "\\n")


@task
def extract(n: int) -> list[int]:
    note("extract")
    return list(range(n))


@task
def transform(values: list[int]) -> list[int]:
    note("transform")
    return [v * 10 for v in values]


@task
def load(values: list[int]) -> int:
    note("load")
    if (HERE / "broken").exists():
        raise RuntimeError("the warehouse is down")
    return sum(values)


@flow(persist_result=True)
def etl(n: int = 3) -> int:
    return load(transform(extract(n)))
"""

ENDED = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def _calls(env: Env) -> list[str]:
    path = env.root / "calls.log"
    return path.read_text().split() if path.exists() else []


def _ended(env: Env, run_id: str) -> dict:  # type: ignore[type-arg]
    wait(lambda: (env.get(f"flow_runs/{run_id}") or {}).get("state_type") in ENDED, 120,
         f"run {run_id} to end")  # fmt: skip
    return env.get(f"flow_runs/{run_id}")  # type: ignore[no-any-return]


def _remote_worker(env: Env, tmp: Path, name: str) -> tuple[object, dict[str, str]]:
    """A worker with no database URL and a result directory of its own."""
    token = env.cli("pools", "token", "default", "--worker", name)
    assert token.returncode == 0, token.stderr
    home = tmp / f"home-{name}"
    no_db = {k: v for k, v in env.env.items() if k != "JUPYTER_FLOWS_DB_URL"}
    no_db["JUPYTER_FLOWS_HOME"] = str(home)
    return env.start_worker(token.stdout.strip(), name, env=no_db), {"home": str(home)}


def test_a_remote_retry_on_another_worker_reuses_the_uploaded_results(
    tmp_path: Path, db_url: str
) -> None:
    env = Env(tmp_path, db_url)
    (env.root / "etl.py").write_text(ETL)
    (env.root / "broken").write_text("")
    try:
        env.start_server()
        first, where1 = _remote_worker(env, tmp_path, "remote-1")
        assert env.cli("deploy", "etl.py:etl", "--name", "etl", "--param", "n=3").returncode == 0
        assert env.cli("run", "etl").returncode == 0
        deployment = env.get("deployments/etl")["id"]
        wait(lambda: env.runs(deployment), 60, "the run")
        failed = _ended(env, env.runs(deployment)[0]["id"])
        assert failed["state_name"] == "Failed", failed
        assert failed["worker"] == "remote-1"
        assert _calls(env) == ["extract", "transform", "load"]
        # the results are on the first worker's disk, and (uploaded) on the server's
        assert list(Path(where1["home"], "results").rglob("*"))
        uploaded = tmp_path / "home" / "uploaded_results" / "deployments" / deployment
        assert len([p for p in uploaded.rglob("*") if p.is_file()]) >= 2

        first.terminate()  # type: ignore[attr-defined]
        first.wait(timeout=30)  # type: ignore[attr-defined]
        _, where2 = _remote_worker(env, tmp_path, "remote-2")
        (env.root / "broken").unlink()  # the warehouse is back
        retried = env.cli("runs", "retry", failed["id"])
        assert retried.returncode == 0, retried.stderr
        retry = next(r for r in env.runs(deployment) if r["id"] != failed["id"])
        done = _ended(env, retry["id"])
        assert done["state_name"] == "Completed", done["state_message"]
        assert done["worker"] == "remote-2"
        # tasks 1 and 2 were read back from the server: only the failed one ran again
        assert _calls(env) == ["extract", "transform", "load", "load"]
        by_name = {t["name"]: t for t in done["task_runs"]}
        assert by_name["load-0"]["state_name"] == "Completed"
        for name in ("extract-0", "transform-0"):
            assert by_name[name]["state_name"] == "Cached", by_name[name]
            assert f"reused from run {failed['id']}" in by_name[name]["state_message"]
        assert not Path(where1["home"]) == Path(where2["home"])
    finally:
        stop_all(env, tmp_path)


GATED = """
import time
from pathlib import Path
from jupyter_flows import flow, task

HERE = Path(__file__).parent


def note(name: str) -> None:
    with open(HERE / "calls.log", "a") as f:
        f.write(name + "\\n")


@task
def prepare(n: int) -> int:
    note("prepare")
    return n + 1


@task
def slow(x: int) -> int:
    note("slow")
    if not (HERE / "fast").exists():
        time.sleep(120)
    return x * 2


@flow(persist_result=True)
def gated(n: int = 1) -> int:
    return slow(prepare(n))
"""

SUSPEND = (
    "import sys; from jupyter_flows.flow_runs import suspend_flow_run; "
    "suspend_flow_run(flow_run_id=sys.argv[1], timeout=300)"
)


def test_a_suspended_remote_run_resumes_on_another_worker_without_duplicates(
    tmp_path: Path, db_url: str
) -> None:
    import subprocess
    import sys

    import psutil

    env = Env(tmp_path, db_url)
    (env.root / "gated.py").write_text(GATED)
    try:
        env.start_server()
        first, _ = _remote_worker(env, tmp_path, "remote-1")
        assert env.cli("deploy", "gated.py:gated", "--name", "gated").returncode == 0
        assert env.cli("run", "gated").returncode == 0
        deployment = env.get("deployments/gated")["id"]
        wait(lambda: env.runs(deployment), 60, "the run")
        run_id = env.runs(deployment)[0]["id"]

        def slow_running() -> bool:
            tasks = (env.get(f"flow_runs/{run_id}") or {}).get("task_runs") or []
            return any(t["name"] == "slow-0" and t["state_name"] == "Running" for t in tasks)

        wait(slow_running, 120, "the slow task to run")
        # the server suspends the run while its task runs (from outside the run)
        suspended = subprocess.run(
            [sys.executable, "-c", SUSPEND, run_id], cwd=env.root, env=env.env,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert suspended.returncode == 0, suspended.stderr
        assert env.state(run_id) == "Suspended"
        wait(lambda: not psutil.Process(first.pid).children(recursive=True), 60,  # type: ignore[attr-defined]
             "the run process to stop")  # fmt: skip
        first.terminate()  # type: ignore[attr-defined]
        first.wait(timeout=30)  # type: ignore[attr-defined]

        (env.root / "fast").write_text("")
        _remote_worker(env, tmp_path, "remote-2")  # a fresh result directory
        resumed = env.cli("runs", "resume", run_id)
        assert resumed.returncode == 0, resumed.stderr
        wait(lambda: (env.get(f"flow_runs/{run_id}") or {}).get("state_type") in ENDED, 120,
             "the resumed run")  # fmt: skip
        done = env.get(f"flow_runs/{run_id}")
        assert done["state_name"] == "Completed", done["state_message"]
        assert done["worker"] == "remote-2"
        # prepare ran once (its result came back from the server), slow ran again
        assert _calls(env) == ["prepare", "slow", "slow"]
        names = sorted((t["name"], t["state_name"]) for t in done["task_runs"])
        assert names == [
            ("prepare-0", "Completed"),  # one task run, not a second Cached one
            ("slow-0", "Cancelled"),  # stopped with its process when the run was suspended
            ("slow-0", "Completed"),
        ], names
        cancelled = next(t for t in done["task_runs"] if t["state_name"] == "Cancelled")
        assert "suspended" in cancelled["state_message"]
        assert len(env.runs(deployment)) == 1
    finally:
        stop_all(env, tmp_path)
