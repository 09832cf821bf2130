"""``jupyter flows artifacts ls|inspect|rm``: Prefect's ``prefect artifact ...``, over REST."""

from __future__ import annotations

import json
from typing import Any

from traitlets import Bool, Int, Unicode

from .orchestration import _aliases, _ServerApp

__all__ = ["ArtifactsApp"]

_USAGE = "usage: jupyter flows artifacts ls [--all] [--run RUN] | inspect KEY | rm ID"


def _shown(artifact: Any, width: int = 50) -> str:
    data = artifact.data
    if artifact.type == "progress" and isinstance(data, int | float):
        return f"{data:g}%"
    text = data if isinstance(data, str) else json.dumps(data)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


class ArtifactsApp(_ServerApp):
    """List artifacts (the newest of each key), inspect a key's versions, remove one."""

    name = "jupyter-flows-artifacts"
    description = (
        "Artifacts: markdown, tables, links, images and progress that runs make with "
        "jupyter_flows.artifacts (create_markdown_artifact(...), ...). `ls` lists the newest "
        "version of each key; --all lists every artifact (keyless ones too), --run those of "
        "one flow run. `inspect KEY` prints every version of KEY as JSON, newest first."
    )
    examples = """jupyter flows artifacts ls
jupyter flows artifacts ls --all --limit 50
jupyter flows artifacts ls --run 0193a5c2e4f1...
jupyter flows artifacts inspect sales-report
jupyter flows artifacts rm 0193a5c2e4f1...
"""
    show_all = Bool(False, config=True, help="ls: every artifact, not the newest of each key.")
    run = Unicode("", config=True, help="ls: only the artifacts of this flow run (its id).")
    limit = Int(100, config=True, help="ls, inspect: at most this many, newest first.")
    aliases = _aliases("ArtifactsApp", run="ArtifactsApp.run", limit="ArtifactsApp.limit")
    flags = {
        "all": ({"ArtifactsApp": {"show_all": True}}, "ls: every artifact (keyless ones too).")
    }

    def start(self) -> None:
        action, *rest = self.extra_args or ["ls"]
        if action == "ls" and not rest:
            self._list()
        elif action == "inspect" and len(rest) == 1:
            found = self.call(self.client().read_artifacts, rest[0], None, False, self.limit)
            if not found:
                self.fail(f"no artifact with key {rest[0]!r}", 1)
            print(json.dumps([a.model_dump(mode="json") for a in found], indent=2))
        elif action == "rm" and len(rest) == 1:
            self.call(self.client().delete_artifact, rest[0])
            print(f"removed {rest[0]}")
        else:
            self.fail(_USAGE, 2)

    def _list(self) -> None:
        latest = not self.show_all and not self.run
        found = self.call(self.client().read_artifacts, None, self.run or None, latest, self.limit)
        for a in found:
            name = a.key or "-"
            when = a.updated.strftime("%Y-%m-%d %H:%M")
            print(f"{a.id}  {name:<24} {a.type:<9} {when}  {_shown(a)}")
