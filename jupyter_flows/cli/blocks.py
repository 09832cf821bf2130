"""``jupyter flows block ls|inspect|rm`` and ``jupyter flows secret set|ls|rm``, over REST.

Prefect's ``prefect block ...``. Nothing here prints a secret value: documents are read
masked, and ``secret set`` reads the value from a prompt that does not echo (or from stdin),
never from the command line (where shell history and ``ps`` would keep it).
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any

from traitlets import Bool, Int, Unicode

from .orchestration import _aliases, _ServerApp

__all__ = ["BlockApp", "SecretApp"]

_BLOCK_USAGE = "usage: jupyter flows block ls [--type SLUG] | inspect SLUG/NAME | rm SLUG/NAME"
_SECRET_USAGE = "usage: jupyter flows secret set NAME [--overwrite] [--json] | ls | rm NAME"


def _address(text: str) -> tuple[str, str]:
    slug, sep, name = text.partition("/")
    if not sep or not slug or not name:
        raise ValueError(
            f"give the document as BLOCK-TYPE-SLUG/NAME (e.g. secret/db), not {text!r}"
        )
    return slug, name


class BlockApp(_ServerApp):
    """List, inspect (secret fields masked) or remove block documents."""

    name = "jupyter-flows-block"
    description = (
        "Block documents: the saved values of blocks (jupyter_flows.blocks.core.Block.save) "
        "and secrets, by BLOCK-TYPE-SLUG/NAME. Secret fields are always shown masked "
        "(********); load them in Python with Block.load('SLUG/NAME')."
    )
    examples = """jupyter flows block ls
jupyter flows block ls --type secret
jupyter flows block inspect secret/db-password
jupyter flows block rm warehouse/prod
"""
    block_type = Unicode("", config=True, help="ls: only documents of this block type slug.")
    limit = Int(100, config=True, help="ls: at most this many (by block type and name).")
    aliases = _aliases("BlockApp", type="BlockApp.block_type", limit="BlockApp.limit")

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        if action == "ls" and not rest:
            found = self.call(self.client().read_block_documents, self.block_type or None,
                              self.limit)  # fmt: skip
            for d in found:
                secrets = f"  secret: {', '.join(d.secret_fields)}" if d.secret_fields else ""
                print(f"{d.block_type_slug + '/' + d.name:<40} {d.updated:%Y-%m-%d %H:%M}{secrets}")
        elif action in ("inspect", "rm") and len(rest) == 1:
            try:
                slug, name = _address(rest[0])
            except ValueError as exc:
                self.fail(str(exc), 2)
            if action == "rm":
                self.call(self.client().delete_block_document, slug, name)
                print(f"removed {slug}/{name}")
                return
            d = self.call(self.client().read_block_document, slug, name)
            shown: dict[str, Any] = {
                "id": d.id,
                "block_type_slug": d.block_type_slug,
                "name": d.name,
                "data": d.data,  # masked by the server
                "secret_fields": d.secret_fields,
                "created": d.created.isoformat(),
                "updated": d.updated.isoformat(),
            }
            print(json.dumps(shown, indent=2))
        else:
            self.fail(_BLOCK_USAGE, 2)


def read_secret(prompt: str, stdin: Any = None) -> str:
    """The value: from a prompt without echo on a terminal, else all of stdin (one trailing
    newline dropped)."""
    stdin = sys.stdin if stdin is None else stdin
    if stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("again: ") != first:
            raise ValueError("the two values differ")
        return first
    text = str(stdin.read())
    return text[:-1] if text.endswith("\n") else text


class SecretApp(_ServerApp):
    """Set, list or remove secrets (``Secret`` blocks) without printing their values."""

    name = "jupyter-flows-secret"
    description = (
        "Secrets: Secret blocks (jupyter_flows.blocks.system.Secret) that flows read with "
        "Secret.load(NAME).get(). 'set' reads the value from a prompt that does not echo, or "
        "from stdin when it is not a terminal (never from the command line); values are "
        "encrypted at rest by the server and never shown."
    )
    examples = """jupyter flows secret set db-password
printf %s "$TOKEN" | jupyter flows secret set api-token --overwrite
echo '{"user": "etl", "password": "p@ss"}' | jupyter flows secret set db --json
jupyter flows secret ls
jupyter flows secret rm api-token
"""
    overwrite = Bool(False, config=True, help="set: replace the secret's value if it exists.")
    as_json = Bool(False, config=True, help="set: read the value as JSON (an object, ...).")
    aliases = _aliases("SecretApp")
    flags = {
        "overwrite": ({"SecretApp": {"overwrite": True}}, "set: replace an existing secret."),
        "json": ({"SecretApp": {"as_json": True}}, "set: the value is JSON, not text."),
    }

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        if action == "set" and len(rest) == 1:
            self._set(rest[0])
        elif action == "ls" and not rest:
            for d in self.call(self.client().read_block_documents, "secret", 1000):
                print(f"{d.name:<40} updated {d.updated:%Y-%m-%d %H:%M}")
        elif action == "rm" and len(rest) == 1:
            self.call(self.client().delete_block_document, "secret", rest[0])
            print(f"removed secret {rest[0]}")
        else:
            self.fail(_SECRET_USAGE, 2)

    def _set(self, name: str) -> None:
        try:
            text = read_secret(f"value of secret {name!r}: ")
            value: Any = json.loads(text) if self.as_json else text
        except (ValueError, EOFError) as exc:
            self.fail(f"secret {name!r} not set: {exc}", 2)
        if value == "":
            self.fail(f"secret {name!r} not set: the value is empty", 2)
        client = self.client()
        saved = self.call(client.save_block_document, "secret", name, {"value": value},
                          ["value"], self.overwrite)  # fmt: skip
        print(f"set secret {saved.name} (encrypted by the server; load it with "
              f"Secret.load({saved.name!r}).get())")  # fmt: skip
