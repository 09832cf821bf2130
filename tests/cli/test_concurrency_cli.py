"""``jupyter flows gcl ...`` and ``jupyter flows concurrency-limit ...`` as real processes
against a real server (Prefect's ``prefect gcl`` and ``prefect concurrency-limit``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import Env, stop_all


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("concurrency-cli")
    env = Env(tmp)
    try:
        env.start_server()
        yield env
    finally:
        stop_all(env, tmp)


def _ok(env: Env, *args: str) -> str:
    result = env.cli(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


class TestGlobalLimits:
    def test_create_ls_inspect_update_enable_disable_rm(self, server: Env) -> None:
        assert "database" in _ok(server, "gcl", "create", "database", "--limit", "10")
        made = _ok(server, "gcl", "create", "api", "--limit", "5",
                   "--slot-decay-per-second", "1.5", "--disable")  # fmt: skip
        assert "0/5 slots  inactive decay=1.5/s" in made
        listed = _ok(server, "gcl", "ls").splitlines()
        assert [line.split()[0] for line in listed] == ["api", "database"]
        shown = _ok(server, "gcl", "inspect", "database")
        assert "limit:                 10" in shown and "holders:               none" in shown
        assert "0/20 slots" in _ok(server, "gcl", "update", "database", "--limit", "20")
        assert "inactive" in _ok(server, "gcl", "disable", "database")
        assert server.get("concurrency_limits/database")["active"] is False
        assert " active" in _ok(server, "gcl", "enable", "database")
        assert server.get("concurrency_limits/database")["active"] is True
        assert "removed api" in _ok(server, "gcl", "rm", "api")
        assert server.get("concurrency_limits/api") is None  # 404
        _ok(server, "gcl", "delete", "database")

    def test_errors_name_the_problem(self, server: Env) -> None:
        negative = server.cli("gcl", "create", "neg", "--limit", "-3")
        assert negative.returncode == 1 and "limit" in negative.stderr
        assert "Traceback" not in negative.stderr
        decay = server.cli("gcl", "create", "neg", "--limit", "1", "--slot-decay-per-second", "-2")
        assert decay.returncode == 1 and "slot_decay_per_second" in decay.stderr
        _ok(server, "gcl", "create", "dup", "--limit", "1")
        twice = server.cli("gcl", "create", "dup", "--limit", "1")
        assert twice.returncode == 1 and "exists already" in twice.stderr
        missing = server.cli("gcl", "inspect", "nope")
        assert missing.returncode == 1 and "no concurrency limit 'nope'" in missing.stderr
        usage = server.cli("gcl", "create", "x")
        assert usage.returncode == 2 and "--limit" in usage.stderr
        _ok(server, "gcl", "rm", "dup")

    def test_help_explains_the_verbs(self, server: Env) -> None:
        shown = server.cli("gcl", "--help")
        assert shown.returncode == 0
        for text in ("gcl create database --limit 10", "--slot-decay-per-second", "--disable",
                     "rate_limit"):  # fmt: skip
            assert text in shown.stdout, text


class TestTagLimits:
    def test_create_ls_inspect_reset_rm(self, server: Env) -> None:
        assert "database" in _ok(server, "concurrency-limit", "create", "database", "10")
        assert server.get("concurrency_limits/tag:database")["limit"] == 10  # a global limit
        _ok(server, "gcl", "create", "not-a-tag", "--limit", "1")
        listed = _ok(server, "concurrency-limit", "ls").splitlines()
        assert [line.split()[0] for line in listed] == ["database"]
        assert "name:                  tag:database" in _ok(
            server, "concurrency-limit", "inspect", "database"
        )
        assert "no slots held" in _ok(server, "concurrency-limit", "reset", "database")
        assert "removed tag limit database" in _ok(server, "concurrency-limit", "rm", "database")
        assert server.get("concurrency_limits/tag:database") is None
        bad = server.cli("concurrency-limit", "create", "x", "many")
        assert bad.returncode == 2 and "whole number" in bad.stderr
        _ok(server, "gcl", "rm", "not-a-tag")

    def test_help(self, server: Env) -> None:
        shown = server.cli("concurrency-limit", "--help")
        assert shown.returncode == 0 and "AwaitingConcurrencySlot" in shown.stdout
        assert "concurrency-limit create database 10" in shown.stdout
