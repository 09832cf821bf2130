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
        labels = {n["label"]: n for n in widget.graph["nodes"]}
        assert set(labels) == {"load-0", "double-0", "explode-0"}
        ids = {label: node["id"] for label, node in labels.items()}
        edges = {(e["source"], e["target"]) for e in widget.graph["edges"]}
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
        assert len(widget.graph["nodes"]) == 3


class TestThrottling:
    def test_many_updates_make_few_syncs(self) -> None:
        widget = RunGraphWidget(interval=60)
        graph = nx.DiGraph()
        graph.add_nodes_from(f"n{i}" for i in range(10))
        widget.set_graph(graph)
        pushes: list[str] = []
        widget.observe(lambda change: pushes.append(change["name"]), names=["graph", "details"])
        for i in range(1000):
            widget.update_node(f"n{i % 10}", state="Running", attempts=i)
        assert len(pushes) <= 2  # at most one push within the interval
        widget.flush()
        assert widget.details["n9"]["attempts"] == 999
        assert {n["state"] for n in widget.graph["nodes"]} == {"Running"}

    def test_thousand_mapped_nodes_collapse(self) -> None:
        graph = nx.DiGraph()
        graph.add_node("src", name="src", task_key="src", state_name="Completed")
        for i in range(1000):
            graph.add_node(f"m{i}", name=f"m-{i}", task_key="m", state_name="Completed")
            graph.add_edge("src", f"m{i}")
        widget = RunGraphWidget()
        widget.set_graph(graph)
        assert len(widget.graph["nodes"]) == 2
        group = next(n for n in widget.graph["nodes"] if n["count"] > 1)
        assert group["count"] == 1000 and group["states"] == {"Completed": 1000}


class TestTraits:
    def test_the_graph_trait_does_not_shadow_domwidget_layout(self) -> None:
        import ipywidgets

        widget = RunGraphWidget()
        graph = nx.DiGraph()
        graph.add_edge("a", "b")
        widget.set_graph(graph)
        # ipywidgets' DOMWidget.layout must stay a Layout model: the frontend resolves it as one
        assert isinstance(widget.layout, ipywidgets.Layout)
        state = widget.get_state()
        assert state["layout"].startswith("IPY_MODEL_")
        assert [n["id"] for n in state["graph"]["nodes"]] == ["a", "b"]
        assert list(state["graph"]["edges"][0]["points"][0]) == [160.0, 18.0]


class TestStaticFallback:
    def test_mimebundle_has_the_svg_of_the_current_graph(self) -> None:
        graph = nx.DiGraph()
        graph.add_node("a", name="a", state_name="Completed")
        graph.add_node("b", name="b", state_name="Pending")
        graph.add_edge("a", "b")
        widget = RunGraphWidget(interval=60)
        widget.set_graph(graph)
        widget.update_node("b", state="Failed")  # not pushed yet: the bundle flushes first
        bundle = widget._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        svg = data["image/svg+xml"]
        assert svg.count('class="jf-node"') == 2 and svg.count('class="jf-edge"') == 1
        assert 'data-id="b" data-state="Failed"' in svg
        assert 'width="24"' not in svg

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
