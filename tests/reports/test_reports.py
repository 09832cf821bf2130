"""Run reports: content of HTML and Markdown, and the HTML rendered in a real Chromium."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from jupyter_flows import flow, task
from jupyter_flows.exceptions import NotFound
from jupyter_flows.reports import report
from tests.browser import chromium_page

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
_calls = itertools.count()


@task(retries=2, retry_delay_seconds=0.05)
def flaky(x: int) -> list[int]:
    if next(_calls) % 3 < 2:
        raise RuntimeError("transient")
    return [x, x + 1]


@task
def boom(values: list[int]) -> None:
    raise ValueError("values are bad")


@task
def square(x: int) -> int:
    return x * x


@flow
def child(values: list[int]) -> int:
    return sum(values)


@flow(name="report-demo", tags=["nightly"])
def demo(n: int = 3) -> int:
    values = flaky(n)
    boom.submit(values).wait()
    [f.result() for f in square.map(values)]
    return child(values)


@pytest.fixture
def run_id() -> str:
    state = demo(3, return_state=True)
    assert state.run_id
    return state.run_id


class TestHtmlReport:
    def test_contents_and_self_contained(self, run_id: str, tmp_path: Path) -> None:
        out = tmp_path / "r.html"
        text = report(run_id, "html", path=str(out))
        assert out.read_text() == text
        assert "report-demo" in text and "nightly" in text
        assert text.count("<svg") >= 2
        for name in ("flaky-0", "boom-0", "square-0", "square-1", "child-0"):
            assert name in text
        assert "values are bad" in text  # the error message and its logged traceback
        assert "Traceback" in text
        assert re.search(r'href="[0-9a-f]{32}\.html"', text)  # subflow link
        without_svg_ns = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "http://" not in without_svg_ns and "https://" not in without_svg_ns
        assert "<script" not in text and "<link" not in text

    def test_retries_are_visible_in_the_timeline(self, run_id: str) -> None:
        text = report(run_id)
        timeline = text[text.index('class="jf-timeline"') :]
        assert timeline.count('data-kind="AwaitingRetry"') == 2

    def test_renders_in_chromium(self, run_id: str, tmp_path: Path) -> None:
        out = tmp_path / "report.html"
        report(run_id, path=str(out))
        with chromium_page() as page:
            page.goto(out.as_uri())
            graph = page.locator("#graph svg")
            timeline = page.locator("#timeline svg")
            assert graph.bounding_box()["width"] > 100  # type: ignore[index]
            assert timeline.bounding_box()["height"] > 50  # type: ignore[index]
            assert page.locator("#graph .jf-node").count() == 5
            assert page.locator("#timeline .jf-bar").count() >= 7
            failed = page.locator('#graph .jf-node[data-state="Failed"]')
            assert failed.count() == 1
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)


class TestMarkdownReport:
    def test_contents(self, run_id: str) -> None:
        text = report(run_id, "md")
        assert text.startswith("# report-demo")
        assert "```mermaid" in text and "graph LR" in text and "-->" in text
        assert "| boom-0 | Failed |" in text
        assert "- **boom-0**: ValueError: values are bad" in text
        assert "## Subflow runs" in text


class TestBadInput:
    def test_unknown_format(self, run_id: str) -> None:
        with pytest.raises(ValueError, match="html, md"):
            report(run_id, "pdf")

    def test_unknown_run(self) -> None:
        with pytest.raises(NotFound):
            report("0" * 32)
