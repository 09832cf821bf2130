"""``jupyter flows variables ls|get|set|rm`` as real processes against a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_flows.cli.variables import parse_value
from tests.e2e.harness import Env, stop_all


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("variables-cli")
    env = Env(tmp)
    try:
        env.start_server()
        yield env
    finally:
        stop_all(env, tmp)


def _ok(env: Env, *args: str) -> str:
    result = env.cli("variables", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


class TestVariablesCommand:
    def test_set_get_ls_rm(self, server: Env) -> None:
        assert "set answer = 42  [demo]" in _ok(server, "set", "answer", "42", "--tag", "demo")
        _ok(server, "set", "config", '{"bucket": "s3://raw", "retries": 3}', "--tag", "prod")
        _ok(server, "set", "greeting", "hello world")  # not JSON: kept as text
        assert json.loads(_ok(server, "get", "answer")) == 42
        assert json.loads(_ok(server, "get", "config")) == {"bucket": "s3://raw", "retries": 3}
        assert json.loads(_ok(server, "get", "greeting")) == "hello world"
        listed = _ok(server, "ls").splitlines()
        assert [line.split()[0] for line in listed] == ["answer", "config", "greeting"]
        prod = _ok(server, "ls", "--tag", "prod").splitlines()
        assert len(prod) == 1 and prod[0].startswith("config") and "[prod]" in prod[0]
        assert "removed greeting" in _ok(server, "rm", "greeting")
        assert server.get("variables/greeting") is None  # 404
        _ok(server, "rm", "answer")
        _ok(server, "rm", "config")

    def test_existing_name_needs_overwrite(self, server: Env) -> None:
        _ok(server, "set", "n", "1")
        refused = server.cli("variables", "set", "n", "2")
        assert refused.returncode == 1 and "already exists" in refused.stderr
        assert "Traceback" not in refused.stderr
        _ok(server, "set", "n", "2", "--overwrite")
        assert json.loads(_ok(server, "get", "n")) == 2
        _ok(server, "rm", "n")

    def test_errors_are_one_line_and_name_the_problem(self, server: Env) -> None:
        missing = server.cli("variables", "get", "nope")
        assert missing.returncode == 1 and "no variable 'nope'" in missing.stderr
        assert server.cli("variables", "rm", "nope").returncode == 1
        bad = server.cli("variables", "set", "Bad-Name", "1")
        assert bad.returncode == 1 and "name" in bad.stderr and "lowercase" in bad.stderr
        usage = server.cli("variables", "set", "only-a-name")
        assert usage.returncode == 2 and "usage: jupyter flows variables" in usage.stderr

    def test_help_explains_the_verbs(self, server: Env, tmp_path: Path) -> None:
        shown = server.cli("variables", "--help")
        assert shown.returncode == 0
        for text in ("variables set config", "--overwrite", "--tag", "read as JSON"):
            assert text in shown.stdout, text


@pytest.mark.parametrize(
    ("text", "value"),
    [("42", 42), ("2.5", 2.5), ("true", True), ("null", None), ("[1, 2]", [1, 2]),
     ('{"a": 1}', {"a": 1}), ('"quoted"', "quoted"), ("plain text", "plain text")],
)  # fmt: skip
def test_value_is_json_else_text(text: str, value: object) -> None:
    assert parse_value(text) == value
