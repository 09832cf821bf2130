"""The ``State`` value object: types, names, constructors, predicates and result access."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from jupyter_flows import State, StateType
from jupyter_flows.core import states
from jupyter_flows.exceptions import RunNotCompleted

# (constructor, type, name) for every PascalCase constructor.
CONSTRUCTORS = [
    (states.Scheduled, StateType.SCHEDULED, "Scheduled"),
    (states.Late, StateType.SCHEDULED, "Late"),
    (states.AwaitingRetry, StateType.SCHEDULED, "AwaitingRetry"),
    (states.Pending, StateType.PENDING, "Pending"),
    (states.Running, StateType.RUNNING, "Running"),
    (states.Retrying, StateType.RUNNING, "Retrying"),
    (states.Completed, StateType.COMPLETED, "Completed"),
    (states.Cached, StateType.COMPLETED, "Cached"),
    (states.Failed, StateType.FAILED, "Failed"),
    (states.TimedOut, StateType.FAILED, "TimedOut"),
    (states.Cancelled, StateType.CANCELLED, "Cancelled"),
    (states.Cancelling, StateType.CANCELLING, "Cancelling"),
    (states.Crashed, StateType.CRASHED, "Crashed"),
    (states.Paused, StateType.PAUSED, "Paused"),
]


class TestStateType:
    def test_has_the_prefect_state_types(self):
        assert {t.value for t in StateType} == {
            "SCHEDULED",
            "PENDING",
            "RUNNING",
            "COMPLETED",
            "FAILED",
            "CANCELLED",
            "CRASHED",
            "PAUSED",
            "CANCELLING",
        }

    def test_is_a_string_enum(self):
        assert StateType.COMPLETED == "COMPLETED"
        assert StateType("FAILED") is StateType.FAILED

    def test_terminal_types(self):
        assert states.TERMINAL_TYPES == {
            StateType.COMPLETED,
            StateType.FAILED,
            StateType.CANCELLED,
            StateType.CRASHED,
        }


class TestConstructors:
    @pytest.mark.parametrize(("make", "type_", "name"), CONSTRUCTORS)
    def test_type_and_name(self, make, type_, name):
        state = make()
        assert isinstance(state, State)
        assert state.type is type_
        assert state.name == name

    @pytest.mark.parametrize(("make", "type_", "name"), CONSTRUCTORS)
    def test_timestamp_is_timezone_aware_utc(self, make, type_, name):
        before = datetime.now(timezone.utc)
        state = make()
        after = datetime.now(timezone.utc)
        assert state.timestamp.tzinfo is not None
        assert before <= state.timestamp <= after

    def test_message(self):
        assert states.Failed(message="boom").message == "boom"
        assert states.Running("go").message == "go"
        assert states.Pending().message is None

    def test_completed_carries_its_result(self):
        assert states.Completed(42).data == 42
        assert states.Cached([1, 2]).data == [1, 2]

    def test_scheduled_defaults_to_now(self):
        state = states.Scheduled()
        assert state.scheduled_time is not None
        assert abs(state.scheduled_time - state.timestamp) < timedelta(seconds=5)

    def test_scheduled_keeps_the_given_time(self):
        when = datetime(2030, 1, 1, tzinfo=timezone.utc)
        assert states.Scheduled(when).scheduled_time == when
        assert states.Late(when).scheduled_time == when

    def test_awaiting_retry_is_scheduled_after_the_delay(self):
        state = states.AwaitingRetry(10, message="try again")
        assert state.scheduled_time - state.timestamp == timedelta(seconds=10)
        assert state.message == "try again"


class TestPredicates:
    @pytest.mark.parametrize(("make", "type_", "name"), CONSTRUCTORS)
    def test_exactly_one_type_predicate_matches(self, make, type_, name):
        state = make()
        predicates = {
            StateType.SCHEDULED: state.is_scheduled(),
            StateType.PENDING: state.is_pending(),
            StateType.RUNNING: state.is_running(),
            StateType.COMPLETED: state.is_completed(),
            StateType.FAILED: state.is_failed(),
            StateType.CANCELLED: state.is_cancelled(),
            StateType.CRASHED: state.is_crashed(),
            StateType.PAUSED: state.is_paused(),
        }
        expected = {t: t is type_ for t in predicates}
        assert predicates == expected

    @pytest.mark.parametrize(("make", "type_", "name"), CONSTRUCTORS)
    def test_is_final(self, make, type_, name):
        assert make().is_final() is (type_ in states.TERMINAL_TYPES)

    def test_cached_and_timed_out_refine_their_type(self):
        assert states.Cached().is_completed()
        assert states.TimedOut().is_failed()
        assert states.Retrying().is_running()
        assert states.AwaitingRetry().is_scheduled()


class TestResult:
    def test_completed_returns_its_data(self):
        assert states.Completed({"a": 1}).result() == {"a": 1}

    def test_failed_reraises_its_exception(self):
        error = ValueError("bad")
        with pytest.raises(ValueError, match="bad") as info:
            states.Failed(error).result()
        assert info.value is error

    def test_failed_without_raising_returns_the_exception(self):
        error = ValueError("bad")
        assert states.Failed(error).result(raise_on_failure=False) is error

    def test_final_state_without_a_result_raises_run_not_completed(self):
        with pytest.raises(RunNotCompleted, match="Cancelled: stopped by user"):
            states.Cancelled(message="stopped by user").result()
        with pytest.raises(RunNotCompleted, match="Crashed"):
            states.Crashed().result()

    def test_non_final_state_has_no_result_yet(self):
        assert states.Running().result() is None

    def test_with_data_returns_a_copy(self):
        state = states.Completed(1)
        other = state.with_data(2)
        assert (state.result(), other.result()) == (1, 2)
        assert other.name == "Completed"


class TestValueObject:
    def test_is_frozen(self):
        state = states.Completed(1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            state.name = "Failed"  # type: ignore[misc]

    def test_equality_ignores_data_and_run_id(self):
        state = states.Completed(1)
        assert state == dataclasses.replace(state, data=2, run_id="abc")

    def test_str_shows_name_and_message(self):
        assert str(states.Completed()) == "Completed"
        assert str(states.Failed(message="boom")) == "Failed('boom')"

    def test_repr_hides_the_data(self):
        assert "secret" not in repr(states.Completed("secret"))
