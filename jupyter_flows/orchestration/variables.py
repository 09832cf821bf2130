"""Variables: named JSON values with tags, for flows to read (Prefect's ``Variable``).

A part of ``OrchestrationService`` (the REST routes), and plain functions over an engine for
``jupyter_flows.variables.Variable`` in a process with the database (the default one, as
``orchestration.events.emit``). Rows of the ``variable`` table; names and values are checked
by ``variable_schemas``. Domain problems raise the ``jupyter_flows.exceptions`` tree
(``NotFound``, ``Conflict``) or ``ValueError`` naming the field; nothing here knows HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, insert, literal, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

from ..exceptions import Conflict, NotFound
from ._tables import VARIABLE, now
from .variable_schemas import (
    DescribeVariable,
    ListVariablesQuery,
    ListVariablesResponse,
    SetVariable,
    check_name,
    check_value,
)

__all__ = [
    "Variables",
    "set_variable",
    "read_variable",
    "delete_variable",
    "list_variables",
]

logger = logging.getLogger(__name__)


def _describe(row: Any) -> DescribeVariable:
    return DescribeVariable.model_validate(dict(row))


def _checked_tags(tags: Sequence[str] | None) -> list[str]:
    """``tags`` as a sorted list without repeats; ``ValueError`` naming ``tags``."""
    if tags is None:
        return []
    if isinstance(tags, str) or not all(isinstance(t, str) and t for t in tags):
        raise ValueError("tags: a list of non-empty strings")
    from ..store.limits import MAX_NAME_LENGTH, MAX_TAGS, storable_text

    unique = sorted(set(tags))
    if len(unique) > MAX_TAGS:
        raise ValueError(f"tags: at most {MAX_TAGS} tags (got {len(unique)})")
    for tag in unique:
        if len(tag) > MAX_NAME_LENGTH:
            raise ValueError(f"tags: a tag has at most {MAX_NAME_LENGTH} characters")
        try:
            storable_text(tag)
        except ValueError as exc:
            raise ValueError(f"tags: {tag[:40]!r} {exc}") from None
    return unique


def set_variable(
    engine: Engine,
    name: str,
    value: Any,
    tags: Sequence[str] | None = None,
    overwrite: bool = False,
) -> tuple[DescribeVariable, bool]:
    """Create variable ``name`` (or replace it with ``overwrite``); it, and whether it is new.

    ``tags`` replace the old ones on overwrite (default: none), as Prefect's ``Variable.set``.
    Raises ``ValueError`` for a bad name, value or tags, ``Conflict`` if it exists and
    ``overwrite`` is false.
    """
    check_name(name)
    check_value(name, value)
    values = {"value": value, "tags": _checked_tags(tags), "updated": now()}
    with engine.begin() as conn:
        found = conn.execute(select(VARIABLE.c.name).where(VARIABLE.c.name == name)).first()
        created = False
        if found is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(VARIABLE).values(name=name, created=values["updated"],
                                                         **values))  # fmt: skip
                created = True
            except sa_exc.IntegrityError:  # another writer made it meanwhile
                pass
        if not created:
            if not overwrite:
                raise Conflict(
                    f"name: variable {name!r} already exists (set overwrite to replace it)"
                )
            conn.execute(update(VARIABLE).where(VARIABLE.c.name == name).values(**values))
        row = conn.execute(select(VARIABLE).where(VARIABLE.c.name == name)).mappings().one()
    logger.debug("variable %s %s", name, "created" if created else "overwritten")
    return _describe(row), created


def read_variable(engine: Engine, name: str) -> DescribeVariable:
    """Variable ``name``; ``NotFound`` if there is none, ``ValueError`` for a bad name."""
    check_name(name)
    with engine.connect() as conn:
        row = conn.execute(select(VARIABLE).where(VARIABLE.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(f"no variable {name!r}")
    return _describe(row)


def delete_variable(engine: Engine, name: str) -> None:
    """Delete variable ``name``; ``NotFound`` if there is none."""
    check_name(name)
    with engine.begin() as conn:
        gone = conn.execute(delete(VARIABLE).where(VARIABLE.c.name == name)).rowcount
    if not gone:
        raise NotFound(f"no variable {name!r}")


def _has_tag(dialect: str, tag: str) -> ColumnElement[bool]:
    """``tag`` is one of the variable's JSON ``tags``."""
    tags = VARIABLE.c.tags
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        return tags.cast(JSONB).contains([tag])  # type: ignore[no-any-return]
    each = func.json_each(tags).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(each.c.value == tag))


def list_variables(engine: Engine, query: ListVariablesQuery) -> ListVariablesResponse:
    """One page of variables by name, with ``query.tag`` and names starting ``query.prefix``."""
    where: list[ColumnElement[bool]] = []
    if query.tag:
        where.append(_has_tag(engine.dialect.name, query.tag))
    if query.prefix:
        where.append(VARIABLE.c.name.startswith(query.prefix, autoescape=True))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(VARIABLE).where(*where)).scalar()
        rows = (
            conn.execute(
                select(VARIABLE)
                .where(*where)
                .order_by(VARIABLE.c.name)
                .limit(query.limit)
                .offset(query.offset)
            )
            .mappings()
            .all()
        )
    return ListVariablesResponse(items=[_describe(r) for r in rows], total=total or 0)


class Variables:
    """Set, read, delete and list variables (the service's part for the REST routes)."""

    engine: Engine

    def set_variable(self, name: str, body: SetVariable) -> tuple[DescribeVariable, bool]:
        return set_variable(self.engine, name, body.value, body.tags, body.overwrite)

    def read_variable(self, name: str) -> DescribeVariable:
        return read_variable(self.engine, name)

    def delete_variable(self, name: str) -> None:
        delete_variable(self.engine, name)

    def list_variables(self, query: ListVariablesQuery) -> ListVariablesResponse:
        return list_variables(self.engine, query)
