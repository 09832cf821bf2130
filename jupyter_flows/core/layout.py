"""One layout of a run graph, shared by the notebook widget, reports and the side panel.

Layered left to right by topological generations; within a layer, nodes are ordered by
the mean position of their parents (one barycenter pass). Large groups of runs of the same
task in the same layer (``.map``) collapse into one node with per-state counts, so a
10,000-run graph stays a readable picture.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["layout_graph", "NODE_WIDTH", "NODE_HEIGHT"]

NODE_WIDTH = 160
NODE_HEIGHT = 36
GAP_X = 60
GAP_Y = 14
COLLAPSE_THRESHOLD = 8


def _group_key(graph: nx.DiGraph, node: Hashable, layer: int) -> tuple[str, int]:
    attrs = graph.nodes[node]
    return (str(attrs.get("task_key") or attrs.get("task_name") or node), layer)


def layout_graph(graph: nx.DiGraph, collapse_threshold: int = COLLAPSE_THRESHOLD) -> dict[str, Any]:
    """Positions for drawing ``graph``: ``{"nodes": [...], "edges": [...], "width", "height"}``.

    Each node dict has ``id``, ``label``, ``x``, ``y``, ``layer``, ``state`` (the state name
    for single runs, the most urgent one for a group), ``count``, ``states`` (counts by
    state name) and ``members`` (run ids, only for groups up to 50).
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
    _place(vertices, edges)
    width = max((v["x"] for v in vertices.values()), default=0) + NODE_WIDTH
    height = max((v["y"] for v in vertices.values()), default=0) + NODE_HEIGHT
    return {
        "nodes": list(vertices.values()),
        "edges": [{"source": s, "target": t} for s, t in edges],
        "width": width,
        "height": height,
    }


_URGENCY = ["Crashed", "Failed", "TimedOut", "Running", "Retrying", "AwaitingRetry", "Pending"]


def _most_urgent(states: Counter[str]) -> str:
    for name in _URGENCY:
        if states.get(name):
            return name
    return states.most_common(1)[0][0] if states else "Pending"


def _place(vertices: dict[str, dict[str, Any]], edges: list[tuple[str, str]]) -> None:
    parents: dict[str, list[str]] = defaultdict(list)
    for s, t in edges:
        parents[t].append(s)
    layers: dict[int, list[str]] = defaultdict(list)
    for vid, v in vertices.items():
        layers[v["layer"]].append(vid)
    position: dict[str, float] = {}
    for layer in sorted(layers):
        ids = layers[layer]
        if layer > 0:
            order = {vid: i for i, vid in enumerate(ids)}

            def barycenter(vid: str, order: dict[str, int] = order) -> tuple[float, int]:
                ps = [position[p] for p in parents.get(vid, ()) if p in position]
                return (sum(ps) / len(ps) if ps else float("inf"), order[vid])

            ids.sort(key=barycenter)
        for i, vid in enumerate(ids):
            position[vid] = float(i)
            vertices[vid]["x"] = layer * (NODE_WIDTH + GAP_X)
            vertices[vid]["y"] = i * (NODE_HEIGHT + GAP_Y)
