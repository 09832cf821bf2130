"""``RunEnvironment``: the one reader and writer of the ``JUPYTER_FLOWS_*`` variables."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from jupyter_flows.core.run_environment import RunEnvironment
from jupyter_flows.workers.worker import run_environment


class TestRunEnvironment:
    def test_reads_typed_values(self) -> None:
        env = RunEnvironment.current(
            {
                "JUPYTER_FLOWS_DB_URL": "sqlite:///x.sqlite",
                "JUPYTER_FLOWS_PARAMETERS": '{"n": 3}',
                "JUPYTER_FLOWS_RECORD": "0",
                "JUPYTER_FLOWS_FLOW_RUN_ID": "",  # empty is unset
                "OTHER": "kept out",
            }
        )
        assert env.db_url == "sqlite:///x.sqlite"
        assert env.parameters == {"n": 3}
        assert env.record is False and env.auto_graph is True
        assert env.flow_run_id is None

    def test_round_trips_through_variables(self) -> None:
        env = RunEnvironment(
            record_url="http://127.0.0.1:9/",
            record_token="t0k",
            flow_run_id="abc",
            parameters={"when": "2026-12-02", "xs": [1, 2]},
            auto_graph=False,
        )
        variables = env.to_env()
        assert variables["JUPYTER_FLOWS_AUTO_GRAPH"] == "0"
        assert "JUPYTER_FLOWS_RECORD" not in variables  # on is the default: not written
        assert RunEnvironment.current(variables) == env
        assert env.records_over_http()
        assert not env.but(db_url="sqlite://").records_over_http()

    @pytest.mark.parametrize("raw", ["not json", "[1, 2]"])
    def test_malformed_parameters_are_ignored_with_a_warning(
        self, raw: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING):
            env = RunEnvironment.current({"JUPYTER_FLOWS_PARAMETERS": raw})
        assert env.parameters is None
        assert "PARAMETERS" in caplog.text

    def test_the_token_is_not_in_the_repr(self) -> None:
        text = repr(RunEnvironment(token="s3cret", record_token="s3cret2"))
        assert "s3cret" not in text

    def test_a_child_gets_what_its_parent_gives_and_nothing_else_of_ours(self) -> None:
        base = {
            "PATH": "/bin",
            "JUPYTER_FLOWS_TOKEN": "the-users-token",
            "JUPYTER_FLOWS_URL": "http://127.0.0.1:8888/",
            "JUPYTER_FLOWS_FLOW_RUN_ID": "someone-elses-run",
            "JUPYTER_FLOWS_DB_URL": "sqlite:///mine.sqlite",
            "JUPYTER_FLOWS_HOME": "/data/flows",
        }
        given = run_environment(RunEnvironment.current(base))
        child = given.child_env(base)
        assert child["PATH"] == "/bin"
        assert child["JUPYTER_FLOWS_DB_URL"] == "sqlite:///mine.sqlite"
        assert child["JUPYTER_FLOWS_HOME"] == "/data/flows"
        for leaked in ("JUPYTER_FLOWS_TOKEN", "JUPYTER_FLOWS_URL", "JUPYTER_FLOWS_FLOW_RUN_ID"):
            assert leaked not in child

    def test_no_module_reads_our_variables_but_run_environment(self) -> None:
        """One authority: the variables are spelled only in core/run_environment.py (and in
        docstrings and help texts)."""
        root = os.path.join(os.path.dirname(__file__), "..", "..", "jupyter_flows")
        code = (
            "import ast, pathlib, sys\n"
            "bad = []\n"
            f"for p in pathlib.Path({root!r}).rglob('*.py'):\n"
            "    if p.name == 'run_environment.py': continue\n"
            "    for node in ast.walk(ast.parse(p.read_text())):\n"
            "        if isinstance(node, ast.Call) and getattr(node.func, 'attr', '') in "
            "('get', 'pop', 'setdefault', '__getitem__'):\n"
            "            for arg in node.args[:1]:\n"
            "                if isinstance(arg, ast.Constant) and str(arg.value)"
            ".startswith('JUPYTER_FLOWS_'):\n"
            "                    bad.append(f'{p.name}:{node.lineno}')\n"
            "print(' '.join(bad))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == ""
