"""Geometry of a drawn layout, for the layout tests: which edges cross which node boxes."""

from __future__ import annotations

from itertools import combinations, pairwise
from typing import Any

from jupyter_flows.core.layout import NODE_HEIGHT, NODE_WIDTH

Point = tuple[float, float]
EPS = 0.5  # a segment may touch a box's border: only its inside counts


def polylines(layout: dict[str, Any]) -> dict[tuple[str, str], list[Point]]:
    """Each edge's polyline (``points``, else the straight line the old layout drew)."""
    nodes = {n["id"]: n for n in layout["nodes"]}
    out: dict[tuple[str, str], list[Point]] = {}
    for e in layout["edges"]:
        if "points" in e:
            out[(e["source"], e["target"])] = [tuple(p) for p in e["points"]]  # type: ignore[misc]
            continue
        a, b = nodes[e["source"]], nodes[e["target"]]
        out[(e["source"], e["target"])] = [
            (a["x"] + NODE_WIDTH, a["y"] + NODE_HEIGHT / 2),
            (b["x"], b["y"] + NODE_HEIGHT / 2),
        ]
    return out


def _segment_hits_box(p: Point, q: Point, box: tuple[float, float, float, float]) -> bool:
    """Liang-Barsky: does segment ``pq`` enter the open box ``(x0, y0, x1, y1)``?"""
    x0, y0, x1, y1 = box[0] + EPS, box[1] + EPS, box[2] - EPS, box[3] - EPS
    dx, dy = q[0] - p[0], q[1] - p[1]
    lo, hi = 0.0, 1.0
    for num, den in ((p[0] - x0, -dx), (x1 - p[0], dx), (p[1] - y0, -dy), (y1 - p[1], dy)):
        if den == 0:
            if num < 0:
                return False
            continue
        t = num / den
        if den < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo > hi:
            return False
    return True


def edges_through_nodes(layout: dict[str, Any]) -> list[tuple[tuple[str, str], str]]:
    """``(edge, node)`` for every node box that an edge it does not connect passes through."""
    boxes = {
        n["id"]: (n["x"], n["y"], n["x"] + NODE_WIDTH, n["y"] + NODE_HEIGHT)
        for n in layout["nodes"]
    }
    hits = []
    for edge, pts in polylines(layout).items():
        for nid, box in boxes.items():
            if nid in edge:
                continue
            if any(_segment_hits_box(a, b, box) for a, b in pairwise(pts)):
                hits.append((edge, nid))
    return sorted(hits)


def _cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Do segments ab and cd properly cross (not merely touch)?"""

    def orient(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    o1, o2, o3, o4 = orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
    return o1 * o2 < 0 and o3 * o4 < 0


def crossings(layout: dict[str, Any]) -> int:
    """Pairs of edges without a common end whose polylines cross."""
    lines = polylines(layout)
    count = 0
    for (e1, p1), (e2, p2) in combinations(lines.items(), 2):
        if set(e1) & set(e2):
            continue
        if any(_cross(a, b, c, d) for a, b in pairwise(p1) for c, d in pairwise(p2)):
            count += 1
    return count
