"""The child process of a worker: runs one claimed flow run and records it.

``python -m jupyter_flows.workers.execute_run --flow-run-id ID [--flow-run-name NAME]
--entrypoint E --parameters JSON --output DIR [--root DIR | --source-digest SHA256]``

``--source-digest`` (a Dask worker's run): the deployment's source bundle is fetched from the
server with the run's token (``workers.source_cache``) and run from its folder. A notebook
run that records to a server uploads its executed notebook there before its end is recorded.

A notebook entrypoint runs with papermill into ``DIR/ID/<notebook>``; its kernel records its
``%%task`` cells under flow run ``ID``. A Python entrypoint runs with the engine under
``ID``. Run log lines are recorded, not echoed: the worker stores what this process prints,
so what it prints passes ``core.redaction`` first (the secret values it loaded are masked).
A ``RunGuard`` stops the process (and what it started) once the run ended or is being
cancelled elsewhere, or its worker is gone. Exit code 0: Completed; 1: the flow failed;
2: it could not start; 3 (``EXIT_FENCED``): stopped by the guard; 4 (``EXIT_SUSPENDED``):
the run suspended (``suspend_flow_run``: a notebook's cell, or the flow, raised ``Pause``
after recording ``Suspended``), so no final state is recorded.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .run_guard import EXIT_SUSPENDED, RunGuard

__all__ = ["main", "execute"]

logger = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_flows.workers.execute_run",
        description="Run one flow run of a deployment (a worker starts this per run).",
    )
    parser.add_argument("--flow-run-id", required=True, help="the flow run to record into")
    parser.add_argument("--flow-run-name", default=None, help="the flow run's name")
    parser.add_argument("--entrypoint", required=True, help="a.ipynb, path/file.py:fn or pkg:fn")
    parser.add_argument("--parameters", default="{}", help="JSON object of parameters")
    parser.add_argument("--output", required=True, help="directory for executed notebooks")
    parser.add_argument("--root", default=".", help="directory entrypoints are relative to")
    parser.add_argument(
        "--source-digest",
        default=None,
        help="fetch this source bundle from the server (with the run's token) and run the "
        "entrypoint from it, in its folder (instead of --root)",
    )
    return parser


def execute(
    flow_run_id: str,
    entrypoint: str,
    parameters: dict[str, Any],
    root_dir: Path,
    outputs_dir: Path,
    flow_run_name: str | None = None,
) -> int:
    """Run the entrypoint as flow run ``flow_run_id``; the process exit code."""
    from ..core.redaction import RedactingStream
    from ..core.run_logging import set_console_echo
    from ..core.settings import get_recorder

    set_console_echo(False)
    sys.stdout = RedactingStream(sys.stdout)  # type: ignore[assignment]
    sys.stderr = RedactingStream(sys.stderr)  # type: ignore[assignment]
    read_state = _state_reader(flow_run_id)
    guard = RunGuard(flow_run_id, read_state, get_recorder()).start()
    try:
        return _execute(
            flow_run_id, entrypoint, parameters, root_dir, outputs_dir, flow_run_name, read_state
        )
    finally:
        guard.stop()


def _state_reader(flow_run_id: str) -> Callable[[], str | None]:
    """How this process reads its run's state: from the server, or from the database."""
    from ..core.run_environment import RunEnvironment

    env = RunEnvironment.current()
    if env.records_over_http():
        from ..client.http import FlowsClient

        client = FlowsClient(str(env.record_url), env.record_token or "", timeout=10)
        return lambda: client.read_run_state(flow_run_id).state_type
    from ..store.api import read_state_type

    return lambda: read_state_type(flow_run_id)


