"""Run graphs as ``networkx.DiGraph``: build, validate, order (networkx imported lazily)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import CycleError

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["build_graph", "check_acyclic", "topological_order"]


def build_graph(
    nodes: Iterable[tuple[Hashable, Mapping[str, Any]]],
    edges: Iterable[tuple[Hashable, Hashable, Mapping[str, Any]]],
) -> nx.DiGraph:
    """A DiGraph from ``(node, attrs)`` and ``(upstream, downstream, attrs)``; checks for cycles."""
    import networkx as nx

    graph = nx.DiGraph()
    for node, attrs in nodes:
        graph.add_node(node, **attrs)
    for upstream, downstream, attrs in edges:
        graph.add_edge(upstream, downstream, **attrs)
    check_acyclic(graph)
    return graph


def check_acyclic(graph: nx.DiGraph) -> None:
    """Raise ``CycleError`` naming the nodes of a cycle, if there is one."""
    import networkx as nx

    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    names = [str(graph.nodes[u].get("name", u)) for u, _v in cycle]
    names.append(names[0])
    raise CycleError(names)


def topological_order(graph: nx.DiGraph) -> list[Hashable]:
    """Nodes in dependency order (ties in insertion order)."""
    import networkx as nx

    check_acyclic(graph)
    index = {node: i for i, node in enumerate(graph.nodes)}
    return list(nx.lexicographical_topological_sort(graph, key=lambda n: index[n]))
