"""``read_flow_runs`` (package root and ``store.api``): a list of run summaries to iterate,
with its page as attributes, on SQLite and a real PostgreSQL."""

from __future__ import annotations

import pytest

import jupyter_flows
from jupyter_flows import flow
from jupyter_flows.core import settings
from jupyter_flows.store import api
from jupyter_flows.store.schemas import DescribeFlowRunItem


@pytest.fixture
def five_runs(db_url: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Five runs of ``etl`` and one of ``other`` in the default database ``db_url``, newest
    first."""
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    settings.reset_recorder()

    @flow
    def etl(i: int) -> int:
        return i

    @flow
    def other() -> None:
        pass

    ids = [etl(i, return_state=True).run_id for i in range(5)]
    other()
    return list(reversed(ids))


class TestReadFlowRuns:
    def test_a_list_of_run_summaries(self, five_runs: list[str]) -> None:
        runs = jupyter_flows.read_flow_runs(flow_name="etl")
        assert isinstance(runs, list) and len(runs) == 5
        assert [r.id for r in runs] == five_runs
        assert all(type(r) is DescribeFlowRunItem for r in runs)
        assert not hasattr(runs[0], "task_runs")  # a summary: no empty task list
        assert [r.parameters["i"] for r in runs] == [4, 3, 2, 1, 0]
        assert runs[0].state_name == "Completed"
        assert (runs.total, runs.limit, runs.offset, runs.next_offset) == (5, 50, 0, None)

    def test_paging(self, five_runs: list[str]) -> None:
        first = api.read_flow_runs(flow_name="etl", limit=2)
        assert (first.total, first.limit, first.offset, first.next_offset) == (5, 2, 0, 2)
        seen, page = list(first), first
        while page.next_offset is not None:
            page = api.read_flow_runs(flow_name="etl", limit=2, offset=page.next_offset)
            seen += page
        assert [r.id for r in seen] == five_runs
        assert (page.offset, len(page), page.next_offset) == (4, 1, None)
        beyond = api.read_flow_runs(flow_name="etl", offset=10)
        assert beyond == [] and beyond.total == 5 and beyond.next_offset is None

    def test_filters_and_the_plain_list(self, five_runs: list[str], db_url: str) -> None:
        everything = api.read_flow_runs(url=db_url)
        assert everything.total == 6 and everything[0].flow_name == "other"
        assert api.read_flow_runs(state="failed") == []
        assert everything.items == list(everything)  # the page's list, as before
