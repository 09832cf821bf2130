"""Process-wide settings of the core: the data directory and the recorder factory.

The core never imports the store; the package root registers a factory that does
(see ``jupyter_flows._defaults``), so ``import jupyter_flows`` stays light.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .records import NullRecorder, RunRecorder, TeeRecorder
from .run_environment import RunEnvironment

__all__ = [
    "data_dir",
    "set_recorder_factory",
    "get_recorder",
    "set_recorder",
    "reset_recorder",
    "add_observer",
    "remove_observer",
    "set_deployments_api",
    "deployments_api",
    "set_background_api",
    "background_api",
]

_lock = threading.Lock()
_factory: Callable[[], RunRecorder] | None = None
_recorder: RunRecorder | None = None
_observers: list[RunRecorder] = []
_tee: TeeRecorder | None = None
_deployments: Callable[[], Any] | None = None
_background: Callable[[], Any] | None = None


def _after_fork_in_child() -> None:
    """A forked child (``multiprocessing``) builds its own recorder: the parent's writer
    thread did not survive the fork (and the lock may have been held by another thread)."""
    global _lock, _recorder, _tee
    _lock = threading.Lock()
    _recorder, _tee = None, None


os.register_at_fork(after_in_child=_after_fork_in_child)


def _jupyter_data_dir() -> Path:
    """Jupyter's user data dir, computed as ``jupyter_core.paths.jupyter_data_dir`` does."""
    env = os.environ.get("JUPYTER_DATA_DIR")
    if env:
        return Path(env)
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Jupyter"
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA")
        return Path(appdata) / "jupyter" if appdata else home / ".jupyter" / "data"
    xdg = os.environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    return Path(xdg) / "jupyter"


def data_dir() -> Path:
    """Where jupyter-flows keeps its files.

    ``$JUPYTER_FLOWS_HOME``, else ``<jupyter data dir>/jupyter_flows``.
    """
    home = RunEnvironment.current().home
    return Path(home) if home else _jupyter_data_dir() / "jupyter_flows"


def set_recorder_factory(factory: Callable[[], RunRecorder] | None) -> None:
    """Register how to build the process's recorder on first use (does not build it)."""
    global _factory
    with _lock:
        _factory = factory


def set_recorder(recorder: RunRecorder | None) -> RunRecorder | None:
    """Install ``recorder`` as the process recorder; returns the previous one."""
    global _recorder
    with _lock:
        previous, _recorder = _recorder, recorder
    return previous


def reset_recorder() -> None:
    """Forget the current recorder (after flushing it), e.g. when the DB URL changes."""
    previous = set_recorder(None)
    if previous is not None:
        previous.flush()
        close = getattr(previous, "close", None)
        if close is not None:
            close()


def add_observer(observer: RunRecorder) -> None:
    """Also send every run event of this process to ``observer`` (live widgets)."""
    global _tee
    with _lock:
        _observers.append(observer)
        _tee = None


def remove_observer(observer: RunRecorder) -> None:
    global _tee
    with _lock:
        if observer in _observers:
            _observers.remove(observer)
        _tee = None


def get_recorder() -> RunRecorder:
    """The process recorder, built by the registered factory on first use."""
    global _recorder, _tee
    recorder = _recorder
    if recorder is None:
        with _lock:
            if _recorder is None:
                if not RunEnvironment.current().record or _factory is None:
                    _recorder = NullRecorder()
                else:
                    _recorder = _factory()
            recorder = _recorder
    if not _observers:
        return recorder
    tee = _tee
    if tee is None or tee.primary is not recorder:
        with _lock:
            tee = _tee = TeeRecorder(recorder, list(_observers))
    return tee


def set_deployments_api(loader: Callable[[], Any]) -> None:
    """Register how ``Flow.serve``/``to_deployment``/``deploy`` reach the deployments
    package (the package root does: the core never imports it)."""
    global _deployments
    _deployments = loader


def deployments_api() -> Any:
    """The module behind ``Flow.serve``/``to_deployment``/``deploy``."""
    if _deployments is None:
        raise RuntimeError("jupyter_flows.deployments is not available (import jupyter_flows)")
    return _deployments()


def set_background_api(loader: Callable[[], Any]) -> None:
    """Register how ``Task.delay``/``Task.serve`` reach the background task queue (the
    package root does: the core never imports the store)."""
    global _background
    _background = loader


def background_api() -> Any:
    """The module behind ``Task.delay``, its futures and ``Task.serve``."""
    if _background is None:
        raise RuntimeError("background tasks are not available (import jupyter_flows)")
    return _background()
