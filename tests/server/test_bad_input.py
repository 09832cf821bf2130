"""Bad input is a 4xx naming the field, and leaves what was committed as it was (issue 13).

Each class is one kind of input that used to be an HTTP 500 (or was stored and poisoned the
reads after it): null in a PATCH, integers past their columns, intervals, deep JSON,
datetimes out of range, NUL characters, sizes, unknown query arguments, a cron that never
fires. Every test runs on SQLite and on PostgreSQL, and ends by reading back the deployment,
pool, run, log line and event made before it (``intact``). The bounds are
``jupyter_flows.store.limits``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows.store.limits import (
    BIGINT_MAX,
    DEFAULT_MAX_BODY_BYTES,
    INT_MAX,
    MAX_JSON_BYTES,
    MAX_LOG_LENGTH,
    MAX_TAGS,
    MAX_TEXT_LENGTH,
)

Api = Callable[..., Awaitable[tuple[int, Any]]]
RUN = "RUN"  # the seeded run's id, in a path


@pytest.fixture
def flows_db_url(db_url: str) -> str:
    """The server's database: a SQLite file, then a PostgreSQL database (``db_url``)."""
    return db_url


@pytest.fixture
def seeded(jp_root_dir: Path, flows_app: Any) -> dict[str, Any]:
    """What was committed before the bad request: a pool, a deployment, a run with a log
    line, an event."""
    from jupyter_flows.orchestration.schemas import (
        AppendLogs,
        CreateDeployment,
        CreateDeploymentRun,
        CreateEvent,
        CreateWorkPool,
        LogLine,
    )

    (jp_root_dir / "etl.py").write_text(
        "from jupyter_flows import flow\n@flow\ndef etl(n: int = 1) -> int:\n    return n\n"
    )
    service = flows_app.services.orchestration
    service.create_work_pool(CreateWorkPool(name="gpu", concurrency_limit=2))
    service.create_deployment(
        CreateDeployment(
            name="etl",
            entrypoint="etl.py:etl",
            tags=["nightly"],
            priority=5,
            schedules=[{"cron": "0 6 * * *"}],
        )
    )
    run = service.run_deployment("etl", CreateDeploymentRun())
    service.append_logs(run.id, AppendLogs(items=[LogLine(message="first line")]))
    service.emit_event(CreateEvent(event="seed.event", payload={"k": "v"}))
    return {"run": run.id}


@pytest.fixture
def call(api: Api, seeded: dict[str, Any]) -> Callable[..., Awaitable[tuple[int, Any]]]:
    """``await call(method, "a/RUN/b", data)``: a query for GET, else a JSON body (a str is
    sent as it is)."""

    async def send(method: str, path: str, data: Any = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method}
        if method == "GET":
            kwargs["params"] = data or {}
        elif data is not None:
            kwargs["body"] = data
        return await api(*path.replace(RUN, seeded["run"]).split("/"), **kwargs)

    return send


def refused(result: tuple[int, Any], status: int, *names: str) -> None:
    """``status``, and a JSON message and one-line reason that name ``names``."""
    code, reply = result
    assert code == status, reply
    assert isinstance(reply, dict), reply
    for name in names:
        assert name in reply["message"], reply
        assert name in reply["reason"] and "\n" not in reply["reason"], reply


@pytest.fixture
def intact(api: Api, seeded: dict[str, Any]) -> Callable[[], Awaitable[None]]:
    """``await intact()``: everything ``seeded`` made still reads back as it was made."""

    async def check() -> None:
        status, pool = await api("work_pools", "gpu")
        assert status == 200 and pool["concurrency_limit"] == 2 and pool["paused"] is False
        status, dep = await api("deployments", "etl")
        assert status == 200, dep
        assert [s["cron"] for s in dep["schedules"]] == ["0 6 * * *"]
        assert (dep["priority"], dep["tags"], dep["parameters"]) == (5, ["nightly"], {})
        status, deps = await api("deployments")
        assert status == 200 and deps["total"] == 1
        status, runs = await api("flow_runs")
        assert status == 200 and [r["id"] for r in runs["items"]] == [seeded["run"]]
        status, logs = await api("flow_runs", seeded["run"], "logs")
        assert status == 200 and logs["items"][0]["message"] == "first line", logs
        status, events = await api("events", params={"event": "seed.event"})
        assert status == 200 and [e["payload"] for e in events["items"]] == [{"k": "v"}]

    return check


