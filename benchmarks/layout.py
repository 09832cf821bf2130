"""Layout benchmark: ``core.layout.layout_graph`` on 10,000-task run graphs.

Usage: ``python benchmarks/layout.py [--quick]``. Three shapes of 10,000 task runs: one
``.map`` between a source and a reduce (collapses to 3 nodes), 100 chained maps of 100 runs
(100 nodes in 100 layers), and 10,000 distinct tasks in a random DAG (nothing collapses; the
parts beyond the Sugiyama budget get the one-pass fallback). Also the 6-task example DAG.
Medians of several repeats in this process; the target is <= 2 s per 10,000-task graph.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import networkx as nx  # noqa: E402

from jupyter_flows.core.layout import layout_graph  # noqa: E402

TARGET_S = 2.0


def mapped(n: int) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_node("src", name="src", task_key="src", state_name="Completed")
    graph.add_node("sum", name="sum", task_key="sum", state_name="Completed")
    for i in range(n):
        graph.add_node(f"m{i}", name=f"m-{i}", task_key="m", state_name="Completed")
        graph.add_edges_from([("src", f"m{i}"), (f"m{i}", "sum")])
    return graph


def chained_maps(stages: int, width: int) -> nx.DiGraph:
    graph = nx.DiGraph()
    for s in range(stages):
        for j in range(width):
            graph.add_node(f"t{s}-{j}", name=f"t{s}-{j}", task_key=f"t{s}")
            if s:
                graph.add_edge(f"t{s - 1}-{j}", f"t{s}-{j}")
    return graph


def random_dag(n: int, seed: int = 0, back: int = 20) -> nx.DiGraph:
    rng = random.Random(seed)
    graph = nx.DiGraph()
    for i in range(n):
        graph.add_node(f"n{i}", name=f"n{i}", task_key=f"k{i}")
        for _ in range(rng.randint(0, 2)):
            if i:
                graph.add_edge(f"n{rng.randrange(max(0, i - back), i)}", f"n{i}")
    return graph


def example() -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_edges_from(
        [("load", "clean"), ("clean", "feature_square"), ("clean", "feature_target"),
         ("clean", "model"), ("feature_target", "model"), ("clean", "summary"),
         ("model", "summary"), ("feature_square", "summary")]
    )  # fmt: skip
    return graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    shapes = {
        "6-task example DAG": example(),
        "10,000 runs of one .map": mapped(10_000),
        "100 chained maps x 100 runs": chained_maps(100, 100),
        "10,000 distinct tasks, random DAG": random_dag(10_000),
    }
    layout_graph(example())  # the lazy import of grandalf, once
    print(f"layout_graph, median of {repeats}")
    width = max(map(len, shapes))
    for name, graph in shapes.items():
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            layout = layout_graph(graph)
            times.append(time.perf_counter() - t)
        seconds = statistics.median(times)
        ok = "ok" if seconds <= TARGET_S else "SLOW"
        print(
            f"{name:<{width}}  {seconds * 1000:8.1f} ms  {len(layout['nodes']):>6} nodes  "
            f"{len(layout['edges']):>6} edges  (target <= {TARGET_S:g} s: {ok})"
        )


if __name__ == "__main__":
    main()
