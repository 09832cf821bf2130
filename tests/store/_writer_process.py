"""A separate writer process for the concurrency and crash tests (run as a script).

    python _writer_process.py URL N_TASKS LABEL [FLUSH_EVERY [--wait]]

Opens the database (migrating it if new), prints ``ready`` (and with ``--wait`` waits for
a line on stdin), then records one flow run with N_TASKS task runs (3 states each),
flushing every FLUSH_EVERY tasks and printing ``flushed <k>`` once the first k tasks are
committed.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from jupyter_flows.core.records import FlowRunInfo, TaskRunInfo, new_id
from jupyter_flows.core.states import Completed, Pending, Running
from jupyter_flows.store import SqlRecorder


def main(url: str, n_tasks: int, label: str, flush_every: int, wait: bool) -> None:
    recorder = SqlRecorder.from_url(url)
    print("ready", flush=True)
    if wait:
        sys.stdin.readline()
    now = datetime.now(timezone.utc)
    flow_run = FlowRunInfo(new_id(), label, label, None, None, [label], {}, now)
    recorder.flow_run_created(flow_run)
    recorder.set_state("flow", flow_run.id, Running(), 1)
    for i in range(1, n_tasks + 1):
        task = TaskRunInfo(new_id(), flow_run.id, "w.task", "task", f"{label}-{i}", [], now)
        recorder.task_run_created(task)
        recorder.set_state("task", task.id, Pending(), 0)
        recorder.set_state("task", task.id, Running(), 1)
        recorder.set_state("task", task.id, Completed(), 1)
        if i % flush_every == 0:
            recorder.flush()
            print(f"flushed {i}", flush=True)
    recorder.set_state("flow", flow_run.id, Completed(), 1)
    recorder.close()
    print("done", flush=True)


if __name__ == "__main__":
    url, n_tasks, label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    flush_every = int(sys.argv[4]) if len(sys.argv) > 4 else 10**9
    main(url, n_tasks, label, flush_every, "--wait" in sys.argv[5:])