class TestNullInPatch:
    async def test_paused_null_is_400_and_changes_nothing(self, call: Any, intact: Any) -> None:
        refused(await call("PATCH", "work_pools/gpu", {"paused": None}), 400, "paused")
        both = {"paused": None, "concurrency_limit": 5}
        refused(await call("PATCH", "work_pools/gpu", both), 400, "paused")
        await intact()  # the limit did not change either

    async def test_omitted_and_nullable_fields_still_work(self, call: Any) -> None:
        status, pool = await call("PATCH", "work_pools/gpu", {"concurrency_limit": None})
        assert status == 200 and pool["concurrency_limit"] is None and pool["paused"] is False


TOO_BIG = 2**63  # one past BIGINT
INT_CASES: list[tuple[str, str, Any, str]] = [
    ("GET", "deployments", {"offset": str(TOO_BIG)}, "offset"),
    ("GET", "deployments", {"offset": "-1"}, "offset"),
    ("GET", "flow_runs", {"offset": str(TOO_BIG)}, "offset"),
    ("GET", "flow_runs", {"limit": str(TOO_BIG)}, "limit"),
    ("GET", f"flow_runs/{RUN}/task_runs", {"offset": str(TOO_BIG)}, "offset"),
    ("GET", "events", {"after_id": str(TOO_BIG)}, "after_id"),
    ("GET", "events", {"after_id": "-1"}, "after_id"),
    ("GET", f"flow_runs/{RUN}/logs", {"after_id": str(TOO_BIG)}, "after_id"),
    ("GET", f"flow_runs/{RUN}/logs", {"before_id": str(-TOO_BIG)}, "before_id"),
    ("GET", "deployments/etl/next_runs", {"n": str(TOO_BIG)}, "n"),
    (
        "POST",
        "deployments",
        {"name": "d2", "entrypoint": "etl.py:etl", "priority": TOO_BIG},
        "priority",
    ),
    ("PATCH", "deployments/etl", {"priority": INT_MAX + 1}, "priority"),
    ("POST", "work_pools", {"name": "big", "concurrency_limit": TOO_BIG}, "concurrency_limit"),
    ("PATCH", "work_pools/gpu", {"concurrency_limit": INT_MAX + 1}, "concurrency_limit"),
    ("PATCH", "work_pools/gpu", {"concurrency_limit": -1}, "concurrency_limit"),
    (
        "POST",
        f"flow_runs/{RUN}/logs/append",
        {"items": [{"level": TOO_BIG, "message": "x"}]},
        "items.0.level",
    ),
    (
        "POST",
        f"flow_runs/{RUN}/logs/append",
        {"items": [{"level": -1, "message": "x"}]},
        "items.0.level",
    ),
    ("POST", "work_pools/gpu/claim", {"worker": "w", "limit": TOO_BIG}, "limit"),
]


class TestIntegers:
    @pytest.mark.parametrize(
        "method, path, data, field", INT_CASES, ids=[f"{c[0]} {c[1]} {c[3]}" for c in INT_CASES]
    )
    async def test_past_its_column_is_400(
        self, call: Any, intact: Any, method: str, path: str, data: Any, field: str
    ) -> None:
        refused(await call(method, path, data), 400, field)
        await intact()

    async def test_the_largest_values_are_taken(self, call: Any, intact: Any) -> None:
        status, _ = await call("GET", "events", {"after_id": str(BIGINT_MAX)})
        assert status == 200
        status, _ = await call("GET", "deployments", {"offset": str(BIGINT_MAX)})
        assert status == 200
        body = {"name": "wide", "concurrency_limit": INT_MAX}
        status, pool = await call("POST", "work_pools", body)
        assert status == 201 and pool["concurrency_limit"] == INT_MAX
        await intact()


