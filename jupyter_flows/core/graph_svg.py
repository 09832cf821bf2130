"""The run graph as an SVG picture (from ``core.layout``): pure string building.

Shared by reports, the widget's static fallback and ``Flow.visualize()``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from html import escape
from typing import Any

from .layout import NODE_HEIGHT, NODE_WIDTH

__all__ = ["STATE_COLORS", "PAD", "LEGEND_HEIGHT", "state_color", "edge_path", "graph_svg"]

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
LEGEND_HEIGHT = 28


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


def edge_path(points: Sequence[Sequence[float]], dx: float = 0, dy: float = 0) -> str:
    """SVG path data of an edge's polyline: straight inside a layer's band, an S-curve with
    horizontal ends in the gap between two layers (it stays inside the gap)."""
    if not points:
        return ""
    x0, y0 = points[0][0] + dx, points[0][1] + dy
    parts = [f"M {x0:g} {y0:g}"]
    for p in points[1:]:
        x1, y1 = p[0] + dx, p[1] + dy
        if y1 == y0:
            parts.append(f"L {x1:g} {y1:g}")
        else:
            mid = (x0 + x1) / 2
            parts.append(f"C {mid:g} {y0:g}, {mid:g} {y1:g}, {x1:g} {y1:g}")
        x0, y0 = x1, y1
    return " ".join(parts)


def _edge_points(edge: dict[str, Any], a: dict[str, Any], b: dict[str, Any]) -> list[Any]:
    """The edge's ``points``, or (a layout without them) right side of a to left side of b."""
    points = edge.get("points")
    if points:
        return list(points)
    return [(a["x"] + NODE_WIDTH, a["y"] + NODE_HEIGHT / 2), (b["x"], b["y"] + NODE_HEIGHT / 2)]


def _legend(layout: dict[str, Any], y: float) -> list[str]:
    """One swatch per state shown in the graph, in the order of ``STATE_COLORS``."""
    shown: set[str] = set()
    for node in layout.get("nodes", []):
        shown.update(k for k, v in (node.get("states") or {node.get("state"): 1}).items() if v)
        shown.add(node.get("state") or "")
    names = [name for name in STATE_COLORS if name in shown]
    names += sorted(name for name in shown - set(STATE_COLORS) if name)
    parts = ['<g class="jf-legend" font-size="11" font-family="sans-serif">']
    x = PAD
    for name in names:
        color = state_color(name)
        parts.append(
            f'<g class="jf-legend-item" data-state="{escape(name)}">'
            f'<circle cx="{x + 5}" cy="{y}" r="5" fill="{color}"/>'
            f'<text x="{x + 14}" y="{y + 4}" fill="currentColor">{escape(name)}</text></g>'
        )
        x += 24 + 7 * len(name)
    parts.append("</g>")
    return parts


def graph_svg(
    layout: dict[str, Any],
    details: dict[str, Any] | None = None,
    title: str = "run graph",
    legend: bool = True,
) -> str:
    """The run graph: state-coloured boxes, routed arrows, a tooltip per node, a legend.

    The arrowhead marker's id is derived from what is drawn: pictures of different graphs in
    one page keep their own arrowheads, and the same input gives the same SVG.
    """
    details = details or {}
    nodes = {n["id"]: n for n in layout.get("nodes", [])}
    legend = legend and bool(nodes)
    width = layout.get("width", 0) + 2 * PAD
    height = layout.get("height", 0) + 2 * PAD + (LEGEND_HEIGHT if legend else 0)
    drawn = json.dumps([layout, details, title], sort_keys=True, default=str)
    marker = f"jf-arrow-{hashlib.sha1(drawn.encode(), usedforsecurity=False).hexdigest()[:12]}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="jf-graph" width="{width:g}" '
        f'height="{height:g}" viewBox="0 0 {width:g} {height:g}" role="img" '
        f'aria-label="{escape(title)}">',
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#8a8f98"/></marker></defs>',
    ]
    for edge in layout.get("edges", []):
        a, b = nodes.get(edge["source"]), nodes.get(edge["target"])
        if a is None or b is None:
            continue
        d = edge_path(_edge_points(edge, a, b), PAD, PAD)
        parts.append(
            f'<path class="jf-edge" data-source="{escape(a["id"])}" '
            f'data-target="{escape(b["id"])}" d="{d}" fill="none" stroke="#8a8f98" '
            f'stroke-width="1.5" marker-end="url(#{marker})"/>'
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
            f'<rect x="{x:g}" y="{y:g}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="8" '
            f'fill="{color}" fill-opacity="0.15" stroke="{color}" stroke-width="2"/>'
            f'<circle cx="{x + 14:g}" cy="{y + NODE_HEIGHT / 2:g}" r="5" fill="{color}"/>'
            f'<text x="{x + 26:g}" y="{y + NODE_HEIGHT / 2 + 4:g}" font-size="12" '
            f'font-family="sans-serif" fill="currentColor">{escape(label)}</text></g>'
        )
    if legend:
        parts.extend(_legend(layout, height - PAD - 10))
    parts.append("</svg>")
    return "".join(parts)
