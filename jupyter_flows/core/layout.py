"""One layout of a run graph, shared by the notebook widget, reports and the side panel.

A layered (Sugiyama) drawing, left to right: layers by longest path from the sources,
crossings reduced by grandalf's barycenter sweeps, coordinates by Brandes & Köpf, and a
dummy vertex per layer that a long edge spans, so edges are polylines that route around the
nodes between their ends. Every node box is ``NODE_WIDTH`` wide, so each layer is a band
of the same width; an edge's polyline is horizontal inside a band (through its dummy's slot)
and diagonal only in the gaps between bands, where there are no nodes.

Large groups of runs of the same task in the same layer (``.map``) collapse into one node
with per-state counts, so a 10,000-run graph stays a readable picture. Nodes without edges
wrap into a grid under the connected part. Connected parts beyond ``SUGIYAMA_LIMIT``
vertices (dummies included, all parts together) are too big for pure-Python Sugiyama: they
are laid out by one barycenter pass with straight edges (which may cross nodes).

``grandalf`` is imported only inside the layout function: importing ``jupyter_flows.core``
does not load it.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["layout_graph", "NODE_WIDTH", "NODE_HEIGHT"]

logger = logging.getLogger(__name__)

NODE_WIDTH = 160
NODE_HEIGHT = 36
GAP_X = 60  # between layers
GAP_Y = 14  # between nodes of a layer
DUMMY_SIZE = 8  # the slot a long edge takes in a layer it passes
COMPONENT_GAP = 28
COLLAPSE_THRESHOLD = 8
SUGIYAMA_LIMIT = 1500
GRID_ASPECT = 16 / 9  # the shape the grid of isolated nodes aims for

Point = tuple[float, float]


def _group_key(graph: nx.DiGraph, node: Hashable, layer: int) -> tuple[str, int]:
    attrs = graph.nodes[node]
    return (str(attrs.get("task_key") or attrs.get("task_name") or node), layer)


def layout_graph(graph: nx.DiGraph, collapse_threshold: int = COLLAPSE_THRESHOLD) -> dict[str, Any]:
    """Positions for drawing ``graph``: ``{"nodes": [...], "edges": [...], "width", "height"}``.

    Each node dict has ``id``, ``label``, ``x``, ``y`` (top-left corner of its box),
    ``layer``, ``state`` (the state name for single runs, the most urgent one for a group),
    ``count``, ``states`` (counts by state name) and ``members`` (run ids, only for groups
    up to 50). Each edge dict has ``source``, ``target`` and ``points``: the polyline from
    the right side of the source box to the left side of the target box.
    """
    import networkx as nx

    generations = list(nx.topological_generations(graph))
    layer_of = {node: i for i, gen in enumerate(generations) for node in gen}
    groups: dict[tuple[str, int], list[Hashable]] = defaultdict(list)
    for node in graph.nodes:  # insertion order = creation order
        groups[_group_key(graph, node, layer_of[node])].append(node)
    node_to_group: dict[Hashable, str] = {}
    vertices: dict[str, dict[str, Any]] = {}
    for (task_key, layer), members in groups.items():
        if len(members) >= collapse_threshold:
            gid = f"group:{task_key}:{layer}"
            states = Counter(str(graph.nodes[m].get("state_name", "Pending")) for m in members)
            label = str(graph.nodes[members[0]].get("task_name") or task_key)
            vertices[gid] = {
                "id": gid,
                "label": f"{label} ×{len(members)}",
                "layer": layer,
                "count": len(members),
                "states": dict(states),
                "state": _most_urgent(states),
                "members": [str(m) for m in members[:50]],
            }
            for m in members:
                node_to_group[m] = gid
        else:
            for m in members:
                attrs = graph.nodes[m]
                state = str(attrs.get("state_name", "Pending"))
                vertices[str(m)] = {
                    "id": str(m),
                    "label": str(attrs.get("name") or m),
                    "layer": layer,
                    "count": 1,
                    "states": {state: 1},
                    "state": state,
                    "members": [str(m)],
                }
                node_to_group[m] = str(m)
    edges = sorted(
        {
            (node_to_group[u], node_to_group[v])
            for u, v in graph.edges
            if node_to_group[u] != node_to_group[v]
        }
    )
    points = _place(vertices, edges)
    width = max((v["x"] for v in vertices.values()), default=0) + NODE_WIDTH
    height = max(
        max((v["y"] + NODE_HEIGHT for v in vertices.values()), default=0),
        max((y + DUMMY_SIZE / 2 for route in points.values() for _, y in route), default=0),
    )
    return {
        "nodes": list(vertices.values()),
        "edges": [{"source": s, "target": t, "points": points[(s, t)]} for s, t in edges],
        "width": width if vertices else 0,
        "height": height if vertices else 0,
    }


_URGENCY = ["Crashed", "Failed", "TimedOut", "Running", "Retrying", "AwaitingRetry", "Pending"]


def _most_urgent(states: Counter[str]) -> str:
    for name in _URGENCY:
        if states.get(name):
            return name
    return states.most_common(1)[0][0] if states else "Pending"


# --------------------------------------------------------------------------- placement


class _Part:
    """One laid-out connected part: node centres (layer, y) and edge routes, local coords."""

    def __init__(self) -> None:
        self.layer: dict[str, int] = {}
        self.cy: dict[str, float] = {}  # centre y of each node
        self.routes: dict[tuple[str, str], list[tuple[int, float]]] = {}  # (layer, y) per dummy

    @property
    def height(self) -> float:
        ys = list(self.cy.values()) + [y for r in self.routes.values() for _, y in r]
        return max(ys) - min(ys) + NODE_HEIGHT if ys else 0.0

    def shift(self, dy: float) -> None:
        self.cy = {k: y + dy for k, y in self.cy.items()}
        self.routes = {k: [(r, y + dy) for r, y in route] for k, route in self.routes.items()}

    def top(self) -> float:
        ys = list(self.cy.values()) + [y for r in self.routes.values() for _, y in r]
        return min(ys) - NODE_HEIGHT / 2 if ys else 0.0


def _components(
    vertices: dict[str, dict[str, Any]], edges: list[tuple[str, str]]
) -> tuple[list[list[str]], list[str]]:
    """Connected parts (vertex ids in insertion order) and the isolated vertices."""
    neighbours: dict[str, list[str]] = defaultdict(list)
    for s, t in edges:
        neighbours[s].append(t)
        neighbours[t].append(s)
    part_of: dict[str, int] = {}
    count = 0
    isolated: list[str] = []
    for vid in vertices:
        if vid in part_of:
            continue
        if vid not in neighbours:
            isolated.append(vid)
            continue
        stack = [vid]
        part_of[vid] = count
        while stack:
            for n in neighbours[stack.pop()]:
                if n not in part_of:
                    part_of[n] = count
                    stack.append(n)
        count += 1
    parts: list[list[str]] = [[] for _ in range(count)]
    for vid, i in part_of.items():
        parts[i].append(vid)
    order = {vid: i for i, vid in enumerate(vertices)}
    for part in parts:
        part.sort(key=order.__getitem__)
    return parts, isolated


def _place(
    vertices: dict[str, dict[str, Any]], edges: list[tuple[str, str]]
) -> dict[tuple[str, str], list[Point]]:
    """Set ``x``, ``y`` and ``layer`` of every vertex; the polyline of every edge."""
    parts, isolated = _components(vertices, edges)
    by_part: dict[int, list[tuple[str, str]]] = defaultdict(list)
    part_of = {vid: i for i, part in enumerate(parts) for vid in part}
    for s, t in edges:
        by_part[part_of[s]].append((s, t))
    laid: list[_Part] = []
    budget = SUGIYAMA_LIMIT  # for all parts together: pure-Python Sugiyama is slow
    for i, part in enumerate(parts):
        part_edges = by_part[i]
        size = _sugiyama_size(part, part_edges, vertices)
        if size <= budget:
            budget -= size
            laid.append(_sugiyama(part, part_edges))
        else:
            logger.debug("part of %d vertices: one barycenter pass", len(part))
            laid.append(_barycenter(part, part_edges, vertices))
    top = 0.0
    routes: dict[tuple[str, str], list[tuple[int, float]]] = {}
    max_layer = 0
    for p in laid:
        p.shift(top - p.top())
        top += p.height + COMPONENT_GAP
        for vid, layer in p.layer.items():
            vertices[vid]["layer"] = layer
            vertices[vid]["x"] = layer * (NODE_WIDTH + GAP_X)
            vertices[vid]["y"] = round(p.cy[vid] - NODE_HEIGHT / 2, 2)
            max_layer = max(max_layer, layer)
        routes.update(p.routes)
    if isolated:
        columns = _grid_columns(len(isolated), max_layer + 1 if laid else 0)
        for i, vid in enumerate(isolated):
            row, col = divmod(i, columns)
            vertices[vid]["layer"] = 0
            vertices[vid]["x"] = col * (NODE_WIDTH + GAP_X)
            vertices[vid]["y"] = round(top + row * (NODE_HEIGHT + GAP_Y), 2)
    return {(s, t): _polyline(vertices[s], vertices[t], routes.get((s, t), [])) for s, t in edges}


def _grid_columns(n: int, layers: int) -> int:
    """Columns of the grid of ``n`` isolated nodes: as wide as the graph above, or ~16:9."""
    cell_w, cell_h = NODE_WIDTH + GAP_X, NODE_HEIGHT + GAP_Y
    columns = math.ceil(math.sqrt(n * GRID_ASPECT * cell_h / cell_w))
    return max(1, min(n, max(columns, layers)))


def _polyline(
    source: dict[str, Any], target: dict[str, Any], route: list[tuple[int, float]]
) -> list[Point]:
    """Right side of ``source``, through each dummy slot's band horizontally, left of ``target``."""
    pitch = NODE_WIDTH + GAP_X
    pts: list[Point] = [(source["x"] + NODE_WIDTH, source["y"] + NODE_HEIGHT / 2)]
    for layer, y in route:
        y = round(y, 2)
        pts.append((layer * pitch, y))
        pts.append((layer * pitch + NODE_WIDTH, y))
    pts.append((target["x"], target["y"] + NODE_HEIGHT / 2))
    return [(float(x), float(y)) for x, y in pts]