class TestIntervals:
    @pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", "1e400", "6e16", "0.01"])
    async def test_out_of_bounds_is_400(self, call: Any, intact: Any, value: str) -> None:
        preview = f'{{"interval_seconds": {value}}}'
        refused(await call("POST", "schedules/preview", preview), 400, "interval_seconds")
        created = f'{{"name": "d2", "entrypoint": "etl.py:etl", "schedules": [{preview}]}}'
        refused(await call("POST", "deployments", created), 400, "interval_seconds")
        changed = f'{{"schedules": [{preview}]}}'
        refused(await call("PATCH", "deployments/etl", changed), 400, "interval_seconds")
        await intact()

    async def test_one_second_is_the_minimum(self, call: Any) -> None:
        status, times = await call("POST", "schedules/preview", {"interval_seconds": 1, "n": 3})
        assert status == 200 and len(times["items"]) == 3
        body = {"interval_seconds": 3600, "anchor_date": "2026-01-01T00:00:00Z"}
        status, _ = await call(
            "POST",
            "deployments",
            {"name": "hourly", "entrypoint": "etl.py:etl", "schedules": [body]},
        )
        assert status == 201


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


class TestDeepJson:
    async def test_a_thousand_levels_is_400(self, call: Any, intact: Any) -> None:
        body = '{"event": "deep", "payload": ' + '{"a": ' * 1000 + "1" + "}" * 1001
        refused(await call("POST", "events", body), 400, "nested deeper than 64 levels")
        await intact()

    async def test_the_path_too_deep_is_named(self, call: Any, intact: Any) -> None:
        body = {"parameters": {"n": _nested(100)}}
        refused(await call("PATCH", "deployments/etl", body), 400, "parameters.n.a.a", "64")
        refused(await call("POST", "records", {"items": [_nested(100)]}), 400, "items.0.a.a")
        await intact()

    async def test_nesting_within_the_bound_is_taken(self, call: Any, intact: Any) -> None:
        status, event = await call("POST", "events", {"event": "nested", "payload": _nested(60)})
        assert status == 201 and event["payload"] == _nested(60)
        await intact()


class TestDatetimes:
    @pytest.mark.parametrize(
        "timestamp",
        ["0001-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-05:00"],
    )
    async def test_a_log_timestamp_out_of_range_is_400(
        self, call: Any, intact: Any, timestamp: str
    ) -> None:
        body = {"items": [{"message": "x", "timestamp": timestamp}]}
        refused(
            await call("POST", f"flow_runs/{RUN}/logs/append", body),
            400,
            "items.0.timestamp",
            "1970",
        )
        await intact()  # the run's logs still read back (a year-10000 row broke them)

    async def test_schedule_and_query_datetimes_out_of_range_are_400(
        self, call: Any, intact: Any
    ) -> None:
        year_one = "0001-01-01T00:00:00Z"
        for schedule, field in [
            ({"interval_seconds": 60, "anchor_date": year_one}, "schedules.0: anchor_date"),
            ({"date": "9999-12-31T23:00:00Z"}, "schedules.0: date"),
        ]:
            body = {"name": "d2", "entrypoint": "etl.py:etl", "schedules": [schedule]}
            refused(await call("POST", "deployments", body), 400, field)
            refused(await call("PATCH", "deployments/etl", {"schedules": [schedule]}), 400, field)
        refused(await call("GET", "flow_runs", {"since": year_one}), 400, "since")
        refused(await call("GET", "flow_runs", {"until": "9999-12-31T23:59:59Z"}), 400, "until")
        await intact()

    async def test_a_naive_log_timestamp_is_utc(self, call: Any, intact: Any) -> None:
        body = {"items": [{"message": "naive", "timestamp": "2026-01-02T03:04:05"}]}
        status, _ = await call("POST", f"flow_runs/{RUN}/logs/append", body)
        assert status == 204
        status, logs = await call("GET", f"flow_runs/{RUN}/logs")
        assert logs["items"][-1]["timestamp"] == "2026-01-02T03:04:05Z"
        await intact()


