"""Prefect's ``prefect.utilities.visualization``: a flow's graph, traced without running it."""

from __future__ import annotations

from ..core.visualize import FlowGraph, VisualizationUnsupportedError, generate_mermaid_graph

__all__ = ["FlowGraph", "VisualizationUnsupportedError", "generate_mermaid_graph"]
