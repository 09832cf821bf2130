"""Files that travel through the server: deployments' source bundles, runs' output notebooks.

``PUT/GET sources/{digest}``: a deploy uploads its source bundle (``execution.source_bundle``,
named by its sha256, at most ``FlowsApp.max_source_bytes``); workers fetch it (a worker's or
a run's token may). ``PUT/GET flow_runs/{id}/output``: a remote run process uploads its
executed notebook (its own run's token only), which the server then serves like the
notebooks on its own disk.
"""

from __future__ import annotations

import logging
from pathlib import Path

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..exceptions import NotFound
from ..orchestration.sources import StoredSource
from ..store.run_outputs import read_run_output, save_run_output
from .handlers import FlowsAPIHandler, FlowsServices
from .openapi import doc
from .schemas import DescribeSource, ReadOutputQuery
from .scoped_auth import check_run

__all__ = ["ROUTES", "output_notebook"]

logger = logging.getLogger(__name__)

_BUNDLE = "application/gzip"
_NOTEBOOK = "application/x-ipynb+json"


class SourceHandler(FlowsAPIHandler):
    def body_limit(self) -> tuple[int, str]:
        store = self.services.sources
        return (store.max_bytes, "max_source_bytes") if store else super().body_limit()

    @doc(
        "Upload a deployment's source bundle (a .tar.gz named by its sha256; 201 stored, 200"
        " already there); deployments name it as source_digest",
        DescribeSource,
        status=201,
        other_statuses=(200,),
        raw_body=_BUNDLE,
    )
    @web.authenticated
    @authorized  # a write, as creating a deployment's other parts is
    async def put(self, digest: str) -> None:
        data = self.raw_body()
        stored: StoredSource = await self.blocking(self.services.sources.put, digest, data)
        reply = DescribeSource(digest=stored.digest, size=stored.size)
        self.reply(reply, status=201 if stored.created else 200)

    @doc("A source bundle's bytes (what a worker fetches)", content=(_BUNDLE,))
    @web.authenticated
    @authorized
    async def get(self, digest: str) -> None:
        data = await self.blocking(self.services.sources.read, digest)
        self.send_file(data, _BUNDLE, f'attachment; filename="{digest}.tar.gz"')


def output_notebook(services: FlowsServices, flow_run_id: str) -> Path:
    """The executed notebook of a notebook run: under the outputs dir or the server root
    (where an uploaded one is kept, or the embedded worker wrote it)."""
    run = services.runs.read_flow_run_item(flow_run_id)
    candidates = sorted((services.outputs_dir / run.id).glob("*.ipynb"))
    if run.output_path:  # reported by the worker that ran it
        candidates.insert(0, Path(run.output_path))
    allowed = (services.outputs_dir.resolve(), services.root_dir.resolve())
    for candidate in candidates:
        path = candidate.resolve()
        inside = any(base == path or base in path.parents for base in allowed)
        if inside and path.suffix == ".ipynb" and path.is_file():
            return path
    uploaded = read_run_output(services.runs.engine, run.id)  # through another server
    if uploaded is not None:
        return _keep(services, run.id, *uploaded)
    raise NotFound(f"flow run {flow_run_id} has no output notebook")


def _output(services: FlowsServices, flow_run_id: str, fmt: str) -> tuple[Path, bytes]:
    path = output_notebook(services, flow_run_id)
    if fmt == "html":
        from ..execution.notebook import render_html

        path = render_html(path)
    return path, path.read_bytes()


def _store_output(services: FlowsServices, flow_run_id: str, data: bytes) -> Path:
    """Keep an uploaded output notebook under ``outputs_dir/<run id>/`` (by the name the
    run's worker reported, else ``output.ipynb``)."""
    import nbformat

    run = services.runs.read_flow_run_item(flow_run_id)
    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=nbformat.NO_CONVERT)
        nbformat.validate(notebook)
    except Exception as exc:  # noqa: BLE001 - JSON, encoding or schema: bad input
        raise ValueError(f"body: not a valid notebook: {type(exc).__name__}: {exc}") from None
    name = Path(run.output_path or "").name
    if not name.endswith(".ipynb"):
        name = "output.ipynb"
    save_run_output(services.runs.engine, run.id, name, data)  # for every server
    logger.info("stored the output notebook of flow run %s (%d bytes)", run.id, len(data))
    return _keep(services, run.id, name, data)


def _keep(services: FlowsServices, run_id: str, name: str, data: bytes) -> Path:
    """This server's copy of a run's uploaded output, under ``outputs_dir/<run id>/``."""
    folder = services.outputs_dir / run_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tmp = folder / f".{name}.upload"
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


class FlowRunOutputHandler(FlowsAPIHandler):
    @doc(
        "The executed notebook of a notebook run (format=html renders it)",
        query=ReadOutputQuery,
        content=(_NOTEBOOK, "text/html"),
    )
    @web.authenticated
    @authorized
    async def get(self, flow_run_id: str) -> None:
        fmt = self.query(ReadOutputQuery).format
        path, data = await self.blocking(_output, self.services, flow_run_id, fmt)
        kind = "text/html; charset=UTF-8" if fmt == "html" else _NOTEBOOK
        self.send_file(data, kind, f'inline; filename="{path.name}"')

    @doc(
        "Upload the executed notebook of a run that ran elsewhere (its run's token)",
        status=204,
        raw_body=_NOTEBOOK,
    )
    @web.authenticated
    @authorized
    async def put(self, flow_run_id: str) -> None:
        state = await self.blocking(self.services.orchestration.read_run_state, flow_run_id)
        check_run(self, flow_run_id, state.worker)
        data = self.raw_body()
        await self.blocking(_store_output, self.services, flow_run_id, data)
        self.no_content()


ROUTES: list[tuple[str, type[FlowsAPIHandler]]] = [
    ("sources/{digest}", SourceHandler),
    ("flow_runs/{flow_run_id}/output", FlowRunOutputHandler),
]
