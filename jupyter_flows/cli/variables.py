"""``jupyter flows variables ls|get|set|rm``: Prefect's ``prefect variable ...``, over REST."""

from __future__ import annotations

import json
from typing import Any

from traitlets import Bool, Int, List, Unicode

from .orchestration import _aliases, _ServerApp

__all__ = ["VariablesApp", "parse_value"]

_USAGE = (
    "usage: jupyter flows variables ls [--tag T] [--prefix P] | get NAME | "
    "set NAME VALUE [--tag T ...] [--overwrite] | rm NAME"
)


def parse_value(text: str) -> Any:
    """``VALUE`` as JSON (``42``, ``true``, ``null``, ``[1, 2]``, ``{"a": 1}``, ``"x"``), else
    the text itself, as Prefect's CLI reads it."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _shown(value: Any, width: int = 60) -> str:
    text = json.dumps(value)
    return text if len(text) <= width else text[: width - 3] + "..."


class VariablesApp(_ServerApp):
    """List, read, set or remove variables (named JSON values flows read)."""

    name = "jupyter-flows-variables"
    description = (
        "Variables: named JSON values with tags that flows read with "
        "jupyter_flows.variables.Variable.get(name). VALUE is read as JSON when it is JSON "
        "(42, true, null, [1, 2], '{\"a\": 1}'), else kept as text."
    )
    examples = """jupyter flows variables ls --tag prod
jupyter flows variables get answer
jupyter flows variables set answer 42 --tag demo
jupyter flows variables set config '{"bucket": "s3://raw", "retries": 3}' --overwrite
jupyter flows variables set greeting hello
jupyter flows variables rm answer
"""
    tags = List(Unicode(), config=True, help="set: a tag (repeatable); ls: only this tag.")
    prefix = Unicode("", config=True, help="ls: only names starting with this.")
    limit = Int(100, config=True, help="ls: at most this many (by name).")
    overwrite = Bool(False, config=True, help="set: replace the variable if it exists.")
    aliases = _aliases(
        "VariablesApp",
        tag="VariablesApp.tags",
        prefix="VariablesApp.prefix",
        limit="VariablesApp.limit",
    )
    flags = {
        "overwrite": (
            {"VariablesApp": {"overwrite": True}},
            "set: replace the variable (value and tags) if it exists.",
        )
    }

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        if action == "ls" and not rest:
            self._list()
        elif action == "get" and len(rest) == 1:
            print(json.dumps(self.call(self.client().read_variable, rest[0]).value))
        elif action == "set" and len(rest) == 2:
            name, value = rest[0], parse_value(rest[1])
            tags = list(self.tags) or None
            v = self.call(self.client().set_variable, name, value, tags, self.overwrite)
            tagged = f"  [{', '.join(v.tags)}]" if v.tags else ""
            print(f"set {v.name} = {_shown(v.value)}{tagged}")
        elif action == "rm" and len(rest) == 1:
            self.call(self.client().delete_variable, rest[0])
            print(f"removed {rest[0]}")
        else:
            self.fail(_USAGE, 2)

    def _list(self) -> None:
        if len(self.tags) > 1:
            self.fail("ls takes one --tag", 2)
        tag = self.tags[0] if self.tags else None
        found = self.call(self.client().read_variables, tag, self.prefix or None, self.limit)
        for v in found:
            tags = f"  [{', '.join(v.tags)}]" if v.tags else ""
            print(f"{v.name:<24} {_shown(v.value)}{tags}")
