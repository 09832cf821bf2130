"""``jupyter flows`` subcommands, run as real processes against a real SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_flows import flow, task


@task
def one() -> int:
    return 1


@flow(name="cli-demo")
def demo() -> int:
    return one()


def jf(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jupyter_flows.cli.app", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )


@pytest.fixture
def run_id() -> str:
    state = demo(return_state=True)
    assert state.run_id
    return state.run_id


class TestReportCommand:
    def test_writes_html_and_markdown(self, run_id: str, tmp_path: Path) -> None:
        html = tmp_path / "run.html"
        result = jf("report", run_id, "-o", str(html))
        assert result.returncode == 0, result.stderr
        assert "cli-demo" in html.read_text() and "<svg" in html.read_text()
        result = jf("report", run_id, "--format", "md")
        assert result.returncode == 0
        assert result.stdout.startswith("# cli-demo")

    def test_unknown_run_is_a_one_line_error(self) -> None:
        result = jf("report", "0" * 32)
        assert result.returncode == 1
        assert "no flow run" in result.stderr
        assert "Traceback" not in result.stderr

    def test_bad_format_is_refused(self, run_id: str) -> None:
        result = jf("report", run_id, "--format", "pdf")
        assert result.returncode != 0
        assert "pdf" in result.stderr


class TestRunsCommand:
    def test_lists_runs(self, run_id: str) -> None:
        result = jf("runs", "--limit", "5")
        assert result.returncode == 0, result.stderr
        assert run_id in result.stdout and "cli-demo" in result.stdout

    def test_help_lists_subcommands(self) -> None:
        result = jf("--help")
        assert result.returncode == 0
        assert "report" in result.stdout and "runs" in result.stdout

    def test_show_one_run(self, run_id: str) -> None:
        result = jf("runs", "show", run_id)
        assert result.returncode == 0, result.stderr
        assert "cli-demo" in result.stdout and "one-0" in result.stdout
        missing = jf("runs", "show", "0" * 32)
        assert missing.returncode == 1 and "no flow run" in missing.stderr
        assert jf("runs", "frobnicate").returncode == 2
