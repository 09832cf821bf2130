"""``Flow.visualize()`` and ``generate_mermaid_graph``: the traced graph, no task body runs.

Runs are recorded into the real run database (as in ``tests/test_dask_runner.py``), so "nothing
is recorded" is checked where it matters, and checked to be able to fail by a real run after.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_flows import flow, read_flow_runs, task, unmapped, wait
from jupyter_flows.core import settings
from jupyter_flows.core.graph_svg import graph_svg as core_graph_svg
from jupyter_flows.core.visualize import (
    FlowGraph,
    VisualizationUnsupportedError,
    generate_mermaid_graph,
)
from jupyter_flows.exceptions import FlowsError
from jupyter_flows.reports import svg as report_svg

side_effects: list[str] = []


@pytest.fixture(autouse=True)
def recorder() -> Iterator[None]:
    """Record into the run database (overrides the in-memory recorder of ``conftest``)."""
    settings.reset_recorder()
    side_effects.clear()
    yield
    settings.reset_recorder()


@task(viz_return_value=[1, 2, 3])
def extract() -> list[int]:
    side_effects.append("extract")
    return [10, 20, 30]


@task
def double(x: int, factor: int) -> int:
    side_effects.append("double")
    return x * factor


@task
def total(values: list[int]) -> int:
    side_effects.append("total")
    return sum(values)


@flow
def publish(value: int) -> str:
    side_effects.append("publish")
    return f"published {value}"


@flow(name="etl")
def etl(factor: int = 2) -> str:
    rows = extract()
    doubled = double.map(rows, unmapped(factor))
    return publish(total(doubled))


ETL_MERMAID = """flowchart TD
    n0["extract-0"]
    n1["double-0"]
    n2["double-1"]
    n3["double-2"]
    n4["total-0"]
    n5[["publish-0"]]
    n0 --> n1
    n0 --> n2
    n0 --> n3
    n1 --> n4
    n2 --> n4
    n3 --> n4
    n4 --> n5
