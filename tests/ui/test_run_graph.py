"""The run graph in a real JupyterLab: the notebook widget and the panel's run view.

The 6-task DAG of notebooks/02_notebook_pipeline.ipynb runs as a ``@flow`` in a notebook (the
live widget under the cell) and in a separate process (for the panel's run views).
Screenshots: tests/artifacts/widget-dag.png, run-view-dag.png, run-view-details.png.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from tests.ui.lab import PY, TOKEN, Lab, open_panel, screenshot

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

DAG_FLOW = """
from jupyter_flows import flow, get_run_logger, task

@task
def load(n: int) -> list[dict]:
    return [{"x": float(i)} for i in range(n)]

@task
def clean(raw: list[dict]) -> list[dict]:
    return [r for r in raw if r["x"] > 0]

@task
def feature_square(rows: list[dict]) -> list[float]:
    return [r["x"] ** 2 for r in rows]

@task
def feature_target(rows: list[dict]) -> list[float]:
    return [3 * r["x"] + 2 for r in rows]

@task
def model(rows: list[dict], targets: list[float]) -> dict:
    get_run_logger().info("fitting %d rows", len(rows))
    return {"slope": 3.0, "n": len(targets)}

@task
def summary(rows: list[dict], fit: dict, squares: list[float]) -> dict:
    return {"rows": len(rows), "slope": fit["slope"], "squares": sum(squares)}

@flow
def dag(n: int = 20) -> dict:
    rows = clean(load(n))
    squares = feature_square(rows)
    fit = model(rows, feature_target(rows))
    return summary(rows, fit, squares)
"""


def _notebook(source: str) -> dict[str, Any]:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "cells": [
            {
                "cell_type": "code",
                "id": "dag",
                "metadata": {},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
        ],
    }


@pytest.fixture(scope="module")
def dag_lab(lab: Lab) -> Lab:
    """The lab with two finished runs of ``dag`` and a notebook that runs it."""
    (lab.root / "dag.ipynb").write_text(
        json.dumps(_notebook("%load_ext jupyter_flows\n" + DAG_FLOW + "\ndag()"))
    )
    script = DAG_FLOW + "\ndag(n=20)\ndag(n=30)\n"
    subprocess.run(
        [PY, "-c", script], env=lab.env, cwd=lab.root, check=True, capture_output=True, timeout=120
    )
    return lab


def _open_dag_run(page: Any, nth: int) -> Any:
    """Open the ``nth`` newest ``dag`` run of the panel's list; its run view."""
    open_panel(page)
    flow = page.locator(".jp-Flows-runFlow", has_text=re.compile("^dag$"))
    rows = page.locator("#jupyter-flows-panel .jp-Flows-runRow", has=flow)
    expect(rows.nth(nth)).to_be_visible(timeout=20_000)
    run_id = rows.nth(nth).get_attribute("data-run-id") or ""
    rows.nth(nth).click()
    view = page.locator(f".jp-Flows-run[data-run-id='{run_id}']") if run_id else None
    if view is None or not run_id:
        view = page.locator(".jp-Flows-run:visible")
    expect(view.locator("svg.jp-Flows-graph .jp-Flows-node")).to_have_count(6, timeout=15_000)
    return view


def _markers_resolve_inside(svg: Any) -> bool:
    """Every edge's marker-end names a marker of its own SVG, and marker ids are unique."""
    return bool(
        svg.evaluate(
            """svg => {
              const ids = [...document.querySelectorAll('marker')].map(m => m.id);
              if (new Set(ids).size !== ids.length) return false;
              const edges = [...svg.querySelectorAll('path[marker-end]')];
              return edges.length > 0 && edges.every(e => {
                const id = e.getAttribute('marker-end').match(/url\\(#(.+)\\)/)[1];
                return svg.querySelector(`marker[id="${id}"]`) !== null;
              });
            }"""
        )
    )


