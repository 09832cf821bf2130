"""``%%task --artifacts`` on a real kernel: a DataFrame result becomes a table artifact, a
matplotlib figure and a displayed PNG become images, markdown-able results markdown; each is
an artifact of the cell's task run, keyed after the cell (checked in the database)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_flows.store.api import read_flow_runs, run_store
from jupyter_flows.store.artifacts import ListArtifactsQuery, list_artifacts

pytest.importorskip("pandas")
pytest.importorskip("matplotlib")


def _artifacts(url: str, **query: Any) -> list[Any]:
    return list_artifacts(run_store(url).engine, ListArtifactsQuery(**query)).items


def test_rich_outputs_of_a_cell_are_kept(kernel: Any, db_url_of: str) -> None:
    kernel.ok("import matplotlib\nmatplotlib.use('Agg')")
    result = kernel.ok(
        "%%task sales_by_region --artifacts\n"
        "import pandas as pd\n"
        "import matplotlib.pyplot as plt\n"
        "frame = pd.DataFrame({'region': ['eu', 'us'], 'sales': [120, 300]})\n"
        "fig, ax = plt.subplots()\n"
        "ax.bar(frame.region, frame.sales)\n"
        "frame"
    )
    assert "eu" in (result.value or "")  # the cell still shows its result
    (run,) = read_flow_runs(flow_name="analysis", url=db_url_of)
    kept = {a.key: a for a in _artifacts(db_url_of, flow_run_id=run.id)}
    assert set(kept) == {"sales-by-region", "sales-by-region-image-1"}
    table = kept["sales-by-region"]
    assert table.type == "table" and table.task_run_id is not None
    rows = json.loads(table.data)
    assert [(r["region"], r["sales"]) for r in rows] == [("eu", 120), ("us", 300)]
    assert table.description == "2 rows"
    image = kept["sales-by-region-image-1"]
    assert image.type == "image" and image.data.startswith("data:image/png;base64,iVBOR")

    kernel.ok(
        "%%task shown --artifacts\n"
        "from IPython.display import Image, Markdown, display\n"
        "import base64\n"
        "px = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')\n"
        "display(Image(px))\n"
        "Markdown('# Done')"
    )
    shown = {a.key: a for a in _artifacts(db_url_of) if a.key and a.key.startswith("shown")}
    assert shown["shown"].type == "markdown" and shown["shown"].data == "# Done"
    assert shown["shown-image-1"].data.startswith("data:image/png;base64,iVBOR")


def test_without_the_flag_nothing_is_kept_and_a_plain_value_is_a_code_block(
    kernel: Any, db_url_of: str
) -> None:
    kernel.ok("%%task plain\nx = {'a': 1}\nx")
    assert _artifacts(db_url_of) == []
    kernel.ok("%%task plain2 --artifacts\ny = {'a': 1}\ny")
    (kept,) = _artifacts(db_url_of)
    assert (kept.key, kept.type, kept.data) == ("plain2", "markdown", "```\n{'a': 1}\n```")


def test_the_option_is_documented() -> None:
    from jupyter_flows.kernel.magics import FlowsMagics

    assert "--artifacts" in (FlowsMagics.task.__doc__ or "")
