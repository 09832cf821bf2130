"""``core.layout``: a layered drawing whose edges route around the nodes they do not connect."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_flows.core import layout as layout_module
from jupyter_flows.core.layout import NODE_HEIGHT, NODE_WIDTH, layout_graph
from tests.core.layout_geometry import crossings, edges_through_nodes

ROOT = Path(__file__).resolve().parents[2]


def example_dag() -> nx.DiGraph:
    """The six ``%%task`` cells of notebooks/02_notebook_pipeline.ipynb and their data edges."""
    graph = nx.DiGraph()
    for name in ["load", "clean", "feature_square", "feature_target", "model", "summary"]:
        graph.add_node(name, name=name, task_key=name, state_name="Completed")
    graph.add_edges_from(
        [
            ("load", "clean"),
            ("clean", "feature_square"),
            ("clean", "feature_target"),
            ("clean", "model"),
            ("feature_target", "model"),
            ("clean", "summary"),
            ("model", "summary"),
            ("feature_square", "summary"),
        ]
    )
    return graph


def random_dag(n: int, seed: int, back: int = 6) -> nx.DiGraph:
    rng = random.Random(seed)
    graph = nx.DiGraph()
    for i in range(n):
        graph.add_node(f"n{i}", name=f"n{i}", task_key=f"k{i}")
        for _ in range(rng.randint(0, 2)):
            if i:
                graph.add_edge(f"n{rng.randrange(max(0, i - back), i)}", f"n{i}")
    return graph


def overlapping_boxes(layout: dict) -> list[tuple[str, str]]:
    boxes = [(n["id"], n["x"], n["y"]) for n in layout["nodes"]]
    return [
        (a, b)
        for i, (a, ax, ay) in enumerate(boxes)
        for b, bx, by in boxes[i + 1 :]
        if abs(ax - bx) < NODE_WIDTH and abs(ay - by) < NODE_HEIGHT
    ]


class TestRouting:
    def test_example_dag_edges_avoid_nodes(self) -> None:
        layout = layout_graph(example_dag())
        # the old layout (straight lines between layers) drew 4 edges through boxes here
        assert edges_through_nodes(layout) == []
        assert overlapping_boxes(layout) == []
        assert crossings(layout) == 0
        long_edge = next(
            e for e in layout["edges"] if (e["source"], e["target"]) == ("clean", "summary")
        )
        assert len(long_edge["points"]) == 6  # two bends in each of the two layers it spans

    def test_points_leave_the_source_and_enter_the_target(self) -> None:
        layout = layout_graph(example_dag())
        nodes = {n["id"]: n for n in layout["nodes"]}
        for edge in layout["edges"]:
            a, b = nodes[edge["source"]], nodes[edge["target"]]
            assert edge["points"][0] == (a["x"] + NODE_WIDTH, a["y"] + NODE_HEIGHT / 2)
            assert edge["points"][-1] == (b["x"], b["y"] + NODE_HEIGHT / 2)
            xs = [x for x, _ in edge["points"]]
            assert xs == sorted(xs)  # left to right
        assert all(y <= layout["height"] for e in layout["edges"] for _, y in e["points"])

    def test_layers_left_to_right(self) -> None:
        layout = layout_graph(example_dag())
        layer = {n["id"]: n["layer"] for n in layout["nodes"]}
        assert layer == {
            "load": 0,
            "clean": 1,
            "feature_square": 2,
            "feature_target": 2,
            "model": 3,
            "summary": 4,
        }
        assert layout["width"] == 4 * (NODE_WIDTH + layout_module.GAP_X) + NODE_WIDTH

    # crossings of the old layout (one barycenter pass, straight edges) on the same graphs
    @pytest.mark.parametrize(("seed", "old"), [(0, 10), (1, 8), (2, 0), (3, 2)])
    def test_crossings_not_worse_than_the_old_layout(self, seed: int, old: int) -> None:
        layout = layout_graph(random_dag(25, seed))
        assert crossings(layout) <= old
        assert edges_through_nodes(layout) == []

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.integers(min_value=1, max_value=24).flatmap(
            lambda n: st.tuples(
                st.just(n),
                st.lists(
                    st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(
                        lambda e: e[0] < e[1]
                    ),
                    max_size=3 * n,
                ),
            )
        )
    )
    def test_random_dags_route_around_nodes(self, dag: tuple[int, list[tuple[int, int]]]) -> None:
        n, edges = dag
        graph = nx.DiGraph()
        graph.add_nodes_from(f"t{i}" for i in range(n))
        graph.add_edges_from((f"t{a}", f"t{b}") for a, b in edges)
        layout = layout_graph(graph)
        assert edges_through_nodes(layout) == []
        assert overlapping_boxes(layout) == []
        assert {(e["source"], e["target"]) for e in layout["edges"]} == set(graph.edges)


class TestShape:
    def test_isolated_nodes_wrap_into_a_grid(self) -> None:
        graph = nx.DiGraph()
        graph.add_nodes_from(f"n{i}" for i in range(12))
        layout = layout_graph(graph)
        columns = {n["x"] for n in layout["nodes"]}
        rows = {n["y"] for n in layout["nodes"]}
        assert len(columns) == 3 and len(rows) == 4
        assert overlapping_boxes(layout) == []
        assert layout["width"] > layout["height"]

    def test_isolated_nodes_go_under_the_connected_part(self) -> None:
        graph = example_dag()
        graph.add_nodes_from(["lonely-1", "lonely-2"])
        layout = layout_graph(graph)
        nodes = {n["id"]: n for n in layout["nodes"]}
        connected_bottom = max(nodes[n]["y"] for n in example_dag())
        assert nodes["lonely-1"]["y"] > connected_bottom
        assert nodes["lonely-1"]["y"] == nodes["lonely-2"]["y"]  # one row: 5 layers wide
        assert overlapping_boxes(layout) == [] and edges_through_nodes(layout) == []

    def test_empty_graph(self) -> None:
        assert layout_graph(nx.DiGraph()) == {"nodes": [], "edges": [], "width": 0, "height": 0}

    def test_mapped_runs_collapse_with_counts(self) -> None:
        graph = nx.DiGraph()
        graph.add_node("src", name="src", task_key="src", state_name="Completed")
        graph.add_node("sum", name="sum", task_key="sum", state_name="Pending")
        for i in range(10_000):
            state = "Failed" if i % 10 == 0 else "Completed"
            graph.add_node(f"m{i}", name=f"m-{i}", task_key="m", task_name="m", state_name=state)
            graph.add_edges_from([("src", f"m{i}"), (f"m{i}", "sum")])
        layout = layout_graph(graph)
        assert len(layout["nodes"]) == 3
        group = next(n for n in layout["nodes"] if n["count"] > 1)
        assert group["label"] == "m ×10000" and group["state"] == "Failed"
        assert group["states"] == {"Failed": 1000, "Completed": 9000}
        assert len(group["members"]) == 50
        assert [(e["source"], e["target"]) for e in layout["edges"]] == [
            ("group:m:1", "sum"),
            ("src", "group:m:1"),
        ]

    def test_huge_parts_fall_back_to_one_pass(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(layout_module, "SUGIYAMA_LIMIT", 10)
        layout = layout_graph(random_dag(60, seed=5))
        assert len(layout["nodes"]) == 60 and overlapping_boxes(layout) == []
        assert all(len(e["points"]) >= 2 for e in layout["edges"])


class TestDeterminism:
    def test_same_layout_under_other_hash_seeds(self) -> None:
        code = (
            "import json, sys; sys.path.insert(0, sys.argv[1]);"
            "from tests.core.test_layout import example_dag, random_dag;"
            "from jupyter_flows.core.layout import layout_graph;"
            "print(json.dumps([layout_graph(example_dag()), layout_graph(random_dag(40, 7))]))"
        )
        outputs = set()
        for seed in ("1", "2", "3"):
            env = {**os.environ, "PYTHONHASHSEED": seed}
            proc = subprocess.run(
                [sys.executable, "-c", code, str(ROOT)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            )
            outputs.add(proc.stdout)
        assert len(outputs) == 1
        in_process = json.dumps([layout_graph(example_dag()), layout_graph(random_dag(40, 7))])
        assert json.loads(outputs.pop()) == json.loads(in_process)


class TestSvg:
    def test_edges_are_drawn_along_their_points(self) -> None:
        from jupyter_flows.core.graph_svg import PAD, edge_path, graph_svg

        layout = layout_graph(example_dag())
        svg = graph_svg(layout)
        long_edge = next(
            e for e in layout["edges"] if e["target"] == "summary" and e["source"] == "clean"
        )
        assert f'd="{edge_path(long_edge["points"], PAD, PAD)}"' in svg
        assert svg.count('class="jf-edge"') == 8 and svg.count('class="jf-node"') == 6

    def test_marker_ids_differ_between_graphs_and_are_stable(self) -> None:
        import re

        from jupyter_flows.core.graph_svg import graph_svg

        first = graph_svg(layout_graph(example_dag()))
        other = graph_svg(layout_graph(random_dag(10, seed=1)))
        ids = [re.search(r'<marker id="([^"]+)"', svg).group(1) for svg in (first, other)]  # type: ignore[union-attr]
        assert ids[0] != ids[1]
        assert f"url(#{ids[0]})" in first and f"url(#{ids[1]})" in other
        assert graph_svg(layout_graph(example_dag())) == first

    def test_legend_lists_the_states_shown(self) -> None:
        from jupyter_flows.core.graph_svg import graph_svg

        graph = example_dag()
        graph.nodes["model"]["state_name"] = "Failed"
        svg = graph_svg(layout_graph(graph))
        assert 'class="jf-legend"' in svg
        assert 'data-state="Completed"' in svg.split('class="jf-legend"')[1]
        assert 'data-state="Failed"' in svg.split('class="jf-legend"')[1]
        assert 'data-state="Running"' not in svg
        assert 'class="jf-legend"' not in graph_svg({"nodes": [], "edges": []})
