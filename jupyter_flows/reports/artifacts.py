"""The Artifacts section of run reports: markdown rendered (raw HTML escaped, unsafe links
dropped, by ``mistune``), tables as tables, images, links and progress bars."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

__all__ = ["artifacts_html", "artifacts_markdown", "table_rows", "CSS"]

CSS = """
.artifact { margin: 0 0 12px; } .artifact h3 { font-size: 14px; margin: 0 0 6px; }
.artifact .md > :first-child { margin-top: 0; } .artifact img { max-width: 100%; }
.progress { background: var(--line); border-radius: 6px; height: 12px; width: 100%; }
.progress > div { background: #2da44e; border-radius: 6px; height: 12px; }
"""


def _markdown_html(text: str) -> str:
    import mistune

    render = mistune.create_markdown(escape=True, plugins=["table", "strikethrough", "url"])
    return str(render(text))


def table_rows(data: Any) -> tuple[list[str], list[list[Any]]]:
    """``(columns, rows)`` of a table artifact's data (JSON text of a dict of columns, a
    list of row dicts or of row lists)."""
    table = json.loads(data) if isinstance(data, str) else data
    if isinstance(table, dict):
        columns = [str(c) for c in table]
        height = max((len(v) for v in table.values() if isinstance(v, list)), default=0)
        rows = [
            [col[i] if isinstance(col, list) and i < len(col) else None for col in table.values()]
            for i in range(height)
        ]
        return columns, rows
    if isinstance(table, list) and table and all(isinstance(r, dict) for r in table):
        columns = list(dict.fromkeys(str(k) for r in table for k in r))
        return columns, [[r.get(c) for c in columns] for r in table]
    if isinstance(table, list):
        rows = [r if isinstance(r, list) else [r] for r in table]
        width = max((len(r) for r in rows), default=0)
        return [str(i) for i in range(width)], rows
    return ["value"], [[table]]


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _body_html(artifact: Any) -> str:
    data = artifact.data
    if artifact.type == "markdown":
        return f"<div class='md'>{_markdown_html(str(data or ''))}</div>"
    if artifact.type == "table":
        try:
            columns, rows = table_rows(data)
        except ValueError:
            return f"<pre>{escape(str(data))}</pre>"
        head = "".join(f"<th>{escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows
        )
        return f"<table><tr>{head}</tr>{body}</table>"
    if artifact.type == "image":
        url = str(data or "")
        if not url.lower().startswith(("http://", "https://", "data:image/")):
            return f"<pre>{escape(url)}</pre>"
        return f"<img src='{escape(url, quote=True)}' alt='{escape(artifact.key or 'image')}'>"
    if artifact.type == "progress" and isinstance(data, int | float):
        pct = max(0.0, min(float(data), 100.0))
        return (
            f"<div class='progress' role='progressbar' aria-valuenow='{pct:g}'>"
            f"<div style='width:{pct:g}%'></div></div><span class='muted'>{pct:g}%</span>"
        )
    return f"<pre>{escape(json.dumps(data, default=str))}</pre>"


def artifacts_html(artifacts: Sequence[Any]) -> str:
    """The section's HTML (empty without artifacts)."""
    if not artifacts:
        return ""
    parts = ["<h2>Artifacts</h2>"]
    for a in artifacts:
        title = escape(a.key or a.type)
        kind = f" <span class='muted'>{escape(a.type)}</span>"
        description = (
            f"<div class='md muted'>{_markdown_html(a.description)}</div>" if a.description else ""
        )
        parts.append(
            f"<div class='card artifact' id='artifact-{escape(a.id)}'><h3>{title}{kind}</h3>"
            f"{description}{_body_html(a)}</div>"
        )
    return "".join(parts)


def _md_cell(value: Any) -> str:
    return _cell(value).replace("|", "\\|").replace("\n", " ")


def artifacts_markdown(artifacts: Sequence[Any]) -> list[str]:
    """The section's lines (none without artifacts)."""
    if not artifacts:
        return []
    lines = ["", "## Artifacts"]
    for a in artifacts:
        lines += ["", f"### {a.key or a.type} ({a.type})", ""]
        if a.description:
            lines += [a.description, ""]
        data = a.data
        if a.type == "markdown":
            lines.append(str(data or ""))
        elif a.type == "table":
            try:
                columns, rows = table_rows(data)
            except ValueError:
                lines.append(f"`{_md_cell(data)}`")
                continue
            lines.append("| " + " | ".join(_md_cell(c) for c in columns) + " |")
            lines.append("|" + "---|" * len(columns))
            lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
        elif a.type == "image":
            lines.append(f"![{a.key or 'image'}]({data})")
        elif a.type == "progress" and isinstance(data, int | float):
            pct = max(0.0, min(float(data), 100.0))
            filled = round(pct / 5)
            lines.append(f"`{'█' * filled}{'░' * (20 - filled)}` {pct:g}%")
        else:
            lines.append(f"`{_md_cell(json.dumps(data, default=str))}`")
    return lines
