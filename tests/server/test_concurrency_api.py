"""The concurrency-limit routes on a real in-process server: statuses, JSON reasons naming the
field, holders, the OpenAPI document, authorization and the run token (slots only)."""

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


HOLDER = {"type": "process", "id": "host:1", "name": "host:1"}


async def _create(api: Any, **body: Any) -> tuple[int, Any]:
    return await api("concurrency_limits", method="POST", body=body)  # type: ignore[no-any-return]


async def _acquire(api: Any, names: list[str], **body: Any) -> tuple[int, Any]:
    body = {"names": names, "holder": HOLDER, **body}
    return await api("concurrency_leases", method="POST", body=body)  # type: ignore[no-any-return]


class TestLimits:
    async def test_create_read_update_delete(self, api: Any) -> None:
        status, made = await _create(api, name="db", limit=2)
        assert status == 201, made
        assert (made["name"], made["limit"], made["active"], made["active_slots"]) == (
            "db", 2, True, 0,
        )  # fmt: skip
        status, reply = await _create(api, name="db", limit=3)
        assert status == 409 and "'db' exists already" in reply["message"], reply
        status, changed = await api("concurrency_limits", "db", method="PATCH",
                                    body={"limit": 5, "active": False})  # fmt: skip
        assert (status, changed["limit"], changed["active"]) == (200, 5, False)
        status, read = await api("concurrency_limits", "db")
        assert (status, read["limit"]) == (200, 5)
        assert (await api("concurrency_limits", "db", method="DELETE"))[0] == 204
        status, reply = await api("concurrency_limits", "db")
        assert status == 404 and "no concurrency limit 'db'" in reply["message"], reply
        for method, body in (("DELETE", None), ("PATCH", {"limit": 1})):
            kwargs = {"method": method, **({"body": body} if body else {})}
            assert (await api("concurrency_limits", "db", **kwargs))[0] == 404
        assert (await api("concurrency_limits", "db", "reset", method="POST", body={}))[0] == 404

    async def test_list_shows_active_slots_and_holders(self, api: Any) -> None:
        for name in ("api", "tag:db", "tag:s3"):
            assert (await _create(api, name=name, limit=2))[0] == 201
        status, lease = await _acquire(api, ["tag:db", "api"])
        assert status == 200 and lease["acquired"] and lease["lease_id"], lease
        status, page = await api("concurrency_limits", params={"prefix": "tag:"})
        assert status == 200 and page["total"] == 2
        db = page["items"][0]
        assert (db["name"], db["active_slots"]) == ("tag:db", 1)
        (holder,) = db["holders"]
        assert holder["holder"] == HOLDER and holder["slots"] == 1
        assert holder["lease_id"] == lease["lease_id"] and holder["expires"] > holder["since"]
        status, reset = await api("concurrency_limits", "tag:db", "reset", method="POST", body={})
        assert (status, reset["active_slots"], reset["holders"]) == (200, 0, [])
        assert (await api("concurrency_limits", "api"))[1]["active_slots"] == 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "x", "limit": -1}, "limit"),
            ({"name": "x", "limit": 1, "slot_decay_per_second": -0.5}, "slot_decay_per_second"),
            ({"name": "x", "limit": 1, "active_slots": -2}, "active_slots"),
            ({"name": "a/b", "limit": 1}, "name"),
            ({"name": "", "limit": 1}, "name"),
            ({"name": "x"}, "limit"),
            ({"name": "x", "limit": 1, "colour": "red"}, "colour"),
        ],
    )
    async def test_bad_create_is_a_400_naming_the_field(
        self, api: Any, body: dict[str, Any], field: str
    ) -> None:
        status, reply = await _create(api, **body)
        assert status == 400, reply
        assert field in reply["message"] and field in reply["reason"], reply

    async def test_bad_update_names_the_field(self, api: Any) -> None:
        assert (await _create(api, name="x", limit=1))[0] == 201
        for body, field in (({"limit": -3}, "limit"),
                            ({"slot_decay_per_second": -1}, "slot_decay_per_second")):  # fmt: skip
            status, reply = await api("concurrency_limits", "x", method="PATCH", body=body)
            assert status == 400 and field in reply["reason"], reply


