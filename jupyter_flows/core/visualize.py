"""``Flow.visualize()``: the flow's task graph, traced without running any task body.

The flow's function itself runs (not the engine) with ``tracer`` set: the engine hands every
``task(...)``, ``task.submit(...)``, ``task.map(...)`` and subflow call to the tracer, which
adds a node and returns a placeholder (or the task's ``viz_return_value``). Placeholders
passed as arguments, also inside lists, tuples and dicts, become edges. Nothing is recorded.
Code of the flow outside tasks does run, as in Prefect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..exceptions import FlowsError
from .annotations import BaseAnnotation, allow_failure, quote, unmapped
from .context import visualize_tracer as tracer
from .inputs import contents

if TYPE_CHECKING:
    import networkx as nx

    from .flows import Flow
    from .tasks import Task

__all__ = [
    "tracer",
    "visualize_flow",
    "generate_mermaid_graph",
    "FlowGraph",
    "VisualizationUnsupportedError",
]

logger = logging.getLogger(__name__)


_HINT = "give the task a stand-in result to trace with, e.g. @task(viz_return_value=[1, 2, 3])"


class VisualizationUnsupportedError(FlowsError):
    """The flow's code does something with a task's result that tracing cannot follow."""


class _Placeholder:
    """What a task call returns while its flow is traced: stands for the task's result.

    Works as a ``TaskFuture`` too (``result()``, ``wait()``, ``jupyter_flows.wait``); any
    use of its value (arithmetic, comparison, truth, iteration...) raises
    ``VisualizationUnsupportedError``.
    """

    def __init__(self, node: str, value: Any = None):
        self._node = node
        self._value = value
        self._done: Any = None

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> Any:
        return self if self._value is None else self._value

    def wait(self, timeout: float | None = None) -> None:
        return None

    def done(self) -> bool:
        return True

    def add_done_callback(self, fn: Callable[[Any], Any]) -> None:
        fn(self)

    @property
    def _future(self) -> Any:  # what ``jupyter_flows.wait`` waits on
        if self._done is None:
            import concurrent.futures

            self._done = concurrent.futures.Future()
            self._done.set_result(None)
        return self._done

    def _unsupported(self, what: str) -> VisualizationUnsupportedError:
        return VisualizationUnsupportedError(
            f"flow.visualize() cannot trace {what} on the result of task call {self._node!r}: "
            f"while a flow is visualized, task calls return placeholders; {_HINT}"
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise self._unsupported(f"the attribute {name!r}")

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<placeholder of {self._node}>"


def _refuse(what: str) -> Callable[..., Any]:
    def method(self: _Placeholder, *args: Any, **kwargs: Any) -> Any:
        raise self._unsupported(what)

    return method


_OPERATORS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//"}
_OPERATORS.update({"mod": "%", "pow": "**", "matmul": "@", "and": "&", "or": "|", "xor": "^"})
_OPERATORS.update({"lshift": "<<", "rshift": ">>"})
for _name, _sign in _OPERATORS.items():
    setattr(_Placeholder, f"__{_name}__", _refuse(f"arithmetic ({_sign!r})"))
    setattr(_Placeholder, f"__r{_name}__", _refuse(f"arithmetic ({_sign!r})"))
for _name, _sign in {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}.items():
    setattr(_Placeholder, f"__{_name}__", _refuse(f"a comparison ({_sign!r})"))
for _name, _what in {
    "bool": "a truth test (if/while/and/or)",
    "len": "len()",
    "iter": "iteration",
    "contains": "the 'in' operator",
    "getitem": "indexing",
    "setitem": "item assignment",
    "int": "int()",
    "float": "float()",
    "index": "use as an integer",
    "neg": "arithmetic ('-')",
    "abs": "abs()",
    "call": "a call",
}.items():
    setattr(_Placeholder, f"__{_name}__", _refuse(_what))


def _trackable(value: Any) -> bool:
    """Singletons (None, booleans, small ints) cannot be told apart by identity."""
    if value is None or value is True or value is False or value is Ellipsis:
        return False
    return not (type(value) is int and -5 <= value <= 256)


async def _ready(value: Any) -> Any:
    return value


class _Tracer:
    """Collects the nodes and edges of one traced flow."""

    def __init__(self, flow: Flow[..., Any]):
        import networkx as nx

        self.flow = flow
        self.graph: nx.DiGraph[str] = nx.DiGraph(name=flow.name)
        self._counts: dict[str, int] = {}
        self._owners: dict[int, tuple[str, Any]] = {}

    # -- the engine's entry points

    def call(self, task: Task[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        kwargs = dict(kwargs)
        kwargs.pop("return_state", None)
        wait_for = kwargs.pop("wait_for", None)
        node = self._add(task.name, task.task_key, "task", task.bind_inputs(args, kwargs), wait_for)
        value = self._value(task, node)
        result = _Placeholder(node) if value is None else value
        return _ready(result) if task.isasync and self.flow.isasync else result

    def submit(
        self,
        task: Task[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        wait_for: Iterable[Any] | None,
    ) -> _Placeholder:
        node = self._add(task.name, task.task_key, "task", task.bind_inputs(args, kwargs), wait_for)
        return _Placeholder(node, self._value(task, node))

    def map(
        self,
        task: Task[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        wait_for: Iterable[Any] | None,
    ) -> list[_Placeholder]:
        from .futures import PrefectFutureList

        named = task.bind_inputs(args, kwargs)
        expanded = {k: _expand(v) for k, v in named.items()}
        lengths = {len(v) for v in expanded.values() if isinstance(v, list)}
        if len(lengths) > 1:
            raise ValueError(
                f"{task.name}.map() got iterables of different lengths {sorted(lengths)}"
            )
        if not lengths and not any(v is _UNKNOWN for v in expanded.values()):
            raise TypeError(f"{task.name}.map() needs at least one iterable argument")
        known = bool(lengths)
        count = lengths.pop() if known else 1  # over a placeholder: one node stands for all
        producers = [
            up for k, v in named.items() if expanded[k] is not None for up in self._owner(v)
        ]
        futures: list[_Placeholder] = PrefectFutureList()
        for i in range(count):
            inputs = {}
            for key, raw in named.items():
                exp = expanded[key]
                if isinstance(exp, list):
                    inputs[key] = exp[i]
                else:
                    inputs[key] = raw.value if isinstance(raw, unmapped) else raw
            node = self._add(
                task.name, task.task_key, "task", inputs, wait_for, True, length_unknown=not known
            )
            for up in producers:
                self._edge(up, node, "data", None)
            futures.append(_Placeholder(node, self._value(task, node)))
        return futures

    def subflow(self, flow: Flow[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        kwargs = dict(kwargs)
        kwargs.pop("return_state", None)
        try:
            inputs = dict(flow.parameters.signature.bind_partial(*args, **kwargs).arguments)
        except TypeError:
            inputs = {**{f"arg{i}": a for i, a in enumerate(args)}, **kwargs}
        node = self._add(flow.name, "flow:" + flow.name, "flow", inputs, None)
        value = self._value(flow, node)
        result = _Placeholder(node) if value is None else value
        return _ready(result) if flow.isasync and self.flow.isasync else result

    # -- building the graph

    def _add(
        self,
        name: str,
        task_key: str,
        kind: str,
        inputs: dict[str, Any],
        wait_for: Iterable[Any] | None,
        mapped: bool = False,
        length_unknown: bool = False,
    ) -> str:
        index = self._counts.get(name, 0)
        self._counts[name] = index + 1
        node = f"{name}-{index}"
        self.graph.add_node(
            node,
            name=f"{node} (mapped)" if length_unknown else node,
            task_name=name,
            task_key=task_key,
            kind=kind,
            mapped=mapped,
            state_name="",
        )
        for param, value in inputs.items():
            for up in self._upstreams(value):
                self._edge(up, node, "data", param)
        for item in wait_for or ():
            for up in self._upstreams(item):
                self._edge(up, node, "wait_for", None)
        return node

    def _edge(self, upstream: str, node: str, kind: str, parameter: str | None) -> None:
        if upstream != node and not self.graph.has_edge(upstream, node):
            self.graph.add_edge(upstream, node, kind=kind, parameter=parameter)

    def _owner(self, value: Any) -> list[str]:
        if isinstance(value, _Placeholder):
            return [value._node]
        entry = self._owners.get(id(value))
        return [entry[0]] if entry is not None and entry[1] is value else []

    def _upstreams(self, value: Any) -> list[str]:
        found = self._owner(value)
        if found:
            return found
        if isinstance(value, BaseAnnotation):  # quote/opaque: not looked into, as the engine
            return [] if isinstance(value, quote) else self._upstreams(value.value)
        items = contents(value) or ()  # the containers the engine looks into
        return [up for item in items for up in self._upstreams(item)]

    def _value(self, definition: Any, node: str) -> Any:
        value = getattr(definition, "viz_return_value", None)
        if value is not None and _trackable(value):
            self._owners[id(value)] = (node, value)
        return value


_UNKNOWN = object()  # a mapped-over placeholder: its length is not known while tracing


def _expand(value: Any) -> Any:
    """The elements ``.map`` iterates over, ``_UNKNOWN`` for a placeholder, None if static."""
    if isinstance(value, allow_failure):
        return _expand(value.value)
    if isinstance(value, _Placeholder):
        value = value._value
        if value is None:
            return _UNKNOWN
    if isinstance(value, BaseAnnotation) or isinstance(value, str | bytes | dict):
        return None
    try:
        return list(value)
    except TypeError:
        return None


class FlowGraph:
    """The traced structure of a flow: ``graph`` (networkx), ``mermaid()`` and a picture.

    Node ids are ``<task name>-<n>`` in call order; node attributes ``name`` (label),
    ``task_name``, ``task_key``, ``kind`` ("task" or "flow") and ``mapped``; edge attributes
    ``kind`` ("data" or "wait_for") and ``parameter``. Displays as SVG in a notebook.
    """

    def __init__(self, name: str, graph: nx.DiGraph[str]):
        self.name = name
        self.graph = graph

    def mermaid(self) -> str:
        """A Mermaid ``flowchart TD``: subflows as subroutines, ``wait_for`` edges dotted."""
        ids = {node: f"n{i}" for i, node in enumerate(self.graph.nodes)}
        lines = ["flowchart TD"]
        for node, attrs in self.graph.nodes(data=True):
            label = _mermaid_text(str(attrs.get("name", node)))
            shape = '[["{}"]]' if attrs.get("kind") == "flow" else '["{}"]'
            lines.append(f"    {ids[node]}{shape.format(label)}")
        for upstream, node, attrs in self.graph.edges(data=True):
            arrow = "-.->" if attrs.get("kind") == "wait_for" else "-->"
            lines.append(f"    {ids[upstream]} {arrow} {ids[node]}")
        return "\n".join(lines) + "\n"

    def svg(self) -> str:
        """The graph drawn left to right by ``core.layout`` (mapped runs may collapse)."""
        from .graph_svg import graph_svg
        from .layout import layout_graph

        details = {
            node: {"message": "subflow" if attrs.get("kind") == "flow" else ""}
            for node, attrs in self.graph.nodes(data=True)
        }
        return graph_svg(layout_graph(self.graph), details, title=f"flow {self.name}")

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": self.svg(), "text/plain": repr(self)}

    def __repr__(self) -> str:
        return (
            f"FlowGraph({self.name!r}, {self.graph.number_of_nodes()} nodes, "
            f"{self.graph.number_of_edges()} edges)"
        )


def _mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes for # " < >)."""
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, code)
    return text


