"""``%load_ext jupyter_flows``: register the magics (and who knows the ambient flow run)."""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "show_run_graphs", "unload_ipython_extension"]

_magics: Any = None
_auto_graph: Any = None


def load_ipython_extension(ipython: Any) -> None:
    global _magics
    from ..core.context import set_ambient_flow_run
    from .magics import FlowsMagics

    _magics = FlowsMagics(ipython)
    ipython.register_magics(_magics)
    # a plain cell of a deployment run pauses or suspends that run (flow_runs)
    set_ambient_flow_run(_magics.notebook.ambient_context)
    show_run_graphs(ipython)


def show_run_graphs(ipython: Any) -> None:
    """Draw a live run graph under each cell that calls a ``@flow`` (only in a kernel with
    a frontend, never in a script); ``import jupyter_flows`` in a kernel calls this, so the
    graph appears without ``%load_ext``."""
    global _auto_graph
    from ..core import settings
    from .auto_graph import AutoGraph

    if _auto_graph is None and getattr(ipython, "kernel", None) is not None:
        _auto_graph = AutoGraph()
        settings.add_observer(_auto_graph)


def unload_ipython_extension(ipython: Any) -> None:
    global _magics, _auto_graph
    from ..core import settings
    from ..core.context import set_ambient_flow_run

    set_ambient_flow_run(None)
    if _magics is not None:
        _magics.notebook.close()
        _magics = None
    if _auto_graph is not None:
        settings.remove_observer(_auto_graph)
        _auto_graph = None