NUL_CASES: list[tuple[str, str, Any, str]] = [
    ("POST", "deployments", {"name": "a\x00b", "entrypoint": "etl.py:etl"}, "name"),
    (
        "POST",
        "deployments",
        {"name": "d2", "entrypoint": "etl.py:etl", "tags": ["a\x00"]},
        "tags.0",
    ),
    ("PATCH", "deployments/etl", {"tags": ["ok", "b\x00"]}, "tags.1"),
    ("PATCH", "deployments/etl", {"description": "x\x00"}, "description"),
    ("PATCH", "deployments/etl", {"parameters": {"n\x00": 1}}, "parameters: key"),
    ("POST", "deployments/etl/run", {"tags": ["\x00"]}, "tags.0"),
    ("POST", "work_pools", {"name": "p2", "description": "\x00"}, "description"),
    ("POST", "work_pools/gpu/workers/heartbeat", {"worker": "w\x00"}, "worker"),
    ("POST", "events", {"event": "e", "payload": {"k": ["v\x00"]}}, "payload: k.0"),
    ("POST", "events", {"event": "e", "resource": "r\x00"}, "resource"),
    (
        "POST",
        "automations",
        {
            "name": "a",
            "trigger": {"event": "e", "match": {"k": "\x00"}},
            "action": {"type": "pause-deployment", "deployment": "etl"},
        },
        "trigger: match.k",
    ),
    ("GET", "flow_runs", {"flow_name": "a\x00"}, "flow_name"),
    ("GET", "work_pools/a\x00b", None, "name"),
]


class TestNul:
    @pytest.mark.parametrize(
        "method, path, data, field", NUL_CASES, ids=[f"{c[0]} {c[1]!r} {c[3]}" for c in NUL_CASES]
    )
    async def test_nul_in_a_name_or_tag_is_400(
        self, call: Any, intact: Any, method: str, path: str, data: Any, field: str
    ) -> None:
        refused(await call(method, path, data), 400, field, "NUL")
        await intact()

    async def test_nul_in_a_log_line_is_kept_escaped(self, call: Any, intact: Any) -> None:
        """A log line is never refused for what a program printed: NUL becomes ``\\x00``."""
        body = {"items": [{"message": "before\x00after"}]}
        status, _ = await call("POST", f"flow_runs/{RUN}/logs/append", body)
        assert status == 204
        state = {"type": "CANCELLED", "name": "Cancelled", "message": "bye\x00"}
        status, _ = await call("POST", f"flow_runs/{RUN}/state", state)
        assert status == 200
        status, logs = await call("GET", f"flow_runs/{RUN}/logs")
        assert [line["message"] for line in logs["items"]] == ["first line", "before\\x00after"]
        status, run = await call("GET", f"flow_runs/{RUN}")
        assert run["state_message"] == "bye\\x00"
        await intact()


