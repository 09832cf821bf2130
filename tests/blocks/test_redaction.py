"""A secret loaded in a process never reaches its run logs: logged, printed with
``log_prints``, in a traceback, or printed by a worker's run process (``RedactingStream``)."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest

from jupyter_flows import flow, get_run_logger, read_flow_run, task
from jupyter_flows.blocks.system import Secret
from jupyter_flows.core.redaction import (
    MASK,
    RedactingStream,
    forget_secrets,
    redact,
    register_secrets,
)

TOKEN = "tok-Zq8vX2-secret"


@pytest.fixture(autouse=True)
def _forget_secrets() -> Any:
    forget_secrets()
    yield
    forget_secrets()


class TestRedact:
    def test_known_values_and_their_escaped_forms(self) -> None:
        register_secrets('p@ss"word', {"user": "etl-user", "pin": 123456}, ["a", None, True])
        assert redact('login p@ss"word') == f"login {MASK}"
        assert redact('{"password": "p@ss\\"word"}') == f'{{"password": "{MASK}"}}'
        assert redact("user=etl-user pin=123456") == f"user={MASK} pin={MASK}"
        assert redact("a True None") == "a True None"  # too short, or not text: kept

    def test_nothing_registered_leaves_text_alone(self) -> None:
        assert redact(f"say {TOKEN}") == f"say {TOKEN}"

    def test_a_stream_redacts_a_secret_split_across_writes(self) -> None:
        register_secrets(TOKEN)
        out = io.StringIO()
        stream = RedactingStream(out)
        stream.write("token: tok-Zq8")
        stream.write("vX2-secret\nnext ")
        assert out.getvalue() == f"token: {MASK}\n"
        stream.write(TOKEN)
        stream.flush()
        assert out.getvalue() == f"token: {MASK}\nnext {MASK}"


@pytest.fixture
def default_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("JUPYTER_FLOWS_DB_URL", db_url)
    return db_url


def test_a_local_run_never_records_a_loaded_secret(
    default_db: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    Secret(value=TOKEN).save("api-token")
    forget_secrets()  # as in a new process: only loading makes it known

    @task
    def call_api() -> str:
        token = Secret.load("api-token").get()
        get_run_logger().info("task got %s", token)
        return "ok"

    @flow(log_prints=True)
    def uses_the_secret() -> str:
        token = Secret.load("api-token").get()
        get_run_logger().info("calling with token=%s", token)
        print("printed:", token)
        try:
            raise RuntimeError(f"refused {token}")
        except RuntimeError:
            get_run_logger().exception("failed once")
        return call_api()

    with caplog.at_level(logging.INFO):
        state = uses_the_secret(return_state=True)
    assert state.result() == "ok"
    messages = [log.message for log in read_flow_run(state.run_id).logs]
    assert any(m == f"calling with token={MASK}" for m in messages), messages
    assert f"printed: {MASK}" in messages and f"task got {MASK}" in messages
    assert any(m.startswith("failed once") and f"RuntimeError: refused {MASK}" in m
               for m in messages), messages  # fmt: skip
    assert len(messages) >= 3 and not any(TOKEN in m for m in messages)
    assert TOKEN not in caplog.text and f"calling with token={MASK}" in caplog.text
    assert TOKEN not in capsys.readouterr().err


def test_a_failed_run_keeps_the_secret_out_of_its_state_message(default_db: str) -> None:
    Secret(value=TOKEN).save("api-token")

    @flow
    def refuses() -> None:
        raise PermissionError(f"the API refused {Secret.load('api-token').get()}")

    state = refuses(return_state=True)
    assert state.is_failed() and state.message is not None
    assert TOKEN not in state.message and MASK in state.message
    stored = read_flow_run(state.run_id)
    assert TOKEN not in str(stored.state_message) and all(
        TOKEN not in (s.message or "") for s in stored.states
    )