class TestNotebookWidget:
    def test_graph_widget_renders_without_type_error(self, dag_lab: Lab, browser: Any) -> None:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        try:
            page.goto(f"{dag_lab.url}lab/tree/dag.ipynb?reset&token={TOKEN}", timeout=60_000)
            status = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle"))
            expect(status.first).to_be_visible(timeout=60_000)
            page.locator(".jp-Cell .jp-InputArea-editor").first.click()
            page.keyboard.press("Shift+Enter")
            widget = page.locator(".jf-run-graph")
            svg = widget.locator("svg.jf-graph")
            expect(svg.locator(".jf-node")).to_have_count(6, timeout=60_000)
            expect(svg.locator(".jf-edge")).to_have_count(8)
            expect(svg.locator(".jf-node[data-state='Completed']")).to_have_count(6, timeout=30_000)
            expect(widget.locator(".jf-legend-item[data-state='Completed']")).to_be_visible()
            assert _markers_resolve_inside(svg)
            # fitted: the whole graph is inside the output area
            box, area = svg.bounding_box(), widget.bounding_box()
            assert box and area and box["x"] + box["width"] <= area["x"] + area["width"] + 1
            # wheel zooms, Fit restores the whole picture
            full = svg.get_attribute("viewBox")
            svg.hover()
            page.mouse.wheel(0, -300)
            expect(svg).not_to_have_attribute("viewBox", full or "", timeout=5_000)
            widget.locator("button.jf-fit").click()
            expect(svg).to_have_attribute("viewBox", full or "")
            screenshot(page, "widget-dag.png")
            bad = [line for line in console if "TypeError" in line or "pageerror" in line]
            assert not bad, bad
        finally:
            context.close()


class TestRunView:
    def test_two_views_keep_arrowheads_fit_and_details(self, dag_lab: Lab, page: Any) -> None:
        first = _open_dag_run(page, 0)
        second = _open_dag_run(page, 1)
        ids = page.locator(".jp-Flows-run svg.jp-Flows-graph marker").evaluate_all(
            "ms => ms.map(m => m.id)"
        )
        assert len(ids) == 2 and ids[0] != ids[1]
        assert _markers_resolve_inside(second.locator("svg.jp-Flows-graph"))
        expect(second.locator(".jp-Flows-edge")).to_have_count(8)
        expect(second.locator(".jp-Flows-legendItem[data-state='Completed']")).to_be_visible()

        svg = second.locator("svg.jp-Flows-graph")
        fit = second.locator("button.jp-Flows-fit")
        expect(svg).to_have_attribute("data-fitted", "true")
        expect(fit).to_be_disabled()
        box, view_box = svg.bounding_box(), second.bounding_box()
        assert box and view_box and box["x"] + box["width"] <= view_box["x"] + view_box["width"]
        svg.hover()
        page.mouse.wheel(0, -400)
        expect(svg).to_have_attribute("data-fitted", "false")
        fit.click()
        expect(svg).to_have_attribute("data-fitted", "true")
        screenshot(page, "run-view-dag.png")

        second.locator(".jp-Flows-node", has_text="model").click()
        details = second.locator(".jp-Flows-taskDetails")
        expect(details).to_be_visible(timeout=10_000)
        expect(details.locator("h3")).to_have_text(re.compile("model"))
        expect(details.locator("[data-fact='attempts']")).to_have_text("1")
        expect(details.locator("[data-fact='inputs']")).to_contain_text("clean")
        expect(details.locator("[data-fact='inputs']")).to_contain_text("feature_target")
        expect(details.locator(".jp-Flows-stateHistory li")).not_to_have_count(0)
        expect(details.locator(".jp-Flows-stateHistory")).to_contain_text("Completed")
        expect(details.locator(".jp-Flows-taskLogs")).to_contain_text("fitting")
        screenshot(page, "run-view-details.png")

        # back to the first view: its arrowheads are its own, still there
        page.locator(".lm-TabBar-tab", has_text="dag").first.click()
        assert _markers_resolve_inside(first.locator("svg.jp-Flows-graph"))