async def _raw_post(
    port: int, path: str, token: str, head: dict[str, str], chunks: list[bytes]
) -> tuple[int, Any]:
    """POST ``chunks`` as they are over a socket of our own (``Connection: close``)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Authorization: token {token}",
        "Content-Type: application/json",
        "Connection: close",
    ]
    lines += [f"{k}: {v}" for k, v in head.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    try:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
    except ConnectionError:
        pass  # the server answered and closed before reading it all
    response = await asyncio.wait_for(reader.read(), 60)
    writer.close()
    head_bytes, _, body = response.partition(b"\r\n\r\n")
    return int(head_bytes.split()[1]), json.loads(body)


class TestSizes:
    async def test_a_200_mb_body_is_413_before_it_is_read(
        self, call: Any, intact: Any, jp_serverapp: Any, jp_http_port: int, jp_base_url: str
    ) -> None:
        path = f"{jp_base_url.rstrip('/')}/jupyter-flows/api/events"
        token = jp_serverapp.identity_provider.token
        declared = {"Content-Length": str(200 * 1024 * 1024)}
        start = b'{"event": "big", "payload": {"x": "'
        refused(
            await _raw_post(jp_http_port, path, token, declared, [start]),
            413,
            "request body is larger than",
            str(DEFAULT_MAX_BODY_BYTES),
        )
        chunk = b"x" * (1024 * 1024)
        n = DEFAULT_MAX_BODY_BYTES // len(chunk) + 2
        pieces = [start, *(chunk for _ in range(n)), b'"}}']
        chunked = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] + [b"0\r\n\r\n"]
        streamed = await _raw_post(
            jp_http_port, path, token, {"Transfer-Encoding": "chunked"}, chunked
        )
        refused(streamed, 413, "request body is larger than")
        status, events = await call("GET", "events", {"event": "big"})
        assert status == 200 and events["items"] == []
        await intact()

    async def test_field_and_page_size_limits_are_400(self, call: Any, intact: Any) -> None:
        long_text = "d" * (MAX_TEXT_LENGTH + 1)
        refused(
            await call("PATCH", "deployments/etl", {"description": long_text}),
            400,
            "description",
            str(MAX_TEXT_LENGTH),
        )
        refused(
            await call("PATCH", "deployments/etl", {"tags": ["t"] * (MAX_TAGS + 1)}), 400, "tags"
        )
        payload = {"x": "p" * MAX_JSON_BYTES}
        refused(
            await call("POST", "events", {"event": "big", "payload": payload}),
            400,
            "payload",
            str(MAX_JSON_BYTES),
        )
        state = {"type": "CANCELLED", "name": "Cancelled", "message": long_text}
        refused(await call("POST", f"flow_runs/{RUN}/state", state), 400, "message")
        for path, limit in [
            ("flow_runs", 1000),
            ("deployments", 1000),
            ("events", 1000),
            (f"flow_runs/{RUN}/task_runs", 500),
            (f"flow_runs/{RUN}/logs", 10_000),
        ]:
            refused(await call("GET", path, {"limit": str(limit + 1)}), 400, "limit")
            status, _ = await call("GET", path, {"limit": str(limit)})
            assert status == 200, path
        await intact()

    async def test_a_log_line_too_long_is_stored_as_several(self, call: Any, intact: Any) -> None:
        """Not refused (the worker would keep sending it): cut in order, nothing lost."""
        text = "".join(chr(ord("a") + i % 26) for i in range(2 * MAX_LOG_LENGTH + 5))
        body = {"items": [{"message": text, "level": 40}, {"message": "next"}]}
        status, _ = await call("POST", f"flow_runs/{RUN}/logs/append", body)
        assert status == 204
        status, logs = await call("GET", f"flow_runs/{RUN}/logs")
        messages = [line["message"] for line in logs["items"]]
        assert messages[0] == "first line" and messages[-1] == "next"
        assert "".join(messages[1:-1]) == text and len(messages) == 5
        assert [line["level"] for line in logs["items"][1:-1]] == [40, 40, 40]
        await intact()


class TestUnknownQueryArguments:
    @pytest.mark.parametrize(
        "method, path, name",
        [
            ("GET", "deployments", "pool"),
            ("GET", "flow_runs", "bogus"),
            ("GET", "health", "verbose"),
            ("GET", "work_pools/gpu", "x"),
            ("POST", "schedules/preview", "cron"),
        ],
    )
    async def test_unknown_is_400_naming_it(
        self, api: Api, intact: Any, method: str, path: str, name: str
    ) -> None:
        body = {"body": {"interval_seconds": 60}} if method == "POST" else {}
        result = await api(*path.split("/"), method=method, params={name: "1"}, **body)
        refused(result, 400, f"unknown query argument {name!r}")
        await intact()

    async def test_documented_token_and_cache_busting_arguments_are_taken(
        self, api: Api, jp_serverapp: Any
    ) -> None:
        token = jp_serverapp.identity_provider.token
        query = {"limit": "5", "token": token, "1712345678901": ""}
        status, page = await api("flow_runs", params=query)
        assert status == 200 and page["limit"] == 5


class TestCronThatNeverFires:
    @pytest.mark.parametrize("cron", ["0 0 31 2 *", "0 0 30 2 mon", "0 0 31 4,6,9,11 *"])
    async def test_never_fires_is_400(self, call: Any, intact: Any, cron: str) -> None:
        refused(await call("POST", "schedules/preview", {"cron": cron}), 400, "cron", cron)
        body = {"name": "d2", "entrypoint": "etl.py:etl", "schedules": [{"cron": cron}]}
        refused(await call("POST", "deployments", body), 400, "schedules.0: cron", "never fires")
        refused(
            await call("PATCH", "deployments/etl", {"schedules": [{"cron": cron}]}),
            400,
            "schedules.0: cron",
            "never fires",
        )
        await intact()

    async def test_a_rare_cron_is_taken(self, call: Any) -> None:
        status, times = await call("POST", "schedules/preview", {"cron": "0 0 29 2 mon", "n": 1})
        assert status == 200 and times["items"][0].startswith("2044-02-29")
