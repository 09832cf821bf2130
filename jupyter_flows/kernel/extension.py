"""``%load_ext jupyter_flows``: register the magics (and nothing else)."""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]

_magics: Any = None


def load_ipython_extension(ipython: Any) -> None:
    global _magics
    from .magics import FlowsMagics

    _magics = FlowsMagics(ipython)
    ipython.register_magics(_magics)


def unload_ipython_extension(ipython: Any) -> None:
    global _magics
    if _magics is not None:
        _magics.notebook.end_session()
        _magics = None
