"""Block documents: the saved values of blocks (Prefect's ``Block.save`` / ``Block.load``).

A part of ``OrchestrationService`` (the REST routes), and plain functions over an engine for
``jupyter_flows.blocks`` in a process with the database. Rows of the ``block_document``
table; a document's data is encrypted with the key of ``store.encryption`` (one key per
database: a document is never saved under another key than the others), and shown masked
(``block_schemas.mask``) unless ``include_secrets``. Domain problems raise the
``jupyter_flows.exceptions`` tree (``NotFound``, ``Conflict``, ``SecretsKeyError``) or
``ValueError`` naming the field; nothing here knows HTTP.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from ..core.records import new_id
from ..exceptions import Conflict, NotFound, SecretsKeyError
from ..store.encryption import SecretsKey, key_file, load_key
from ._tables import BLOCK_DOCUMENT, now
from .block_schemas import (
    DescribeBlockDocument,
    ListBlockDocumentsQuery,
    ListBlockDocumentsResponse,
    SaveBlockDocument,
    check_data,
    check_name,
    check_secret_fields,
    check_slug,
    mask,
    unmask,
)

__all__ = [
    "BlockDocuments",
    "save_block_document",
    "read_block_document",
    "delete_block_document",
    "list_block_documents",
]

logger = logging.getLogger(__name__)

KeyPath = str | os.PathLike[str] | None
_T = BLOCK_DOCUMENT


def _label(slug: str, name: str) -> str:
    return f"block document {slug}/{name}"


def _where(slug: str, name: str) -> Any:
    return (_T.c.block_type_slug == slug) & (_T.c.name == name)


def _key_for_writing(conn: Connection, path: KeyPath) -> SecretsKey:
    """This process's key, made if the database has no document yet; refused if the
    database's documents were encrypted with another key (they would become unreadable)."""
    where = key_file(path)
    used = conn.execute(select(_T.c.key_fingerprint).limit(1)).scalar()
    if used is None:
        return load_key(where, create=True)
    key = load_key(where, create=False)
    if key.fingerprint != used:
        raise SecretsKeyError(
            f"the block documents of this database are encrypted with key {used}, but the key "
            f"file {where} holds key {key.fingerprint}: use the key file they were saved with "
            "(FlowsApp.secrets_key_file / JUPYTER_FLOWS_SECRETS_KEY_FILE), or delete them "
            "(jupyter flows block rm) to start over with this key",
            str(where),
        )
    return key


def _decrypted(row: Any, key: SecretsKey) -> dict[str, Any]:
    label = _label(row["block_type_slug"], row["name"])
    value = json.loads(key.decrypt(row["data"], row["key_fingerprint"], label))
    if not isinstance(value, dict):  # (never written so)
        raise SecretsKeyError(f"{label} does not decrypt to a JSON object", str(key.path))
    return value


def _describe(row: Any, key: SecretsKey, include_secrets: bool) -> DescribeBlockDocument:
    data = _decrypted(row, key)
    secret_fields = list(row["secret_fields"] or [])
    return DescribeBlockDocument(
        id=row["id"],
        name=row["name"],
        block_type_slug=row["block_type_slug"],
        data=data if include_secrets else mask(data, secret_fields),
        secret_fields=secret_fields,
        secrets_included=include_secrets,
        created=row["created"],
        updated=row["updated"],
    )


