"""jupyter-flows benchmarks: orchestration overhead, persisted, on the embedded SQLite default.

Usage: ``python benchmarks/run.py [--quick] [--json FILE] [--suite NAME ...]``. Every
scenario runs in a fresh process with a fresh database, and checks that every state
transition is in the database when the flow returns. Figures are medians of several repeats,
reported with ratios taken in the same run (the machines are noisy).

The other suites (``SUITES``) are scripts of their own; ``--suite NAME`` (or ``--suite all``)
runs them after these, with ``--quick`` passed on.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))

#: the other benchmark suites: name -> (script in this directory, what it measures)
SUITES = {
    "orchestration": (
        "orchestration.py",
        "schedule-to-start latency, REST list latency, notebook overhead, automations",
    ),
    "concurrency": (
        "concurrency.py",
        "concurrency limits: over-admissions (must be 0), acquisitions/s and wait/release "
        "latency of 8 processes hammering a limit of 2 and 3",
    ),
    "layout": (
        "layout.py",
        "layout_graph (Sugiyama) of 10,000-task run graphs: one .map, chained maps, distinct tasks",
    ),
    "cells": (
        "cells.py",
        "the cost of one new %%task cell in a notebook of 100 and 1,000 task cells",
    ),
    "scheduler": (
        "scheduler.py",
        "create_deployment cost and a full sync at 1,000/10,000 deployments; every schedule "
        "due in one second: due -> run created -> claimed (p50/p99); schedules spread over "
        "a minute: start delay p50/p99",
    ),
    "worker_throughput": (
        "worker_throughput.py",
        "one-task flow runs a minute that 4 process workers (2 runs each at a time) finish, "
        "and the CPU each run process costs (what bounds it)",
    ),
    "dashboard": (
        "dashboard.py",
        "GET api/dashboard over 100,000 runs (1 h to 30 d windows)",
    ),
    "read_paths": (
        "read_paths.py",
        "p50/p99 latency and bytes of the run list (100,000 runs) and of a run view's reads "
        "(detail, task-run and log pages, graph) of a 10,000-task run",
    ),
}

# Reference figures for Prefect 3.9 on this kind of machine (from the project's issue #2).
PREFECT = {
    "sequential_task_us": 5000.0,
    "cold_one_task_flow_s": 10.0,
    "import_s": 1.1,
    "rss_mib": 200.0,
}

SEQUENTIAL = """
import time, resource
from jupyter_flows import flow, task, read_flow_run

@task
def noop(i):
    return i

def plain(i):
    return i

@flow
def sequential(n: int):
    for i in range(n):
        noop(i)

N = {n}
sequential(10, return_state=True)  # warm-up: opens the database
t0 = time.perf_counter(); state = sequential(N, return_state=True); t1 = time.perf_counter()
p0 = time.perf_counter()
for i in range(N):
    plain(i)
p1 = time.perf_counter()
run = read_flow_run(state.run_id)
assert len(run.task_runs) == N, len(run.task_runs)
assert all(t.state_name == "Completed" for t in run.task_runs)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print({{"us_per_task": (t1 - t0) / N * 1e6, "plain_us": (p1 - p0) / N * 1e6, "rss_mib": rss}})
"""

TAGGED = SEQUENTIAL.replace("@task\ndef noop", "@task(tags=['db'])\ndef noop")

SUBMIT = """
import time
from jupyter_flows import flow, task, read_flow_run, ThreadPoolTaskRunner

@task
def noop(i):
    return i

@flow(task_runner=ThreadPoolTaskRunner(max_workers=8))
def fan_out(n: int):
    futures = [noop.submit(i) for i in range(n)]
    return sum(f.result() for f in futures)

N = {n}
fan_out(10)
t0 = time.perf_counter(); state = fan_out(N, return_state=True); t1 = time.perf_counter()
run = read_flow_run(state.run_id)
assert len(run.task_runs) == N and all(t.state_name == "Completed" for t in run.task_runs)
print({{"us_per_task": (t1 - t0) / N * 1e6}})
"""

BIG = """
import resource, time
from jupyter_flows import flow, task, read_flow_run

@task
def noop(i):
    return i

@flow
def big(n: int):
    for i in range(n):
        noop(i)

N = {n}
t0 = time.perf_counter(); state = big(N, return_state=True); t1 = time.perf_counter()
run = read_flow_run(state.run_id)
assert len(run.task_runs) == N and run.state_name == "Completed"
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print({{"seconds": t1 - t0, "rss_mib": rss, "tasks": N}})
"""

MAGIC = """
import time
from IPython.testing.globalipapp import start_ipython
ip = start_ipython()
ip.run_line_magic("load_ext", "jupyter_flows")
cell = "x = 1\\ny = [i for i in range(10)]\\nz = x + len(y)"
ip.run_cell("%%task warm\\n" + cell)
N = 100
t0 = time.perf_counter()
for i in range(N):
    ip.run_cell(f"%%task cell{{i}}\\n" + cell)
t1 = time.perf_counter()
for i in range(N):
    ip.run_cell(cell)
t2 = time.perf_counter()
print({{"magic_ms": (t1 - t0) / N * 1000, "plain_ms": (t2 - t1) / N * 1000}})
"""

COLD = """
from jupyter_flows import flow, task
@task
def one():
    return 1
