"""The package's import layers hold, both at run time and in the source.

Modelled on Prefect's ``tests/test_import_smoke.py``: imports are checked in FRESH
subprocesses (``sys.executable -c ...``), because the test process itself has long since
imported everything. The static half parses every module under ``jupyter_flows/`` with
``ast`` and checks the dependency rule of ``STYLE.md``::

    server, kernel -> widgets, scheduling, execution, store -> core -> (stdlib, networkx, pydantic)

Subpackages that do not exist yet (kernel, server, widgets...) are simply not checked.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = "jupyter_flows"

# ``import jupyter_flows`` must load none of these (networkx too: the graph is built lazily).
HEAVY_FOR_ROOT = (
    "jupyter_server",
    "tornado",
    "IPython",
    "ipywidgets",
    "anywidget",
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "apscheduler",
    "papermill",
    "dask",
    "distributed",
    "networkx",
    "grandalf",
)

# Importing any module of ``jupyter_flows.core`` must load none of these.
HEAVY_FOR_CORE = (
    "jupyter_server",
    "tornado",
    "IPython",
    "ipywidgets",
    "anywidget",
    "sqlmodel",
    "sqlalchemy",
    "apscheduler",
    "papermill",
    "grandalf",  # core.layout imports it inside layout_graph only
)

# Third-party distributions core may import, besides the standard library.
CORE_THIRD_PARTY = frozenset({"networkx", "pydantic", "pydantic_core", "typing_extensions"})
# ... and those it may import only inside a function (pickling fallback of hashing/results;
# the Sugiyama layout of run graphs).
CORE_THIRD_PARTY_LAZY = frozenset({"cloudpickle", "grandalf"})
# Own modules core may import (besides ``jupyter_flows.core.*``).
CORE_OWN = frozenset({f"{PKG}.exceptions", f"{PKG}._version"})
# Own modules store may import (besides ``jupyter_flows.store.*``).
STORE_OWN_LAYERS = frozenset({"core", "exceptions", "_version", "store"})

# Every subpackage (and top-level module) ranked: a layer imports only layers of a lower or its
# own rank (server, kernel, cli -> client, widgets, workers -> orchestration, scheduling,
# execution, reports -> store -> core -> exceptions). ``__main__`` shims are entry points.
RANKS = {
    "": 6,  # the package root: the public API
    "server": 5,
    "kernel": 5,
    "cli": 5,
    "client": 4,
    "widgets": 4,
    "workers": 4,
    "orchestration": 3,
    "scheduling": 3,
    "execution": 3,
    "reports": 3,
    "store": 2,
    "testing": 2,  # the test harness: a throwaway run database
    "core": 1,
    "context": 1,  # Prefect's module paths, facades over core
    "logging": 1,
    "runtime": 1,
    "states": 1,
    "tasks": 1,
    "flows": 1,
    "serializers": 1,
    "cache_policies": 1,
    "futures": 1,
    "task_runners": 1,
    "utilities": 1,
    "results": 1,
    "filesystems": 1,
    "transactions": 1,
    "locking": 2,  # its database lock manager lives in the store
    "events": 3,  # Prefect's prefect.events: over orchestration.events
    "variables": 4,  # Prefect's prefect.variables: over orchestration.variables, client.http
    "flow_runs": 4,  # Prefect's prefect.flow_runs: pause/resume over orchestration, client
    "input": 1,  # Prefect's prefect.input: RunInput
    "deployments": 5,  # Prefect's prefect.deployments: serve runs a scheduler and a worker
    "schedules": 1,  # Prefect's prefect.schedules: plain values
    "artifacts": 4,  # Prefect's prefect.artifacts: over core.artifacts, store.artifacts, client
    "concurrency": 4,  # Prefect's prefect.concurrency: over orchestration.slots, client.http
    "blocks": 4,  # Prefect's prefect.blocks: over orchestration.blocks, client.http
    "task_worker": 4,  # Prefect's prefect.task_worker: over workers.task_worker, store
    "exceptions": 0,
    "_version": 0,
    "_cloud_only": 0,  # the table of Prefect names that cannot exist here
    "labextension": 0,
}

# Third-party packages that exactly one layer of ours may import (mirrors ruff's TID251 table).
OWNED_THIRD_PARTY = {
    "jupyter_server": ("server",),
    "tornado": ("server",),
    "IPython": ("kernel",),
    "sqlmodel": ("store",),
    # the orchestration domain writes its tables with SQLAlchemy Core, like the store
    "sqlalchemy": ("store", "orchestration"),
    "alembic": ("store",),
    "apscheduler": ("scheduling",),
    "papermill": ("execution",),
    "cryptography": ("store",),  # store.encryption: block documents at rest
}


# --------------------------------------------------------------------------- helpers


def _run_python(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``sys.executable *args`` from the repository root, in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTHONINSPECT")}
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return proc


def _roots_loaded(modules: list[str], forbidden: tuple[str, ...]) -> list[str]:
    """The forbidden top-level names among ``modules`` (``a.b.c`` counts as ``a``)."""
    roots = {name.partition(".")[0] for name in modules}
    return sorted(roots.intersection(forbidden))


def _importtime_entries(log: str) -> list[tuple[int, int, str]]:
    """``(depth, cumulative_us, module)`` for each line that ``python -X importtime`` printed.

    The log lists children before their parent, one indent level (2 spaces) deeper.
    """
    entries: list[tuple[int, int, str]] = []
    for line in log.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        if not parts[1].strip().isdigit():
            continue  # the header line
        field = parts[2]
        depth = (len(field) - len(field.lstrip(" "))) // 2
        entries.append((depth, int(parts[1]), field.strip()))
    return entries


def _import_chain(importtime_log: str, target: str) -> str:
    """Who imported ``target``: walk up the tree that ``python -X importtime`` printed."""
    entries = _importtime_entries(importtime_log)
    hits = [i for i, (_, _, name) in enumerate(entries) if name == target]
    hits += [i for i, (_, _, name) in enumerate(entries) if name.startswith(target + ".")]
    if not hits:
        return f"{target} (no import chain found)"
    depth, _, name = entries[hits[0]]
    chain = [name]
    for later_depth, _, later_name in entries[hits[0] + 1 :]:
        if later_depth < depth:
            chain.append(later_name)
            depth = later_depth
    return " <- ".join(chain)


def _subtree(entries: list[tuple[int, int, str]], top: str) -> list[tuple[int, int, str]]:
    """The last import of ``top`` in ``entries`` and everything it imported."""
    for i in range(len(entries) - 1, -1, -1):
        depth, _, name = entries[i]
        if name == top:
            start = i
            while start > 0 and entries[start - 1][0] > depth:
                start -= 1
            return entries[start : i + 1]
    return []


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files(root: Path, package: str = PKG) -> list[Path]:
    base = root / package
    return sorted(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)


@dataclass(frozen=True)
class ImportRef:
    """One import statement's target, resolved to an absolute dotted name."""

    path: Path
    lineno: int
    importer: str  # dotted name of the importing module
    target: str  # dotted name of the imported module (or of the package a name comes from)
    in_function: bool  # inside a def/lambda: executed lazily, not at module import

    @property
    def top(self) -> str:
        return self.target.partition(".")[0]

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.lineno}"