def save_block_document(
    engine: Engine,
    slug: str,
    name: str,
    data: dict[str, Any],
    secret_fields: list[str] | None = None,
    overwrite: bool = False,
    key_path: KeyPath = None,
) -> tuple[DescribeBlockDocument, bool]:
    """Create document ``name`` of block type ``slug`` (or replace its values with
    ``overwrite``); it (masked), and whether it is new.

    Raises ``ValueError`` for a bad slug, name, data or secret field, ``Conflict`` if it
    exists and ``overwrite`` is false, ``SecretsKeyError`` for the key.
    """
    check_slug(slug)
    check_name(name)
    label = _label(slug, name)
    check_data(data, label)
    fields = check_secret_fields(list(secret_fields or []))
    with engine.begin() as conn:
        key = _key_for_writing(conn, key_path)
        found = conn.execute(select(_T).where(_where(slug, name))).mappings().first()
        if found is not None and not overwrite:
            raise Conflict(f"name: {label} already exists (save with overwrite to replace it)")
        if found is not None and fields:  # a value sent masked keeps the stored one
            data = unmask(data, _decrypted(found, key), fields)
        when = now()
        values = {
            "data": key.encrypt(json.dumps(data, separators=(",", ":")).encode()),
            "secret_fields": fields,
            "key_fingerprint": key.fingerprint,
            "updated": when,
        }
        created = found is None
        if created:
            try:
                with conn.begin_nested():
                    conn.execute(insert(_T).values(id=new_id(), block_type_slug=slug,
                                                   name=name, created=when, **values))  # fmt: skip
            except sa_exc.IntegrityError:  # another writer made it meanwhile
                if not overwrite:
                    raise Conflict(f"name: {label} already exists") from None
                created = False
        if not created:
            conn.execute(update(_T).where(_where(slug, name)).values(**values))
        row = conn.execute(select(_T).where(_where(slug, name))).mappings().one()
    logger.debug("%s %s", label, "created" if created else "overwritten")
    return _describe(row, key, include_secrets=False), created


def read_block_document(
    engine: Engine, slug: str, name: str, include_secrets: bool = False, key_path: KeyPath = None
) -> DescribeBlockDocument:
    """Document ``name`` of block type ``slug``, masked unless ``include_secrets``;
    ``NotFound`` if there is none, ``SecretsKeyError`` if it does not decrypt."""
    check_slug(slug)
    check_name(name)
    with engine.connect() as conn:
        row = conn.execute(select(_T).where(_where(slug, name))).mappings().first()
    if row is None:
        raise NotFound(f"no {_label(slug, name)}")
    return _describe(row, load_key(key_file(key_path), create=False), include_secrets)


def delete_block_document(engine: Engine, slug: str, name: str) -> None:
    """Delete document ``name`` of block type ``slug`` (no key needed); ``NotFound`` if none."""
    check_slug(slug)
    check_name(name)
    with engine.begin() as conn:
        gone = conn.execute(delete(_T).where(_where(slug, name))).rowcount
    if not gone:
        raise NotFound(f"no {_label(slug, name)}")


def list_block_documents(
    engine: Engine, query: ListBlockDocumentsQuery, key_path: KeyPath = None
) -> ListBlockDocumentsResponse:
    """One page of documents by block type and name (with ``query.block_type``), masked."""
    where = [] if query.block_type is None else [_T.c.block_type_slug == query.block_type]
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(_T).where(*where)).scalar() or 0
        rows = (
            conn.execute(
                select(_T)
                .where(*where)
                .order_by(_T.c.block_type_slug, _T.c.name)
                .limit(query.limit)
                .offset(query.offset)
            )
            .mappings()
            .all()
        )
    if not rows:
        return ListBlockDocumentsResponse(items=[], total=total)
    key = load_key(key_file(key_path), create=False)
    return ListBlockDocumentsResponse(items=[_describe(r, key, False) for r in rows], total=total)


class BlockDocuments:
    """Save, read, delete and list block documents (the service's part for the REST routes).

    ``secrets_key_file``: the key file (``FlowsApp.secrets_key_file``), else the default.
    """

    engine: Engine
    secrets_key_file: str | None = None

    def save_block_document(
        self, slug: str, name: str, body: SaveBlockDocument
    ) -> tuple[DescribeBlockDocument, bool]:
        return save_block_document(
            self.engine, slug, name, body.data, body.secret_fields, body.overwrite,
            self.secrets_key_file,
        )  # fmt: skip

    def read_block_document(
        self, slug: str, name: str, include_secrets: bool = False
    ) -> DescribeBlockDocument:
        return read_block_document(self.engine, slug, name, include_secrets,
                                   self.secrets_key_file)  # fmt: skip

    def delete_block_document(self, slug: str, name: str) -> None:
        delete_block_document(self.engine, slug, name)

    def list_block_documents(self, query: ListBlockDocumentsQuery) -> ListBlockDocumentsResponse:
        return list_block_documents(self.engine, query, self.secrets_key_file)
