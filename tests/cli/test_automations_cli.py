"""``jupyter flows automations create --action ...`` and ``ls`` as real processes against a
real server: a webhook notification (a local HTTP server), a failed one shown by ``ls``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.e2e.harness import Env, stop_all
from tests.orchestration.receivers import webhook


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("automations-cli")
    env = Env(tmp)
    try:
        env.start_server("--FlowsApp.events_interval=0.2", "--FlowsApp.action_backoff_seconds=0.05")
        yield env
    finally:
        stop_all(env, tmp)


def _ok(env: Env, *args: str) -> str:
    result = env.cli("automations", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _until(check: object, rounds: int = 300) -> object:
    for _ in range(rounds):
        found = check()  # type: ignore[operator]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


class TestNotificationsFromTheCli:
    def test_a_webhook_with_a_json_body(self, server: Env) -> None:
        with webhook(200) as hook:
            made = _ok(
                server, "create", "tell", "--on", "job.failed", "--action", "send-notification",
                "--webhook", hook.url, "--header", "X-Team=data",
                "--body", '{"text": "job {{ event.job }} failed"}',
            )  # fmt: skip
            assert "when job.failed -> notify http://127.0.0.1" in made
            assert "s3cr3tpath" not in made  # the URL's path may be a credential
            events = server.cli("events", "emit", "job.failed", "--payload", '{"job": 7}')
            assert events.returncode == 0, events.stderr
            _until(lambda: hook.received)
        assert hook.received[0]["body"] == {"text": "job 7 failed"}
        assert hook.received[0]["headers"]["X-Team"] == "data"
        _ok(server, "rm", "tell")

    def test_ls_shows_the_last_error(self, server: Env) -> None:
        with webhook(500) as hook:
            _ok(
                server, "create", "broken", "--on", "job.done", "--action", "send-notification",
                "--webhook", hook.url, "--body", "done",
            )  # fmt: skip
            server.cli("events", "emit", "job.done")
            described = _until(lambda: (server.get("automations/broken") or {}).get("last_error"))
        assert "answered HTTP 500" in str(described)
        listed = _ok(server, "ls")
        assert "1 failed, last: webhook http://127.0.0.1" in listed and "HTTP 500" in listed
        assert len(hook.received) == 3  # 3 attempts
        _ok(server, "rm", "broken")

    def test_change_state_and_proactive_options(self, server: Env) -> None:
        made = _ok(
            server, "create", "zombies", "--posture", "Proactive", "--after",
            "flow-run.heartbeat", "--on", "flow-run.*", "--for-each", "flow_run_id",
            "--within", "90", "--action", "change-flow-run-state", "--state", "crashed",
            "--message", "no heartbeat",
        )  # fmt: skip
        assert "when no flow-run.* within 90s after flow-run.heartbeat per flow_run_id" in made
        assert "set the flow run CRASHED" in made
        stored = server.get("automations/zombies")
        assert stored["trigger"]["posture"] == "Proactive"
        assert stored["action"] == {"type": "change-flow-run-state", "state": "CRASHED",
                                    "name": None, "message": "no heartbeat"}  # fmt: skip
        _ok(server, "rm", "zombies")

    def test_bad_options_are_one_line(self, server: Env) -> None:
        both = server.cli("automations", "create", "x", "--on", "e", "--action",
                          "send-notification")  # fmt: skip
        assert both.returncode == 2 and "needs one of --webhook URL" in both.stderr
        bad = server.cli("automations", "create", "x", "--on", "e", "--action",
                         "send-notification", "--webhook", "ftp://nope")  # fmt: skip
        assert bad.returncode == 1 and "webhook.url: an http:// or https:// URL" in bad.stderr
        assert "Traceback" not in bad.stderr
        mail = server.cli("automations", "create", "x", "--on", "e", "--action",
                          "send-notification", "--email-to", "ops@example.com")  # fmt: skip
        assert mail.returncode == 1 and "no SMTP server" in mail.stderr
        shown = server.cli("automations", "--help")
        for text in ("--webhook", "--email-to", "--posture", "send-notification", "Proactive"):
            assert text in shown.stdout, text
        assert json.loads(json.dumps(server.get("automations")))["items"] == []


class TestPreviewFromTheCli:
    def test_preview_lists_the_events_it_would_have_fired_on(self, server: Env) -> None:
        for zone in ("north", "south", "north"):
            emitted = server.cli(
                "events", "emit", "probe.hot", "--payload", f'{{"zone": "{zone}"}}'
            )
            assert emitted.returncode == 0, emitted.stderr
        out = _ok(server, "preview", "--on", "probe.hot", "--match", "zone=north")
        lines = out.strip().splitlines()
        assert lines[0].startswith("would have fired 2 times over"), out
        assert len(lines) == 3 and all("probe.hot (event " in line for line in lines[1:]), out
        out = _ok(server, "preview", "--on", "probe.hot", "--threshold", "3", "--within", "3600")
        assert out.startswith("would have fired 1 time over"), out
        bad = server.cli("automations", "preview", "--on", "probe.hot", "--threshold", "0")
        assert bad.returncode != 0 and "trigger.threshold" in bad.stderr, bad.stderr
        assert "probe" not in _ok(server, "ls")  # nothing was saved
