"""A Markdown report of a flow run: the same facts, readable in a PR or an issue."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from .artifacts import artifacts_markdown
from .html import duration

__all__ = ["render_markdown"]

MAX_LOG_LINES = 200


def _cell(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def _mermaid_id(run_id: str) -> str:
    return "t" + run_id[-12:]


def render_markdown(
    run: Any, subflows: list[Any] | None = None, artifacts: Sequence[Any] = ()
) -> str:
    """The Markdown report of ``run`` (a ``DescribeFlowRun``) and its ``artifacts``."""
    lines = [
        f"# {run.flow_name} — {run.name}: **{run.state_name}**",
        "",
        "| | |",
        "|---|---|",
        f"| flow | `{_cell(run.flow_name)}` |",
        f"| run | `{run.id}` |",
        f"| state | {_cell(run.state_name)} {_cell(run.state_message)} |",
        f"| started | {run.start_time or ''} |",
        f"| ended | {run.end_time or ''} |",
        f"| duration | {duration(run)} |",
        f"| parameters | `{_cell(json.dumps(run.parameters, default=str))}` |",
        f"| tags | {_cell(', '.join(run.tags))} |",
        "",
        "## Run graph",
        "",
        "```mermaid",
        "graph LR",
    ]
    for t in run.task_runs:
        lines.append(f'  {_mermaid_id(t.id)}["{t.name.replace(chr(34), "")} ({t.state_name})"]')
    for e in run.edges:
        lines.append(f"  {_mermaid_id(e.upstream_id)} --> {_mermaid_id(e.downstream_id)}")
    lines += [
        "```",
        "",
        "## Task runs",
        "",
        "| task run | state | duration | attempts | cached | message |",
        "|---|---|---|---|---|---|",
    ]
    for t in run.task_runs:
        lines.append(
            f"| {_cell(t.name)} | {_cell(t.state_name)} | {duration(t)} | {t.run_count} | "
            f"{'yes' if t.state_name == 'Cached' else ''} | {_cell(t.state_message)} |"
        )
    failed = [
        t for t in run.task_runs if t.state_type and t.state_type.value in ("FAILED", "CRASHED")
    ]
    if failed:
        lines += ["", "## Failures", ""]
        lines += [f"- **{t.name}**: {t.state_message}" for t in failed]
    if subflows:
        lines += ["", "## Subflow runs", ""]
        lines += [f"- {s.flow_name} `{s.id}`: {s.state_name}" for s in subflows]
    lines += artifacts_markdown(artifacts)
    logs = [
        f"{log.timestamp.strftime('%H:%M:%S.%f')[:-3]} {logging.getLevelName(log.level):<7} "
        f"{log.message}"
        for log in run.logs
    ][-MAX_LOG_LINES:]
    lines += ["", "## Logs", "", "```", *logs, "```", ""]
    return "\n".join(lines)
