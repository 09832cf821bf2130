"""The artifact routes on a real in-process server: runs recorded with artifacts (over the
database and over ``POST records``), list/latest/read/create/delete, JSON reasons naming the
field, the OpenAPI document, read vs write, and what a run's token may do."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from jupyter_flows import flow, task
from jupyter_flows.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from jupyter_flows.core import settings
from jupyter_flows.core.record_codec import encode
from jupyter_flows.core.records import ArtifactInfo
from jupyter_flows.server.handlers import SETTINGS_KEY
from jupyter_flows.store.recorder import SqlRecorder
from jupyter_flows.workers.http_recorder import HttpRecorder


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], flows_authorizer: Any) -> dict[str, Any]:
    config = dict(jp_server_config)
    config["ServerApp"] = {**config["ServerApp"], "authorizer_class": flows_authorizer}
    return config


@pytest.fixture(autouse=True)
def _everyone_may_all(flows_authorizer: Any) -> None:
    flows_authorizer.permissions = {
        "actions": ["read", "write", "execute"],
        "resources": ["jupyter_flows"],
    }


@task
def load(n: int) -> int:
    bar = create_progress_artifact(0, key="load-progress")
    update_progress_artifact(bar, 100)
    return n


@flow(name="artifact-demo")
def reporting(n: int) -> int:
    load(n)
    create_table_artifact({"n": [n], "square": [n * n]}, key="squares", description="# Squares")
    create_markdown_artifact(f"**n** is {n}")
    return n


@pytest.fixture
def runs(flows_db_url: str) -> Iterator[list[str]]:
    """Two runs of ``reporting`` recorded into the server's database."""
    recorder = SqlRecorder.from_url(flows_db_url)
    previous = settings.set_recorder(recorder)
    try:
        ids = [reporting(n, return_state=True).run_id for n in (2, 3)]
        recorder.flush()
        yield [i for i in ids if i]
    finally:
        settings.set_recorder(previous)
        recorder.close()


class TestRoutes:
    async def test_list_latest_history_by_run_and_read(self, api: Any, runs: list[str]) -> None:
        status, page = await api("artifacts")
        assert status == 200 and page["total"] == 6, page
        status, latest = await api("artifacts", params={"latest": "true"})
        assert status == 200 and latest["total"] == 2
        by_key = {a["key"]: a for a in latest["items"]}
        assert set(by_key) == {"squares", "load-progress"}
        assert by_key["squares"]["data"] == '{"n": [3], "square": [9]}'  # the newest version
        assert by_key["squares"]["flow_run_id"] == runs[1]
        assert by_key["squares"]["flow_run_name"]  # the run's name, for the panel
        assert by_key["load-progress"]["data"] == 100
        _, history = await api("artifacts", params={"key": "squares"})
        assert [a["flow_run_id"] for a in history["items"]] == [runs[1], runs[0]]
        _, mine = await api("artifacts", params={"flow_run_id": runs[0]})
        assert mine["total"] == 3 and {a["type"] for a in mine["items"]} == {
            "table",
            "markdown",
            "progress",
        }
        task_made = [a for a in mine["items"] if a["type"] == "progress"][0]
        assert task_made["task_run_id"]
        _, of_task = await api("artifacts", params={"task_run_id": task_made["task_run_id"]})
        assert [a["id"] for a in of_task["items"]] == [task_made["id"]]
        _, tables = await api("artifacts", params={"type": "table"})
        assert tables["total"] == 2
        status, newest = await api("artifacts", "squares", "latest")
        assert status == 200 and newest["id"] == by_key["squares"]["id"]
        status, one = await api("artifacts", task_made["id"])
        assert status == 200 and one == task_made

    async def test_create_outside_a_run_and_delete(self, api: Any) -> None:
        body = {"type": "markdown", "key": "notes", "data": "# hi", "description": "d"}
        status, made = await api("artifacts", method="POST", body=body)
        assert status == 201, made
        assert (made["key"], made["data"], made["flow_run_id"]) == ("notes", "# hi", None)
        status, _ = await api("artifacts", made["id"], method="DELETE")
        assert status == 204
        status, reply = await api("artifacts", made["id"])
        assert status == 404 and "no artifact" in reply["message"]
        assert (await api("artifacts", made["id"], method="DELETE"))[0] == 404
        status, reply = await api("artifacts", "notes", "latest")
        assert status == 404 and "no artifact with key 'notes'" in reply["message"]

    @pytest.mark.parametrize(
        ("method", "path", "body", "params", "field"),
        [
            ("POST", (), {"type": "markdown", "key": "Bad Key", "data": "x"}, None, "key"),
            ("POST", (), {"key": "k", "data": "x"}, None, "type"),
            ("POST", (), {"type": "markdown", "data": "x", "extra": 1}, None, "extra"),
            ("POST", (), {"type": "progress", "data": "half"}, None, "progress"),
            ("POST", (), {"type": "markdown", "data": "x" * (1024 * 1024 + 1)}, None, "data"),
            ("POST", (), {"type": "markdown", "data": "nul\u0000"}, None, "data"),
            ("POST", (), {"type": "markdown", "description": "nul\u0000"}, None, "description"),
            ("POST", (), {"type": "table", "data": {"a": [{"b": "\u0000"}]}}, None, "data"),
            ("GET", ("UPPER", "latest"), None, None, "key"),
            ("GET", (), None, {"flow_run_id": "not-an-id"}, "flow_run_id"),
            ("GET", (), None, {"limit": "0"}, "limit"),
            ("GET", (), None, {"latest": "maybe"}, "latest"),
            ("GET", (), None, {"colour": "red"}, "colour"),
        ],
    )
    async def test_bad_input_is_a_400_naming_the_field(
        self, api: Any, method: str, path: tuple[str, ...], body: Any, params: Any, field: str
    ) -> None:
        kwargs: dict[str, Any] = {"method": method}
        if body is not None:
            kwargs["body"] = body
        if params is not None:
            kwargs["params"] = params
        status, reply = await api("artifacts", *path, **kwargs)
        assert status == 400, reply
        assert field in reply["message"], reply
        assert (await api("artifacts"))[1]["total"] == 0  # nothing was written

    async def test_replies_match_the_openapi_document(
        self, api: Any, jp_fetch: Any, openapi: Any, runs: list[str]
    ) -> None:
        base = ("jupyter-flows", "api", "artifacts")
        headers = {"Content-Type": "application/json"}
        made = await jp_fetch(*base, method="POST", headers=headers,
                              body='{"type": "image", "data": "https://x.org/a.png"}')  # fmt: skip
        assert made.code == 201
        openapi(made)
        openapi(await jp_fetch(*base))
        openapi(await jp_fetch(*base, params={"latest": "true"}))
        openapi(await jp_fetch(*base, "squares", "latest"))
        _, page = await api("artifacts")
        openapi(await jp_fetch(*base, page["items"][0]["id"]))
        openapi(await jp_fetch(*base, "f" * 32, raise_error=False))  # the 404


