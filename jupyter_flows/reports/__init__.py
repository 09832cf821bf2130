"""Run reports: one self-contained HTML file, or Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .html import render_html
from .markdown import render_markdown

__all__ = ["report", "render_html", "render_markdown", "run_artifacts", "FORMATS"]

FORMATS = ("html", "md")


def run_artifacts(engine: Any, flow_run_id: str, limit: int = 200) -> list[Any]:
    """The artifacts of a flow run (its task runs' too), oldest first, for its report."""
    from ..store.artifacts import ListArtifactsQuery, list_artifacts

    page = list_artifacts(engine, ListArtifactsQuery(flow_run_id=flow_run_id, limit=limit))
    return list(reversed(page.items))


def report(
    flow_run_id: str, format: str = "html", path: str | None = None, url: str | None = None
) -> str:
    """The report of a flow run as text; also written to ``path`` when given.

    Raises ``ValueError`` for an unknown format and ``NotFound`` for an unknown run.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown report format {format!r}; use one of {', '.join(FORMATS)}")
    from ..store.api import read_flow_run, run_store

    run = read_flow_run(flow_run_id, url=url)
    subflows = [read_flow_run(t.subflow_run_id, url=url) for t in run.task_runs if t.subflow_run_id]
    artifacts = run_artifacts(run_store(url).engine, run.id)
    render = render_html if format == "html" else render_markdown
    text = render(run, subflows, artifacts)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
