"""Without a frontend (nbclient, as papermill runs notebooks) a run graph's output is its SVG,
with the states the run ended in."""

from __future__ import annotations

import re
from typing import Any

import nbformat
from nbclient import NotebookClient

CELLS = [
    "%load_ext jupyter_flows",
    "n = 3",
    "%%task load\nrows = list(range(n))",
    "%%task double\ndoubled = [2 * r for r in rows]",
    "%%task total\nresult = sum(doubled) + len(rows)",
    "%flow run",
    (
        "from jupyter_flows import flow, task\n"
        "@task\ndef inc(x): return x + 1\n"
        "@flow\ndef little():\n    return inc(inc(1))\n"
        "little()"
    ),
]


def _svgs(cell: Any) -> list[str]:
    return [
        o["data"]["image/svg+xml"]
        for o in cell.outputs
        if o.get("output_type") == "display_data" and "image/svg+xml" in o.get("data", {})
    ]


def _states(svg: str) -> dict[str, str]:
    return dict(re.findall(r'<g class="jf-node" data-id="([^"]+)" data-state="([^"]+)"', svg))


class TestStaticFallback:
    def test_flow_run_and_flow_call_outputs_show_the_final_graph(
        self, kernel_env: dict[str, str]
    ) -> None:
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        NotebookClient(nb, timeout=120, kernel_name="python3").execute(env=kernel_env)

        (flow_run,) = _svgs(nb.cells[5])
        assert _states(flow_run) == {
            "load": "Completed",
            "double": "Completed",
            "total": "Completed",
        }
        assert flow_run.count('class="jf-edge"') == 3  # load->double, load->total, double->total
        assert 'width="24"' not in flow_run

        (flow_call,) = _svgs(nb.cells[6])
        states = _states(flow_call)
        assert len(states) == 2 and set(states.values()) == {"Completed"}
        assert 'width="24"' not in flow_call  # not the empty graph of the start of the run
        assert "application/vnd.jupyter.widget-view+json" in nb.cells[6].outputs[0]["data"]
