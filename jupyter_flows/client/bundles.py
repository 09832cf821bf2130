"""What ``deploy`` uploads of an entrypoint: the notebook, the ``.py`` file, or its package.

``local_source(entrypoint, root_dir)`` finds the entrypoint's files here and returns the
bundle (``execution.source_bundle.pack``) with the entrypoint relative to the bundle's
root: a notebook alone (``etl.ipynb``); a ``.py`` file alone, or, when it is a module of a
package (its folder has ``__init__.py``), the top-level package's folder
(``pkg/sub/flows.py:etl``); a ``pkg.module:flow`` under ``root_dir``, its top-level package
(or module file). ``None``: nothing of it is here (a path on the server, or an installed
package), so the deployment names it by path as before.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from ..execution.entrypoints import is_notebook
from ..execution.source_bundle import pack

__all__ = ["LocalSource", "local_source"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalSource:
    bundle: bytes
    #: the entrypoint, relative to the bundle's root
    entrypoint: str
    #: the folder the bundle was packed from (what its root is here)
    root: Path


def _top_package(folder: Path) -> Path | None:
    """The outermost package folder holding ``folder`` (``None``: not a package)."""
    top = None
    while (folder / "__init__.py").is_file():
        top, folder = folder, folder.parent
    return top


def _of_file(path: Path, attr: str) -> LocalSource:
    top = _top_package(path.parent)
    root = top.parent if top is not None else path.parent
    what = top.name if top is not None else path.name
    rel = path.relative_to(root).as_posix()
    return LocalSource(pack(root, [what]), f"{rel}:{attr}" if attr else rel, root)


def _module_file(module: str, root: Path) -> Path | None:
    """The file of module ``module`` if it is under ``root`` (not an installed package)."""
    loaded = sys.modules.get(module)
    origin = getattr(loaded, "__file__", None)
    if origin is None:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            return None
        origin = spec.origin if spec is not None else None
    if not origin:
        return None
    path = Path(origin).resolve()
    return path if root in path.parents else None


def local_source(entrypoint: str, root_dir: Path | None = None) -> LocalSource | None:
    """The bundle of ``entrypoint``'s files here (relative to ``root_dir``, default the
    working directory), or ``None`` if they are not here."""
    root = (root_dir or Path.cwd()).resolve()
    if is_notebook(entrypoint):
        path = (root / entrypoint).resolve()
        if not path.is_file():
            return None
        return LocalSource(pack(path.parent, [path.name]), path.name, path.parent)
    module_part, _, attr = entrypoint.rpartition(":")
    if module_part.endswith(".py"):
        path = (root / module_part).resolve()
        return _of_file(path, attr) if path.is_file() else None
    found = _module_file(module_part.split(".")[0], root)  # the top-level package's
    if found is None:
        return None
    top = found.parent if found.name == "__init__.py" else found
    return LocalSource(pack(top.parent, [top.name]), entrypoint, top.parent)