def visualize_flow(
    flow: Flow[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> FlowGraph:
    """Trace ``flow``'s function with ``args``/``kwargs``; no task body runs, nothing is recorded.

    Raises ``VisualizationUnsupportedError`` when the flow's code uses a task's result in a
    way a placeholder cannot follow (set ``viz_return_value`` on that task).
    """
    tr = _Tracer(flow)
    token = tracer.set(tr)
    try:
        if flow.isasync:
            from .calls import run_coroutine_sync

            run_coroutine_sync(lambda: flow.fn(*args, **kwargs))
        else:
            flow.fn(*args, **kwargs)
    except VisualizationUnsupportedError:
        raise
    except Exception as exc:  # noqa: BLE001 - most likely the code used a task's result
        raise VisualizationUnsupportedError(
            f"flow {flow.name!r} raised {type(exc).__name__}: {exc} while traced by "
            f"visualize(); if its code uses the result of a task directly, {_HINT}"
        ) from exc
    finally:
        tracer.reset(token)
    logger.debug("traced flow %r: %d nodes", flow.name, tr.graph.number_of_nodes())
    return FlowGraph(flow.name, tr.graph)


def generate_mermaid_graph(flow: Flow[..., Any], *args: Any, **kwargs: Any) -> str:
    """The Mermaid text of ``flow.visualize(*args, **kwargs)``."""
    return visualize_flow(flow, args, kwargs).mermaid()
