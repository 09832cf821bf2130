"""Dataflow between ``%%task`` cells: who reads what an earlier task defined.

Each task cell is analysed with :mod:`ast` for the module-level names it *reads* (needs from
earlier cells) and *defines*; an edge goes from the last earlier task that defined a name to each
later task that reads it. The analysis is deliberately conservative:

* a global read inside a ``def``/``lambda`` body counts as a read of the cell, since calling the
  function later needs the value, unless the cell itself binds that name anywhere at module level;
* assigning to an attribute or subscript (``df["a"] = 1``, ``obj.x = 1``) reads *and* defines the
  base name, since it mutates that object (mutating method calls such as ``df.pop()`` are not seen);
* bindings are taken in source order, whatever the control flow (``if c: x = 1`` binds ``x``);
* an ``except ... as e`` name is a define of the cell, but is unbound after its handler, as in
  Python;
* names from ``from m import *`` are not tracked; builtins and :data:`IPYTHON_NAMES` are kept
  apart, in ``builtin_reads``.
"""

from __future__ import annotations

import ast
import builtins
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import CycleError, FlowDefinitionError

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "append_cell",
    "CellNames",
    "DataflowGraph",
    "TaskCell",
    "analyze_cell",
    "build_dataflow",
    "changed_tasks",
]

logger = logging.getLogger(__name__)

#: Names the IPython kernel puts in every user namespace; read like builtins.
IPYTHON_NAMES = frozenset({"display", "get_ipython", "In", "Out", "exit", "quit"})
_BUILTINS = frozenset(dir(builtins)) | IPYTHON_NAMES
_Comprehension = ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.Constant)
_SCAN = re.compile(r"""[\\#'"()\[\]{}]""")


@dataclass(frozen=True)
class CellNames:
    """What one cell reads from, and binds in, the notebook namespace.

    Attributes
    ----------
    reads : names read before this cell binds them (builtins excluded).
    defines : names the cell binds (or mutates) at module level and leaves bound.
    deletes : names the cell leaves deleted (``del x``).
    builtin_reads : builtin names read; they matter only if some earlier cell rebinds them.
    """

    reads: frozenset[str] = frozenset()
    defines: frozenset[str] = frozenset()
    deletes: frozenset[str] = frozenset()
    builtin_reads: frozenset[str] = frozenset()


_NOT_ANALYZED = CellNames()


