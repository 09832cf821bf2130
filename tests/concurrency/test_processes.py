"""Across real OS processes: a limit of N never admits N + 1 (8 processes hammering it, on
SQLite and PostgreSQL), and a holder killed with ``kill -9`` frees its slots when its lease
expires."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows.concurrency.sync import concurrency
from tests.concurrency.conftest import max_overlap
from tests.helpers import wait

ROOT = Path(__file__).resolve().parents[2]

HAMMER = textwrap.dedent(
    """
    import os, sys, time
    from jupyter_flows.concurrency.sync import concurrency
    out, rounds, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    open(out + ".ready", "w").close()
    while not os.path.exists(go):  # all start together: the limit is contended at once
        time.sleep(0.01)
    with open(out, "w") as f:
        for i in range(rounds):
            with concurrency("shared", timeout_seconds=120):
                start = time.time()
                time.sleep(1.0 if i == 0 else 0.05)  # the first holders fill all N at once
                f.write(f"{start} {time.time()}\\n")
    """
)

HOLD_FOREVER = textwrap.dedent(
    """
    import sys, time
    from jupyter_flows.concurrency.sync import concurrency
    with concurrency("shared", lease_duration=1.5, holder={"type": "process", "id": "doomed"}):
        open(sys.argv[1], "w").write("held")
        time.sleep(3600)
    """
)


def _env(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["JUPYTER_FLOWS_DB_URL"] = db_url
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _intervals(files: list[Path]) -> list[tuple[float, float]]:
    out = []
    for path in files:
        for line in path.read_text().splitlines():
            start, end = line.split()
            out.append((float(start), float(end)))
    return out


@pytest.mark.parametrize("slots", [2, 3])
def test_a_limit_of_n_never_admits_n_plus_one(
    slots: int, limits: Any, default_db: str, tmp_path: Path
) -> None:
    limits("shared", slots)
    rounds, procs = 6, 8
    files = [tmp_path / f"holder-{i}.txt" for i in range(procs)]
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, str(f), str(rounds), str(go)], env=_env(default_db)
        )
        for f in files
    ]
    try:
        wait(lambda: all(Path(f"{f}.ready").exists() for f in files), 120, "the processes")
        go.touch()
        for child in children:
            assert child.wait(timeout=300) == 0
    finally:
        for child in children:
            child.kill()
    intervals = _intervals(files)
    assert len(intervals) == rounds * procs  # every acquisition got in, in the end
    assert max_overlap(intervals) == slots  # never N + 1, and N is reached
    assert limits.read("shared").active_slots == 0


def test_a_holder_killed_with_kill_9_frees_its_slots_when_its_lease_expires(
    limits: Any, default_db: str, tmp_path: Path
) -> None:
    limits("shared", 1)
    marker = tmp_path / "held"
    child = subprocess.Popen([sys.executable, "-c", HOLD_FOREVER, str(marker)],
                             env=_env(default_db))  # fmt: skip
    try:
        wait(marker.exists, 60, "the child to hold the slot")
        (holder,) = limits.read("shared").holders
        assert holder.holder.id == "doomed"
        wait(lambda: limits.read("shared").holders[0].expires > holder.expires, 30,
             "the child to renew its lease")  # fmt: skip
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        with concurrency("shared", timeout_seconds=60):  # waits for the lease to expire
            (now_held,) = limits.read("shared").holders
            assert now_held.holder.type == "process" and now_held.holder.id != "doomed"
        assert limits.read("shared").active_slots == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
