"""A flow run holds a task's result only while someone else does: results nobody keeps are
let go during the run (not at its end), and those kept still make edges when passed on.
Recorded to the real default database (the test recorder of ``conftest`` keeps every state
it is given, results included)."""

from __future__ import annotations

import gc
import weakref

from jupyter_flows import flow, read_flow_run, task
from jupyter_flows.context import FlowRunContext
from jupyter_flows.core.context import SWEEP_EVERY
from jupyter_flows.core.states import Completed


class Payload:
    """A result that can be watched (weakref) and is big enough to matter."""

    def __init__(self, i: int) -> None:
        self.i = i
        self.blob = bytes(64 * 1024)


def test_results_nobody_keeps_are_let_go_during_the_run() -> None:
    refs: list[weakref.ref[Payload]] = []

    @task
    def make(i: int) -> Payload:
        payload = Payload(i)
        refs.append(weakref.ref(payload))
        return payload

    @flow
    def many(n: int) -> int:
        for i in range(n):
            make(i)
        gc.collect()
        return sum(ref() is not None for ref in refs)

    alive = many(20 * SWEEP_EVERY)
    assert len(refs) == 20 * SWEEP_EVERY
    assert alive <= SWEEP_EVERY  # at most the results since the last sweep
    gc.collect()
    assert all(ref() is None for ref in refs)  # and none once the run has ended


def test_a_kept_result_still_makes_an_edge_after_many_sweeps() -> None:
    @task
    def make(i: int) -> Payload:
        return Payload(i)

    @task
    def use(payload: Payload) -> int:
        return payload.i

    @flow
    def keeps() -> tuple[list[int], str]:
        first = make(-1)
        kept = [make(i) for i in range(3)]
        for i in range(10 * SWEEP_EVERY):  # many sweeps; first and kept are held here
            make(i)
        context = FlowRunContext.get()
        assert context is not None
        return [use(first), *(use(p) for p in kept)], context.flow_run.id

    used, run_id = keeps()
    assert used == [-1, 0, 1, 2]
    run = read_flow_run(run_id)
    names = {t.id: (t.task_name, t.dynamic_key) for t in run.task_runs}
    feeds = sorted(
        (names[e.downstream_id][1], names[e.upstream_id]) for e in run.edges if e.kind == "data"
    )
    assert feeds == [(0, ("make", 0)), (1, ("make", 1)), (2, ("make", 2)), (3, ("make", 3))]


def test_without_data_keeps_everything_but_the_result() -> None:
    state = Completed(data=b"x" * 10, message="done")
    bare = state.without_data()
    assert bare.data is None and state.data == b"x" * 10
    assert (bare.type, bare.name, bare.message, bare.timestamp, bare.run_id) == (
        state.type, state.name, state.message, state.timestamp, state.run_id
    )  # fmt: skip
    assert Completed().without_data().data is None
