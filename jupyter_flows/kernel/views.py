"""What the ``%flow`` magic shows: the DAG widget, live runs, status and run tables."""

from __future__ import annotations

import contextlib
import html
from collections.abc import Iterator
from typing import Any

from ..core.open_runs import OpenFlowRun
from ..core.states import State
from .notebook_flow import NotebookFlow

__all__ = ["dag_widget", "live_run", "RunSummary", "StatusTable", "RunsTable", "write_report"]


def _dag(notebook: NotebookFlow) -> Any:
    graph = notebook.dataflow().graph.copy()
    for name in graph.nodes:
        last = notebook.last.get(name)
        graph.nodes[name].update(
            name=name, task_name=name, state_name=last.state.name if last else "Pending"
        )
    return graph


def dag_widget(notebook: NotebookFlow) -> Any:
    """A run-graph widget of the notebook's tasks, coloured by their latest state."""
    from ..widgets.run_graph import RunGraphWidget

    widget = RunGraphWidget(title=f"notebook flow {notebook.name}")
    widget.set_graph(_dag(notebook))
    for name, last in notebook.last.items():
        widget.update_node(
            name,
            state=last.state.name,
            duration=round(last.duration, 3),
            attempts=last.attempts,
            message=last.state.message,
        )
    widget.flush()
    return widget


@contextlib.contextmanager
def live_run(notebook: NotebookFlow) -> Iterator[Any]:
    """Show the DAG widget and keep it updated while ``%flow run`` runs."""
    from IPython.display import display

    from ..core import settings
    from ..widgets.observer import LiveRunObserver

    widget = dag_widget(notebook)
    for name in widget_nodes(notebook):
        widget.update_node(name, state="Pending", message=None)
    handle = display(widget, display_id=True)
    observer = LiveRunObserver(widget, node_key="task_name")
    settings.add_observer(observer)
    try:
        yield widget
    finally:
        settings.remove_observer(observer)
        widget.flush()
        if handle is not None:
            # without a frontend, the output is the static SVG taken at display time: redo it
            # with the final states (a live frontend re-renders a view of the same model)
            handle.update(widget)


def widget_nodes(notebook: NotebookFlow) -> list[str]:
    return list(notebook.cells)


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _table(headers: list[str], rows: list[list[str]]) -> tuple[str, str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    text = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    for row in rows:
        text += "\n" + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{html.escape(c)}</td>" for c in r) + "</tr>"
        for r in rows
    )
    return text, f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Tabular:
    headers: list[str]
    caption = ""

    def rows(self) -> list[list[str]]:
        raise NotImplementedError

    def __repr__(self) -> str:
        text, _ = _table(self.headers, self.rows())
        return f"{self.caption}\n{text}" if self.caption else text

    def _repr_html_(self) -> str:
        _, table = _table(self.headers, self.rows())
        caption = f"<p><b>{html.escape(self.caption)}</b></p>" if self.caption else ""
        return caption + table


class StatusTable(_Tabular):
    """The latest run of each task cell, and whether it is stale."""

    headers = ["task", "state", "duration", "attempts", "stale", "reads", "defines"]

    def __init__(self, notebook: NotebookFlow):
        self.notebook = notebook
        self.caption = f"notebook flow {notebook.name}: {len(notebook.cells)} task(s)"

    def rows(self) -> list[list[str]]:
        graph = self.notebook.dataflow()
        stale = set(self.notebook.stale())
        out = []
        for name in graph.order:
            cell = self.notebook.cells[name]
            last = self.notebook.last.get(name)
            out.append(
                [
                    name,
                    last.state.name if last else "never run",
                    _fmt_seconds(last.duration) if last else "",
                    str(last.attempts) if last else "",
                    "yes" if name in stale else "",
                    ", ".join(sorted(cell.names.reads)),
                    ", ".join(sorted(cell.names.defines)),
                ]
            )
        return out


class RunSummary(_Tabular):
    """The result of ``%flow run``: the flow run, how its tasks ended, each task's state."""

    headers = ["task", "state", "message"]

    def __init__(self, run: OpenFlowRun, states: dict[str, State], outcome: State):
        self.run = run
        self.states = states
        self.outcome = outcome
        if run.adopted:  # the deployment run goes on: its process records how it ends
            self.caption = f"tasks of flow run {run.info.name!r} ({run.id}) {outcome.name}"
        else:
            self.caption = f"flow run {run.info.name!r} ({run.id}) ended {outcome.name}"
        if outcome.message:
            self.caption += f": {outcome.message}"

    def rows(self) -> list[list[str]]:
        return [[n, s.name, s.message or ""] for n, s in self.states.items()]


class RunsTable(_Tabular):
    """Recent flow runs from the database."""

    headers = ["run", "flow", "state", "started", "duration", "id"]

    def __init__(self, flow_name: str | None, limit: int):
        from ..store.api import read_flow_runs

        filters: dict[str, Any] = {"limit": limit}
        if flow_name:
            filters["flow_name"] = flow_name
        self.items = list(read_flow_runs(**filters))
        self.caption = f"{len(self.items)} most recent run(s)" + (
            f" of {flow_name}" if flow_name else ""
        )

    def rows(self) -> list[list[str]]:
        return [
            [
                r.name,
                r.flow_name,
                r.state_name or "",
                r.start_time.strftime("%Y-%m-%d %H:%M:%S") if r.start_time else "",
                _fmt_seconds(r.total_run_time),
                r.id,
            ]
            for r in self.items
        ]


def write_report(
    notebook: NotebookFlow, run_id: str | None, output: str | None, fmt: str | None
) -> str:
    """Write a report of ``run_id`` (default: this notebook's latest run); returns the path."""
    from ..reports import report
    from ..store.api import read_flow_runs

    if run_id is None:
        latest = read_flow_runs(flow_name=notebook.name, limit=1)
        if not latest:
            raise ValueError(f"no runs of {notebook.name!r} yet: run a %%task cell first")
        run_id = latest[0].id
    if fmt is None:
        fmt = "md" if output and output.endswith(".md") else "html"
    output = output or f"{notebook.name}-{run_id[:8]}.{fmt}"
    report(run_id, format=fmt, path=output)
    print(f"[jupyter-flows] report written to {output}")
    return output
