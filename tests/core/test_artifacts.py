"""Prefect's ``prefect.artifacts`` here: made in flows and tasks, recorded with the run, read
back by key and id, on SQLite and PostgreSQL (the examples of Prefect's artifacts page)."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from jupyter_flows import flow, task
from jupyter_flows.artifacts import (
    Artifact,
    acreate_markdown_artifact,
    aupdate_progress_artifact,
    create_image_artifact,
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from jupyter_flows.core import settings
from jupyter_flows.core.artifacts import MAX_ARTIFACT_BYTES
from jupyter_flows.exceptions import ObjectNotFound
from jupyter_flows.store.api import run_store
from jupyter_flows.store.artifacts import ListArtifactsQuery, list_artifacts


@pytest.fixture(autouse=True)
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The process records into ``db_url`` (SQLite, then PostgreSQL)."""
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    settings.reset_recorder()
    yield db_url
    settings.reset_recorder()


def _all(**query: Any) -> list[Any]:
    settings.get_recorder().flush()
    return list_artifacts(run_store().engine, ListArtifactsQuery(**query)).items


class TestPrefectDocsExamples:
    def test_link_artifact_of_a_flow(self) -> None:
        # docs: "create a link artifact ... with a key of my-important-link"
        @flow
        def my_flow() -> str:
            create_link_artifact(
                key="my-important-link",
                link="https://www.prefect.io/",
                link_text="Prefect",
            )
            from jupyter_flows.runtime import flow_run

            return str(flow_run.id)

        run_id = my_flow()
        found = Artifact.get("my-important-link")
        assert found is not None
        assert (found.type, found.data) == ("markdown", "[Prefect](https://www.prefect.io/)")
        assert found.flow_run_id == run_id and found.task_run_id is None

    def test_markdown_report_from_a_task(self) -> None:
        # docs: a task builds a markdown report, keyed "gtm-report"
        @task
        def markdown_task() -> None:
            na_revenue = 500000
            markdown_report = f"""# Sales Report

## Summary

| Region        | Revenue |
|:--------------|-------:|
| North America | ${na_revenue:,} |
"""
            create_markdown_artifact(
                key="gtm-report", markdown=markdown_report, description="Quarterly Sales Report"
            )

        @flow
        def my_flow() -> None:
            markdown_task()

        my_flow()
        found = Artifact.get("gtm-report")
        assert found is not None and found.type == "markdown"
        assert "$500,000" in found.data and found.description == "Quarterly Sales Report"
        assert found.task_run_id is not None  # a task's artifact belongs to its task run

    def test_table_artifact_with_nan_as_null(self) -> None:
        # docs: "create_table_artifact(key="table", table=highest_churn_customers, ...)"
        @flow
        def my_fn() -> None:
            highest_churn_possibility = [
                {"customer_id": "12345", "name": "John Smith", "churn_probability": 0.85},
                {"customer_id": "56789", "name": "Jane Jones", "churn_probability": math.nan},
            ]
            create_table_artifact(
                key="personalized-reachout",
                table=highest_churn_possibility,
                description="# Marvin, please reach out to these customers today!",
            )

        my_fn()
        found = Artifact.get("personalized-reachout")
        assert found is not None and found.type == "table"
        rows = json.loads(found.data)  # Prefect stores the table as JSON text
        assert rows[0]["churn_probability"] == 0.85 and rows[1]["churn_probability"] is None

    def test_progress_artifact_updated_as_work_goes(self) -> None:
        # docs: create_progress_artifact(progress=0.0, ...) then update_progress_artifact
        @task
        def fetch_batch(i: int) -> int:
            return i

        @flow
        def etl() -> UUID:
            progress_artifact_id = create_progress_artifact(
                progress=0.0, description="Indicates the progress of fetching data in batches."
            )
            for i in range(1, 6):
                fetch_batch(i)
                update_progress_artifact(artifact_id=progress_artifact_id, progress=i * 20)
            return progress_artifact_id

        artifact_id = etl()
        assert isinstance(artifact_id, UUID)
        (made,) = [a for a in _all() if a.id == artifact_id.hex]
        assert made.type == "progress" and made.data == 100
        assert made.description == "Indicates the progress of fetching data in batches."
        assert made.updated > made.created

    def test_image_artifact(self) -> None:
        @flow
        def my_flow() -> None:
            create_image_artifact(
                image_url="https://example.com/chart.png", key="chart", description="A chart"
            )

        my_flow()
        found = Artifact.get("chart")
        assert found is not None and (found.type, found.data) == (
            "image",
            "https://example.com/chart.png",
        )


