"""A self-contained HTML report of a flow run: no network, inline CSS and SVG."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from ..core.layout import layout_graph
from .artifacts import CSS as ARTIFACT_CSS
from .artifacts import artifacts_html
from .svg import graph_svg, state_color, timeline_svg

__all__ = ["render_html", "duration"]

CSS = """
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #656d76;
  --line: #d0d7de; --card: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117;
  --muted: #8d96a0; --line: #30363d; --card: #161b22; } }
body { font: 14px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg);
  margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.muted { color: var(--muted); } .badge { display: inline-block; padding: 1px 10px;
  border-radius: 10px; color: #fff; font-weight: 600; font-size: 12px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left;
  padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px; overflow-x: auto; }
pre { white-space: pre-wrap; margin: 0; font: 12px/1.4 ui-monospace, monospace; }
.level-ERROR, .level-CRITICAL { color: #d64545; } .level-WARNING { color: #b07d00; }
"""


def duration(run: Any) -> str:
    if run.start_time is None or run.end_time is None:
        return ""
    seconds = (run.end_time - run.start_time).total_seconds()
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _badge(state: str | None) -> str:
    return (
        f'<span class="badge" style="background:{state_color(state)}">{escape(state or "?")}</span>'
    )


def _row(cells: list[str]) -> str:
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def render_html(run: Any, subflows: list[Any] | None = None, artifacts: Sequence[Any] = ()) -> str:
    """The report of ``run`` (a ``DescribeFlowRun`` with task runs, states, logs, edges),
    with its subflow runs and ``artifacts`` (``DescribeArtifact``)."""
    subflows = subflows or []
    layout = layout_graph(run.graph)
    details = {
        t.id: {"duration": duration(t), "attempts": t.run_count, "message": t.state_message}
        for t in run.task_runs
    }
    summary = [
        ("Flow", escape(run.flow_name)),
        ("Run", f"{escape(run.name)} <span class='muted'>{escape(run.id)}</span>"),
        ("State", _badge(run.state_name) + f" {escape(run.state_message or '')}"),
        ("Started", escape(str(run.start_time or ""))),
        ("Ended", escape(str(run.end_time or ""))),
        ("Duration", duration(run)),
        ("Parameters", f"<pre>{escape(_params(run.parameters))}</pre>"),
        ("Tags", escape(", ".join(run.tags))),
    ]
    if run.parent_flow_run_id:
        summary.append(
            (
                "Parent run",
                f'<a href="{escape(run.parent_flow_run_id)}.html">'
                f"{escape(run.parent_flow_run_id)}</a>",
            )
        )
    tasks = [
        _row(
            [
                escape(t.name),
                _badge(t.state_name),
                duration(t),
                str(t.run_count),
                "yes" if t.state_name == "Cached" else "",
                escape(t.state_message or ""),
            ]
        )
        for t in run.task_runs
    ]
    subflow_rows = [
        _row(
            [
                f'<a href="{escape(s.id)}.html">{escape(s.name)}</a>',
                escape(s.flow_name),
                _badge(s.state_name),
                duration(s),
            ]
        )
        for s in subflows
    ]
    cells = [
        f"<details><summary>{escape(t.name)}</summary><pre>{escape(t.description or '')}</pre>"
        "</details>"
        for t in run.task_runs
        if "kernel.cells" in (t.task_key or "") and t.description
    ]
    logs = "\n".join(_log_line(log) for log in run.logs)
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(run.flow_name)} · {escape(run.name)}</title>",
        f"<style>{CSS}{ARTIFACT_CSS}</style></head>",
        f"<body><h1>{escape(run.flow_name)} {_badge(run.state_name)}</h1>",
        "<div class='muted'>flow run report · jupyter-flows</div>",
        "<h2>Summary</h2><table>",
        "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in summary),
        "</table><h2>Run graph</h2>",
        f"<div class='card' id='graph'>{graph_svg(layout, details)}</div>",
        "<h2>Timeline</h2>",
        f"<div class='card' id='timeline'>{timeline_svg(run.task_runs, run.task_states)}</div>",
        "<h2>Task runs</h2><table id='tasks'><tr><th>task run</th><th>state</th>"
        "<th>duration</th><th>attempts</th><th>cached</th><th>message</th></tr>",
        "".join(tasks),
        "</table>",
    ]
    if subflow_rows:
        out += [
            "<h2>Subflow runs</h2><table><tr><th>run</th><th>flow</th><th>state</th>"
            "<th>duration</th></tr>",
            "".join(subflow_rows),
            "</table>",
        ]
    out.append(artifacts_html(artifacts))
    if cells:
        out += ["<h2>Notebook cells</h2>", "".join(cells)]
    out += [f"<h2>Logs</h2><div class='card'><pre id='logs'>{logs}</pre></div></body></html>"]
    return "".join(out)


def _log_line(log: Any) -> str:
    level = _level(log.level)
    stamp = log.timestamp.strftime("%H:%M:%S.%f")[:-3]
    return f'<span class="level-{level}">{stamp} {level:<7} {escape(log.message)}</span>'


def _level(level: int) -> str:
    import logging

    return logging.getLevelName(level)


def _params(parameters: dict[str, Any]) -> str:
    import json

    return json.dumps(parameters, indent=2, default=str) if parameters else "{}"