def _is_own_module(dotted: str, root: Path) -> bool:
    rel = Path(*dotted.split("."))
    return (root / rel).with_suffix(".py").is_file() or (root / rel / "__init__.py").is_file()


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.root = root
        self.importer = _module_name(path, root)
        is_package = path.name == "__init__.py"
        self.package = self.importer if is_package else self.importer.rpartition(".")[0]
        self.depth = 0
        self.refs: list[ImportRef] = []

    def _add(self, node: ast.stmt, target: str) -> None:
        self.refs.append(ImportRef(self.path, node.lineno, self.importer, target, self.depth > 0))

    def _nested(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = _nested
    visit_AsyncFunctionDef = _nested
    visit_Lambda = _nested

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), self.package)
        else:
            base = node.module or ""
        if base != PKG and not base.startswith(PKG + "."):
            self._add(node, base)
            return
        # ``from jupyter_flows.core import graph`` imports the module ``jupyter_flows.core.graph``;
        # ``from jupyter_flows import flow`` imports the package root itself.
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            self._add(node, candidate if _is_own_module(candidate, self.root) else base)


def _collect_imports(root: Path, package: str = PKG) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for path in _source_files(root, package):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for odd escapes: not our concern
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        collector = _ImportCollector(path, root)
        collector.visit(tree)
        refs.extend(collector.refs)
    return refs


