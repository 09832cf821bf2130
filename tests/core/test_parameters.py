"""Flow parameters: bound from the call, validated and coerced from type hints (pydantic).

This module uses ``from __future__ import annotations``, as many notebooks and modules do,
so every annotation below reaches the engine as a string.
"""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import BaseModel

from jupyter_flows import flow, task
from jupyter_flows.exceptions import ParameterValidationError


class Point(BaseModel):
    x: int
    y: int


class Plain:
    """An arbitrary (non-pydantic) class used as a type hint."""

    def __init__(self, value: int):
        self.value = value


class TestCoercion:
    def test_string_to_int(self):
        @flow
        def double(x: int) -> int:
            return 2 * x

        assert double("3") == 6

    def test_recorded_parameters_are_the_call_values(self, recorder):
        @flow
        def double(x: int) -> int:
            return 2 * x

        double(x="3")
        assert recorder.flow_run("double").parameters == {"x": "3"}

    def test_nested_types(self):
        @flow
        def total(values: list[int], when: date) -> tuple[int, int]:
            return sum(values), when.year

        assert total(["1", "2"], "2024-05-01") == (3, 2024)

    def test_pydantic_model_from_dict(self):
        @flow
        def norm(p: Point) -> int:
            return p.x + p.y

        assert norm({"x": "1", "y": 2}) == 3

    def test_arbitrary_class_hint_accepts_instances(self):
        @flow
        def unwrap(item: Plain) -> int:
            return item.value

        assert unwrap(Plain(5)) == 5

    def test_defaults_are_applied(self, recorder):
        @flow
        def scale(x: int, factor: int = 10) -> int:
            return x * factor

        assert scale("2") == 20
        assert recorder.flow_run("scale").parameters == {"x": "2", "factor": 10}

    def test_unannotated_parameters_pass_through(self):
        @flow
        def ident(x, y: int):
            return x, y

        assert ident("3", "4") == ("3", 4)

    def test_keyword_only_varargs_and_kwargs(self):
        @flow
        def gather(first: int, *rest: int, scale: int = 1, **named: int):
            return first * scale, [r * scale for r in rest], named

        assert gather("1", "2", "3", scale="10", a="5") == (10, [20, 30], {"a": 5})

    def test_validate_parameters_false_passes_raw_values(self):
        @flow(validate_parameters=False)
        def echo(x: int):
            return x

        assert echo("3") == "3"


class TestInvalidParameters:
    def test_error_names_the_parameter(self):
        @flow
        def double(x: int) -> int:
            return 2 * x

        with pytest.raises(ParameterValidationError) as info:
            double("three")
        error = info.value
        assert error.target == "flow 'double'"
        assert len(error.errors) == 1
        assert error.errors[0].startswith("x: Input should be a valid integer")
        assert "'three'" in error.errors[0]
        assert "invalid parameters for \"flow 'double'\"" in str(error)

    def test_is_a_value_error(self):
        @flow
        def double(x: int) -> int:
            return 2 * x

        with pytest.raises(ValueError):
            double([])

    def test_every_bad_parameter_is_reported(self):
        @flow
        def two(a: int, b: float):
            pass

        with pytest.raises(ParameterValidationError) as info:
            two("x", "y")
        assert [e.split(":")[0] for e in info.value.errors] == ["a", "b"]

    def test_run_recorded_failed_before_any_task_runs(self, recorder):
        calls = []

        @task
        def step():
            calls.append(1)

        @flow
        def double(x: int) -> int:
            step()
            return 2 * x

        state = double("three", return_state=True)
        assert state.is_failed()
        assert isinstance(state.result(raise_on_failure=False), ParameterValidationError)
        run = recorder.flow_run("double")
        assert recorder.state_names(run.id) == ["Pending", "Failed"]
        assert "x: Input should be a valid integer" in recorder.final(run.id).message
        assert recorder.task_runs == {}
        assert calls == []
        assert recorder.flushes >= 1

    def test_bad_parameters_are_not_retried(self, recorder):
        @flow(retries=3)
        def double(x: int) -> int:
            return 2 * x

        with pytest.raises(ParameterValidationError):
            double("three")
        assert recorder.state_names(recorder.flow_run("double").id) == ["Pending", "Failed"]

    def test_unknown_parameter(self, recorder):
        @flow
        def double(x: int) -> int:
            return 2 * x

        with pytest.raises(ParameterValidationError, match="unexpected keyword argument 'y'"):
            double(1, y=2)
        run = recorder.flow_run("double")
        assert recorder.state_names(run.id) == ["Pending", "Failed"]
        assert run.parameters == {"y": 2}

    def test_missing_parameter(self, recorder):
        @flow
        def double(x: int) -> int:
            return 2 * x

        with pytest.raises(ParameterValidationError, match="missing a required argument: 'x'"):
            double()
        assert recorder.final(recorder.flow_run("double").id).is_failed()

    def test_too_many_positional_arguments(self):
        @flow
        def double(x: int) -> int:
            return 2 * x

        with pytest.raises(ParameterValidationError, match="too many positional arguments"):
            double(1, 2)


class TestParameterNames:
    """Parameter names are the user's, whatever pydantic reserves for its own use."""

    @pytest.mark.parametrize("name", ["json", "schema", "copy", "dict", "model_config"])
    def test_names_of_base_model_attributes(self, name):
        namespace: dict = {"flow": flow}
        exec(f"@flow\ndef echo({name}: int):\n    return {name}\n", namespace)
        assert namespace["echo"]("3") == 3

    def test_leading_underscore(self):
        @flow
        def echo(_private: int = 1):
            return _private

        assert echo("2") == 2

    def test_leading_underscore_is_still_validated(self):
        @flow
        def echo(_private: int = 1):
            return _private

        with pytest.raises(ParameterValidationError, match="_private: Input should be"):
            echo("x")


class TestStringAnnotations:
    """``from __future__ import annotations`` turns hints into strings; they still work."""

    def test_module_level_class(self):
        @flow
        def unwrap(item: Plain) -> int:
            return item.value

        assert unwrap(Plain(7)) == 7

    def test_module_level_class_rejects_other_values(self):
        @flow
        def unwrap(item: Plain) -> int:
            return item.value

        with pytest.raises(ParameterValidationError, match="item: Input should be an instance"):
            unwrap(7)

    def test_unresolvable_hint_is_not_validated(self, recorder):
        class Local:  # not reachable from the module's globals: the hint cannot be resolved
            pass

        @flow
        def accept(item: Local, n: int) -> tuple:
            return item, n

        obj = Local()
        assert accept(obj, "2") == (obj, 2)
        assert recorder.final(recorder.flow_run("accept").id).is_completed()
