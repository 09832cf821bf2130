"""What a recorder is told survives JSON: ``encode`` then ``replay`` makes the same calls."""

from __future__ import annotations

import json

import pytest

from jupyter_flows import flow, get_run_logger, task
from jupyter_flows.core.record_codec import encode, replay
from tests.core.conftest import MemoryRecorder


@task(retries=1, retry_delay_seconds=0)
def flaky(x: int, attempts: list[int]) -> int:
    attempts.append(x)
    if len(attempts) == 1:
        raise ValueError("first try fails")
    return x * 2


@task
def total(values: list[int]) -> int:
    get_run_logger().info("adding %d values", len(values))
    return sum(values)


@flow(tags=["codec"])
def pipeline(n: int) -> int:
    attempts: list[int] = []
    return total([flaky(n, attempts), 1])


def _calls(recorder: MemoryRecorder) -> list[dict]:
    """``recorder``'s contents as encoded calls (JSON text and back, as over HTTP)."""
    items = [encode("flow_run_created", r) for r in recorder.flow_runs.values()]
    items += [encode("task_run_created", r) for r in recorder.task_runs.values()]
    items += [encode("set_state", *t) for t in recorder.transitions]
    items += [encode("log", r) for r in recorder.logs]
    return json.loads(json.dumps(items))


def test_a_flow_run_round_trips(recorder: MemoryRecorder) -> None:
    assert pipeline(3) == 7
    copy = MemoryRecorder()
    assert replay(_calls(recorder), copy) == len(_calls(recorder))
    assert copy.flow_runs == recorder.flow_runs
    assert copy.task_runs == recorder.task_runs  # with their inputs (the graph's edges)
    assert copy.logs == recorder.logs
    theirs = [(k, r, s.type, s.name, s.timestamp, s.message, n) for k, r, s, n in copy.transitions]
    ours = [
        (k, r, s.type, s.name, s.timestamp, s.message, n) for k, r, s, n in recorder.transitions
    ]
    assert theirs == ours
    assert "Retrying" in copy.state_names(copy.task_run("flaky").id)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"op": "drop_table"}, r"items\[1\].op: expected one of"),
        ({"op": "log", "info": {"level": 20}}, r"items\[1\].info: .*missing"),
        ({"op": "log", "info": {"oops": 1}}, r"unknown fields \['oops'\]"),
        (
            {"op": "set_state", "kind": "flow", "run_id": "x", "state": {"type": "BOGUS"}},
            r"items\[1\].state",
        ),
        (
            {"op": "set_state", "kind": "flow", "run_id": "x",
             "state": {"type": "RUNNING", "name": "Running", "timestamp": "yesterday"}},
            r"not an ISO 8601 time: 'yesterday'",
        ),
    ],
)  # fmt: skip
def test_bad_items_are_named_and_nothing_is_replayed(item: dict, message: str) -> None:
    good = encode("set_state", "flow", "r", *_a_state())
    copy = MemoryRecorder()
    with pytest.raises(ValueError, match=message):
        replay([good, item], copy)
    assert copy.transitions == []  # all checked before any call


def _a_state() -> tuple:
    from jupyter_flows.core.states import State, StateType

    return State(StateType.RUNNING, "Running"), 1
