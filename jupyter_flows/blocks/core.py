"""Prefect's ``prefect.blocks.core.Block``: typed configuration, saved and loaded by name.

A block is a pydantic model; ``save(name)`` stores its values as a *block document* of its
block type (the slug of its class name, as Prefect: ``Cube`` -> ``cube``, ``_block_type_name
= "AWS Credentials"`` -> ``aws-credentials``, or ``_block_type_slug``), and
``Cube.load(name)`` / ``Block.load("cube/name")`` give it back. Documents are encrypted at
rest (``store.encryption``). Fields typed ``SecretStr``, ``SecretBytes``, ``pydantic.Secret``
or ``SecretDict`` are secret: masked in ``repr``, the REST API, the CLI and the panel, and
redacted from run logs once the block exists in a process (``core.redaction``); ``load``
gives them back usable. There is no block type or schema registry on the server: a document
is loaded with its class, which must be importable where it is loaded.

Example::

    from pydantic import SecretStr
    from jupyter_flows.blocks.core import Block

    class Warehouse(Block):
        host: str
        password: SecretStr

    Warehouse(host="db.internal", password="s3cret").save("prod", overwrite=True)
    Warehouse.load("prod").password.get_secret_value()  # 's3cret'
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    Secret,
    SecretBytes,
    SecretStr,
    ValidationError,
)
from pydantic_core import to_jsonable_python
from typing_extensions import Self

from ..core.redaction import register_secrets
from ..exceptions import UnknownBlockType
from ..orchestration.block_schemas import check_name
from . import _store
from .fields import SecretDict

__all__ = ["Block", "UnknownBlockType", "block_type_slug_of"]

logger = logging.getLogger(__name__)

_REGISTRY: dict[str, type[Block]] = {}
_SECRET_TYPES = (SecretStr, SecretBytes, Secret)


def _slugify(text: str) -> str:
    """Prefect's slug of a block type name: lowercase, runs of other characters -> ``-``."""
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"['\"]", "", text.lower())).strip("-")
    if not slug:
        raise ValueError(f"block type name {text!r} has no letters or digits for a slug")
    return slug


def _is_secret_type(annotation: Any) -> bool:
    origin = get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, _SECRET_TYPES)


def _secret_paths(name: str, annotation: Any) -> Iterator[str]:
    """Prefect's secret field paths of a field: ``name``, ``name.sub``, ``name.*``."""
    if isinstance(annotation, type) and issubclass(annotation, SecretDict):
        yield f"{name}.*"
    elif _is_secret_type(annotation):
        yield name
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for sub, info in annotation.model_fields.items():
            yield from _secret_paths(f"{name}.{info.alias or sub}", info.annotation)
    elif (
        get_origin(annotation) in (Union, list, dict, tuple, set)
        or type(annotation).__name__ == "UnionType"
    ):
        for arg in get_args(annotation):
            yield from _secret_paths(name, arg)


