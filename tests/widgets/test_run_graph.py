"""The run-graph widget's model state during real runs, its throttling and its fallback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import networkx as nx
import pytest

from jupyter_flows import flow, task
from jupyter_flows.core import settings
from jupyter_flows.widgets.observer import LiveRunObserver
from jupyter_flows.widgets.run_graph import RunGraphWidget


@task
def load() -> list[int]:
    return [1, 2, 3]


@task
def double(values: list[int]) -> list[int]:
    return [v * 2 for v in values]


@task
def explode(values: list[int]) -> None:
    raise RuntimeError("cannot explode")


@flow
def pipeline() -> list[int]:
    values = load()
    doubled = double(values)
    explode.submit(values).wait()
    return doubled


@pytest.fixture
def observed() -> Iterator[tuple[RunGraphWidget, LiveRunObserver]]:
    widget = RunGraphWidget(interval=0.05)
    observer = LiveRunObserver(widget)
    settings.add_observer(observer)
    try:
        yield widget, observer
    finally:
        settings.remove_observer(observer)


class TestLiveRun:
    def test_nodes_edges_and_final_states(self, observed: Any) -> None:
        widget, observer = observed
        state = pipeline(return_state=True)
        widget.flush()
        assert observer.flow_run_id == state.run_id
        labels = {n["label"]: n for n in widget.layout["nodes"]}
        assert set(labels) == {"load-0", "double-0", "explode-0"}
        ids = {label: node["id"] for label, node in labels.items()}
        edges = {(e["source"], e["target"]) for e in widget.layout["edges"]}
        assert edges == {(ids["load-0"], ids["double-0"]), (ids["load-0"], ids["explode-0"])}
        assert labels["explode-0"]["state"] == "Failed"
        assert labels["double-0"]["state"] == "Completed"
        failed = widget.details[ids["explode-0"]]
        assert failed["state"] == "Failed" and "cannot explode" in failed["message"]
        assert failed["attempts"] == 1 and failed["duration"] >= 0

    def test_other_flow_runs_are_ignored(self, observed: Any) -> None:
        widget, observer = observed
        pipeline()
        first = observer.flow_run_id
        pipeline()
        widget.flush()
        assert observer.flow_run_id == first
        assert len(widget.layout["nodes"]) == 3


class TestThrottling:
    def test_many_updates_make_few_syncs(self) -> None:
        widget = RunGraphWidget(interval=60)
        graph = nx.DiGraph()
        graph.add_nodes_from(f"n{i}" for i in range(10))
        widget.set_graph(graph)
        pushes: list[str] = []
        widget.observe(lambda change: pushes.append(change["name"]), names=["layout", "details"])
        for i in range(1000):
            widget.update_node(f"n{i % 10}", state="Running", attempts=i)
        assert len(pushes) <= 2  # at most one push within the interval
        widget.flush()
        assert widget.details["n9"]["attempts"] == 999
        assert {n["state"] for n in widget.layout["nodes"]} == {"Running"}

    def test_thousand_mapped_nodes_collapse(self) -> None:
        graph = nx.DiGraph()
        graph.add_node("src", name="src", task_key="src", state_name="Completed")
        for i in range(1000):
            graph.add_node(f"m{i}", name=f"m-{i}", task_key="m", state_name="Completed")
            graph.add_edge("src", f"m{i}")
        widget = RunGraphWidget()
        widget.set_graph(graph)
        assert len(widget.layout["nodes"]) == 2
        group = next(n for n in widget.layout["nodes"] if n["count"] > 1)
        assert group["count"] == 1000 and group["states"] == {"Completed": 1000}


class TestStaticFallback:
    def test_mimebundle_has_an_svg(self) -> None:
        graph = nx.DiGraph()
        graph.add_edge("a", "b")
        widget = RunGraphWidget()
        widget.set_graph(graph)
        bundle = widget._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        assert "<svg" in data["text/html"]
        assert "application/vnd.jupyter.widget-view+json" in data
        assert "RunGraphWidget" in repr(widget)
