"""The variables routes on a real in-process server: statuses, JSON reasons naming the field,
the OpenAPI document, authorization (read vs write) and the run token (read only)."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_flows.server.handlers import SETTINGS_KEY


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


async def _put(api: Any, name: str, **body: Any) -> tuple[int, Any]:
    return await api("variables", name, method="PUT", body=body)  # type: ignore[no-any-return]


class TestRoutes:
    async def test_set_read_overwrite_delete(self, api: Any) -> None:
        status, made = await _put(api, "config", value={"bucket": "raw", "n": 3}, tags=["prod"])
        assert status == 201, made
        assert (made["name"], made["value"], made["tags"]) == (
            "config",
            {"bucket": "raw", "n": 3},
            ["prod"],
        )
        status, reply = await _put(api, "config", value=1)
        assert status == 409 and "'config' already exists" in reply["message"], reply
        assert "overwrite" in reply["reason"]
        status, replaced = await _put(api, "config", value=None, overwrite=True)
        assert (status, replaced["value"], replaced["tags"]) == (200, None, [])
        status, read = await api("variables", "config")
        assert (status, read["value"]) == (200, None)
        status, _ = await api("variables", "config", method="DELETE")
        assert status == 204
        status, reply = await api("variables", "config")
        assert status == 404 and "no variable 'config'" in reply["message"]
        status, reply = await api("variables", "config", method="DELETE")
        assert status == 404

    async def test_list_filters_and_pages(self, api: Any) -> None:
        for name, tags in (("etl_a", ["prod"]), ("etl_b", []), ("etlz", ["prod"]), ("x", [])):
            assert (await _put(api, name, value=name, tags=tags))[0] == 201
        status, page = await api("variables")
        assert status == 200 and page["total"] == 4
        assert [v["name"] for v in page["items"]] == ["etl_a", "etl_b", "etlz", "x"]
        _, page = await api("variables", params={"tag": "prod"})
        assert [v["name"] for v in page["items"]] == ["etl_a", "etlz"]
        _, page = await api("variables", params={"prefix": "etl_"})
        assert [v["name"] for v in page["items"]] == ["etl_a", "etl_b"]
        _, page = await api("variables", params={"limit": "1", "offset": "1"})
        assert [v["name"] for v in page["items"]] == ["etl_b"] and page["total"] == 4

    @pytest.mark.parametrize(
        ("path", "method", "body", "params", "field"),
        [
            ("Bad%20Name", "PUT", {"value": 1}, None, "name"),
            ("UPPER", "GET", None, None, "name"),
            ("dot.ted", "DELETE", None, None, "name"),
            ("x" * 256, "PUT", {"value": 1}, None, "name"),
            ("ok", "PUT", {}, None, "value"),
            ("ok", "PUT", {"value": 1, "tags": "prod"}, None, "tags"),
            ("ok", "PUT", {"value": 1, "tags": [""]}, None, "tags"),
            ("ok", "PUT", {"value": 1, "overwrite": "maybe"}, None, "overwrite"),
            ("ok", "PUT", {"value": 1, "extra": 2}, None, "extra"),
            ("ok", "PUT", {"value": "x" * (1024 * 1024)}, None, "value"),
            ("ok", "PUT", {"value": "nul\u0000"}, None, "value"),
            ("", "GET", None, {"limit": "0"}, "limit"),
            ("", "GET", None, {"offset": "-1"}, "offset"),
            ("", "GET", None, {"colour": "red"}, "colour"),
        ],
    )
    async def test_bad_input_is_a_400_naming_the_field(
        self, api: Any, path: str, method: str, body: Any, params: Any, field: str
    ) -> None:
        kwargs: dict[str, Any] = {"method": method}
        if body is not None:
            kwargs["body"] = body
        if params is not None:
            kwargs["params"] = params
        status, reply = await api("variables", *([path] if path else []), **kwargs)
        assert status == 400, reply
        assert field in reply["message"] and field in reply["reason"], reply

    async def test_nan_in_the_body_is_refused(self, api: Any) -> None:
        status, reply = await api("variables", "v", method="PUT", body='{"value": NaN}')
        assert status == 400 and "value" in reply["reason"], reply

    async def test_replies_match_the_openapi_document(
        self, api: Any, jp_fetch: Any, openapi: Any
    ) -> None:
        headers = {"Content-Type": "application/json"}
        base = ("jupyter-flows", "api", "variables")
        for body, code in (('{"value": [1, 2], "tags": ["a"]}', 201),
                           ('{"value": 3, "overwrite": true}', 200),
                           ('{"value": 4}', 409)):  # fmt: skip
            response = await jp_fetch(*base, "v", method="PUT", body=body, headers=headers,
                                      raise_error=False)  # fmt: skip
            assert response.code == code
            openapi(response)
        for path in (("v",), ()):
            response = await jp_fetch(*base, *path)
            openapi(response)
        openapi(await jp_fetch(*base, "v", method="DELETE"))
        openapi(await jp_fetch(*base, "v", raise_error=False))  # the 404


class TestAuthorization:
    async def test_reading_needs_read_and_writing_needs_write(
        self, api: Any, flows_authorizer: Any
    ) -> None:
        assert (await _put(api, "shared", value=1))[0] == 201
        flows_authorizer.permissions = {"actions": ["read"], "resources": ["jupyter_flows"]}
        status, reply = await _put(api, "shared", value=2, overwrite=True)
        assert status == 403, reply
        status, _ = await _put(api, "new", value=2)
        assert status == 403
        status, _ = await api("variables", "shared", method="DELETE")
        assert status == 403
        assert (await api("variables", "shared"))[1]["value"] == 1
        assert (await api("variables"))[0] == 200
        flows_authorizer.permissions = {"actions": [], "resources": ["jupyter_flows"]}
        assert (await api("variables", "shared"))[0] == 403
        assert (await api("variables"))[0] == 403
        assert flows_authorizer.mismatches == []

    async def test_a_run_token_reads_one_variable_and_writes_none(
        self, api: Any, jp_serverapp: Any
    ) -> None:
        assert (await _put(api, "threshold", value=7))[0] == 201
        tokens = jp_serverapp.web_app.settings[SETTINGS_KEY].tokens
        as_run = {"Authorization": f"token {tokens.run_token('0' * 32, 'default', 'w1')}"}
        status, read = await api("variables", "threshold", headers=as_run)
        assert (status, read["value"]) == (200, 7)
        assert (await api("variables", "missing", headers=as_run))[0] == 404
        status, _ = await api("variables", headers=as_run)
        assert status == 403  # no listing: a run reads what it names
        body = {"value": 8, "overwrite": True}
        status, _ = await api("variables", "threshold", method="PUT", body=body, headers=as_run)
        assert status == 403
        status, _ = await api("variables", "threshold", method="DELETE", headers=as_run)
        assert status == 403
        as_worker = {"Authorization": f"token {tokens.worker_token('default', 'w1')}"}
        assert (await api("variables", "threshold", headers=as_worker))[0] == 403
        assert (await api("variables", "threshold"))[1]["value"] == 7
