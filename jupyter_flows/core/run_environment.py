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

``JUPYTER_FLOWS_SECRETS_KEY_FILE`` is the file of the key that encrypts block documents at
rest (default ``<data directory>/secrets.key``; see ``store.encryption``).

A worker also tells each run process which run it is, for ``jupyter_flows.runtime`` (read
there when no run context says it): ``JUPYTER_FLOWS_FLOW_RUN_NAME``, ``_FLOW_NAME``,
``_TAGS`` (a JSON list), ``_SCHEDULED_START_TIME`` (ISO 8601), ``_DEPLOYMENT_ID``,
``_DEPLOYMENT_NAME`` and ``_DEPLOYMENT_VERSION``, with ``JUPYTER_FLOWS_FLOW_RUN_ID`` and
``JUPYTER_FLOWS_PARAMETERS``.

``JUPYTER_FLOWS__RUNTIME__<MODULE>__<NAME>`` (Prefect's ``PREFECT__RUNTIME__...``) overrides
what ``jupyter_flows.runtime.<module>.<name>`` answers, e.g.
``JUPYTER_FLOWS__RUNTIME__FLOW_RUN__NAME=test-run`` (``runtime_override``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any

__all__ = ["RunEnvironment", "PREFIX"]

PREFIX = "JUPYTER_FLOWS_"
logger = logging.getLogger(__name__)

_BOOLS = frozenset({"record", "auto_graph"})
#: booleans that are off unless set (``"1"``)
_FLAGS = frozenset({"resumed"})
_JSON_OBJECTS = frozenset({"parameters"})
_JSON_LISTS = frozenset({"tags"})
_DATETIMES = frozenset({"scheduled_start_time"})


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
    secrets_key_file: str | None = None
    url: str | None = None
    token: str | None = field(default=None, repr=False)
    # which run a worker's run process runs (for ``jupyter_flows.runtime``)
    flow_run_name: str | None = None
    flow_name: str | None = None
    tags: list[str] | None = None
    scheduled_start_time: datetime | None = None
    deployment_id: str | None = None
    deployment_name: str | None = None
    deployment_version: str | None = None
    # a retry from failure: the run whose completed task runs this one reuses
    retry_of: str | None = None
    # a suspended run resumed: it reuses its own completed task runs (``core.prior_runs``)
    resumed: bool = False

    @staticmethod
    def variable(name: str) -> str:
        """``"db_url"`` -> ``"JUPYTER_FLOWS_DB_URL"``."""
        return PREFIX + name.upper()

    @classmethod
    def current(cls, environ: Mapping[str, str] | None = None) -> RunEnvironment:
        """Read from ``environ`` (default ``os.environ``); a malformed value (JSON, time) is
        ignored with a warning."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            variable = cls.variable(f.name)
            raw = environ.get(variable)
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = _decode(f.name, raw)
            except ValueError as exc:
                logger.warning("ignoring %s: %s", variable, exc)
        return cls(**values)

    @staticmethod
    def runtime_override(
        module: str, name: str, environ: Mapping[str, str] | None = None
    ) -> str | None:
        """``$JUPYTER_FLOWS__RUNTIME__<MODULE>__<NAME>``: what ``jupyter_flows.runtime.<module>
        .<name>`` answers instead (Prefect's ``PREFECT__RUNTIME__...``), or ``None``."""
        environ = os.environ if environ is None else environ
        return environ.get(f"{PREFIX}_RUNTIME__{module.upper()}__{name.upper()}")

    @staticmethod
    @contextmanager
    def patched(**changes: Any) -> Iterator[RunEnvironment]:
        """Set these fields in this process's own environment (``None``: unset them) until
        the block ends, then restore the variables as they were; yields the result.

        For test harnesses only: a process hands its children an environment with
        ``child_env``, never by changing its own.
        """
        known = {f.name for f in fields(RunEnvironment)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"RunEnvironment has no field {unknown[0]!r}")
        names = [RunEnvironment.variable(name) for name in changes]
        saved = {name: os.environ.get(name) for name in names}
        try:
            for name, value in changes.items():
                encoded = _encode(name, value)
                if encoded is None:
                    os.environ.pop(RunEnvironment.variable(name), None)
                else:
                    os.environ[RunEnvironment.variable(name)] = encoded
            yield RunEnvironment.current()
        finally:
            for name, old in saved.items():
                if old is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = old

    def records_over_http(self) -> bool:
        """Record through the server: a record URL, and no database URL."""
        return bool(self.record_url) and not self.db_url

    def to_env(self) -> dict[str, str]:
        """The variables of what is set (booleans only when off)."""
        env: dict[str, str] = {}
        for f in fields(self):
            encoded = _encode(f.name, getattr(self, f.name))
            if encoded is not None:
                env[self.variable(f.name)] = encoded
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


def _encode(name: str, value: Any) -> str | None:
    """The variable's text for field ``name`` (``None``: leave it unset; booleans only when
    off)."""
    if name in _BOOLS:
        return None if value else "0"
    if name in _FLAGS:
        return "1" if value else None
    if value is None:
        return None
    if name in _JSON_OBJECTS or name in _JSON_LISTS:
        return json.dumps(value, default=str)
    if name in _DATETIMES:
        return str(value.isoformat())
    return str(value)


def _decode(name: str, raw: str) -> Any:
    """The typed value of field ``name`` from its variable's text; ``ValueError`` if it is
    malformed."""
    if name in _BOOLS or name in _FLAGS:
        return raw != "0"
    if name in _JSON_OBJECTS or name in _JSON_LISTS:
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        wanted = dict if name in _JSON_OBJECTS else list
        if not isinstance(value, wanted):
            raise ValueError(f"not a JSON {'object' if wanted is dict else 'list'}")
        return value
    if name in _DATETIMES:
        try:
            when = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"not an ISO 8601 time: {raw!r}") from None
        return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
    return raw
