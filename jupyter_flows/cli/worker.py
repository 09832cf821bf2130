"""``jupyter flows worker --pool NAME``: run the flow runs of a work pool."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_core.application import JupyterApp
from traitlets import Float, Int, Unicode

if TYPE_CHECKING:
    from ..client.http import FlowsClient

__all__ = ["WorkerApp", "main"]


class WorkerApp(JupyterApp):  # type: ignore[misc]
    """Poll a work pool over HTTP and execute its runs in subprocesses."""

    name = "jupyter-flows-worker"
    description = (
        "Run the flow runs of a work pool (token auth; no database credentials: runs record "
        "their task runs and logs through the server unless JUPYTER_FLOWS_DB_URL is set)."
    )
    examples = "jupyter flows worker --pool default --url http://127.0.0.1:8888 --token TOKEN"
    pool = Unicode("default", config=True, help="Work pool to poll.")
    url = Unicode(
        "", config=True, help="Server URL (default: $JUPYTER_FLOWS_URL or a running server)."
    )
    token = Unicode("", config=True, help="Server token (default: $JUPYTER_FLOWS_TOKEN).")
    limit = Int(1, config=True, help="Runs at a time.")
    worker_name = Unicode("", config=True, help="Worker name (default: host-pid).")
    poll_interval = Float(1.0, config=True, help="Seconds between polls.")
    grace = Float(10.0, config=True, help="On SIGTERM: seconds runs may finish before Crashed.")
    root = Unicode(
        "", config=True, help="Directory that entrypoints are relative to (default: cwd)."
    )
    address = Unicode(
        "",
        config=True,
        help="dask pools: the scheduler address when the job template gives none.",
    )
    source_cache = Unicode(
        "",
        config=True,
        help="Where deployments' fetched source bundles are unpacked, one folder per digest "
        "(default: <data dir>/source-cache).",
    )
    aliases = {
        "pool": "WorkerApp.pool",
        "url": "WorkerApp.url",
        "token": "WorkerApp.token",
        "limit": "WorkerApp.limit",
        "name": "WorkerApp.worker_name",
        "poll-interval": "WorkerApp.poll_interval",
        "grace": "WorkerApp.grace",
        "root": "WorkerApp.root",
        "address": "WorkerApp.address",
        "source-cache": "WorkerApp.source_cache",
    }
    flags: dict[str, Any] = {}

    def start(self) -> None:
        from ..client.discovery import server_address
        from ..client.http import AuthError, ClientError, FlowsClient
        from ..core.run_environment import RunEnvironment
        from ..workers.worker import Worker, run_environment

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        url, token = server_address(self.url, self.token)
        if not url:
            print("jupyter flows worker: no server: pass --url and --token", file=sys.stderr)
            self.exit(2)
        client = FlowsClient(url, token)
        mine = RunEnvironment.current()
        if mine.db_url:
            _warn_if_other_database(client)  # runs record into that database themselves
        else:  # runs record through the server, each with its run's own token
            mine = mine.but(record_url=url, record_token=None)
        pool, name = self.pool, self.worker_name or None
        scoped = worker_token_claims(token)
        if scoped is not None:  # a worker token names its pool and worker
            pool, name = scoped
            if (self.pool not in ("default", pool)) or (self.worker_name not in ("", name)):
                print(
                    f"jupyter flows worker: this token is worker {pool}/{name}'s; "
                    f"not --pool {self.pool} --name {self.worker_name or '(default)'}",
                    file=sys.stderr,
                )
                self.exit(2)
        name = name or f"{socket.gethostname()}-{os.getpid()}"
        try:  # the pool's type says which kind of worker this is
            pool_type = client.heartbeat(pool, name).pool_type
        except AuthError as exc:
            print(f"jupyter flows worker: {exc}", file=sys.stderr)
            self.exit(2)
        except ClientError as exc:
            print(f"jupyter flows worker: pool {pool!r}: {exc}", file=sys.stderr)
            self.exit(2)
        options: dict[str, Any] = {}
        worker_class: type[Worker] = Worker
        if pool_type == "dask":
            from ..workers.dask_worker import DaskWorker

            worker_class, options = DaskWorker, {"address": self.address or None}
        worker = worker_class(
            client,
            pool,
            name=name,
            limit=self.limit,
            poll_interval=self.poll_interval,
            root_dir=Path(self.root or os.getcwd()),
            grace=self.grace,
            run_env=run_environment(mine),
            source_cache=Path(self.source_cache) if self.source_cache else None,
            **options,
        )
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        signal.signal(signal.SIGINT, lambda *_: worker.stop())
        try:
            worker.run()
        except AuthError as exc:
            print(f"jupyter flows worker: {exc}", file=sys.stderr)
            self.exit(2)


def worker_token_claims(token: str) -> tuple[str, str] | None:
    """``(pool, worker)`` of a worker token (``jupyter flows pools token``), else ``None``.

    Read only: the server checks the signature."""
    from ..orchestration.tokens import claims_of

    grant = claims_of(token)
    return (grant.pool, grant.worker) if grant is not None and grant.kind == "worker" else None


def _warn_if_other_database(client: FlowsClient) -> None:
    """Say so when this worker's runs record their tasks and logs where the server won't look."""
    from ..client.http import ClientError
    from ..store.db import default_db_url, mask_url

    try:
        served = client.health()["db_url"]
    except (ClientError, KeyError, TypeError):
        return  # the worker's own loop reports an unreachable server
    local = mask_url(default_db_url())
    if served != local:
        logging.getLogger(__name__).warning(
            "this worker's runs record their task runs and logs into %s, but the server reads "
            "%s: set JUPYTER_FLOWS_DB_URL to the server's database to see them there (run "
            "states reach the server either way)",
            local,
            served,
        )


main = WorkerApp.launch_instance