class TestLeases:
    async def test_all_or_nothing_renew_release(self, api: Any) -> None:
        assert (await _create(api, name="a", limit=1))[0] == 201
        assert (await _create(api, name="b", limit=2))[0] == 201
        _, first = await _acquire(api, ["a"])
        status, denied = await _acquire(api, ["a", "b", "nothing"])
        assert status == 200 and denied == {
            "acquired": False, "lease_id": None, "limits": ["a", "b"], "retry_after": None,
        }  # fmt: skip
        assert (await api("concurrency_limits", "b"))[1]["active_slots"] == 0  # none of b
        assert (await api("concurrency_limits", "a"))[1]["denied_slots"] == 1
        lease = first["lease_id"]
        status, _ = await api("concurrency_leases", lease, "renew", method="POST",
                              body={"lease_duration": 60})  # fmt: skip
        assert status == 204
        assert (await api("concurrency_leases", lease, method="DELETE"))[0] == 204
        assert (await api("concurrency_leases", lease, method="DELETE"))[0] == 204  # idempotent
        status, reply = await api("concurrency_leases", lease, "renew", method="POST", body={})
        assert status == 404, reply
        status, second = await _acquire(api, ["a", "b"])
        assert second["acquired"] and second["limits"] == ["a", "b"]

    async def test_names_without_limits_and_inactive_limits_admit(self, api: Any) -> None:
        assert (await _create(api, name="off", limit=0, active=False))[0] == 201
        status, reply = await _acquire(api, ["nothing"])
        assert (status, reply["acquired"], reply["limits"], reply["lease_id"]) == (
            200, True, [], None,
        )  # fmt: skip
        _, reply = await _acquire(api, ["off"], slots=5)
        assert (reply["acquired"], reply["limits"], reply["lease_id"]) == (True, ["off"], None)

    @pytest.mark.parametrize(
        ("create", "body", "field"),
        [
            ({"limit": 2}, {"slots": 3}, "slots"),
            ({"limit": 2}, {"mode": "rate_limit"}, "mode"),
            ({"limit": 2}, {"slots": 0}, "slots"),
            ({"limit": 2}, {"lease_duration": 0}, "lease_duration"),
            ({"limit": 2}, {"holder": {"type": "someone", "id": "x"}}, "holder"),
            ({"limit": 2}, {"names": []}, "names"),
        ],
    )
    async def test_bad_acquisitions_are_400s_naming_the_field(
        self, api: Any, create: dict[str, Any], body: dict[str, Any], field: str
    ) -> None:
        assert (await _create(api, name="lim", **create))[0] == 201
        status, reply = await _acquire(api, body.pop("names", ["lim"]), **body)
        assert status == 400, reply
        assert field in reply["message"] and field in reply["reason"], reply

    async def test_a_rate_limit_denial_says_when_to_retry(self, api: Any) -> None:
        assert (await _create(api, name="rl", limit=1, slot_decay_per_second=0.5))[0] == 201
        assert (await _acquire(api, ["rl"], mode="rate_limit"))[1]["acquired"]
        _, denied = await _acquire(api, ["rl"], mode="rate_limit")
        assert denied["acquired"] is False and 0 < denied["retry_after"] <= 2.0, denied


class TestContract:
    async def test_replies_match_the_openapi_document(
        self, api: Any, jp_fetch: Any, openapi: Any
    ) -> None:
        headers = {"Content-Type": "application/json"}
        base = ("jupyter-flows", "api")

        async def call(*path: str, **kwargs: Any) -> Any:
            response = await jp_fetch(*base, *path, headers=headers, raise_error=False, **kwargs)
            openapi(response)
            return response

        assert (await call("concurrency_limits", method="POST",
                           body='{"name": "tag:db", "limit": 1}')).code == 201  # fmt: skip
        await call("concurrency_limits")
        await call("concurrency_limits", "tag:db")
        await call("concurrency_limits", "tag:db", method="PATCH", body='{"limit": 2}')
        acquire = '{"names": ["tag:db"], "holder": {"type": "task_run", "id": "t1"}}'
        reply = await call("concurrency_leases", method="POST", body=acquire)
        import json

        lease = json.loads(reply.body)["lease_id"]
        await call("concurrency_leases", lease, "renew", method="POST", body="{}")
        await call("concurrency_leases", lease, method="DELETE")
        await call("concurrency_limits", "tag:db", "reset", method="POST", body="{}")
        await call("concurrency_limits", "tag:db", method="DELETE")
        assert (await call("concurrency_limits", "tag:db")).code == 404


class TestAuthorization:
    async def test_reading_needs_read_and_changing_needs_write(
        self, api: Any, flows_authorizer: Any
    ) -> None:
        assert (await _create(api, name="shared", limit=1))[0] == 201
        flows_authorizer.permissions = {"actions": ["read"], "resources": ["jupyter_flows"]}
        assert (await _create(api, name="new", limit=1))[0] == 403
        assert (await api("concurrency_limits", "shared", method="DELETE"))[0] == 403
        assert (await _acquire(api, ["shared"]))[0] == 403
        assert (await api("concurrency_limits", "shared"))[0] == 200
        assert flows_authorizer.mismatches == []

    async def test_a_run_token_takes_and_gives_back_slots_only(
        self, api: Any, jp_serverapp: Any
    ) -> None:
        assert (await _create(api, name="tag:db", limit=1))[0] == 201
        tokens = jp_serverapp.web_app.settings[SETTINGS_KEY].tokens
        as_run = {"Authorization": f"token {tokens.run_token('0' * 32, 'default', 'w1')}"}
        body = {"names": ["tag:db"], "holder": {"type": "task_run", "id": "t"}}
        status, lease = await api("concurrency_leases", method="POST", body=body, headers=as_run)
        assert status == 200 and lease["acquired"], lease
        status, _ = await api("concurrency_leases", lease["lease_id"], "renew", method="POST",
                              body={}, headers=as_run)  # fmt: skip
        assert status == 204
        assert (await api("concurrency_limits", headers=as_run))[0] == 403
        assert (await api("concurrency_limits", "tag:db", headers=as_run))[0] == 403
        status, _ = await api("concurrency_limits", method="POST", headers=as_run,
                              body={"name": "mine", "limit": 9})  # fmt: skip
        assert status == 403
        status, _ = await api("concurrency_leases", lease["lease_id"], method="DELETE",
                              headers=as_run)  # fmt: skip
        assert status == 204
        assert (await api("concurrency_limits", "tag:db"))[1]["active_slots"] == 0
