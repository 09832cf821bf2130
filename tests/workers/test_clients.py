"""Worker pieces without subprocesses: the in-process client's errors, cancel detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_flows.client.http import ClientError, FlowsClient
from jupyter_flows.orchestration.service import OrchestrationService
from jupyter_flows.store.db import open_store
from jupyter_flows.workers.clients import LocalClient
from jupyter_flows.workers.worker import Worker


class TestLocalClient:
    def test_domain_errors_come_out_as_client_errors(self, tmp_path: Path) -> None:
        engine = open_store(f"sqlite:///{tmp_path / 'c.sqlite'}")
        try:
            client = LocalClient(OrchestrationService(engine, tmp_path, tmp_path / "out"))
            with pytest.raises(ClientError, match="no work pool 'nope'"):
                client.claim("nope", "w", 1)
            with pytest.raises(ClientError, match="no flow run"):
                client.read_run_state("0" * 32)
            assert client.heartbeat("default", "w").status == "online"
        finally:
            engine.dispose()


class TestHttpWorker:
    def test_over_http_uses_token_auth(self) -> None:
        worker = Worker.over_http("http://127.0.0.1:1/", "secret", "etl", limit=3)
        assert isinstance(worker.client, FlowsClient)
        assert "secret" not in repr(worker.client)
        assert worker.client.base == "http://127.0.0.1:1/jupyter-flows/api/"
        assert (worker.pool, worker.limit) == ("etl", 3)
        with pytest.raises(ClientError, match="work_pools/etl/workers/heartbeat"):
            worker.client.heartbeat("etl", "w")  # nothing listens on port 1
