"""The one state-transition policy: the table, and properties over random proposals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_flows.core.state_policy import (
    ACCEPTED,
    FINAL,
    Decision,
    allowed_pairs,
    must_stop,
    propose,
    state_groups,
)
from jupyter_flows.core.states import StateType

T = StateType
#: (type, name) of the states the engine, workers and the server propose
STATES = [
    (T.SCHEDULED, "Scheduled"),
    (T.SCHEDULED, "AwaitingRetry"),
    (T.PENDING, "Pending"),
    (T.RUNNING, "Running"),
    (T.RUNNING, "Retrying"),
    (T.PAUSED, "Paused"),
    (T.CANCELLING, "Cancelling"),
    (T.COMPLETED, "Completed"),
    (T.COMPLETED, "Cached"),
    (T.FAILED, "Failed"),
    (T.FAILED, "TimedOut"),
    (T.CANCELLED, "Cancelled"),
    (T.CRASHED, "Crashed"),
]


class TestTable:
    @pytest.mark.parametrize("final", sorted(FINAL))
    @pytest.mark.parametrize(("proposed", "name"), STATES)
    def test_nothing_leaves_a_final_state(self, final: T, proposed: T, name: str) -> None:
        verdict = propose(final, proposed, final.value.title(), name)
        assert verdict.decision is Decision.REJECT
        assert "already ended" in (verdict.reason or "")

    def test_a_cancelling_run_may_only_end(self) -> None:
        assert propose(T.CANCELLING, T.RUNNING, "Cancelling", "Running").decision is (
            Decision.REJECT
        )
        assert propose(T.CANCELLING, T.CANCELLED, "Cancelling", "Cancelled").accepted
        assert propose(T.CANCELLING, T.COMPLETED, "Cancelling", "Completed").accepted
        assert propose(T.CANCELLING, T.CANCELLING).decision is Decision.IGNORE

    def test_repeats_and_late_pendings_are_ignored(self) -> None:
        # a worker claims (Pending), then its run process proposes Pending again
        assert propose(T.PENDING, T.PENDING, "Pending", "Pending").decision is Decision.IGNORE
        # a notebook kernel proposes Pending/Running for a run its worker process started
        assert propose(T.RUNNING, T.PENDING, "Running", "Pending").decision is Decision.IGNORE
        assert propose(T.RUNNING, T.RUNNING, "Running", "Running").decision is Decision.IGNORE
        assert propose(T.RUNNING, T.RUNNING, "Running", "Retrying").accepted
        assert propose(T.RUNNING, T.SCHEDULED, "Running", "AwaitingRetry").accepted
        assert propose(None, T.RUNNING).accepted

    def test_stop_when_ended_or_cancelling(self) -> None:
        assert must_stop(T.CANCELLING) and must_stop(T.CRASHED) and must_stop(T.COMPLETED)
        assert not must_stop(T.RUNNING) and not must_stop(None)

    def test_sql_pairs_are_the_table(self) -> None:
        pairs = set(allowed_pairs())
        for current in [None, *T]:
            for proposed in T:
                key = ("" if current is None else current.value, proposed.value)
                verdict = propose(current, proposed, "a", "b")  # names differ
                assert (key in pairs) is verdict.accepted, key
                assert ((current, proposed) in ACCEPTED) is verdict.accepted

    def test_groups_for_other_languages(self) -> None:
        groups = state_groups()
        assert groups["FINAL"] == ["CANCELLED", "COMPLETED", "CRASHED", "FAILED"]
        assert set(groups["ALL"]) == {t.value for t in T}


proposals = st.lists(
    st.tuples(st.sampled_from(["engine", "worker", "server", "kernel"]), st.sampled_from(STATES)),
    max_size=40,
)


class TestProperties:
    @given(proposals)
    def test_random_writers_never_leave_a_final_state(
        self, sequence: list[tuple[str, tuple[T, str]]]
    ) -> None:
        """Whatever several writers propose in whatever order, the history is consistent."""
        history: list[tuple[T, str]] = []
        for _writer, (type_, name) in sequence:
            current = history[-1] if history else (None, None)
            verdict = propose(current[0], type_, current[1], name)
            if verdict.accepted:
                history.append((type_, name))
            elif current[0] in FINAL:
                assert verdict.decision is Decision.REJECT
        finals = [i for i, (t, _) in enumerate(history) if t in FINAL]
        assert finals in ([], [len(history) - 1])  # at most one final state, and last
        for before, after in zip(history, history[1:], strict=False):
            assert after != before  # no state recorded twice in a row
            assert before[0] is not T.CANCELLING or after[0] in FINAL
