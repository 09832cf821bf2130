"""Which server to talk to: ``--url``/``--token``, ``$JUPYTER_FLOWS_URL``/``_TOKEN``, or a
running Jupyter server found in the Jupyter runtime directory (``jupyter server list``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..core.run_environment import RunEnvironment

__all__ = ["discover_server", "server_address", "parse_params"]


def discover_server(pid: int | None = None) -> tuple[str, str]:
    """URL and token of a running Jupyter server (the one of process ``pid`` if given),
    or ``("", "")``."""
    from jupyter_core.paths import jupyter_runtime_dir

    for path in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if pid is not None and info.get("pid") != pid:
            continue
        return str(info["url"]), str(info.get("token", ""))
    return "", ""


def server_address(url: str | None = None, token: str | None = None) -> tuple[str, str]:
    """The server's URL and token: as given, else from the environment, else discovered.

    The URL is ``""`` when none is found.
    """
    env = RunEnvironment.current()
    url = url or env.url or ""
    token = token or env.token or ""
    if not url:
        url, found = discover_server()
        token = token or found
    return url, token


def parse_params(items: list[str], option: str = "--param") -> dict[str, Any]:
    """``["n=5", "name=x"]`` as ``{"n": 5, "name": "x"}`` (values read as JSON when they are)."""
    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{option} takes key=value, got {item!r}")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params