def _revealed(value: Any) -> Any:
    """``value`` as JSON with its secrets' values (bytes as base64)."""
    if isinstance(value, _SECRET_TYPES):
        return _revealed(value.get_secret_value())
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, BaseModel):
        out = value.model_dump(mode="json", by_alias=True)
        for name, info in type(value).model_fields.items():
            if any(_secret_paths(name, info.annotation)):
                out[info.alias or name] = _revealed(getattr(value, name))
        return out
    if isinstance(value, dict):
        return {str(k): _revealed(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_revealed(v) for v in value]
    return to_jsonable_python(value, bytes_mode="base64")


def _secret_values(value: Any) -> Iterator[Any]:
    if isinstance(value, _SECRET_TYPES):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_values(getattr(value, name, None))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secret_values(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _secret_values(item)


def _schema_extra(schema: dict[str, Any], model: type[Block]) -> None:
    schema["block_type_slug"] = model.get_block_type_slug()
    schema["secret_fields"] = model.secret_fields()


def block_type_slug_of(cls: type[Block]) -> str:
    """The block type slug of a block class (its generic origin's, for ``Secret[str]``)."""
    origin: Any = cls.__pydantic_generic_metadata__.get("origin") or cls
    return _slugify(origin._block_type_slug or origin.get_block_type_name())


class Block(BaseModel):
    """Base of blocks: declare fields as on a pydantic model, then ``save``/``load`` them.

    Class attributes: ``_block_type_name`` (default: the class name), ``_block_type_slug``
    (default: the slug of the name), ``_description`` (default: the docstring's first
    paragraph). ``block_initialization()`` runs after ``__init__``, as Prefect's.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="allow",
        ser_json_bytes="base64",
        val_json_bytes="base64",
        json_schema_extra=_schema_extra,  # type: ignore[typeddict-item]
    )

    _block_type_name: ClassVar[str | None] = None
    _block_type_slug: ClassVar[str | None] = None
    _description: ClassVar[str | None] = None

    _block_document_id: str | None = PrivateAttr(None)
    _block_document_name: str | None = PrivateAttr(None)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if not cls.__pydantic_generic_metadata__.get("origin"):  # not Secret[str]
            _REGISTRY[cls.get_block_type_slug()] = cls  # a redefinition replaces it

    def model_post_init(self, context: Any, /) -> None:
        register_secrets(*_secret_values(self))
        self.block_initialization()

    def block_initialization(self) -> None:
        """Called after ``__init__`` (Prefect's hook); does nothing by default."""

    def __str__(self) -> str:
        return self.__repr__()

    # -- the block type ----------------------------------------------------------------

    @classmethod
    def get_block_type_name(cls) -> str:
        return cls._block_type_name or cls.__name__

    @classmethod
    def get_block_type_slug(cls) -> str:
        return block_type_slug_of(cls)

    @classmethod
    def get_description(cls) -> str | None:
        if cls._description is not None:
            return cls._description
        first = (cls.__doc__ or "").strip().split("\n\n")[0].strip()
        return first or None

    @classmethod
    def secret_fields(cls) -> list[str]:
        """Prefect's paths of the secret fields (``password``, ``creds.token``, ``env.*``)."""
        return sorted(
            {
                path
                for name, info in cls.model_fields.items()
                for path in _secret_paths(info.alias or name, info.annotation)
            }
        )

    @classmethod
    def register_type_and_schema(cls, client: Any = None) -> None:
        """Does nothing: the server keeps no block types or schemas (documents are loaded
        with their class). Kept so that Prefect code calling it runs."""

    @staticmethod
    def is_block_class(block: Any) -> bool:
        return isinstance(block, type) and issubclass(block, Block)

    @classmethod
    def get_block_class_from_key(cls, key: str) -> type[Block]:
        """The block class of slug ``key`` (defined, or imported, in this process)."""
        if key not in _REGISTRY:
            from . import system  # noqa: F401  (the built-in blocks)
        try:
            return _REGISTRY[key]
        except KeyError:
            raise UnknownBlockType(
                f"No block class found for slug {key!r}: define or import its class in this "
                f"process first (known here: {', '.join(sorted(_REGISTRY)) or 'none'})"
            ) from None

    # -- documents ---------------------------------------------------------------------

    @classmethod
    def _address(cls, name: str) -> tuple[type[Block], str, str]:
        """(class, slug, document name) of ``name`` (``slug/name`` on ``Block`` itself)."""
        if not isinstance(name, str):
            raise ValueError(f"name: a block document name is text, got {type(name).__name__}")
        if cls is Block:
            slug, sep, doc = name.partition("/")
            if not sep:
                raise ValueError(
                    f"name: Block.load/delete take 'block-type-slug/document-name' (got "
                    f"{name!r}); on a block class, the document name alone"
                )
            return cls.get_block_class_from_key(slug), slug, check_name(doc)
        slug = cls.get_block_type_slug()
        if name.startswith(slug + "/"):
            name = name[len(slug) + 1 :]
        return cls, slug, check_name(name)

    def _document(self) -> dict[str, Any]:
        data = _revealed(self)
        register_secrets(*_secret_values(self))
        return data  # type: ignore[no-any-return]

    def save(self, name: str | None = None, overwrite: bool = False) -> str:
        """Save this block's values as document ``name`` of its block type; the document's id.

        Raises ``ValueError`` if the name is taken (and ``overwrite`` is false) or bad, as
        Prefect; ``PermissionError`` in a remote run process (its token only loads blocks).
        """
        if name is None:
            name = self._block_document_name
            if name is None:
                raise ValueError(
                    "You're attempting to save a block document without a name: call "
                    "`save` with a `name`"
                )
        slug = self.get_block_type_slug()
        check_name(name)
        document_id = _store.save(slug, name, self._document(), self.secret_fields(), overwrite)
        self._block_document_id, self._block_document_name = document_id, name
        logger.debug("saved block document %s/%s", slug, name)
        return document_id

    @classmethod
    def load(cls, name: str, validate: bool = True, client: Any = None) -> Self:
        """The block saved as ``name`` (``"slug/name"`` on ``Block``), secrets usable.

        Raises ``ValueError`` if there is no such document, ``RuntimeError`` if its values
        do not validate (``validate=False`` loads them anyway, missing fields ``None``).
        """
        block_cls, slug, doc = cls._address(name)
        found = _store.read(slug, doc)
        if found is None:
            raise ValueError(f"Unable to find block document named {doc} for block type {slug}")
        document_id, data = found
        try:
            block: Any = block_cls.model_validate_json(json.dumps(data))
        except ValidationError as exc:
            if validate:
                raise RuntimeError(
                    f"Unable to load {doc!r} of block type {slug!r} due to failed validation "
                    f"({exc.error_count()} errors: {exc.errors()[0]['loc']}...). To load "
                    "without validation, try loading again with `validate=False`."
                ) from exc
            missing = {str(e["loc"][0]): None for e in exc.errors() if e["loc"]}
            warnings.warn(
                f"Could not fully load {doc!r} of block type {slug!r}: set "
                f"{', '.join(sorted(missing))}, then save it with overwrite=True",
                stacklevel=2,
            )
            block = block_cls.model_construct(**{**data, **missing})
        block._block_document_id, block._block_document_name = document_id, doc
        register_secrets(*_secret_values(block))
        return block  # type: ignore[no-any-return]

    @classmethod
    def delete(cls, name: str, client: Any = None) -> None:
        """Delete document ``name`` (``"slug/name"`` on ``Block``); ``ValueError`` if none."""
        _, slug, doc = cls._address(name)
        if not _store.delete(slug, doc):
            raise ValueError(f"Unable to find block document named {doc} for block type {slug}")

    # Prefect's async spellings: the same calls on a thread (the store and client are sync)

    @classmethod
    async def aload(cls, name: str, validate: bool = True, client: Any = None) -> Self:
        return await asyncio.to_thread(cls.load, name, validate)

    async def asave(self, name: str | None = None, overwrite: bool = False) -> str:
        return await asyncio.to_thread(self.save, name, overwrite)

    @classmethod
    async def adelete(cls, name: str, client: Any = None) -> None:
        await asyncio.to_thread(cls.delete, name)
