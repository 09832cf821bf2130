"""A real in-process Jupyter server with the jupyter-flows extension on a temp SQLite file.

``pytest_plugins = ("pytest_jupyter.jupyter_server",)`` is declared in the top-level
``tests/conftest.py`` (pytest only honours it there).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.utils import url_path_join
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from werkzeug.datastructures import Headers, ImmutableMultiDict

from jupyter_flows import flow, task
from jupyter_flows.core import settings
from jupyter_flows.server.app import API_BASE, ROUTES, FlowsApp
from jupyter_flows.server.handlers import AUTH_RESOURCE
from jupyter_flows.server.openapi import url_pattern
from jupyter_flows.store.recorder import SqlRecorder
from tests.helpers import free_port
from tests.server.contract import SECRET_READS, expected_action

Fetch = Callable[..., Awaitable[HTTPResponse]]
Api = Callable[..., Awaitable[tuple[int, Any]]]


@pytest.fixture
def flows_db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'server-flows.sqlite'}"


@pytest.fixture
def jp_server_config(flows_db_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_flows": True}},
        "FlowsApp": {
            "db_url": flows_db_url,
            "embedded_worker": False,
            "scheduler_enabled": False,
            "outputs_dir": str(tmp_path / "outputs"),
        },
    }


@pytest.fixture(autouse=True)
def _restore_db_url_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server exports a configured ``db_url`` to ``os.environ``: undo it after the test."""
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", "unset-by-test")
    monkeypatch.delenv("JUPYTER_FLOWS_DB_URL")


@pytest.fixture
def flows_app(jp_serverapp: Any) -> FlowsApp:
    """The running ``FlowsApp`` of the in-process server."""
    app = jp_serverapp.extension_manager.extension_apps["jupyter_flows"]
    return next(iter(app))  # type: ignore[no-any-return]


async def _decode(response: HTTPResponse) -> tuple[int, Any]:
    text = response.body.decode() if response.body else ""
    try:
        return response.code, json.loads(text) if text else None
    except ValueError:
        return response.code, text


@pytest.fixture
def api(jp_fetch: Fetch) -> Api:
    """``await api("flow_runs", method=..., body=...)`` -> (status, parsed JSON or text)."""

    async def call(*path: str, **kwargs: Any) -> tuple[int, Any]:
        if "body" in kwargs and not isinstance(kwargs["body"], str | bytes):
            kwargs["body"] = json.dumps(kwargs["body"])
        if "body" in kwargs:
            kwargs.setdefault("headers", {}).setdefault("Content-Type", "application/json")
        response = await jp_fetch("jupyter-flows", "api", *path, raise_error=False, **kwargs)
        return await _decode(response)

    return call


# ---------------------------------------------------------------------------- recorded runs


@task(retries=1)
def double(x: int) -> list[int]:
    return [x, x]


@task
def boom(values: list[int]) -> None:
    raise ValueError("bad values")


@flow(name="api-demo", tags=["demo"])
def demo(n: int = 2) -> int:
    values = double(n)
    boom.submit(values).wait()
    return len(values)


@pytest.fixture
def recorded(flows_db_url: str) -> Iterator[list[str]]:
    """Two runs of ``demo`` (each with a failed task) recorded into the server's database."""
    recorder = SqlRecorder.from_url(flows_db_url)
    previous = settings.set_recorder(recorder)
    try:
        ids = [demo(n, return_state=True).run_id for n in (2, 3)]
        recorder.flush()
        yield [i for i in ids if i]
    finally:
        settings.set_recorder(previous)
        recorder.close()


# ---------------------------------------------------------------------------- OpenAPI


class _Request:
    """A tornado request as openapi-core's ``Request`` protocol."""

    def __init__(self, request: HTTPRequest):
        from urllib.parse import parse_qs, urlsplit

        url = urlsplit(request.url)
        self.host_url = f"{url.scheme}://{url.netloc}"
        self.path = url.path
        self.method = request.method.lower()
        self.body = request.body or None
        self.content_type = request.headers.get("Content-Type", "application/json")
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(url.query)),
            header=Headers(dict(request.headers)),
        )


class _Response:
    def __init__(self, response: HTTPResponse):
        self.status_code = response.code
        self.headers = Headers(dict(response.headers))
        self.content_type = response.headers.get("Content-Type", "")
        self.data = response.body


