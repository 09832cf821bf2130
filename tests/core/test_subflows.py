"""Flows calling flows: subflow runs linked to their parent flow run and parent task run."""

from __future__ import annotations

import asyncio

import pytest

from jupyter_flows import flow, task
from jupyter_flows.exceptions import ParameterValidationError


@task
def double(x):
    return 2 * x


@flow
def child(x: int):
    return double(x)


class TestLinks:
    def test_subflow_returns_its_result(self):
        @flow
        def parent():
            return child(5) + 1

        assert parent() == 11

    def test_subflow_run_is_linked_to_the_parent(self, recorder):
        @flow
        def parent():
            return child(5)

        parent()
        parent_run = recorder.flow_run("parent")
        child_run = recorder.flow_run("child")
        stand_in = recorder.task_runs[child_run.parent_task_run_id]
        assert child_run.parent_flow_run_id == parent_run.id
        assert stand_in.flow_run_id == parent_run.id
        assert stand_in.subflow_run_id == child_run.id
        assert stand_in.task_name == "child"
        assert stand_in.name == "child-0"
        assert stand_in.task_key == "flow:child"

    def test_the_parent_task_run_follows_the_subflow(self, recorder):
        @flow
        def parent():
            return child(5)

        parent()
        child_run = recorder.flow_run("child")
        assert recorder.state_names(child_run.id) == ["Pending", "Running", "Completed"]
        assert recorder.state_names(child_run.parent_task_run_id) == [
            "Pending",
            "Running",
            "Completed",
        ]

    def test_subflow_tasks_belong_to_the_subflow_run(self, recorder):
        @flow
        def parent():
            double(1)
            return child(2)

        parent()
        parent_run, child_run = recorder.flow_run("parent"), recorder.flow_run("child")
        assert len(recorder.task_runs_of("double", flow_run_id=parent_run.id)) == 1
        assert len(recorder.task_runs_of("double", flow_run_id=child_run.id)) == 1

    def test_each_call_is_its_own_subflow_run(self, recorder):
        @flow
        def parent():
            return [child(i) for i in range(3)]

        assert parent() == [0, 2, 4]
        child_runs = recorder.flow_runs_of("child")
        assert len(child_runs) == 3
        stand_ins = [recorder.task_runs[r.parent_task_run_id] for r in child_runs]
        assert sorted(s.name for s in stand_ins) == ["child-0", "child-1", "child-2"]
        assert {s.subflow_run_id for s in stand_ins} == {r.id for r in child_runs}

    def test_nested_subflows(self, recorder):
        @flow
        def middle(x):
            return child(x) + 1

        @flow
        def top():
            return middle(3)

        assert top() == 7
        top_run, middle_run, child_run = (
            recorder.flow_run("top"),
            recorder.flow_run("middle"),
            recorder.flow_run("child"),
        )
        assert middle_run.parent_flow_run_id == top_run.id
        assert child_run.parent_flow_run_id == middle_run.id
        assert recorder.task_runs[child_run.parent_task_run_id].flow_run_id == middle_run.id
        assert recorder.task_runs[middle_run.parent_task_run_id].flow_run_id == top_run.id

    def test_subflow_called_from_a_task_links_to_the_flow_run(self, recorder):
        @task
        def launcher():
            return child(4)

        @flow
        def parent():
            return launcher()

        assert parent() == 8
        assert recorder.flow_run("child").parent_flow_run_id == recorder.flow_run("parent").id

    def test_top_level_flow_has_no_parent(self, recorder):
        child(1)
        run = recorder.flow_run("child")
        assert run.parent_flow_run_id is None
        assert run.parent_task_run_id is None


class TestOutcomes:
    def test_failed_subflow_fails_its_parent_task_run(self, recorder):
        @flow
        def broken():
            raise ValueError("sub failed")

        @flow
        def parent():
            broken()

        with pytest.raises(ValueError, match="sub failed"):
            parent()
        broken_run = recorder.flow_run("broken")
        assert recorder.final(broken_run.id).is_failed()
        stand_in_final = recorder.final(broken_run.parent_task_run_id)
        assert stand_in_final.is_failed()
        assert stand_in_final.message == "ValueError: sub failed"
        assert recorder.final(recorder.flow_run("parent").id).is_failed()

    def test_parent_can_handle_a_failed_subflow(self, recorder):
        @flow
        def broken():
            raise ValueError("sub failed")

        @flow
        def parent():
            state = broken(return_state=True)
            return state.name

        assert parent() == "Failed"
        assert recorder.final(recorder.flow_run("parent").id).is_completed()

    def test_invalid_subflow_parameters(self, recorder):
        @flow
        def parent():
            return child("not a number")

        with pytest.raises(ParameterValidationError, match="x: Input should be a valid integer"):
            parent()
        child_run = recorder.flow_run("child")
        assert recorder.state_names(child_run.id) == ["Pending", "Failed"]
        assert recorder.final(child_run.parent_task_run_id).is_failed()
        assert recorder.task_runs_of("double") == []

    def test_subflow_parameters_are_coerced(self):
        @flow
        def parent():
            return child("21")

        assert parent() == 42

    def test_subflow_retries(self, recorder):
        attempts = []

        @flow(retries=1)
        def flaky():
            attempts.append(1)
            if len(attempts) == 1:
                raise ValueError("first")
            return "ok"

        @flow
        def parent():
            return flaky()

        assert parent() == "ok"
        run = recorder.flow_run("flaky")
        assert recorder.state_names(run.id).count("Retrying") == 1
        assert recorder.final(run.parent_task_run_id).is_completed()

    def test_subflow_result_passed_to_a_task_records_an_edge(self, recorder):
        @flow
        def rows():
            return [1, 2, 3]

        @task
        def count(values):
            return len(values)

        @flow
        def parent():
            return count(rows())

        assert parent() == 3
        (edge,) = recorder.task_run("count").inputs
        assert edge.upstream_id == recorder.flow_run("rows").parent_task_run_id


class TestAsyncSubflows:
    def test_async_subflow_awaited_in_an_async_flow(self, recorder):
        @flow
        async def achild(x):
            await asyncio.sleep(0)
            return x * 3

        @flow
        async def parent():
            return await achild(2)

        assert asyncio.run(parent()) == 6
        child_run = recorder.flow_run("achild")
        assert child_run.parent_flow_run_id == recorder.flow_run("parent").id
        assert recorder.final(child_run.parent_task_run_id).is_completed()

    def test_sync_subflow_in_an_async_flow(self, recorder):
        @flow
        async def parent():
            return child(4)

        assert asyncio.run(parent()) == 8
        assert recorder.flow_run("child").parent_flow_run_id == recorder.flow_run("parent").id
