"""Run a notebook with papermill as a flow run (its ``%%task`` cells become task runs)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from ..exceptions import FlowDefinitionError, TaskFailed

__all__ = ["run_notebook", "render_html"]

logger = logging.getLogger(__name__)


def run_notebook(
    path: Path,
    parameters: dict[str, Any],
    output_path: Path,
    flow_run_id: str | None = None,
    kernel_name: str | None = None,
) -> Path:
    """Execute ``path`` into ``output_path`` with ``parameters`` injected.

    The kernel records into the same run database (it inherits ``JUPYTER_FLOWS_DB_URL``)
    under ``flow_run_id``. A failing cell raises ``TaskFailed`` with the cell's error and
    index; a notebook that isn't valid JSON raises ``FlowDefinitionError`` naming the file.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        notebook = nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise FlowDefinitionError(f"notebook {str(path)!r} not found") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds
        raise FlowDefinitionError(f"{path.name!r} is not a valid notebook: {exc}") from None
    kernel = kernel_name or notebook.metadata.get("kernelspec", {}).get("name") or "python3"
    os.environ["JUPYTER_FLOWS_NOTEBOOK"] = path.stem
    os.environ["JUPYTER_FLOWS_PARAMETERS"] = json.dumps(parameters, default=str)
    if flow_run_id:
        os.environ["JUPYTER_FLOWS_FLOW_RUN_ID"] = flow_run_id
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
        raise TaskFailed(path.name, exc.ename, exc.evalue, exc.exec_count) from None
    return output_path


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