@pytest.fixture
def openapi(jp_fetch: Fetch, jp_asyncio_loop: Any) -> Callable[..., None]:
    """``check(response)``: the request and response match the served OpenAPI document."""
    served = jp_asyncio_loop.run_until_complete(jp_fetch("jupyter-flows", "api", "openapi.json"))
    spec = OpenAPI.from_dict(json.loads(served.body))  # also validates the document itself

    def check(response: HTTPResponse, valid_request: bool = True) -> None:
        request = _Request(response.request)
        if valid_request:
            spec.validate_request(request)
        else:  # the document rejects what the server rejected
            with pytest.raises(OpenAPIError):
                spec.validate_request(request)
        spec.validate_response(request, _Response(response))

    return check


# ---------------------------------------------------------------------------- authorization


@pytest.fixture
def jp_server_auth_resources(jp_server_auth_core_resources: dict[str, str]) -> dict[str, str]:
    """Jupyter's own URL -> resource map, plus every jupyter-flows route."""
    ours = {url_path_join("/", API_BASE, url_pattern(r)): AUTH_RESOURCE for r, _ in ROUTES}
    return {**jp_server_auth_core_resources, **ours}


@pytest.fixture
def flows_authorizer(jp_server_authorizer: Any) -> type[Any]:
    """pytest-jupyter's authorizer, knowing which of our routes need ``execute``.

    It checks the (action, resource) of every request against the contract and records
    mismatches; ``permissions`` says what to allow.
    """
    patterns = [(url_path_join("/", API_BASE, url_pattern(r)), r) for r, _ in ROUTES]

    class FlowsAuthorizer(jp_server_authorizer):  # type: ignore[misc, valid-type]
        permissions: dict[str, list[str]] = {"actions": [], "resources": []}
        seen: list[tuple[str, str, str]] = []
        mismatches: list[str] = []

        def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
            import re

            method = handler.request.method
            url = self.normalize_url(handler.request.path)
            route = next((r for p, r in patterns if re.fullmatch(p, url)), None)
            expected = expected_action(method, route) if route else None
            if route is not None:
                type(self).seen.append((method, route, action))
                secrets = SECRET_READS.get((method, re.sub(r"\{\w*\}", "{}", route)))
                if secrets == action and handler.get_query_argument("include_secrets", ""):
                    expected = action  # the second check of a read of secret values
                if (action, resource) != (expected, self.match_url_to_resource(url)):
                    type(self).mismatches.append(f"{method} {url}: {action} on {resource}")
            return action in self.permissions.get(
                "actions", []
            ) and resource in self.permissions.get("resources", [])

    return FlowsAuthorizer


# ---------------------------------------------------------------------------- a second server


class Server:
    """A ``jupyter server`` process on 127.0.0.1 (``await server.get(path)``)."""

    def __init__(self, tmp: Path, db_url: str, root: Path):
        self.token = "second-server-token"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            JUPYTER_RUNTIME_DIR=str(tmp / "runtime2"),
            JUPYTER_CONFIG_DIR=str(tmp / "config2"),
            JUPYTER_FLOWS_HOME=str(tmp / "home2"),
        )
        env.pop("JUPYTER_FLOWS_DB_URL", None)
        self.log = tmp / f"server-{self.port}.log"
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root"]
            + ["--ServerApp.ip=127.0.0.1", f"--port={self.port}"]
            + [f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}"]
            + ["--ServerApp.jpserver_extensions=jupyter_flows=True"]
            + [f"--FlowsApp.db_url={db_url}", "--FlowsApp.embedded_worker=False"]
            + ["--FlowsApp.scheduler_enabled=False"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log_file,
        )

    async def get(self, path: str) -> tuple[int, Any]:
        response = await AsyncHTTPClient().fetch(
            f"{self.url}/jupyter-flows/api/{path}",
            headers={"Authorization": f"token {self.token}"},
            raise_error=False,
            request_timeout=60,
        )
        return await _decode(response)

    async def ready(self, timeout: float = 120) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the second server exited:\n{self.log.read_text()}")
            try:
                status, _ = await self.get("health")
            except OSError:  # not listening yet
                status = 0
            if status == 200:
                return
            await asyncio.sleep(0.3)
        raise AssertionError("the second server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self._log_file.close()


@pytest.fixture
def second_server(
    tmp_path: Path, flows_db_url: str, jp_root_dir: Path
) -> Iterator[Callable[[], Awaitable[Server]]]:
    """``await second_server()``: another server process on the same database file."""
    started: list[Server] = []

    async def start() -> Server:
        server = Server(tmp_path, flows_db_url, jp_root_dir)
        started.append(server)
        await server.ready()
        return server

    yield start
    for server in started:
        server.stop()
