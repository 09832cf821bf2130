"""Variables in the domain (``orchestration.variables``) and Prefect's ``Variable`` API, on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from jupyter_flows import flow
from jupyter_flows.exceptions import Conflict, NotFound
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.orchestration.variable_schemas import (
    MAX_VARIABLE_VALUE_BYTES,
    ListVariablesQuery,
    SetVariable,
)
from jupyter_flows.variables import Variable

VALUES: list[Any] = ["text", 42, 2.5, True, False, None, [1, "a", None], {"a": {"b": [1, 2]}}]


def _set(service: OrchestrationService, name: str, value: Any, **body: Any) -> tuple[Any, bool]:
    return service.set_variable(name, SetVariable(value=value, **body))


class TestDomain:
    @pytest.mark.parametrize("value", VALUES, ids=repr)
    def test_any_json_value_round_trips(self, service: OrchestrationService, value: Any) -> None:
        made, created = _set(service, "v", value, tags=["b", "a", "a"])
        assert created and made.value == value and made.tags == ["a", "b"]
        again = service.read_variable("v")
        assert (again.value, again.tags) == (value, ["a", "b"])
        assert type(again.value) is type(value)

    def test_existing_name_conflicts_unless_overwritten(
        self, service: OrchestrationService
    ) -> None:
        first, _ = _set(service, "answer", 41, tags=["x"])
        with pytest.raises(Conflict, match="'answer' already exists"):
            _set(service, "answer", 42)
        assert service.read_variable("answer").value == 41
        replaced, created = _set(service, "answer", 42, overwrite=True)
        assert not created
        assert (replaced.value, replaced.tags) == (42, [])  # tags replaced, as Prefect's
        assert replaced.created == first.created and replaced.updated >= first.updated

    def test_delete(self, service: OrchestrationService) -> None:
        _set(service, "gone", 1)
        service.delete_variable("gone")
        with pytest.raises(NotFound, match="no variable 'gone'"):
            service.read_variable("gone")
        with pytest.raises(NotFound):
            service.delete_variable("gone")

    def test_list_by_tag_prefix_and_pages(self, service: OrchestrationService) -> None:
        for i in range(5):
            _set(service, f"etl_{i}", i, tags=["prod"] if i % 2 else ["dev"])
        _set(service, "etl-x", "x", tags=["prod", "dev"])
        _set(service, "etlx", "literal underscore must not match any character")
        _set(service, "other", 0, tags=["prod"])

        def names(**query: Any) -> list[str]:
            return [v.name for v in service.list_variables(ListVariablesQuery(**query)).items]

        assert names() == ["etl-x", "etl_0", "etl_1", "etl_2", "etl_3", "etl_4", "etlx", "other"]
        assert names(tag="prod") == ["etl-x", "etl_1", "etl_3", "other"]
        assert names(prefix="etl_") == ["etl_0", "etl_1", "etl_2", "etl_3", "etl_4"]
        assert names(prefix="etl_", tag="dev") == ["etl_0", "etl_2", "etl_4"]
        assert names(tag="nothing") == []
        page = service.list_variables(ListVariablesQuery(prefix="etl", limit=2, offset=2))
        assert [v.name for v in page.items] == ["etl_1", "etl_2"] and page.total == 7

    @pytest.mark.parametrize(
        "name",
        ["Upper", "with space", "dot.ted", "", "x" * 256, "ü", "a/b", "semi;colon"],
        ids=repr,
    )
    def test_bad_names_are_refused_naming_the_field(
        self, service: OrchestrationService, name: str
    ) -> None:
        with pytest.raises(ValueError, match=r"^name: a variable name"):
            _set(service, name, 1)
        with pytest.raises(ValueError, match=r"^name: "):
            service.read_variable(name)

    def test_longest_name_and_all_allowed_characters(self, service: OrchestrationService) -> None:
        for name in ("x" * 255, "abc-xyz_019"):
            _set(service, name, 1)
            assert service.read_variable(name).value == 1

    def test_value_size_limit_names_the_variable(self, service: OrchestrationService) -> None:
        fits = "x" * (MAX_VARIABLE_VALUE_BYTES - 2)  # the quotes make it exactly the limit
        _set(service, "big", fits)
        assert service.read_variable("big").value == fits
        with pytest.raises(ValueError, match=r"^value: variable 'huge'.*more than the 1048576"):
            _set(service, "huge", fits + "x")
        with pytest.raises(NotFound):
            service.read_variable("huge")

    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            ("nul\x00", "NUL"),
            (float("nan"), "not a JSON number"),
            ({1, 2}, "not JSON serializable"),
        ],
        ids=["nul", "nan", "set"],
    )
    def test_unstorable_values(
        self, service: OrchestrationService, value: Any, problem: str
    ) -> None:
        with pytest.raises(ValueError, match=f"^value: variable 'v'.*{problem}"):
            _set(service, "v", value)

    def test_too_deep_value(self, service: OrchestrationService) -> None:
        value: Any = 1
        for _ in range(100):
            value = [value]
        with pytest.raises(ValueError, match="nested deeper than 64"):
            _set(service, "v", value)

    def test_request_body_names_its_fields(self) -> None:
        with pytest.raises(ValidationError, match="value"):
            SetVariable.model_validate({"tags": []})
        with pytest.raises(ValidationError, match="overwrite"):
            SetVariable.model_validate({"value": 1, "overwrite": "perhaps"})
        with pytest.raises(ValidationError, match="tags"):
            SetVariable.model_validate({"value": 1, "tags": "not-a-list"})


@pytest.fixture
def default_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``db_url`` as the process's default run database (what ``Variable`` uses)."""
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    return db_url


class TestPrefectApi:
    """Prefect 3's ``prefect.variables.Variable``, in a process with the database."""

    def test_set_get_unset(self, default_db: str) -> None:
        made = Variable.set("crew", ["Zaphod", "Arthur"], tags=["hhgttg"])
        assert made == Variable(name="crew", value=["Zaphod", "Arthur"], tags=["hhgttg"])
        assert Variable.get("crew") == ["Zaphod", "Arthur"]
        assert Variable.get("missing") is None
        assert Variable.get("missing", default={"fallback": 1}) == {"fallback": 1}
        assert Variable.unset("crew") is True
        assert Variable.unset("crew") is False
        assert Variable.get("crew", default="gone") == "gone"

    def test_set_existing_raises_value_error_as_prefect(self, default_db: str) -> None:
        Variable.set("answer", 42)
        with pytest.raises(ValueError, match="already exists. Use `overwrite=True`"):
            Variable.set("answer", 43)
        assert Variable.set("answer", 43, overwrite=True).value == 43
        assert Variable.get("answer") == 43

    def test_bad_name_and_too_large_value(self, default_db: str) -> None:
        with pytest.raises(ValueError, match="lowercase letters"):
            Variable.set("Not OK", 1)
        with pytest.raises(ValueError, match="variable 'big'.*more than"):
            Variable.set("big", "x" * MAX_VARIABLE_VALUE_BYTES)

    def test_read_inside_a_flow(self, default_db: str) -> None:
        Variable.set("threshold", {"value": 7})

        @flow
        def uses_it() -> int:
            return int(Variable.get("threshold")["value"]) * 2

        assert uses_it() == 14

    def test_async_spellings(self, default_db: str) -> None:
        async def main() -> tuple[Any, Any, bool]:
            await Variable.aset("a", 1)
            return await Variable.aget("a"), await Variable.aget("b", 2), await Variable.aunset("a")

        assert asyncio.run(main()) == (1, 2, True)
