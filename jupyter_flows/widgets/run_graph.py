"""``RunGraphWidget``: the run's DAG, coloured by state, updated live and throttled."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..core.layout import layout_graph

__all__ = ["RunGraphWidget"]

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


class RunGraphWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """A run graph drawn in the notebook; the same layout as reports and the side panel.

    ``update_node`` calls are batched: the frontend gets at most one update every
    ``interval`` seconds (and a final one on ``flush``), so big runs don't flood the comm.

    The synced layout is the trait ``graph`` (``core.layout.layout_graph``'s dict): a trait
    named ``layout`` would shadow ``DOMWidget.layout``, which the frontend's widget manager
    resolves as a ``Layout`` model (and fails on). Without a frontend (nbclient, papermill,
    nbconvert) the output is the SVG of the current graph, ``image/svg+xml``.
    """

    _esm = STATIC / "run_graph.js"
    _css = STATIC / "run_graph.css"
    graph = traitlets.Dict().tag(sync=True)
    details = traitlets.Dict().tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)

    def __init__(self, interval: float = 0.15, **kwargs: Any):
        super().__init__(**kwargs)
        self.interval = interval
        self._graph: Any = None
        self._pending: dict[str, dict[str, Any]] = {}
        self._structure_dirty = False
        self._lock = threading.Lock()
        self._last_push = 0.0
        self._timer: threading.Timer | None = None

    def set_graph(self, graph: Any) -> None:
        """Show ``graph`` (a networkx DiGraph; node attrs ``name``, ``state_name``...)."""
        with self._lock:
            self._graph = graph
            self._structure_dirty = True
        self.flush()

    def add_node(self, node_id: str, **attrs: Any) -> None:
        """Add a node (and mark the layout for recomputation at the next push)."""
        import networkx as nx

        with self._lock:
            if self._graph is None:
                self._graph = nx.DiGraph()
            self._graph.add_node(node_id, **attrs)
            self._structure_dirty = True
        self._schedule()

    def add_edge(self, upstream: str, downstream: str) -> None:
        with self._lock:
            if self._graph is not None and upstream in self._graph and downstream in self._graph:
                self._graph.add_edge(upstream, downstream)
                self._structure_dirty = True
        self._schedule()

    def update_node(self, node_id: str, **attrs: Any) -> None:
        """Record new facts about a node (state, duration, attempts, message)."""
        with self._lock:
            self._pending.setdefault(node_id, {}).update(attrs)
            if self._graph is not None and node_id in self._graph and "state" in attrs:
                self._graph.nodes[node_id]["state_name"] = attrs["state"]
        self._schedule()

    def _schedule(self) -> None:
        now = time.monotonic()
        if now - self._last_push >= self.interval:
            self.flush()
            return
        with self._lock:
            if self._timer is None:
                delay = self.interval - (now - self._last_push)
                self._timer = threading.Timer(max(delay, 0.0), self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        """Send everything pending to the frontend now."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            pending, self._pending = self._pending, {}
            relayout = self._structure_dirty and self._graph is not None
            self._structure_dirty = False
            self._last_push = time.monotonic()
            graph = self._graph
        if relayout:
            self.graph = layout_graph(graph)
        elif pending and self.graph:
            states = {k: v["state"] for k, v in pending.items() if "state" in v}
            if states:
                nodes = [dict(n) for n in self.graph["nodes"]]
                for node in nodes:
                    if node["id"] in states and node["count"] == 1:
                        node["state"] = states[node["id"]]
                        node["states"] = {states[node["id"]]: 1}
                self.graph = {**self.graph, "nodes": nodes}
        if pending:
            merged = dict(self.details)
            for key, attrs in pending.items():
                merged[key] = {**merged.get(key, {}), **attrs}
            self.details = merged

    def svg(self) -> str:
        """The current graph as SVG (the drawing of reports), with the latest details."""
        from ..reports.svg import graph_svg

        self.flush()
        return graph_svg(self.graph or {"nodes": [], "edges": []}, self.details, self.title)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        svg = self.svg()
        static = {"image/svg+xml": svg, "text/html": svg}
        if isinstance(bundle, tuple):
            data, metadata = bundle
            return {**data, **static}, metadata
        return {**(bundle or {}), **static}

    def __repr__(self) -> str:
        nodes = len(self.graph.get("nodes", [])) if self.graph else 0
        return f"RunGraphWidget({self.title!r}, {nodes} nodes)"
