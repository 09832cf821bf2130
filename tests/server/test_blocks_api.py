"""The block document routes on a real in-process server: statuses, masking, JSON reasons
naming the field, the OpenAPI document, who may read secret values (write, the run token)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_flows.server.handlers import SETTINGS_KEY

SECRET = "s3cr3t-value-XYZ"


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
    flows_authorizer.mismatches.clear()


async def _put(api: Any, slug: str, name: str, **body: Any) -> tuple[int, Any]:
    return await api("block_documents", slug, name, method="PUT", body=body)  # type: ignore[no-any-return]


def _warehouse(**extra: Any) -> dict[str, Any]:
    return {
        "data": {"host": "db.internal", "password": SECRET, "headers": {"x-key": "hdr-secret"}},
        "secret_fields": ["password", "headers.*"],
        **extra,
    }


class TestRoutes:
    async def test_save_read_masked_overwrite_delete(self, api: Any, flows_authorizer: Any) -> None:
        status, made = await _put(api, "warehouse", "prod", **_warehouse())
        assert status == 201, made
        masked = {"host": "db.internal", "password": "********", "headers": {"x-key": "********"}}
        assert made["data"] == masked and made["secrets_included"] is False
        status, read = await api("block_documents", "warehouse", "prod")
        assert (status, read["data"]) == (200, masked)
        assert read["secret_fields"] == ["headers.*", "password"]
        status, full = await api("block_documents", "warehouse", "prod",
                                 params={"include_secrets": "true"})  # fmt: skip
        assert status == 200 and full["secrets_included"] is True
        assert (
            full["data"]["password"] == SECRET and full["data"]["headers"]["x-key"] == "hdr-secret"
        )
        status, reply = await _put(api, "warehouse", "prod", **_warehouse())
        assert status == 409 and "warehouse/prod already exists" in reply["message"], reply
        # a document read masked, edited and saved back keeps its secret values
        edited = {**masked, "host": "db2.internal"}
        body = {"data": edited, "secret_fields": ["password", "headers.*"], "overwrite": True}
        status, replaced = await _put(api, "warehouse", "prod", **body)
        assert (status, replaced["data"]["host"]) == (200, "db2.internal")
        _, full = await api("block_documents", "warehouse", "prod",
                            params={"include_secrets": "1"})  # fmt: skip
        assert (
            full["data"]["password"] == SECRET and full["data"]["headers"]["x-key"] == "hdr-secret"
        )
        status, _ = await api("block_documents", "warehouse", "prod", method="DELETE")
        assert status == 204
        status, reply = await api("block_documents", "warehouse", "prod")
        assert status == 404 and "no block document warehouse/prod" in reply["message"]
        assert (await api("block_documents", "warehouse", "prod", method="DELETE"))[0] == 404
        assert flows_authorizer.mismatches == []  # include_secrets checked write, too

    async def test_list_masks_filters_and_pages(self, api: Any) -> None:
        for slug, name in (("secret", "b"), ("secret", "a"), ("warehouse", "prod")):
            body = _warehouse() if slug == "warehouse" else {
                "data": {"value": SECRET}, "secret_fields": ["value"]}  # fmt: skip
            assert (await _put(api, slug, name, **body))[0] == 201
        status, page = await api("block_documents")
        assert status == 200 and page["total"] == 3
        names = [(d["block_type_slug"], d["name"]) for d in page["items"]]
        assert names == [("secret", "a"), ("secret", "b"), ("warehouse", "prod")]
        assert SECRET not in str(page) and "hdr-secret" not in str(page)
        _, page = await api("block_documents", params={"block_type": "secret"})
        assert [d["name"] for d in page["items"]] == ["a", "b"]
        _, page = await api("block_documents", params={"limit": "1", "offset": "2"})
        assert [d["name"] for d in page["items"]] == ["prod"] and page["total"] == 3
        status, reply = await api("block_documents", params={"include_secrets": "true"})
        assert status == 400 and "include_secrets" in reply["message"]  # lists never do

    @pytest.mark.parametrize(
        ("path", "method", "body", "params", "field"),
        [
            (("Secret", "x"), "PUT", {"data": {}}, None, "block_type_slug"),
            (("secret", "Bad_Name"), "PUT", {"data": {}}, None, "name"),
            (("secret", "x" * 256), "GET", None, None, "name"),
            (("secret", "ok"), "PUT", {}, None, "data"),
            (("secret", "ok"), "PUT", {"data": [1, 2]}, None, "data"),
            (("secret", "ok"), "PUT", {"data": {"v": "x" * (1024 * 1024)}}, None, "data"),
            (("secret", "ok"), "PUT", {"data": {}, "secret_fields": "value"}, None,
             "secret_fields"),
            (("secret", "ok"), "PUT", {"data": {}, "secret_fields": ["a..b"]}, None,
             "secret_fields"),
            (("secret", "ok"), "PUT", {"data": {}, "overwrite": "perhaps"}, None, "overwrite"),
            (("secret", "ok"), "PUT", {"data": {}, "extra": 1}, None, "extra"),
            (("secret", "ok"), "GET", None, {"include_secrets": "perhaps"}, "include_secrets"),
            ((), "GET", None, {"block_type": "Not A Slug"}, "block_type"),
            ((), "GET", None, {"limit": "0"}, "limit"),
        ],
    )  # fmt: skip
    async def test_bad_input_is_a_400_naming_the_field(
        self, api: Any, path: tuple[str, ...], method: str, body: Any, params: Any, field: str
    ) -> None:
        kwargs: dict[str, Any] = {"method": method}
        if body is not None:
            kwargs["body"] = body
        if params is not None:
            kwargs["params"] = params
        status, reply = await api("block_documents", *path, **kwargs)
        assert status == 400, reply
        assert field in reply["message"] and field in reply["reason"], reply

    async def test_replies_match_the_openapi_document(
        self, api: Any, jp_fetch: Any, openapi: Any
    ) -> None:
        headers = {"Content-Type": "application/json"}
        base = ("jupyter-flows", "api", "block_documents", "secret")
        for body, code in (('{"data": {"value": "x1234"}, "secret_fields": ["value"]}', 201),
                           ('{"data": {"value": "y1234"}, "overwrite": true}', 200),
                           ('{"data": {"value": "z1234"}}', 409)):  # fmt: skip
            response = await jp_fetch(*base, "s", method="PUT", body=body, headers=headers,
                                      raise_error=False)  # fmt: skip
            assert response.code == code
            openapi(response)
        openapi(await jp_fetch(*base, "s"))
        openapi(await jp_fetch(*base, "s", params={"include_secrets": "true"}))
        openapi(await jp_fetch("jupyter-flows", "api", "block_documents"))
        openapi(await jp_fetch(*base, "s", method="DELETE"))
        openapi(await jp_fetch(*base, "s", raise_error=False))  # the 404


class TestAuthorization:
    async def test_secret_values_need_write(self, api: Any, flows_authorizer: Any) -> None:
        assert (await _put(api, "warehouse", "prod", **_warehouse()))[0] == 201
        flows_authorizer.permissions = {"actions": ["read"], "resources": ["jupyter_flows"]}
        status, read = await api("block_documents", "warehouse", "prod")
        assert status == 200 and read["data"]["password"] == "********"
        status, reply = await api("block_documents", "warehouse", "prod",
                                  params={"include_secrets": "true"})  # fmt: skip
        assert status == 403, reply
        assert "'write' permission" in reply["message"] and "write" in reply["reason"]
        assert SECRET not in str(reply)
        assert (await _put(api, "warehouse", "prod", **_warehouse(overwrite=True)))[0] == 403
        assert (await api("block_documents", "warehouse", "prod", method="DELETE"))[0] == 403
        flows_authorizer.permissions = {"actions": [], "resources": ["jupyter_flows"]}
        assert (await api("block_documents", "warehouse", "prod"))[0] == 403
        assert (await api("block_documents"))[0] == 403
        assert flows_authorizer.mismatches == []

    async def test_a_run_token_reads_one_document_decrypted_and_writes_none(
        self, api: Any, jp_serverapp: Any
    ) -> None:
        assert (await _put(api, "warehouse", "prod", **_warehouse()))[0] == 201
        tokens = jp_serverapp.web_app.settings[SETTINGS_KEY].tokens
        as_run = {"Authorization": f"token {tokens.run_token('0' * 32, 'default', 'w1')}"}
        status, read = await api("block_documents", "warehouse", "prod", headers=as_run,
                                 params={"include_secrets": "true"})  # fmt: skip
        assert (status, read["data"]["password"]) == (200, SECRET)
        assert (await api("block_documents", "secret", "missing", headers=as_run))[0] == 404
        assert (await api("block_documents", headers=as_run))[0] == 403  # no listing
        body = {**_warehouse(), "overwrite": True}
        status, _ = await api("block_documents", "warehouse", "prod", method="PUT", body=body,
                              headers=as_run)  # fmt: skip
        assert status == 403
        status, _ = await api("block_documents", "warehouse", "prod", method="DELETE",
                              headers=as_run)  # fmt: skip
        assert status == 403
        as_worker = {"Authorization": f"token {tokens.worker_token('default', 'w1')}"}
        assert (await api("block_documents", "warehouse", "prod", headers=as_worker))[0] == 403


class TestKey:
    @pytest.fixture
    def jp_server_config(
        self, jp_server_config: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> dict[str, Any]:
        monkeypatch.setenv("JUPYTER_FLOWS_SECRETS_KEY_FILE", "unset-by-test")
        monkeypatch.delenv("JUPYTER_FLOWS_SECRETS_KEY_FILE")  # the server exports its own
        config = dict(jp_server_config)
        config["FlowsApp"] = {**config["FlowsApp"],
                              "secrets_key_file": str(tmp_path / "keys" / "flows.key")}  # fmt: skip
        return config

    async def test_the_configured_key_file_is_used_and_exported(
        self, api: Any, tmp_path: Path, flows_db_url: str
    ) -> None:
        import os

        assert (await _put(api, "warehouse", "prod", **_warehouse()))[0] == 201
        key = tmp_path / "keys" / "flows.key"
        assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"
        assert os.environ["JUPYTER_FLOWS_SECRETS_KEY_FILE"] == str(key)  # for its kernels
        database = Path(flows_db_url.removeprefix("sqlite:///"))
        for path in database.parent.glob(database.name + "*"):
            assert SECRET.encode() not in path.read_bytes()
        key.write_bytes(b"gAAAA-not-a-key\n")
        status, reply = await api("block_documents", "warehouse", "prod")
        assert status == 503 and str(key) in reply["message"], reply
        assert "does not hold a key" in reply["reason"]