@dataclass(frozen=True)
class TaskCell:
    """A ``%%task`` cell; ``names`` is computed from ``source`` when not given."""

    name: str
    source: str
    names: CellNames = field(default=_NOT_ANALYZED, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.names is _NOT_ANALYZED:
            object.__setattr__(self, "names", analyze_cell(self.source))


@dataclass
class DataflowGraph:
    """Task dependencies of a notebook.

    Attributes
    ----------
    graph : nodes are task names (attrs ``index``, ``reads``, ``defines``, sorted lists); edge
        ``u -> v`` has ``names`` (sorted names flowing) and ``explicit`` (a declared extra edge).
    inputs : per task, the names it reads that no earlier task defined (notebook inputs).
    order : topological order, ties broken by cell order.
    """

    graph: nx.DiGraph
    inputs: dict[str, set[str]]
    order: list[str]
    #: which task defines each name after the last cell (what a cell appended next reads)
    definer: dict[str, str] = field(default_factory=dict, repr=False)
    #: names only non-task cells define (inputs, never edges)
    outside: frozenset[str] = field(default=frozenset(), repr=False)


def analyze_cell(source: str) -> CellNames:
    """Names one cell reads and defines; IPython magic lines are ignored.

    Raises
    ------
    SyntaxError
        Python's own, with line numbers counted in ``source`` (a ``%%task`` header included).
    """
    tree = ast.parse(_strip_magics(source), filename="<cell>")
    analyzer = _Analyzer()
    analyzer.run(tree)
    effects = analyzer.effects
    return CellNames(
        reads=frozenset(analyzer.reads),
        defines=frozenset(name for name, defined in effects.items() if defined),
        deletes=frozenset(name for name, defined in effects.items() if not defined),
        builtin_reads=frozenset(analyzer.builtin_reads),
    )


def build_dataflow(
    cells: Sequence[TaskCell],
    *,
    non_task_defined: Iterable[str] = (),
    extra_edges: Iterable[tuple[str, str]] = (),
) -> DataflowGraph:
    """The dependency graph of task cells given in notebook (execution) order.

    A reader depends on the last *earlier* task defining the name; a later redefinition is no
    edge. Names only non-task cells define (``non_task_defined``) are inputs, never edges.
    ``extra_edges`` are declared ``(upstream, downstream)`` dependencies.

    Raises
    ------
    FlowDefinitionError
        Duplicate task names, or an extra edge naming an unknown task.
    CycleError
        The extra edges make the graph cyclic.
    """
    import networkx as nx

    dataflow = DataflowGraph(nx.DiGraph(), {}, [], {}, frozenset(non_task_defined))
    for cell in cells:
        _add_cell(dataflow, cell)
    graph, inputs = dataflow.graph, dataflow.inputs
    extra_edges = list(extra_edges)
    for upstream, downstream in extra_edges:
        if unknown := {upstream, downstream} - inputs.keys():
            raise FlowDefinitionError(f"unknown task(s) in declared dependency: {sorted(unknown)}")
        if graph.has_edge(upstream, downstream):
            graph.edges[upstream, downstream]["explicit"] = True
        else:
            graph.add_edge(upstream, downstream, names=[], explicit=True)
    logger.debug("dataflow of %d tasks, %d edges", len(inputs), graph.number_of_edges())
    # without declared edges every edge goes from an earlier cell to a later one: acyclic,
    # and cell order is the topological order (the one ties broken by cell order gives)
    dataflow.order = _topological(graph) if extra_edges else list(inputs)
    return dataflow


def append_cell(dataflow: DataflowGraph, cell: TaskCell) -> None:
    """Add ``cell`` after the last cell of ``dataflow``, in place: the cost of one cell, not of
    the notebook (its edges come from earlier cells only, so it is last in the order).

    Raises
    ------
    FlowDefinitionError
        The name is taken.
    """
    _add_cell(dataflow, cell)
    dataflow.order.append(cell.name)


def _add_cell(dataflow: DataflowGraph, cell: TaskCell) -> None:
    graph, inputs, definer = dataflow.graph, dataflow.inputs, dataflow.definer
    if cell.name in inputs:
        raise FlowDefinitionError(f"duplicate task name {cell.name!r}")
    names = cell.names
    rebound = {b for b in names.builtin_reads if b in definer or b in dataflow.outside}
    reads = names.reads | rebound
    graph.add_node(cell.name, index=len(inputs), reads=sorted(reads), defines=sorted(names.defines))
    inputs[cell.name] = {name for name in reads if name not in definer}
    for name in sorted(n for n in reads if n in definer):
        upstream = definer[name]
        if not graph.has_edge(upstream, cell.name):
            graph.add_edge(upstream, cell.name, names=[], explicit=False)
        graph.edges[upstream, cell.name]["names"].append(name)
    for name in names.deletes:
        definer.pop(name, None)
    definer.update(dict.fromkeys(names.defines, cell.name))


def changed_tasks(graph: DataflowGraph | nx.DiGraph, changed: Iterable[str]) -> list[str]:
    """The tasks to re-run when ``changed`` did: those and all their descendants, in order.

    Raises
    ------
    FlowDefinitionError
        A name in ``changed`` is no task of the graph.
    """
    import networkx as nx

    if isinstance(graph, DataflowGraph):
        digraph, order = graph.graph, graph.order
    else:
        digraph, order = graph, _topological(graph)
    stale = set(changed)
    unknown = sorted(stale.difference(digraph.nodes))
    if unknown:
        raise FlowDefinitionError(f"unknown task(s): {', '.join(unknown)}")
    for task in list(stale):
        stale.update(nx.descendants(digraph, task))
    return [task for task in order if task in stale]


def _topological(graph: nx.DiGraph) -> list[str]:
    import networkx as nx

    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        index = {node: i for i, node in enumerate(graph.nodes)}
        return list(nx.lexicographical_topological_sort(graph, key=index.__getitem__))
    names = [str(u) for u, _v in cycle]
    raise CycleError([*names, names[0]])


# -- magic lines


def _strip_magics(source: str) -> str:
    """Blank a leading ``%%`` line and turn ``%``/``!`` lines into ``pass`` (keeps line numbers).

    Only lines starting a logical line count: ``!= 0`` continuing a bracket is Python.
    """
    lines = source.split("\n")
    if lines[0].lstrip().startswith("%%"):
        lines[0] = ""
    if not any(line.lstrip().startswith(("%", "!")) for line in lines):
        return "\n".join(lines)
    depth, quote, continued = 0, "", False
    for i, line in enumerate(lines):
        body = line.lstrip()
        if not (depth or quote or continued) and body.startswith(("%", "!")):
            lines[i] = line[: len(line) - len(body)] + "pass"
            continue
        depth, quote, continued = _scan_line(line, depth, quote)
    return "\n".join(lines)


def _scan_line(line: str, depth: int, quote: str) -> tuple[int, str, bool]:
    """Bracket depth, open string delimiter and backslash continuation after ``line``."""
    pos = 0
    while (match := _SCAN.search(line, pos)) is not None:
        char, pos = match.group(), match.end()
        if quote:
            if char == "\\":
                pos += 1
            elif line.startswith(quote, pos - 1):
                pos, quote = pos - 1 + len(quote), ""
        elif char == "#":
            return depth, "", False
        elif char in "'\"":
            triple = line[pos - 1 : pos + 2]
            quote = triple if triple in ('"""', "'''") else char
            pos += len(quote) - 1
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
    continued = line.rstrip("\r").endswith("\\")
    if len(quote) == 1 and not continued:
        quote = ""  # unterminated one-line string: let the parser report it
    return depth, quote, continued and not quote


# -- the name analysis


@dataclass(eq=False)
class _Scope:
    kind: str  # module, class, function (or lambda), comprehension
    parent: _Scope | None
    bound: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)