@flow
def f():
    return one()
assert f() == 1
"""


def run_python(code: str, env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return elapsed, lines[-1] if lines else ""


def fresh_env() -> dict[str, str]:
    home = tempfile.mkdtemp(prefix="jf-bench-")
    env = dict(os.environ)
    env["JUPYTER_FLOWS_HOME"] = home
    env.pop("JUPYTER_FLOWS_DB_URL", None)
    return env


def measure(code: str, repeats: int) -> list[dict[str, float]]:
    out = []
    for _ in range(repeats):
        _, line = run_python(code, fresh_env())
        out.append(eval(line))  # noqa: S307 - our own child's dict literal
    return out


def median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--suite",
        action="append",
        default=[],
        choices=[*SUITES, "all"],
        help="also run another suite: "
        + "; ".join(f"{name}: {what}" for name, (_, what) in SUITES.items()),
    )
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    n_seq = 2000 if args.quick else 10000
    n_big = 10000

    results: dict[str, float] = {}
    mode = "quick" if args.quick else "full"
    print(f"jupyter-flows benchmarks ({mode}), Python {sys.version.split()[0]}")

    rows = measure(textwrap.dedent(SEQUENTIAL.format(n=n_seq)), repeats)
    results["sequential_us_per_task"] = median(rows, "us_per_task")
    results["plain_call_us"] = median(rows, "plain_us")
    rows = measure(textwrap.dedent(TAGGED.format(n=n_seq)), repeats)
    results["tagged_us_per_task"] = median(rows, "us_per_task")
    rows = measure(textwrap.dedent(SUBMIT.format(n=1000)), repeats)
    results["submit_us_per_task"] = median(rows, "us_per_task")
    rows = measure(textwrap.dedent(BIG.format(n=n_big)), 1 if args.quick else 3)
    results["big_flow_seconds"] = median(rows, "seconds")
    results["big_flow_rss_mib"] = median(rows, "rss_mib")
    rows = measure(textwrap.dedent(MAGIC.format()), repeats)
    results["magic_cell_overhead_ms"] = statistics.median(
        r["magic_ms"] - r["plain_ms"] for r in rows
    )
    cold = [run_python(COLD, fresh_env())[0] for _ in range(repeats)]
    warm = [run_python(COLD, env)[0] for env in [fresh_env()] for _ in range(1)]
    results["cold_one_task_flow_s"] = statistics.median(cold)
    results["one_task_flow_existing_db_s"] = statistics.median(warm)
    imports = [run_python("import jupyter_flows", fresh_env())[0] for _ in range(repeats)]
    bare = [run_python("pass", fresh_env())[0] for _ in range(repeats)]
    results["import_s"] = statistics.median(imports)
    results["python_startup_s"] = statistics.median(bare)

    seq = results["sequential_us_per_task"]
    cold_s = results["cold_one_task_flow_s"]
    rows_out = [
        (
            "sequential no-op task (persisted)",
            f"{seq:.1f} µs",
            f"{seq / results['plain_call_us']:.0f}x a plain call; Prefect/ours = "
            f"{PREFECT['sequential_task_us'] / seq:.0f}x",
            "<= 100 µs",
        ),
        (
            "sequential tagged task, no tag limit",
            f"{results['tagged_us_per_task']:.1f} µs",
            "tag limits looked up once per flow run",
            "<= 100 µs",
        ),
        (
            "1,000 tasks via .submit() (thread pool)",
            f"{results['submit_us_per_task']:.1f} µs",
            "",
            "<= 200 µs",
        ),
        (
            f"{n_big:,}-task flow, fully persisted",
            f"{results['big_flow_seconds']:.2f} s",
            f"peak RSS {results['big_flow_rss_mib']:.0f} MiB",
            "RSS <= 200 MiB",
        ),
        (
            "cold process: one-task flow, new DB",
            f"{results['cold_one_task_flow_s']:.2f} s",
            f"Prefect/ours = {PREFECT['cold_one_task_flow_s'] / cold_s:.0f}x",
            "<= 1 s",
        ),
        (
            "%%task cell: overhead over a plain cell",
            f"{results['magic_cell_overhead_ms']:.2f} ms",
            "AST analysis + recording, persisted",
            "<= 5 ms",
        ),
        (
            "import jupyter_flows (incl. interpreter)",
            f"{results['import_s'] * 1000:.0f} ms",
            f"bare interpreter {results['python_startup_s'] * 1000:.0f} ms",
            "<= 300 ms",
        ),
    ]
    width = max(len(r[0]) for r in rows_out)
    print(f"{'scenario':<{width}}  {'median':>10}  {'target':>14}  notes")
    for name, value, note, target in rows_out:
        print(f"{name:<{width}}  {value:>10}  {target:>14}  {note}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    suites = list(SUITES) if "all" in args.suite else list(dict.fromkeys(args.suite))
    for name in suites:
        script = os.path.join(HERE, SUITES[name][0])
        print(flush=True)
        subprocess.run([sys.executable, script, *(["--quick"] if args.quick else [])], check=True)


if __name__ == "__main__":
    main()
