"""The notebook's DAG is extended cell by cell as cells are added (the cost of one cell, not
of the notebook) and built again when a cell changes in place or declares ``--after``; in
every sequence of changes it equals the DAG built from scratch."""

from __future__ import annotations

import random
from typing import Any

import pytest

from jupyter_flows.core.dataflow import TaskCell as DataflowCell
from jupyter_flows.core.dataflow import build_dataflow
from jupyter_flows.kernel.cells import TaskCell
from jupyter_flows.kernel.notebook_flow import NotebookFlow


def notebook() -> NotebookFlow:
    return NotebookFlow({}, compile, name="nb")


def cell(name: str, source: str, after: tuple[str, ...] = ()) -> TaskCell:
    return TaskCell(name, source, {"after": list(after)}, cell_id=name)


def from_scratch(flow: NotebookFlow) -> Any:
    cells = [DataflowCell(c.name, c.source, c.names) for c in flow.cells.values()]
    after = [
        (d, c.name) for c in flow.cells.values() for d in c.options["after"] if d in flow.cells
    ]
    return build_dataflow(cells, extra_edges=after)


def same(a: Any, b: Any) -> None:
    assert a.order == b.order
    assert dict(a.graph.nodes(data=True)) == dict(b.graph.nodes(data=True))
    assert sorted(a.graph.edges(data=True)) == sorted(b.graph.edges(data=True))
    assert a.inputs == b.inputs


def test_appended_cells_extend_the_same_graph() -> None:
    flow = notebook()
    flow.register(cell("load", "rows = [1, 2]\nlimit = 5"))
    first = flow.dataflow()
    flow.register(cell("clean", "good = [r for r in rows if r < limit]"))
    flow.register(cell("total", "t = sum(good) + len(rows)"))
    second = flow.dataflow()
    assert second is first  # extended in place, not built again
    assert second.order == ["load", "clean", "total"]
    assert second.graph.edges["load", "total"]["names"] == ["rows"]
    same(second, from_scratch(flow))


def test_a_changed_cell_builds_the_graph_again() -> None:
    flow = notebook()
    flow.register(cell("a", "x = 1"))
    flow.register(cell("b", "y = x + 1"))
    before = flow.dataflow()
    flow.register(cell("b", "y = 2"))  # no longer reads x
    after = flow.dataflow()
    assert after is not before and not after.graph.has_edge("a", "b")
    flow.register(cell("b", "y = 2"))  # run again unchanged: nothing to do
    assert flow.dataflow() is after


def test_a_cell_others_wait_for_builds_the_graph_again() -> None:
    flow = notebook()
    flow.register(cell("report", "r = 1", after=("fetch",)))  # fetch does not exist yet
    flow.dataflow()
    flow.register(cell("fetch", "f = 1"))
    graph = flow.dataflow()
    assert graph.graph.edges["fetch", "report"]["explicit"] is True
    assert graph.order == ["fetch", "report"]
    same(graph, from_scratch(flow))


def test_a_refused_cell_leaves_the_graph_as_it_was() -> None:
    flow = notebook()
    flow.register(cell("a", "x = 1"))
    flow.dataflow()
    bad = cell("b", "y = x", after=("b",))  # waits for itself: a cycle
    flow.register(bad)
    with pytest.raises(Exception, match="cycle|Cycle"):
        flow.dataflow()
    flow.unregister(bad, None)
    graph = flow.dataflow()
    assert list(graph.graph.nodes) == ["a"]
    same(graph, from_scratch(flow))


@pytest.mark.parametrize("seed", range(20))
def test_any_sequence_of_changes_equals_the_graph_from_scratch(seed: int) -> None:
    rng = random.Random(seed)
    flow = notebook()
    names = [f"v{i}" for i in range(8)]
    for step in range(60):
        name = f"c{rng.randrange(12)}"
        reads = " + ".join(rng.sample(names, rng.randrange(0, 3))) or "0"
        source = f"{rng.choice(names)} = {reads}"
        if rng.random() < 0.2:
            source += f"\ndel {rng.choice(names)}"
        after = (f"c{rng.randrange(12)}",) if rng.random() < 0.1 else ()
        try:
            flow.register(cell(name, source, after))
            graph = flow.dataflow()
        except Exception:  # noqa: BLE001 - a cycle from --after: refused, as the magic does
            flow.unregister(flow.cells[name], None)
            continue
        if rng.random() < 0.5 or step == 59:
            same(graph, from_scratch(flow))