def _execute(
    flow_run_id: str,
    entrypoint: str,
    parameters: dict[str, Any],
    root_dir: Path,
    outputs_dir: Path,
    flow_run_name: str | None,
    read_state: Callable[[], str | None] = lambda: None,
) -> int:
    from ..core.settings import get_recorder
    from ..core.states import Completed, Failed, Running
    from ..exceptions import FlowsError
    from ..execution.entrypoints import is_notebook, load_flow

    if is_notebook(entrypoint):
        from ..core.run_environment import RunEnvironment
        from ..execution.notebook import notebook_env, output_notebook_path, run_notebook
        from ..store.db import default_db_url

        recorder = get_recorder()
        recorder.set_state("flow", flow_run_id, Running(), 1)
        recorder.flush()
        source = root_dir / entrypoint
        out = output_notebook_path(outputs_dir, flow_run_id, entrypoint)
        # the kernel records like this process: into the database, or to the server over HTTP
        mine = RunEnvironment.current()
        db_url = None if mine.records_over_http() else str(default_db_url())
        env = notebook_env(source, parameters, flow_run_id, db_url)
        try:
            try:
                run_notebook(source, parameters, out, env)
            finally:
                _upload_output(flow_run_id, out)
        except FlowsError as exc:
            if _read_quietly(read_state) == "PAUSED":  # a cell suspended the run
                print(f"flow run {flow_run_id} suspended: it goes on when resumed", file=sys.stderr)
                return EXIT_SUSPENDED
            recorder.set_state("flow", flow_run_id, Failed(message=str(exc)), 1)
            recorder.flush()
            print(str(exc), file=sys.stderr)
            return 1
        recorder.set_state("flow", flow_run_id, Completed(), 1)
        recorder.flush()
        return 0
    from ..core.engine import run_flow
    from ..execution.inspect_flow import names_stdlib

    if names_stdlib(entrypoint):  # (the server refuses these; a deployment made before did not)
        print(f"refusing to run {entrypoint!r}: it names the standard library", file=sys.stderr)
        return 2
    try:
        flow = load_flow(entrypoint, root_dir)
    except FlowsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    from ..core.run_environment import RunEnvironment

    state = run_flow(
        flow,
        (),
        parameters,
        return_state=True,
        flow_run_id=flow_run_id,
        flow_run_name=flow_run_name,
        deployment_id=RunEnvironment.current().deployment_id,
    )
    if state.is_paused():  # suspend_flow_run: the run goes on when it is resumed
        return EXIT_SUSPENDED
    return 0 if state.is_completed() else 1


def _server_client() -> Any:
    """The server this run process records to (its run token), or ``None`` (a database)."""
    from ..core.run_environment import RunEnvironment

    env = RunEnvironment.current()
    if not env.records_over_http():
        return None
    from ..client.http import FlowsClient

    return FlowsClient(str(env.record_url), env.record_token or "", timeout=60)


def _upload_output(flow_run_id: str, out: Path) -> None:
    """A run that records to a server uploads its executed notebook there (its worker's
    disk is not the server's); a failed upload is logged, the run's state stands."""
    client = _server_client()
    if client is None or not out.is_file():
        return
    try:
        client.upload_output(flow_run_id, out.read_bytes())
    except Exception as exc:  # noqa: BLE001 - the run's outcome is not its upload's
        print(f"could not upload the output notebook: {exc}", file=sys.stderr)


def fetched_root(source_digest: str) -> Path:
    """The folder of source bundle ``source_digest``, fetched from the server on first use."""
    from .source_cache import SourceCache, default_cache_dir

    client = _server_client()
    if client is None:
        raise RuntimeError(
            "a source bundle is fetched from a server: this run records to a database"
        )
    return SourceCache(default_cache_dir(), client.fetch_source).path(source_digest)


def _read_quietly(read_state: Callable[[], str | None]) -> str | None:
    try:
        return read_state()
    except Exception:  # noqa: BLE001 - cannot tell: the run failed as it seems
        return None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        parameters = json.loads(args.parameters)
    except ValueError as exc:
        print(f"--parameters is not JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(parameters, dict):
        print("--parameters must be a JSON object", file=sys.stderr)
        return 2
    root = Path(args.root).resolve()
    if args.source_digest:
        try:
            root = fetched_root(args.source_digest)
        except Exception as exc:  # noqa: BLE001 - reported as the run not starting
            print(f"could not fetch source bundle {args.source_digest}: {exc}", file=sys.stderr)
            return 2
        os.chdir(root)
    if str(root) not in sys.path:  # ``pkg.module:flow`` entrypoints import from it
        sys.path.insert(0, str(root))
    return execute(
        args.flow_run_id,
        args.entrypoint,
        parameters,
        root,
        Path(os.path.abspath(args.output)),
        args.flow_run_name,
    )


if __name__ == "__main__":
    sys.exit(main())
