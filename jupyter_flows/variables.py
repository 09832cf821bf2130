"""Prefect's ``prefect.variables``: ``Variable.set/get/unset``, named JSON values with tags.

Variables hold configuration flows read at run time (not secrets: they are stored and shown
as they are). In a process with the run database (a kernel, a script, a worker given
``JUPYTER_FLOWS_DB_URL``) they are read and written there, the default database unless
``JUPYTER_FLOWS_DB_URL`` says otherwise; in a run process of a remote worker that records over
HTTP (``RunEnvironment.records_over_http``) they go through the server with the run's token,
which may read variables but not write them.

Example::

    from jupyter_flows import flow
    from jupyter_flows.variables import Variable

    Variable.set("answer", {"value": 42}, tags=["demo"], overwrite=True)

    @flow
    def uses_it() -> int:
        return Variable.get("answer", default={"value": 0})["value"]
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from .orchestration.variable_schemas import (
    MAX_VARIABLE_VALUE_BYTES,
    VariableName,
    check_name,
    check_value,
)

if TYPE_CHECKING:
    from .client.http import FlowsClient
    from .orchestration.variable_schemas import DescribeVariable

__all__ = ["Variable", "MAX_VARIABLE_VALUE_BYTES"]

logger = logging.getLogger(__name__)


def _server() -> FlowsClient | None:
    """The server to go through: a run process of a worker that records over HTTP."""
    from .core.run_environment import RunEnvironment

    env = RunEnvironment.current()
    if not env.records_over_http():
        return None
    from .client.http import FlowsClient

    return FlowsClient(str(env.record_url), env.record_token or "", timeout=10)


def _engine() -> Any:
    from .store.api import run_store

    return run_store().engine


def _exists(name: str) -> ValueError:
    return ValueError(f"Variable {name!r} already exists. Use `overwrite=True` to update it.")


class Variable(BaseModel):
    """A named JSON value with tags (Prefect's ``prefect.variables.Variable``)."""

    name: VariableName = Field(description="lowercase letters, digits, dashes, underscores")
    value: Any = Field(default=None, description="any JSON value")
    tags: list[str] | None = None

    @classmethod
    def _of(cls, found: DescribeVariable) -> Variable:
        return cls(name=found.name, value=found.value, tags=found.tags)

    @classmethod
    def set(
        cls,
        name: str,
        value: Any,
        tags: Sequence[str] | None = None,
        overwrite: bool = False,
    ) -> Variable:
        """Create variable ``name`` with ``value`` (any JSON value) and ``tags``; with
        ``overwrite``, replace it (value and tags) if it exists.

        Raises ``ValueError`` if it exists and ``overwrite`` is false (as Prefect), or for a
        bad name, tags or value (not JSON, or more than ``MAX_VARIABLE_VALUE_BYTES`` of JSON);
        ``PermissionError`` in a remote run process (its token may only read variables).
        """
        from .client.http import AuthError, ClientError, StateConflict

        check_name(name)
        check_value(name, value)
        tag_list = None if tags is None else list(tags)
        server = _server()
        if server is None:
            from .exceptions import Conflict
            from .orchestration.variables import set_variable

            try:
                found, _ = set_variable(_engine(), name, value, tag_list, overwrite)
            except Conflict:
                raise _exists(name) from None
            return cls._of(found)
        try:
            return cls._of(server.set_variable(name, value, tag_list, overwrite))
        except StateConflict:
            raise _exists(name) from None
        except AuthError as exc:
            raise PermissionError(
                f"Variable.set({name!r}): this run process reaches the server with its run's "
                "token, which may read variables but not write them; set variables from the "
                f"CLI, the REST API or a process with the database ({exc})"
            ) from None
        except ClientError as exc:
            if exc.status == 400:
                raise ValueError(str(exc)) from None
            raise

    @classmethod
    def get(cls, name: str, default: Any = None) -> Any:
        """The value of variable ``name``, or ``default`` if there is none (``ValueError``
        for a name no variable can have)."""
        from .client.http import ClientError
        from .exceptions import NotFound

        check_name(name)
        server = _server()
        try:
            if server is None:
                from .orchestration.variables import read_variable

                return read_variable(_engine(), name).value
            return server.read_variable(name).value
        except NotFound:
            return default
        except ClientError as exc:
            if exc.status == 404:  # the server's NotFound
                return default
            raise

    @classmethod
    def unset(cls, name: str) -> bool:
        """Delete variable ``name``: ``True`` if it existed, ``False`` if not."""
        from .client.http import ClientError
        from .exceptions import NotFound

        check_name(name)
        server = _server()
        try:
            if server is None:
                from .orchestration.variables import delete_variable

                delete_variable(_engine(), name)
            else:
                server.delete_variable(name)
        except NotFound:
            return False
        except ClientError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    # Prefect's async spellings: the same calls on a thread (the store and client are sync)

    @classmethod
    async def aset(
        cls,
        name: str,
        value: Any,
        tags: Sequence[str] | None = None,
        overwrite: bool = False,
    ) -> Variable:
        return await asyncio.to_thread(cls.set, name, value, tags, overwrite)

    @classmethod
    async def aget(cls, name: str, default: Any = None) -> Any:
        return await asyncio.to_thread(cls.get, name, default)

    @classmethod
    async def aunset(cls, name: str) -> bool:
        return await asyncio.to_thread(cls.unset, name)