class _Analyzer(ast.NodeVisitor):
    """Walks a cell in evaluation order; function bodies are visited after the module body.

    A function body is walked twice: first ``collecting`` its local names (Python decides them
    for the whole body), then resolving its reads.
    """

    def __init__(self) -> None:
        self.module = self.scope = _Scope("module", None)
        self.reads: set[str] = set()
        self.builtin_reads: set[str] = set()
        self.effects: dict[str, bool] = {}  # module name -> left defined (True) / deleted
        self.deferred: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, _Scope]]
        self.deferred = []
        self.in_function = self.collecting = False

    def run(self, tree: ast.Module) -> None:
        self.visit(tree)
        self.in_function = True  # module bindings are now final
        for node, parent in self.deferred:  # grows while nested functions are found
            scope = _Scope("function", parent, {arg.arg for arg in _params(node.args)})
            for self.collecting in (True, False):
                self.scope = scope
                self._visit_all(node.body)

    # name resolution

    def _is_global(self, name: str) -> bool:
        scope, own = self.scope, True
        while scope.parent is not None:
            if name in scope.globals:
                return True
            if name in scope.bound and (own or scope.kind != "class"):
                return False
            scope, own = scope.parent, False
        return True

    def _load(self, name: str) -> None:
        if not self.collecting and self._is_global(name) and name not in self.module.bound:
            (self.builtin_reads if name in _BUILTINS else self.reads).add(name)

    def _store(self, name: str, scope: _Scope | None = None) -> None:
        scope = scope or self.scope
        if scope.kind == "module":
            self.module.bound.add(name)
            self.effects[name] = True
        elif name in scope.globals:
            self.effects[name] = True
        else:
            scope.bound.add(name)

    def _delete(self, name: str) -> None:
        if self.collecting or not self._is_global(name):
            self._store(name)  # a local (in a class body it stays bound: rare)
        else:
            self._load(name)
            if not self.in_function:
                self.module.bound.discard(name)
            self.effects[name] = False

    def _mutate(self, target: ast.expr) -> None:
        while isinstance(target, (ast.Attribute, ast.Subscript)):
            target = target.value
        if isinstance(target, ast.Name) and not self.collecting and self._is_global(target.id):
            self.effects[target.id] = True
            if not self.in_function:
                self.module.bound.add(target.id)

    # visitors

    def visit(self, node: ast.AST) -> None:
        kind = type(node)
        if (method := _METHODS.get(kind)) is None:
            method = _METHODS[kind] = getattr(_Analyzer, "visit_" + kind.__name__, _generic)
        method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        """As ``ast.NodeVisitor``'s, skipping nodes that cannot hold names (3x faster)."""
        for field_name in node._fields:
            value = getattr(node, field_name, None)
            for child in value if isinstance(value, list) else (value,):
                if isinstance(child, ast.AST) and not isinstance(child, _LEAVES):
                    self.visit(child)

    def _visit_all(self, *items: ast.AST | Sequence[ast.AST | None] | None) -> None:
        for item in items:
            for node in item if isinstance(item, Sequence) else [item]:
                if node is not None:
                    self.visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._load(node.id)
        elif isinstance(node.ctx, ast.Store):
            self._store(node.id)
        else:
            self._delete(node.id)

    def visit_Attribute(self, node: ast.Attribute | ast.Subscript) -> None:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load):
            self._mutate(node)

    visit_Subscript = visit_Attribute

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> None:
        names = self.scope.globals if isinstance(node, ast.Global) else self.scope.bound
        names.update(node.names)  # nonlocal: an enclosing function's name, never global

    visit_Nonlocal = visit_Global

    def visit_Assign(self, node: ast.Assign) -> None:
        self._visit_all(node.value, node.targets)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._load(node.target.id)  # ``x += 1`` reads x, then binds it
        self.visit(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if self.scope.kind in ("module", "class"):
            self.visit(node.annotation)  # evaluated only outside functions
        if node.value is not None or not isinstance(node.target, ast.Name):
            self._visit_all(node.value, node.target)  # ``x: int`` alone binds nothing

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent  # PEP 572: binds in the enclosing scope
        self._store(node.target.id, scope)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self._visit_all(node.iter, node.target, node.body, node.orelse)

    visit_AsyncFor = visit_For

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                logger.debug("names of a star import are not tracked: %s", ast.unparse(node))
            else:
                self._store(alias.asname or alias.name.partition(".")[0])

    visit_ImportFrom = visit_Import

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        self._visit_all(node.type)
        if node.name:
            self._store(node.name)
        self._visit_all(node.body)
        if node.name and self.scope.kind in ("module", "class"):
            self.scope.bound.discard(node.name)  # Python deletes it after the handler

    def visit_MatchAs(self, node: ast.MatchAs | ast.MatchStar | ast.MatchMapping) -> None:
        self.generic_visit(node)
        name = node.rest if isinstance(node, ast.MatchMapping) else node.name
        if name:
            self._store(name)

    visit_MatchStar = visit_MatchMapping = visit_MatchAs

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        """Decorators, defaults and annotations are evaluated now; the body is deferred."""
        self._visit_all(node.args.defaults, node.args.kw_defaults)
        if not isinstance(node, ast.Lambda):
            self._visit_all(node.decorator_list, [a.annotation for a in _params(node.args)])
            self._visit_all(node.returns)
            self._store(node.name)
        if not self.collecting:
            self.deferred.append((node, self.scope))

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_all(node.decorator_list, node.bases, node.keywords)
        outer, self.scope = self.scope, _Scope("class", self.scope)
        self._visit_all(node.body)
        self.scope = outer
        self._store(node.name)

    def visit_ListComp(self, node: _Comprehension) -> None:
        generators = node.generators
        self.visit(generators[0].iter)  # evaluated in the enclosing scope
        bound = {n.id for g in generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        outer, self.scope = self.scope, _Scope("comprehension", self.scope, bound)
        for i, generator in enumerate(generators):
            self._visit_all(generator.iter if i else None, generator.target, generator.ifs)
        self._visit_all(*([node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]))
        self.scope = outer

    visit_SetComp = visit_GeneratorExp = visit_DictComp = visit_ListComp


_generic = _Analyzer.generic_visit
_METHODS: dict[type[ast.AST], Callable[[_Analyzer, Any], None]] = {}  # node type -> visitor


def _params(args: ast.arguments) -> list[ast.arg]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return [arg for arg in every if arg is not None]
