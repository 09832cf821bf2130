"""The example notebooks (and a failing one) executed by papermill on a real kernel."""

from __future__ import annotations

from pathlib import Path

import papermill
import pytest

from jupyter_flows.store.api import read_flow_run, read_flow_runs

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'notebooks.sqlite'}"
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", url)  # inherited by papermill's kernel
    monkeypatch.setenv("JUPYTER_FLOWS_HOME", str(tmp_path / "home"))  # its own result cache
    return url


def execute(path: Path, out: Path, **parameters: object) -> None:
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(path.parent),
    )


class TestExampleNotebooks:
    @pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
    def test_runs_to_the_end(self, path: Path, tmp_path: Path, db_url: str) -> None:
        execute(path, tmp_path / path.name)
        assert read_flow_runs(url=db_url).total > 0

    def test_flows_and_tasks_notebook_records_runs(self, tmp_path: Path, db_url: str) -> None:
        execute(ROOT / "notebooks/01_flows_and_tasks.ipynb", tmp_path / "out.ipynb", n=4)
        runs = list(read_flow_runs(flow_name="pipeline", url=db_url))
        assert len(runs) == 2 and all(r.state_name == "Completed" for r in runs)
        first, second = (read_flow_run(r.id, url=db_url) for r in reversed(runs))
        flaky = next(t for t in first.task_runs if t.task_name == "flaky")
        assert flaky.run_count == 3
        squares = [t for t in second.task_runs if t.task_name == "slow_square"]
        assert len(squares) == 4 and {t.state_name for t in squares} == {"Cached"}
        subflow = next(t for t in first.task_runs if t.subflow_run_id)
        child = read_flow_run(subflow.subflow_run_id, url=db_url)
        assert child.flow_name == "summarize" and child.parent_flow_run_id == first.id


class TestNotebookFlowUnderPapermill:
    TASKS = ("load", "clean", "feature_square", "feature_target", "model", "summary")

    def test_each_task_cell_is_a_flow_run_ended_with_it(
        self, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("JUPYTER_FLOWS_NOTEBOOK", "pipeline-nb")
        execute(ROOT / "notebooks/02_notebook_pipeline.ipynb", tmp_path / "out.ipynb", n_rows=50)
        items = list(read_flow_runs(flow_name="pipeline-nb", url=db_url))
        runs = [read_flow_run(r.id, url=db_url) for r in reversed(items)]
        assert [(r.name, r.state_name) for r in runs] == [(n, "Completed") for n in self.TASKS]
        assert [[t.task_name for t in r.task_runs] for r in runs] == [[n] for n in self.TASKS]
        assert runs[0].parameters == {"n_rows": 50, "seed": 7}

    def test_a_deployment_run_holds_every_cell_and_the_dag(
        self, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from jupyter_flows.core.records import FlowRunInfo, new_id
        from jupyter_flows.core.states import Running, now
        from jupyter_flows.store.recorder import SqlRecorder

        run_id = new_id()  # as a worker's run process has it when papermill starts
        recorder = SqlRecorder.from_url(db_url)
        recorder.flow_run_created(
            FlowRunInfo(run_id, "nightly", "pipeline-nb", None, None, [], {}, now())
        )
        recorder.set_state("flow", run_id, Running(), 1)
        recorder.close()
        monkeypatch.setenv("JUPYTER_FLOWS_NOTEBOOK", "pipeline-nb")
        monkeypatch.setenv("JUPYTER_FLOWS_FLOW_RUN_ID", run_id)
        execute(ROOT / "notebooks/02_notebook_pipeline.ipynb", tmp_path / "out.ipynb", n_rows=50)
        assert read_flow_runs(url=db_url).total == 1
        run = read_flow_run(run_id, url=db_url)
        assert run.state_name == "Running"  # its run process records papermill's outcome
        states = {t.task_name: t.state_name for t in run.task_runs}
        assert states == {name: "Completed" for name in self.TASKS}
        names = {t.id: t.task_name for t in run.task_runs}
        edges = {(names[e.upstream_id], names[e.downstream_id]) for e in run.edges}
        assert {
            ("load", "clean"),
            ("clean", "feature_square"),
            ("clean", "feature_target"),
            ("clean", "model"),
            ("feature_target", "model"),
            ("model", "summary"),
            ("feature_square", "summary"),
        } <= edges

    def test_failing_cell_fails_its_flow_run(
        self, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("JUPYTER_FLOWS_NOTEBOOK", "failing")
        with pytest.raises(papermill.PapermillExecutionError) as info:
            execute(ROOT / "tests/notebooks/failing_cell.ipynb", tmp_path / "out.ipynb")
        assert info.value.ename == "ValueError"
        items = list(read_flow_runs(flow_name="failing", url=db_url))
        assert [(r.name, r.state_name) for r in reversed(items)] == [
            ("prepare", "Completed"),
            ("check", "Failed"),
        ]  # "never" did not run
        check = read_flow_run(items[0].id, url=db_url)
        assert check.state_message == "ValueError: only 3 values"
        assert [(t.task_name, t.state_message) for t in check.task_runs] == [
            ("check", "ValueError: only 3 values")
        ]