def _sugiyama_size(
    part: list[str], edges: list[tuple[str, str]], vertices: dict[str, dict[str, Any]]
) -> int:
    """Vertices plus dummies, estimated with the topological layers."""
    layer = {vid: vertices[vid]["layer"] for vid in part}
    return len(part) + int(sum(max(0, layer[t] - layer[s] - 1) for s, t in edges))


class _View:
    """grandalf's vertex view: ``w`` across a layer (our y), ``h`` along (our x)."""

    def __init__(self, w: float, h: float) -> None:
        self.w = w
        self.h = h
        self.xy: tuple[float, float] = (0.0, 0.0)


def _sugiyama(part: list[str], edges: list[tuple[str, str]]) -> _Part:
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    gv = {vid: Vertex(vid) for vid in part}
    for v in gv.values():
        v.view = _View(NODE_HEIGHT, NODE_WIDTH)
    ge = {(s, t): Edge(gv[s], gv[t]) for s, t in edges}
    graph = Graph(list(gv.values()), list(ge.values()))
    sug = SugiyamaLayout(graph.C[0])
    sug.xspace, sug.yspace = GAP_Y, GAP_X
    sug.dw, sug.dh = DUMMY_SIZE, NODE_WIDTH  # dummies: a thin slot, a full layer band
    has_parent = {t for _, t in edges}
    sug.init_all(roots=[gv[v] for v in part if v not in has_parent], inverted_edges=[])
    size = len(sug.grx)
    sug.draw(N=8.5 if size <= 200 else 2.5 if size <= 600 else 1.5)
    out = _Part()
    for vid, v in gv.items():
        out.layer[vid] = sug.grx[v].rank
        out.cy[vid] = float(v.view.xy[0])
    for key, e in ge.items():
        ctrl = sug.ctrls.get(e)
        if ctrl:
            r0, r1 = out.layer[key[0]], out.layer[key[1]]
            out.routes[key] = [(r, float(ctrl[r].view.xy[0])) for r in range(r0 + 1, r1)]
    return out


def _barycenter(
    part: list[str], edges: list[tuple[str, str]], vertices: dict[str, dict[str, Any]]
) -> _Part:
    """The fallback for huge parts: topological layers, one barycenter pass, no dummies."""
    parents: dict[str, list[str]] = defaultdict(list)
    for s, t in edges:
        parents[t].append(s)
    layers: dict[int, list[str]] = defaultdict(list)
    for vid in part:
        layers[vertices[vid]["layer"]].append(vid)
    position: dict[str, float] = {}
    out = _Part()
    for layer in sorted(layers):
        ids = layers[layer]
        order = {vid: i for i, vid in enumerate(ids)}

        def barycenter(vid: str, order: dict[str, int] = order) -> tuple[float, int]:
            ps = [position[p] for p in parents.get(vid, ()) if p in position]
            return (sum(ps) / len(ps) if ps else float("inf"), order[vid])

        ids.sort(key=barycenter)
        for i, vid in enumerate(ids):
            position[vid] = float(i)
            out.layer[vid] = layer
            out.cy[vid] = i * (NODE_HEIGHT + GAP_Y) + NODE_HEIGHT / 2
    return out
