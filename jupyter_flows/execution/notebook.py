"""Run a notebook with papermill as a flow run (its ``%%task`` cells become task runs)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.run_environment import RunEnvironment
from ..exceptions import FlowDefinitionError, TaskFailed

__all__ = ["run_notebook", "notebook_env", "output_notebook_path", "render_html"]

logger = logging.getLogger(__name__)


def output_notebook_path(outputs_dir: Path, flow_run_id: str, entrypoint: str) -> Path:
    """Where a worker's run of notebook ``entrypoint`` writes the executed notebook."""
    return Path(outputs_dir) / flow_run_id / Path(entrypoint).name


def notebook_env(
    path: Path,
    parameters: dict[str, Any],
    flow_run_id: str | None = None,
    db_url: str | None = None,
) -> dict[str, str]:
    """The variables the kernel's ``NotebookFlow`` reads to record into ``flow_run_id`` (the
    kernel inherits the rest of this process's environment)."""
    kernel = RunEnvironment(
        notebook=path.stem, parameters=parameters, flow_run_id=flow_run_id, db_url=db_url
    )
    return kernel.to_env()


def run_notebook(
    path: Path,
    parameters: dict[str, Any],
    output_path: Path,
    env: Mapping[str, str] | None = None,
    *,
    kernel_name: str | None = None,
) -> Path:
    """Execute ``path`` into ``output_path`` with ``parameters`` injected.

    ``env`` (see ``notebook_env``) is set in ``os.environ`` of this process, which the kernel
    papermill starts inherits: this is meant to run in a worker's child process. The kernel
    is ``kernel_name``, else the notebook's kernelspec, else ``python3``.

    Raises
    ------
    FlowDefinitionError
        The notebook is missing or not valid notebook JSON (the error names the file).
    TaskFailed
        A cell raised; ``cell_index`` is its index in the *source* notebook.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    path = Path(path)
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise FlowDefinitionError(f"notebook {str(path)!r} not found") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds
        raise FlowDefinitionError(f"{str(path)!r} is not a valid notebook: {exc}") from None
    kernel = kernel_name or notebook.metadata.get("kernelspec", {}).get("name") or "python3"
    os.environ.update(env or {})
    output_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        papermill.execute_notebook(
            str(path),
            str(output_path),
            parameters=parameters,
            kernel_name=kernel,
            progress_bar=False,
            cwd=str(path.parent),
        )
    except PapermillExecutionError as exc:
        index = _source_index(output_path, exc.cell_index)
        raise TaskFailed(path.name, exc.ename, exc.evalue, index) from None
    return output_path


def _source_index(output_path: Path, index: int) -> int:
    """Cell ``index`` of the output notebook as an index of the source notebook.

    Papermill inserts a cell tagged ``injected-parameters``; cells after it move down one.
    """
    try:
        cells = json.loads(output_path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return index
    injected = sum(
        1
        for cell in cells[:index]
        if "injected-parameters" in cell.get("metadata", {}).get("tags", [])
    )
    return index - injected


def render_html(notebook_path: Path) -> Path:
    """An HTML rendering next to an executed notebook (made on first request, then kept).

    Rendering costs ~1-2 s (nbconvert), so it is not part of every run.
    """
    target = notebook_path.with_suffix(".html")
    if not target.exists() or target.stat().st_mtime < notebook_path.stat().st_mtime:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_filename(str(notebook_path))
        target.write_text(body, encoding="utf-8")
    return target
