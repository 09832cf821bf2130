"""The run graph as an SVG picture (from ``core.layout``): pure string building.

Shared by reports, the widget's static fallback and ``Flow.visualize()``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .layout import NODE_HEIGHT, NODE_WIDTH

__all__ = ["STATE_COLORS", "PAD", "state_color", "graph_svg"]

STATE_COLORS = {
    "Completed": "#2e9e5b",
    "Cached": "#1f9e9e",
    "Failed": "#d64545",
    "TimedOut": "#d64545",
    "Crashed": "#d64545",
    "Running": "#3b7dd8",
    "Retrying": "#3b7dd8",
    "Pending": "#9aa0a6",
    "Scheduled": "#9aa0a6",
    "AwaitingRetry": "#9aa0a6",
    "Late": "#9aa0a6",
    "Cancelled": "#5f6368",
    "Cancelling": "#5f6368",
}
PAD = 12


def state_color(state: str | None) -> str:
    return STATE_COLORS.get(state or "", "#9aa0a6")


def _tooltip(node: dict[str, Any]) -> str:
    state = node.get("state")
    lines = [f"{node['label']}: {state}" if state else str(node["label"])]
    if node.get("count", 1) > 1:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(node["states"].items()) if k)
        if counts:
            lines.append(counts)
    details = node.get("details") or {}
    for key in ("duration", "attempts", "message"):
        if details.get(key) not in (None, ""):
            lines.append(f"{key}: {details[key]}")
    return "\n".join(lines)


def graph_svg(
    layout: dict[str, Any], details: dict[str, Any] | None = None, title: str = "run graph"
) -> str:
    """The run graph: state-coloured boxes, curved arrows, a tooltip per node."""
    details = details or {}
    width = layout.get("width", 0) + 2 * PAD
    height = layout.get("height", 0) + 2 * PAD
    nodes = {n["id"]: n for n in layout.get("nodes", [])}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="jf-graph" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        '<defs><marker id="jf-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#8a8f98"/></marker></defs>',
    ]
    for edge in layout.get("edges", []):
        a, b = nodes.get(edge["source"]), nodes.get(edge["target"])
        if a is None or b is None:
            continue
        x1, y1 = a["x"] + NODE_WIDTH + PAD, a["y"] + NODE_HEIGHT / 2 + PAD
        x2, y2 = b["x"] + PAD, b["y"] + NODE_HEIGHT / 2 + PAD
        mid = (x1 + x2) / 2
        parts.append(
            f'<path class="jf-edge" d="M {x1} {y1} C {mid} {y1}, {mid} {y2}, {x2} {y2}" '
            'fill="none" stroke="#8a8f98" stroke-width="1.5" marker-end="url(#jf-arrow)"/>'
        )
    for node in nodes.values():
        merged = dict(node, details={**(node.get("details") or {}), **details.get(node["id"], {})})
        state = merged["details"].get("state") or node["state"]
        color = state_color(state)
        x, y = node["x"] + PAD, node["y"] + PAD
        label = node["label"] if len(node["label"]) <= 22 else node["label"][:21] + "…"
        parts.append(
            f'<g class="jf-node" data-id="{escape(node["id"])}" data-state="{escape(state)}">'
            f"<title>{escape(_tooltip(dict(merged, state=state)))}</title>"
            f'<rect x="{x}" y="{y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="8" '
            f'fill="{color}" fill-opacity="0.15" stroke="{color}" stroke-width="2"/>'
            f'<circle cx="{x + 14}" cy="{y + NODE_HEIGHT / 2}" r="5" fill="{color}"/>'
            f'<text x="{x + 26}" y="{y + NODE_HEIGHT / 2 + 4}" font-size="12" '
            f'font-family="sans-serif" fill="currentColor">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