class TestKeysAndVersions:
    def test_same_key_keeps_every_version_newest_wins(self) -> None:
        @flow
        def irregular(n: int) -> None:
            create_markdown_artifact(f"run {n}", key="irregular-data")

        for n in range(3):
            irregular(n)
        versions = _all(key="irregular-data")
        assert [v.data for v in versions] == ["run 2", "run 1", "run 0"]
        assert len({v.flow_run_id for v in versions}) == 3
        found = Artifact.get("irregular-data")
        assert found is not None and found.data == "run 2"
        latest = _all(latest=True)
        assert [(a.key, a.data) for a in latest] == [("irregular-data", "run 2")]

    def test_keyless_artifacts_belong_to_their_run_only(self) -> None:
        @flow
        def two() -> None:
            create_markdown_artifact("a")
            create_markdown_artifact("b", key="kept")

        two()
        assert Artifact.get(None) is None
        assert {a.data for a in _all()} == {"a", "b"}
        assert [a.key for a in _all(latest=True)] == ["kept"]

    def test_get_or_create(self) -> None:
        made, created = Artifact.get_or_create(key="cfg", type="markdown", data="x")
        assert created and made.key == "cfg"
        again, created = Artifact.get_or_create(key="cfg", type="markdown", data="y")
        assert not created and again.id == made.id

    def test_outside_any_run_and_read_back_at_once(self) -> None:
        artifact_id = create_markdown_artifact("hello", key="loose")
        found = Artifact.get("loose")  # read-your-writes: the recorder is flushed first
        assert found is not None and found.id == artifact_id.hex
        assert found.flow_run_id is None and found.task_run_id is None

    def test_async_spellings(self) -> None:
        @flow
        async def flow_async() -> UUID:
            await acreate_markdown_artifact("async", key="async-md")
            bar = create_progress_artifact(10)
            await aupdate_progress_artifact(bar, 60, description="more than half")
            return bar

        bar = asyncio.run(flow_async())
        (made,) = [a for a in _all() if a.id == bar.hex]
        assert (made.data, made.description) == (60, "more than half")
        assert Artifact.get("async-md") is not None


class TestBadInput:
    @pytest.mark.parametrize("key", ["Upper", "under_score", "space key", "", "dot.ted"])
    def test_a_bad_key_says_the_rule(self, key: str) -> None:
        with pytest.raises(ValueError, match="lowercase letters, numbers, and dashes"):
            create_markdown_artifact("x", key=key)
        assert _all() == []

    @pytest.mark.parametrize("table", [5, "text", [1, 2], [{"a": 1}, [1]], {"a": 1}])
    def test_a_table_of_the_wrong_shape(self, table: Any) -> None:
        with pytest.raises(TypeError, match="create_table_artifact"):
            create_table_artifact(table)

    def test_progress_outside_0_100_is_clamped_with_a_warning(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        low = create_progress_artifact(-5)
        high = create_progress_artifact(250)
        values = {a.id: a.data for a in _all()}
        assert values[low.hex] == 0 and values[high.hex] == 100
        assert "Interpreting as 100.0% progress" in caplog.text
        with pytest.raises(ValueError, match="progress"):  # pydantic's, as Prefect's
            create_progress_artifact("half")  # type: ignore[arg-type]

    def test_updating_an_unknown_artifact(self) -> None:
        with pytest.raises(ObjectNotFound, match="no artifact"):
            update_progress_artifact(UUID(int=7), 50)

    def test_too_much_data_is_refused_and_nothing_is_written(self) -> None:
        with pytest.raises(ValueError, match="more than 1048576"):
            create_markdown_artifact("x" * (MAX_ARTIFACT_BYTES + 1))
        create_markdown_artifact("small")
        assert [a.data for a in _all()] == ["small"]

    def test_numpy_like_and_time_values_in_a_table(self) -> None:
        from datetime import date

        class Scalar:  # what numpy.int64 looks like to json: not JSON, has .item()
            def item(self) -> int:
                return 3

        create_table_artifact({"n": [Scalar()], "day": [date(2026, 1, 2)]}, key="odd")
        found = Artifact.get("odd")
        assert found is not None and json.loads(found.data) == {"n": [3], "day": ["2026-01-02"]}


def test_a_failed_run_keeps_its_artifacts_and_deleting_the_run_removes_them() -> None:
    from jupyter_flows.store.deletion import delete_flow_runs

    @flow
    def breaks() -> None:
        create_markdown_artifact("before the failure", key="partial")
        raise RuntimeError("boom")

    state = breaks(return_state=True)
    assert state.is_failed()
    (kept,) = _all(key="partial")
    with run_store().engine.begin() as conn:
        assert delete_flow_runs(conn, [kept.flow_run_id]) == 1
    assert _all() == []