def _layer(dotted: str) -> str:
    """``jupyter_flows.core.graph`` -> ``core``; the package root -> ``""``."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_stdlib(top: str) -> bool:
    return top in sys.stdlib_module_names


def _layer_violations(root: Path, package: str = PKG) -> list[str]:
    """Every import under ``root/package`` that breaks the layer rule, as readable lines."""
    problems: list[str] = []
    for ref in _collect_imports(root, package):
        src = _layer(ref.importer)
        own = ref.top == package
        dst = _layer(ref.target) if own else None

        def bad(why: str, ref: ImportRef = ref) -> None:
            problems.append(f"{ref.where(root)}: {ref.importer} imports {ref.target} ({why})")

        if src == "core":
            if own:
                if dst != "core" and ref.target not in CORE_OWN:
                    bad("core may import only jupyter_flows.core/.exceptions/._version")
            elif _is_stdlib(ref.top) or ref.top in CORE_THIRD_PARTY:
                pass
            elif ref.top in CORE_THIRD_PARTY_LAZY:
                if not ref.in_function:
                    bad(f"core may import {ref.top} only lazily, inside a function")
            else:
                bad("core may import only the stdlib, networkx and pydantic")
        elif src in ("exceptions", "_version"):
            if not (_is_stdlib(ref.top) or ref.target in CORE_OWN):
                bad(f"{src} is stdlib-only")
        elif src == "store" and own and dst not in STORE_OWN_LAYERS:
            bad("store may import only core, exceptions, _version and itself")

        owners = OWNED_THIRD_PARTY.get(ref.top)
        if owners is not None and src not in owners:
            bad(f"only jupyter_flows.{' or '.join(owners)} may import {ref.top}")

        if own and src != dst and not ref.importer.endswith(".__main__"):
            if src not in RANKS or dst not in RANKS:
                bad(f"rank the layer {src if src not in RANKS else dst!r} in RANKS")
            elif RANKS[dst] > RANKS[src] and not (src == "" and ref.in_function):
                bad(f"{src or 'the package root'} may not import the higher layer {dst}")

        if own and dst == "server" and src != "server":
            # The one exception: the server-extension hook in the package root, imported lazily.
            if not (src == "" and ref.in_function):
                bad("nothing imports jupyter_flows.server (except the lazy hook in __init__)")
    return problems


# --------------------------------------------------------------------------- tests


class TestImportLayers:
    """``import jupyter_flows`` stays light and the subpackages respect the layer rule."""

    def test_import_jupyter_flows_loads_no_heavy_dependency(self) -> None:
        code = textwrap.dedent(
            """
            import json, sys
            before = set(sys.modules)
            import jupyter_flows
            print(json.dumps(sorted(set(sys.modules) - before)))
            """
        )
        proc = _run_python("-X", "importtime", "-c", code)
        assert proc.returncode == 0, f"import jupyter_flows failed:\n{proc.stderr[-4000:]}"
        loaded = json.loads(proc.stdout.strip().splitlines()[-1])
        heavy = _roots_loaded(loaded, HEAVY_FOR_ROOT)
        chains = "\n".join(_import_chain(proc.stderr, name) for name in heavy)
        assert not heavy, f"`import jupyter_flows` loaded {heavy}; import chains:\n{chains}"

    def test_core_modules_load_no_jupyter_db_or_widget_code(self) -> None:
        core_dir = ROOT / PKG / "core"
        if not core_dir.is_dir():
            pytest.skip("jupyter_flows/core does not exist yet")
        modules = [_module_name(p, ROOT) for p in _source_files(ROOT, f"{PKG}/core")]
        code = textwrap.dedent(
            """
            import json, sys
            forbidden = set(json.loads(sys.argv[1]))
            culprits = {}
            for name in json.loads(sys.argv[2]):
                __import__(name)  # unlike importlib.import_module, shows up in -X importtime
                for loaded in list(sys.modules):
                    root = loaded.partition(".")[0]
                    if root in forbidden and root not in culprits:
                        culprits[root] = name
            print(json.dumps(culprits))
            """
        )
        # The package root first: what it loads is blamed on it, not on the first core module.
        proc = _run_python(
            "-X",
            "importtime",
            "-c",
            code,
            json.dumps(HEAVY_FOR_CORE),
            json.dumps([PKG, *modules]),
        )
        assert proc.returncode == 0, f"importing the core modules failed:\n{proc.stderr[-4000:]}"
        culprits: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
        report = "\n".join(
            f"{heavy}: first loaded by {mod} via {_import_chain(proc.stderr, heavy)}"
            for heavy, mod in sorted(culprits.items())
        )
        assert not culprits, f"core pulled in forbidden packages:\n{report}"

    def test_static_layer_rule(self) -> None:
        if not (ROOT / PKG).is_dir():
            pytest.skip("no jupyter_flows package")
        problems = _layer_violations(ROOT)
        assert not problems, "layer rule broken:\n" + "\n".join(problems)

    def test_static_checker_catches_violations(self, tmp_path: Path) -> None:
        """The checker itself: relative imports resolve, lazy hooks pass, violations are caught."""
        files = {
            "__init__.py": (
                "from .core.flows import flow\n"
                "def _jupyter_server_extension_points():\n"
                "    from .server.app import FlowsApp\n"
                "    return [FlowsApp]\n"
            ),
            "exceptions.py": "import os\n",
            "core/__init__.py": "",
            "core/flows.py": (
                "import networkx\n"
                "from .. import exceptions\n"
                "from ..exceptions import FlowsError\n"
                "from . import states\n"
                "def f():\n"
                "    import cloudpickle\n"
            ),
            "core/states.py": "from ..store import db\nimport sqlmodel\nimport cloudpickle\n",
            "store/__init__.py": "",
            "store/db.py": (
                "import sqlmodel\nfrom ..core import states\nfrom ..kernel import magics\n"
            ),
            "kernel/__init__.py": "",
            "kernel/magics.py": "import IPython\nfrom jupyter_flows.server import app\n",
            "server/__init__.py": "",
            "server/app.py": "import jupyter_server\nimport tornado.web\nfrom ..store import db\n",
            "orchestration/__init__.py": "",
            "orchestration/deploy.py": (
                "from ..store import db\ndef f():\n    from ..cli import app\n"
            ),
            "cli/__init__.py": "",
            "cli/app.py": "from ..orchestration import deploy\n",
            "workers/__init__.py": "",
            "workers/__main__.py": "from ..cli.app import main\n",
            "gadgets/__init__.py": "from ..core import flows\n",
        }
        for rel, text in files.items():
            path = tmp_path / PKG / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

        problems = _layer_violations(tmp_path)
        flagged = sorted({line.split(":", 1)[0] + ":" + line.split(":")[1] for line in problems})
        assert flagged == [
            "jupyter_flows/core/states.py:1",  # core -> store
            "jupyter_flows/core/states.py:2",  # core -> sqlmodel
            "jupyter_flows/core/states.py:3",  # cloudpickle at module level
            "jupyter_flows/gadgets/__init__.py:1",  # a layer without a rank
            "jupyter_flows/kernel/magics.py:2",  # -> server
            "jupyter_flows/orchestration/deploy.py:3",  # -> a higher layer, even lazily
            "jupyter_flows/store/db.py:3",  # store -> kernel
        ], "\n".join(problems)

    def test_report_import_time(self, record_property: pytest.RecordProperty) -> None:
        """Measure (never assert) how long ``import jupyter_flows`` takes in a fresh process."""
        code = (
            "import time; t = time.perf_counter(); import jupyter_flows; "
            "print(time.perf_counter() - t)"
        )
        samples = []
        for _ in range(3):
            proc = _run_python("-c", code)
            assert proc.returncode == 0, proc.stderr[-4000:]
            samples.append(float(proc.stdout.strip().splitlines()[-1]))
        median_ms = statistics.median(samples) * 1000

        proc = _run_python("-X", "importtime", "-c", "import jupyter_flows")
        tree = _subtree(_importtime_entries(proc.stderr), PKG)
        heaviest = sorted(((us, name) for _, us, name in tree), reverse=True)[:10]

        record_property("import_jupyter_flows_ms", round(median_ms, 1))
        print(f"\nimport jupyter_flows: {median_ms:.1f} ms (median of 3 fresh processes)")
        for micros, name in heaviest:
            print(f"  {micros / 1000:8.1f} ms cumulative  {name}")
