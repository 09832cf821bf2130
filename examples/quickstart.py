"""Quick start: an ETL flow with retries, caching, concurrency and a subflow.

Run with ``make run`` (or ``python examples/quickstart.py``). Every run is recorded in the
embedded SQLite database; the script prints where, and reads the run back.
"""

from __future__ import annotations

import itertools

from jupyter_flows import INPUTS, flow, get_run_logger, read_flow_run, task

_calls = itertools.count(1)


@task(retries=3, retry_delay_seconds=0.1)
def extract(n: int) -> list[int]:
    """Fetch raw numbers from a flaky source (it fails on its first attempt)."""
    if next(_calls) == 1:
        raise ConnectionError("source hiccup")
    return list(range(n))


@task(cache_policy=INPUTS, cache_expiration=3600)
def square(x: int) -> int:
    """An expensive transformation, cached on its input."""
    return x * x


@flow
def report(values: list[int]) -> str:
    """A subflow that summarises the results."""
    get_run_logger().info("summarising %d values", len(values))
    return f"sum of squares = {sum(values)}"


@flow(log_prints=True)
def etl(n: int = 10) -> str:
    """Extract numbers, square them concurrently, report."""
    numbers = extract(n)
    squares = [f.result() for f in square.map(numbers)]
    summary = report(squares)
    print(summary)
    return summary


def main() -> None:
    from jupyter_flows.store.db import default_db_url

    state = etl(n=10, return_state=True)
    run = read_flow_run(state.run_id)
    print()
    print(f"flow run {run.name!r} ({run.id}) ended {run.state_name}")
    print(f"recorded in {default_db_url()}")
    print(f"{'task run':<16} {'state':<10} {'attempts':>8}")
    for tr in run.task_runs:
        print(f"{tr.name:<16} {tr.state_name:<10} {tr.run_count:>8}")
    graph = run.graph
    print(f"run graph: {graph.number_of_nodes()} task runs, {graph.number_of_edges()} edges")


if __name__ == "__main__":
    main()
