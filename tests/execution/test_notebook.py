"""run_notebook on the real python3 kernel: outputs, injected parameters, failing cells."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from jupyter_flows.exceptions import FlowDefinitionError, TaskFailed
from jupyter_flows.execution.notebook import notebook_env, run_notebook

NOTEBOOKS = Path(__file__).parent / "notebooks"


@pytest.fixture
def notebooks(tmp_path: Path) -> Path:
    target = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, target)
    return target


def outputs_text(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "".join(
        "".join(out.get("text", "")) for cell in cells for out in cell.get("outputs", [])
    )


class TestRunNotebook:
    def test_output_stored_with_parameters_injected(self, notebooks: Path, tmp_path: Path) -> None:
        out = tmp_path / "out" / "run1" / "parameters.ipynb"
        assert run_notebook(notebooks / "parameters.ipynb", {"n": 5, "label": "y"}, out) == out
        assert "y 10" in outputs_text(out)
        tags = [c["metadata"].get("tags", []) for c in json.loads(out.read_text())["cells"]]
        assert ["injected-parameters"] in tags

    def test_failing_cell_raises_task_failed_with_its_index(
        self, notebooks: Path, tmp_path: Path
    ) -> None:
        with pytest.raises(TaskFailed) as info:
            run_notebook(notebooks / "failing.ipynb", {"n": 7}, tmp_path / "failing.ipynb")
        error = info.value
        assert error.cell_index == 2  # in the source notebook, not papermill's copy
        assert (error.ename, error.evalue) == ("ValueError", "bad value 7")
        assert error.task == "failing.ipynb"
        assert (tmp_path / "failing.ipynb").exists()  # the partial output is kept

    def test_broken_json_names_the_file(self, tmp_path: Path) -> None:
        broken = tmp_path / "broken.ipynb"  # written here: linters read fixture notebooks
        broken.write_text('{"cells": [{"cell_type": "code", "source": "x = 1"')
        with pytest.raises(FlowDefinitionError, match="broken.ipynb"):
            run_notebook(broken, {}, tmp_path / "out.ipynb")

    def test_missing_notebook(self, tmp_path: Path) -> None:
        with pytest.raises(FlowDefinitionError, match="nope.ipynb"):
            run_notebook(tmp_path / "nope.ipynb", {}, tmp_path / "out.ipynb")


class TestNotebookEnv:
    def test_variables_for_the_kernel(self) -> None:
        env = notebook_env(Path("a/etl.ipynb"), {"n": 1}, "f" * 32, "sqlite:///x.db")
        assert env == {
            "JUPYTER_FLOWS_NOTEBOOK": "etl",
            "JUPYTER_FLOWS_PARAMETERS": '{"n": 1}',
            "JUPYTER_FLOWS_FLOW_RUN_ID": "f" * 32,
            "JUPYTER_FLOWS_DB_URL": "sqlite:///x.db",
        }
        assert set(notebook_env(Path("etl.ipynb"), {})) == {
            "JUPYTER_FLOWS_NOTEBOOK",
            "JUPYTER_FLOWS_PARAMETERS",
        }