def _post_as(recorder: HttpRecorder, items: list[dict[str, Any]]) -> Any:
    return recorder.client.post_records(items)


class TestRunTokens:
    async def test_reading_needs_read_and_writing_needs_write(
        self, api: Any, flows_authorizer: Any, runs: list[str]
    ) -> None:
        _, page = await api("artifacts")
        some = page["items"][0]["id"]
        flows_authorizer.permissions = {"actions": ["read"], "resources": ["jupyter_flows"]}
        assert (await api("artifacts"))[0] == 200
        assert (await api("artifacts", some))[0] == 200
        assert (await api("artifacts", some, method="DELETE"))[0] == 403
        body = {"type": "markdown", "data": "x"}
        assert (await api("artifacts", method="POST", body=body))[0] == 403
        flows_authorizer.permissions = {"actions": [], "resources": ["jupyter_flows"]}
        assert (await api("artifacts"))[0] == 403
        assert flows_authorizer.mismatches == []

    async def test_a_run_token_records_its_own_artifacts_and_reads_by_id_or_key(
        self,
        api: Any,
        jp_serverapp: Any,
        jp_http_port: int,
        jp_base_url: str,
        runs: list[str],
    ) -> None:
        tokens = jp_serverapp.web_app.settings[SETTINGS_KEY].tokens
        own, other = runs
        token = tokens.run_token(own, "default", "w1")
        as_run = {"Authorization": f"token {token}"}
        _, theirs = await api("artifacts", params={"flow_run_id": other})
        status, read = await api("artifacts", theirs["items"][0]["id"], headers=as_run)
        assert status == 200
        assert (await api("artifacts", "squares", "latest", headers=as_run))[0] == 200
        assert (await api("artifacts", headers=as_run))[0] == 403  # no listing
        assert (await api("artifacts", read["id"], method="DELETE", headers=as_run))[0] == 403
        body = {"type": "markdown", "data": "x"}
        assert (await api("artifacts", method="POST", body=body, headers=as_run))[0] == 403

        url = f"http://127.0.0.1:{jp_http_port}{jp_base_url.rstrip('/')}"
        recorder = HttpRecorder(url, token, interval=3600)
        try:
            from datetime import datetime, timezone

            now = datetime.now(timezone.utc)
            mine = ArtifactInfo("a" * 32, "markdown", "from-run", None, "mine", own, None, now, now)
            await asyncio.to_thread(_post_as, recorder, [encode("artifact_saved", mine)])
            # rewriting another run's artifact (its id, claimed as ours) changes nothing
            forged = ArtifactInfo(read["id"], "markdown", None, None, "forged", own, None, now, now)
            await asyncio.to_thread(_post_as, recorder, [encode("artifact_saved", forged)])
            # and a record naming the other run is refused as not this token's
            foreign = ArtifactInfo("b" * 32, "markdown", None, None, "x", other, None, now, now)
            with pytest.raises(Exception, match="403|not this token"):
                await asyncio.to_thread(_post_as, recorder, [encode("artifact_saved", foreign)])
        finally:
            await asyncio.to_thread(recorder.close)
        status, made = await api("artifacts", "a" * 32)
        assert (status, made["data"], made["flow_run_id"]) == (200, "mine", own)
        assert (await api("artifacts", read["id"]))[1]["data"] == read["data"]
        assert (await api("artifacts", "b" * 32))[0] == 404
