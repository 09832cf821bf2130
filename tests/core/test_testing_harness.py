"""``jupyter_flows.testing.utilities.jupyter_flows_test_harness`` (Prefect's
``prefect_test_harness``): runs inside go to a throwaway database, never to the one
configured before, and everything is as it was afterwards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import jupyter_flows
from jupyter_flows import flow, task
from jupyter_flows.core import settings
from jupyter_flows.core.run_environment import RunEnvironment
from jupyter_flows.testing.utilities import jupyter_flows_test_harness, prefect_test_harness


@pytest.fixture
def users_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The user's own run database, as configured before the harness."""
    url = f"sqlite:///{tmp_path / 'users.sqlite'}"
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", url)
    previous = settings.set_recorder(None)  # recorded through the default factory
    yield url
    settings.reset_recorder()
    settings.set_recorder(previous)


@flow
def etl(n: int) -> int:
    return n


class TestHarness:
    def test_runs_go_to_the_throwaway_database(self, users_db: str) -> None:
        etl(1)  # one run in the user's database, before
        with jupyter_flows_test_harness() as env:
            assert env.db_url is not None and env.db_url != users_db
            state = etl(2, return_state=True)
            inside = jupyter_flows.read_flow_runs()
            assert [r.id for r in inside] == [state.run_id]
            home = Path(str(env.home))
            assert home.is_dir() and Path(env.db_url.removeprefix("sqlite:///")).is_file()
        users = jupyter_flows.read_flow_runs(url=users_db)
        assert state.run_id not in [r.id for r in users] and users.total == 1
        assert not home.exists()
        assert RunEnvironment.current().db_url == users_db

    def test_the_settings_before_are_restored(
        self, users_db: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("JUPYTER_FLOWS_RECORD_URL", "http://127.0.0.1:9/")
        monkeypatch.setenv("JUPYTER_FLOWS_URL", "http://127.0.0.1:8888/")
        monkeypatch.delenv("JUPYTER_RUNTIME_DIR", raising=False)
        recorder = settings.get_recorder()
        before = RunEnvironment.current()
        with prefect_test_harness():
            inside = RunEnvironment.current()
            assert not inside.records_over_http() and inside.url is None
            assert settings.get_recorder() is not recorder
            assert os.environ["JUPYTER_RUNTIME_DIR"].startswith(str(inside.home))
        assert RunEnvironment.current() == before
        assert settings.get_recorder() is recorder
        assert "JUPYTER_RUNTIME_DIR" not in os.environ

    def test_cached_results_stay_in_the_harness(self, users_db: str) -> None:
        @task(persist_result=True)
        def square(x: int) -> int:
            return x * x

        @flow
        def squares() -> int:
            return square(3)

        users_results = settings.data_dir() / "results"
        with jupyter_flows_test_harness() as env:
            assert squares() == 9
            assert settings.data_dir() == Path(str(env.home))
            assert list((Path(str(env.home)) / "results").rglob("*"))
        assert not users_results.exists()

    def test_restored_when_the_block_raises(self, users_db: str) -> None:
        with pytest.raises(KeyError), jupyter_flows_test_harness():
            raise KeyError("boom")
        assert RunEnvironment.current().db_url == users_db
