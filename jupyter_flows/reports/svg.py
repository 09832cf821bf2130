"""SVG pictures of a run: the graph (drawn by ``core.graph_svg``) and a Gantt timeline.

Pure string building (no dependencies), shared by reports and the widget's static fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from ..core.graph_svg import PAD, STATE_COLORS, graph_svg, state_color

__all__ = ["STATE_COLORS", "state_color", "graph_svg", "timeline_svg"]


def _seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def timeline_svg(task_runs: Sequence[Any], states: Sequence[Any], width: int = 900) -> str:
    """A Gantt chart: one row per task run, one bar per attempt, retry waits hatched."""
    runs = [t for t in task_runs if (t.start_time or t.end_time) is not None]
    if not runs:
        return '<svg xmlns="http://www.w3.org/2000/svg" class="jf-timeline" width="1" height="1"/>'
    t0 = min(_start(t) for t in runs)
    t1 = max((t.end_time or _start(t)) for t in runs)
    span = max(_seconds(t0, t1), 1e-3)
    label_w, row_h, top = 170, 22, 24
    plot_w = width - label_w - PAD
    height = top + row_h * len(runs) + PAD

    def x(at: datetime) -> float:
        return label_w + plot_w * _seconds(t0, at) / span

    by_run: dict[str, list[Any]] = {}
    for s in states:
        by_run.setdefault(s.run_id, []).append(s)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="jf-timeline" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="timeline">',
        '<defs><pattern id="jf-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#9aa0a6" '
        'stroke-width="2"/></pattern></defs>',
    ]
    for i in range(6):
        tx = label_w + plot_w * i / 5
        parts.append(
            f'<line x1="{tx}" y1="{top - 6}" x2="{tx}" y2="{height - PAD}" stroke="#8a8f98" '
            f'stroke-opacity="0.3"/><text x="{tx}" y="{top - 10}" font-size="10" '
            f'text-anchor="middle" font-family="sans-serif" fill="currentColor">'
            f"{span * i / 5:.2f}s</text>"
        )
    for row, run in enumerate(runs):
        y = top + row * row_h
        parts.append(
            f'<text x="4" y="{y + 15}" font-size="11" font-family="sans-serif" '
            f'fill="currentColor">{escape(run.name[:26])}</text>'
        )
        segments = _segments(run, by_run.get(run.id, []))
        for start, end, kind in segments:
            w = max(x(end) - x(start), 2.0)
            fill = "url(#jf-hatch)" if kind == "AwaitingRetry" else state_color(kind)
            parts.append(
                f'<rect class="jf-bar" data-kind="{escape(kind)}" x="{x(start):.1f}" '
                f'y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" rx="3" fill="{fill}">'
                f"<title>{escape(run.name)}: {escape(kind)} "
                f"{_seconds(start, end):.3f}s</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _start(run: Any) -> datetime:
    start: datetime = run.start_time or run.end_time
    return start


def _segments(run: Any, history: Sequence[Any]) -> list[tuple[datetime, datetime, str]]:
    """(start, end, kind) per attempt and retry wait, from the run's state history."""
    final = run.state_name or "Completed"
    end = run.end_time or _start(run)
    ordered = sorted(history, key=lambda s: s.timestamp)
    segments: list[tuple[datetime, datetime, str]] = []
    open_at: datetime | None = None
    open_kind = ""
    for s in ordered:
        if open_at is not None and s.name != open_kind:
            kind = final if open_kind in ("Running", "Retrying") else open_kind
            if open_kind in ("Running", "Retrying") and s.name == "AwaitingRetry":
                kind = "Failed"
            segments.append((open_at, s.timestamp, kind))
            open_at = None
        if s.name in ("Running", "Retrying", "AwaitingRetry"):
            open_at, open_kind = s.timestamp, s.name
    if open_at is not None:
        segments.append((open_at, end, final))
    if not segments:
        segments.append((_start(run), end, final))
    return segments
