"""Bind and validate run parameters from a function's signature and type hints (pydantic)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from ..exceptions import ParameterValidationError

__all__ = ["ParameterSchema"]

logger = logging.getLogger(__name__)


class ParameterSchema:
    """The parameters of one function: binds call arguments, validates and coerces them."""

    def __init__(self, fn: Callable[..., Any], owner: str):
        self.fn = fn
        self.owner = owner
        self.signature = inspect.signature(fn)
        self._model: Any = None

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Arguments by name, defaults applied; a clear error for missing/unknown ones."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ParameterValidationError(self.owner, [str(exc)]) from None
        bound.apply_defaults()
        return dict(bound.arguments)

    def _pydantic_model(self) -> Any:
        if self._model is None:
            from pydantic import ConfigDict, Field, create_model

            fields: dict[str, Any] = {}
            ann: Any
            for i, p in enumerate(self.signature.parameters.values()):
                hint: Any = self._hint(p.annotation)
                if p.kind is p.VAR_POSITIONAL:
                    ann = tuple.__class_getitem__((hint, ...))
                elif p.kind is p.VAR_KEYWORD:
                    ann = dict.__class_getitem__((str, hint))
                else:
                    ann = hint
                default = ... if p.default is p.empty else p.default
                # Neutral field names, the parameter's own as alias: names pydantic reserves
                # (``json``, ``schema``, ``_private``...) stay ordinary parameters.
                fields[f"p{i}"] = (ann, Field(default, alias=p.name, title=p.name))
            try:
                self._model = create_model(
                    f"{self.owner}_parameters",
                    __config__=ConfigDict(arbitrary_types_allowed=True),
                    **fields,
                )
            except Exception as exc:  # noqa: BLE001 - unsupported annotations: don't validate
                raise ParameterValidationError(
                    self.owner, [f"cannot build a validator from the type hints: {exc}"]
                ) from None
        return self._model

    def validate(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Coerce values to their annotated types (``"3"`` -> ``3``); errors name the parameter."""
        if all(p.annotation is p.empty for p in self.signature.parameters.values()):
            return parameters
        from pydantic import ValidationError

        model = self._pydantic_model()
        try:
            validated = model.model_validate(parameters)
        except ValidationError as exc:
            errors = [
                f"{'.'.join(str(x) for x in err['loc']) or '?'}: {err['msg']}"
                f" (got {err.get('input')!r})"
                for err in exc.errors()
            ]
            raise ParameterValidationError(self.owner, errors) from None
        by_alias = {f.alias: name for name, f in type(validated).model_fields.items()}
        return {name: getattr(validated, by_alias[name]) for name in parameters}

    def _hint(self, annotation: Any) -> Any:
        """A type hint; string hints (``from __future__ import annotations``) are resolved in
        the function's globals, and left unvalidated (``Any``) when they cannot be."""
        if annotation is inspect.Parameter.empty:
            return Any
        if isinstance(annotation, str):
            fn_globals = getattr(inspect.unwrap(self.fn), "__globals__", {})
            try:
                return eval(annotation, dict(fn_globals))  # as inspect.get_annotations does
            except Exception as exc:  # noqa: BLE001 - e.g. a class local to a function
                logger.warning(
                    "%s: the type hint %r cannot be resolved (%s: %s); that parameter is not "
                    "validated (define the type at module level)",
                    self.owner,
                    annotation,
                    type(exc).__name__,
                    exc,
                )
                return Any
        return annotation

    def to_call(self, parameters: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Positional and keyword arguments to call the function with ``parameters``."""
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for p in self.signature.parameters.values():
            if p.name not in parameters:
                continue
            value = parameters[p.name]
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                args.append(value)
            elif p.kind is p.VAR_POSITIONAL:
                args.extend(value)
            elif p.kind is p.VAR_KEYWORD:
                kwargs.update(value)
            else:
                kwargs[p.name] = value
        return tuple(args), kwargs

    def json_schema(self) -> dict[str, Any]:
        """JSON schema of the parameters (for forms in the UI)."""
        schema: dict[str, Any] = self._pydantic_model().model_json_schema()
        return schema

    def model_json_schema(self) -> dict[str, Any]:
        """Prefect's spelling of ``json_schema()``."""
        return self.json_schema()
