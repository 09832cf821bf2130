"""``RunEnvironment``: what a process learns from its parent through ``JUPYTER_FLOWS_*``.

The one place that names, reads and writes these variables. A worker builds one for each
run process (``child_env``); the run process, the kernel papermill starts in it, the CLI and
the recorder factory read theirs with ``RunEnvironment.current()``. Nothing else touches
``os.environ`` for them.

=============================  ==========================================================
``JUPYTER_FLOWS_DB_URL``       the run database to record into (else the default SQLite)
``JUPYTER_FLOWS_RECORD_URL``   no database: record through this server (``POST records``)
``JUPYTER_FLOWS_RECORD_TOKEN`` the token for ``RECORD_URL``
``JUPYTER_FLOWS_FLOW_RUN_ID``  the deployment run a notebook's kernel records its cells into
``JUPYTER_FLOWS_NOTEBOOK``     the notebook's name, for that kernel
``JUPYTER_FLOWS_PARAMETERS``   the run's parameters (a JSON object), for that kernel
``JUPYTER_FLOWS_RECORD``       ``0``: record nothing
``JUPYTER_FLOWS_AUTO_GRAPH``   ``0``: no live run graph for ``@flow`` calls in a kernel
``JUPYTER_FLOWS_HOME``         the data directory (default ``<jupyter data dir>/jupyter_flows``)
``JUPYTER_FLOWS_URL``          the server the CLI and ``deploy()`` talk to
``JUPYTER_FLOWS_TOKEN``        its token
=============================  ==========================================================
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["RunEnvironment", "PREFIX"]

PREFIX = "JUPYTER_FLOWS_"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunEnvironment:
    """The ``JUPYTER_FLOWS_*`` variables of a process, typed (``None``: not set)."""

    db_url: str | None = None
    record_url: str | None = None
    record_token: str | None = field(default=None, repr=False)
    flow_run_id: str | None = None
    notebook: str | None = None
    parameters: dict[str, Any] | None = None
    record: bool = True
    auto_graph: bool = True
    home: str | None = None
    url: str | None = None
    token: str | None = field(default=None, repr=False)

    @staticmethod
    def variable(name: str) -> str:
        """``"db_url"`` -> ``"JUPYTER_FLOWS_DB_URL"``."""
        return PREFIX + name.upper()

    @classmethod
    def current(cls, environ: Mapping[str, str] | None = None) -> RunEnvironment:
        """Read from ``environ`` (default ``os.environ``); malformed parameters are ignored
        with a warning."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(cls.variable(f.name))
            if raw is None or raw == "":
                continue
            if f.name in ("record", "auto_graph"):
                values[f.name] = raw != "0"
            elif f.name == "parameters":
                try:
                    values[f.name] = _json_object(raw)
                except ValueError as exc:
                    logger.warning("ignoring the injected parameters: %s", exc)
            else:
                values[f.name] = raw
        return cls(**values)

    def records_over_http(self) -> bool:
        """Record through the server: a record URL, and no database URL."""
        return bool(self.record_url) and not self.db_url

    def to_env(self) -> dict[str, str]:
        """The variables of what is set (booleans only when off)."""
        env: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("record", "auto_graph"):
                if not value:
                    env[self.variable(f.name)] = "0"
            elif f.name == "parameters" and value is not None:
                env[self.variable(f.name)] = json.dumps(value, default=str)
            elif value is not None:
                env[self.variable(f.name)] = str(value)
        return env

    def child_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default ``os.environ``) without any ``JUPYTER_FLOWS_*`` of its own, plus
        this environment's: a child gets exactly what its parent meant to give it."""
        base = os.environ if base is None else base
        env = {k: v for k, v in base.items() if not k.startswith(PREFIX)}
        env.update(self.to_env())
        return env

    def but(self, **changes: Any) -> RunEnvironment:
        """A copy with ``changes``."""
        return replace(self, **changes)


def _json_object(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"{PREFIX}PARAMETERS is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{PREFIX}PARAMETERS must be a JSON object")
    return value