"""


@task
def step(x: Any = None, *, config: Any = None) -> int:
    side_effects.append("step")
    return 1


class TestVisualize:
    def test_a_dag_with_map_and_a_subflow_is_traced_without_running_or_recording(self) -> None:
        graph = etl.visualize(3)
        assert isinstance(graph, FlowGraph)
        assert list(graph.graph.nodes) == [
            "extract-0",
            "double-0",
            "double-1",
            "double-2",
            "total-0",
            "publish-0",
        ]
        assert set(graph.graph.edges) == {
            ("extract-0", "double-0"),
            ("extract-0", "double-1"),
            ("extract-0", "double-2"),
            ("double-0", "total-0"),
            ("double-1", "total-0"),
            ("double-2", "total-0"),
            ("total-0", "publish-0"),
        }
        assert graph.graph.nodes["publish-0"]["kind"] == "flow"
        assert graph.graph.nodes["double-1"]["mapped"] is True
        assert graph.graph.edges["double-0", "total-0"]["parameter"] == "values"
        assert graph.mermaid() == ETL_MERMAID
        assert generate_mermaid_graph(etl, 3) == ETL_MERMAID
        assert side_effects == []  # no task or subflow body ran
        assert read_flow_runs().total == 0  # nothing was recorded

        assert etl(3) == "published 180"  # the same checks see a real run
        assert "extract" in side_effects and "publish" in side_effects
        assert read_flow_runs().total == 2  # etl and its subflow

    def test_submit_wait_for_and_placeholders_inside_containers(self) -> None:
        @flow
        def wiring() -> None:
            a = step.submit(1)
            b = step(2)
            c = step.submit([a, {"key": (b,)}], wait_for=[a])
            d = step.submit(config={"upstream": c}, wait_for=[b])
            wait([a, c, d])
            step(d.result())

        graph = wiring.visualize().graph
        assert list(graph.nodes) == [f"step-{i}" for i in range(5)]
        assert {(u, v): attrs["kind"] for u, v, attrs in graph.edges(data=True)} == {
            ("step-0", "step-2"): "data",  # data wins over the same wait_for edge
            ("step-1", "step-2"): "data",
            ("step-2", "step-3"): "data",
            ("step-1", "step-3"): "wait_for",
            ("step-3", "step-4"): "data",
        }
        assert graph.edges["step-2", "step-3"]["parameter"] == "config"
        assert "    n1 -.-> n3" in FlowGraph("wiring", graph).mermaid()
        assert side_effects == []

    def test_map_over_a_placeholder_and_over_a_list_of_placeholders(self) -> None:
        @flow
        def fan() -> None:
            firsts = step.map(step())  # length unknown while tracing: one node stands for all
            step.map([step(), step()])
            total(firsts)

        graph = fan.visualize().graph
        assert graph.nodes["step-1"]["name"] == "step-1 (mapped)"
        assert set(graph.edges) == {
            ("step-0", "step-1"),
            ("step-2", "step-4"),
            ("step-3", "step-5"),
            ("step-1", "total-0"),
        }
        assert '    n1["step-1 (mapped)"]' in generate_mermaid_graph(fan)

    def test_viz_return_value_chooses_the_traced_code_path(self) -> None:
        @flow
        def branchy() -> None:
            rows = extract()
            if len(rows) > 2:
                total(rows)
            else:
                step(rows)

        graph = branchy.visualize().graph
        assert set(graph.edges) == {("extract-0", "total-0")}

    @pytest.mark.parametrize(
        ("code", "what"),
        [
            (lambda r: r > 3, "a comparison ('>')"),
            (lambda r: r + 1, "arithmetic ('+')"),
            (lambda r: bool(r), "a truth test"),
            (lambda r: list(r), "iteration"),
            (lambda r: r["key"], "indexing"),
            (lambda r: r.upper(), "the attribute 'upper'"),
        ],
    )
    def test_using_a_result_directly_raises_a_clear_error(self, code: Any, what: str) -> None:
        @flow
        def uses_result() -> None:
            result = step()
            code(result)
            total([result])

        with pytest.raises(VisualizationUnsupportedError) as info:
            uses_result.visualize()
        assert isinstance(info.value, FlowsError)
        message = str(info.value)
        assert what in message
        assert "'step-0'" in message
        assert "viz_return_value" in message
        assert side_effects == []

    def test_other_errors_of_the_flow_code_are_wrapped_with_the_hint(self) -> None:
        @flow
        def formats() -> None:
            format(step(), ".2f")

        with pytest.raises(VisualizationUnsupportedError, match="viz_return_value") as info:
            formats.visualize()
        assert isinstance(info.value.__cause__, TypeError)

    def test_async_flow_with_async_tasks(self) -> None:
        @task
        async def fetch(n: int) -> int:
            side_effects.append("fetch")
            return n

        @flow
        async def gather() -> None:
            values = await asyncio.gather(fetch(1), fetch(2))
            total(list(values))

        graph = gather.visualize().graph
        assert set(graph.edges) == {("fetch-0", "total-0"), ("fetch-1", "total-0")}
        assert side_effects == []

    def test_displays_as_an_svg_picture_drawn_by_the_shared_drawer(self) -> None:
        graph = etl.visualize()
        bundle = graph._repr_mimebundle_()
        assert set(bundle) == {"image/svg+xml", "text/plain"}
        assert bundle["text/plain"] == "FlowGraph('etl', 6 nodes, 7 edges)"
        assert graph._repr_svg_() == bundle["image/svg+xml"]
        root = ET.fromstring(bundle["image/svg+xml"])
        ns = "{http://www.w3.org/2000/svg}"
        nodes = root.findall(f"{ns}g[@class='jf-node']")
        assert sorted(n.get("data-id") for n in nodes) == sorted(graph.graph.nodes)
        assert len(root.findall(f"{ns}path[@class='jf-edge']")) == 7
        titles = {n.get("data-id"): n.find(f"{ns}title").text for n in nodes}  # type: ignore[union-attr]
        assert titles["publish-0"] == "publish-0\nmessage: subflow"
        assert report_svg.graph_svg is core_graph_svg  # one drawer for reports and visualize

    def test_mermaid_labels_are_quoted_and_escaped(self) -> None:
        odd = step.with_options(name='say "hi" <#1>')

        @flow
        def greeting() -> None:
            odd()

        assert generate_mermaid_graph(greeting) == (
            'flowchart TD\n    n0["say #quot;hi#quot; #lt;#35;1#gt;-0"]\n'
        )
