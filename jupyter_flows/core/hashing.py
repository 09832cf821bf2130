"""Stable hashes of values and of function source, including in notebooks and REPLs."""

from __future__ import annotations

import hashlib
import inspect
import logging
import pickle
import types
from collections.abc import Callable
from typing import Any

__all__ = ["stable_hash", "hash_objects", "function_fingerprint"]

logger = logging.getLogger(__name__)


def stable_hash(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\x00")
    return h.hexdigest()


def hash_objects(*objects: Any) -> str | None:
    """A hash of ``objects`` that is the same in every process, or None if they can't be hashed.

    Uses pickle, then pydantic's JSON encoder (models with ``@model_serializer``, dataclasses,
    datetimes: what pydantic can serialise hashes, as in Prefect), then cloudpickle; falls back
    to ``repr`` only when it has no memory address.
    """
    try:
        return stable_hash(pickle.dumps(objects, protocol=4))
    except Exception:  # noqa: BLE001 - try the next strategy
        pass
    try:
        from pydantic_core import to_json

        return stable_hash(to_json(objects))
    except Exception:  # noqa: BLE001
        pass
    try:
        import cloudpickle

        return stable_hash(cloudpickle.dumps(objects, protocol=4))
    except Exception:  # noqa: BLE001
        pass
    text = repr(objects)
    if " at 0x" in text:
        logger.warning("cannot compute a stable hash of %.200s; not caching", text)
        return None
    return stable_hash(text)


def _code_bytes(code: types.CodeType) -> list[bytes]:
    out = [code.co_code, repr(code.co_names).encode(), repr(code.co_varnames).encode()]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out.extend(_code_bytes(const))
        else:
            out.append(repr(const).encode())
    return out


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def function_fingerprint(fn: Callable[..., Any], _seen: set[int] | None = None) -> str:
    """Hash of a function's source *and* the globals it uses.

    Works where ``inspect.getsource`` fails (plain REPL, ``exec``): it then hashes the code
    object. Globals the function reads are part of the key: changing a module-level
    constant or a helper function changes the fingerprint.
    """
    seen = _seen if _seen is not None else set()
    fn = inspect.unwrap(getattr(fn, "fn", fn))
    seen.add(id(fn))
    code = getattr(fn, "__code__", None)
    try:
        source: list[bytes] = [inspect.getsource(fn).encode()]
    except (OSError, TypeError):
        source = _code_bytes(code) if code is not None else [repr(fn).encode()]
    parts = list(source)
    if code is not None:
        fn_globals: dict[str, Any] = getattr(fn, "__globals__", {})
        for name in sorted(_global_names(code)):
            if name not in fn_globals:
                continue
            value = fn_globals[name]
            parts.append(name.encode())
            parts.append(_value_fingerprint(value, seen).encode())
    return stable_hash(*parts)


def _value_fingerprint(value: Any, seen: set[int]) -> str:
    if isinstance(value, types.ModuleType):
        return "module:" + value.__name__
    inner = getattr(value, "fn", value)  # our Task/Flow wrappers
    if isinstance(inner, types.FunctionType):
        if id(inner) in seen:
            return "recursive:" + inner.__qualname__
        return function_fingerprint(inner, seen)
    if isinstance(value, type | types.BuiltinFunctionType):
        return "object:" + getattr(value, "__module__", "") + "." + value.__qualname__
    return hash_objects(value) or "unhashable"
