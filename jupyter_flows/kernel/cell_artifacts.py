"""``%%task --artifacts``: keep a cell's rich outputs as artifacts of its task run.

What is kept, each keyed after the cell (``load_data`` -> ``load-data``, so every run of the
notebook adds a version):

- the cell's result (its last expression): a pandas ``DataFrame`` or ``Series`` as a table
  (the first ``MAX_TABLE_ROWS`` rows), an object with ``_repr_markdown_`` as markdown, an
  image (``_repr_png_``) as an image, anything else as its ``repr`` in a code block;
- the matplotlib figures the cell drew (still open when it ends: the inline backend shows
  and closes them after the cell), as PNG images;
- PNG images the cell showed with ``display()``.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

from ..core.artifacts import MAX_ARTIFACT_BYTES, save_artifact, table_data

__all__ = ["artifact_key", "open_figures", "kept_displays", "keep_outputs", "MAX_TABLE_ROWS"]

logger = logging.getLogger(__name__)

#: rows of a DataFrame result kept in its table artifact
MAX_TABLE_ROWS = 1000


def artifact_key(name: str) -> str:
    """An artifact key from a cell name: lowercase, dashes for everything else."""
    key = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return key or "cell"


def open_figures() -> set[int]:
    """The numbers of the open matplotlib figures (none if matplotlib is not in use)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    return set(pyplot.get_fignums()) if pyplot is not None else set()


@contextlib.contextmanager
def kept_displays(shell: Any) -> Iterator[list[bytes | str]]:
    """Collect the PNG images published with ``display()`` while the block runs (they are
    still shown as usual)."""
    images: list[bytes | str] = []
    publisher = getattr(shell, "display_pub", None)
    if publisher is None:
        yield images
        return
    original = publisher.publish

    def publish(data: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(data, dict) and "image/png" in data:
            images.append(data["image/png"])
        return original(data, *args, **kwargs)

    publisher.publish = publish
    try:
        yield images
    finally:
        publisher.publish = original


def _png_url(png: bytes | str) -> str:
    text = png if isinstance(png, str) else base64.b64encode(png).decode()
    return "data:image/png;base64," + text.replace("\n", "")


def _figure_png(number: int) -> bytes | None:
    import io

    pyplot = sys.modules["matplotlib.pyplot"]
    buffer = io.BytesIO()
    try:
        pyplot.figure(number).savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    except Exception:  # noqa: BLE001 - keeping outputs never fails the cell
        logger.exception("cannot keep figure %d as an artifact", number)
        return None
    return buffer.getvalue()


def _result(key: str, value: Any) -> None:
    if value is None:
        return
    kind = type(value).__name__
    if kind in ("DataFrame", "Series") and hasattr(value, "head"):
        frame = value.head(MAX_TABLE_ROWS)
        if kind == "Series":
            frame = frame.to_frame()
        rows = frame.reset_index().to_dict(orient="records")
        described = f"{len(value)} rows" + (" (first 1000 kept)" if len(value) > 1000 else "")
        save_artifact("table", table_data(rows), key, described)
        return
    markdown = getattr(value, "_repr_markdown_", None)
    if callable(markdown):
        text = markdown()
        if isinstance(text, str):
            save_artifact("markdown", text, key)
            return
    png = getattr(value, "_repr_png_", None)
    if callable(png):
        data = png()
        if isinstance(data, bytes | str):
            save_artifact("image", _png_url(data), key)
            return
    text = repr(value)
    if len(text) > MAX_ARTIFACT_BYTES // 2:
        text = text[: MAX_ARTIFACT_BYTES // 2] + "\n..."
    save_artifact("markdown", f"```\n{text}\n```", key)


def keep_outputs(name: str, value: Any, figures_before: set[int], shown: list[Any]) -> int:
    """Save the cell's result, new figures and shown images as artifacts of the task run
    running now; how many were saved. A problem with one is logged, never raised."""
    key = artifact_key(name)
    saved = 0
    try:
        _result(key, value)
        saved += value is not None
    except Exception:  # noqa: BLE001
        logger.exception("cannot keep the result of %s as an artifact", name)
    images = [png for n in sorted(open_figures() - figures_before) if (png := _figure_png(n))]
    for i, png in enumerate([*images, *shown]):
        url = _png_url(png)
        if len(url) > MAX_ARTIFACT_BYTES:
            logger.warning("%s: an image of %d bytes is too large to keep", name, len(url))
            continue
        try:
            save_artifact("image", url, f"{key}-image-{i + 1}")
            saved += 1
        except ValueError as exc:
            logger.warning("%s: cannot keep an image: %s", name, exc)
    return saved
