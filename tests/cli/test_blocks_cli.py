"""``jupyter flows secret set|ls|rm`` and ``jupyter flows block ls|inspect|rm`` as real
processes against a real server: values from stdin or a prompt without echo, never shown."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.e2e.harness import PY, TOKEN, Env, stop_all

SECRET = "cli-s3cret-value-42"
#: opens the terminal named by argv[1] as stdin/out/err (in its new session: its controlling
#: terminal, where getpass prompts) and runs ``python argv[2:]``
ON_A_TERMINAL = """
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
for std in (0, 1, 2):
    os.dup2(fd, std)
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("blocks-cli")
    env = Env(tmp)
    try:
        env.start_server()
        yield env
    finally:
        stop_all(env, tmp)


def _ok(env: Env, *args: str, input: str = "") -> str:
    result = env.cli(*args, input=input)
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    return result.stdout


def _read_until(fd: int, text: bytes, timeout: float = 60) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            seen += os.read(fd, 1024)
    return seen


class TestSecretCommand:
    def test_set_from_stdin_ls_inspect_rm(self, server: Env) -> None:
        out = _ok(server, "secret", "set", "api-token", input=SECRET + "\n")
        assert "set secret api-token" in out
        full = server.get("block_documents/secret/api-token?include_secrets=true")
        assert full["data"] == {"value": SECRET}  # one trailing newline dropped
        assert _ok(server, "secret", "ls").split()[0] == "api-token"
        shown = json.loads(_ok(server, "block", "inspect", "secret/api-token"))
        assert shown["data"] == {"value": "********"} and shown["secret_fields"] == ["value"]
        listed = _ok(server, "block", "ls", "--type", "secret")
        assert listed.startswith("secret/api-token") and "secret: value" in listed
        refused = server.cli("secret", "set", "api-token", input="other")
        assert refused.returncode == 1 and "already exists" in refused.stderr
        _ok(server, "secret", "set", "api-token", "--overwrite", input="rotated-value")
        full = server.get("block_documents/secret/api-token?include_secrets=true")
        assert full["data"] == {"value": "rotated-value"}
        assert "removed secret api-token" in _ok(server, "secret", "rm", "api-token")
        assert server.get("block_documents/secret/api-token") is None  # 404

    def test_json_values_and_block_rm(self, server: Env) -> None:
        _ok(server, "secret", "set", "db", "--json", input=json.dumps({"password": SECRET}))
        full = server.get("block_documents/secret/db?include_secrets=true")
        assert full["data"] == {"value": {"password": SECRET}}
        assert "removed secret/db" in _ok(server, "block", "rm", "secret/db")

    def test_the_prompt_does_not_echo(self, server: Env) -> None:
        master, slave = pty.openpty()
        args = ["-m", "jupyter_flows.cli.app", "secret", "set", "typed",
                "--url", server.url, "--token", TOKEN]  # fmt: skip
        child = subprocess.Popen(  # a new session whose controlling terminal is the pty
            [PY, "-c", ON_A_TERMINAL, os.ttyname(slave), *args],
            env=server.env, start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:  # (the slave stays open here: before the child opens it, reads would fail)
            seen = _read_until(master, b"value of secret 'typed': ")
            os.write(master, SECRET.encode() + b"\n")
            seen += _read_until(master, b"again: ")
            os.write(master, SECRET.encode() + b"\n")
            seen += _read_until(master, b"Secret.load")
            assert child.wait(timeout=60) == 0, seen
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            os.close(master)
            os.close(slave)
        assert b"set secret typed" in seen and SECRET.encode() not in seen, seen
        full = server.get("block_documents/secret/typed?include_secrets=true")
        assert full["data"] == {"value": SECRET}
        _ok(server, "secret", "rm", "typed")

    def test_errors_are_one_line_and_name_the_problem(self, server: Env) -> None:
        empty = server.cli("secret", "set", "empty", input="")
        assert empty.returncode == 2 and "the value is empty" in empty.stderr
        bad = server.cli("secret", "set", "Bad_Name", input="x")
        assert bad.returncode == 1 and "name" in bad.stderr and "lowercase" in bad.stderr
        assert "Traceback" not in bad.stderr
        usage = server.cli("secret", "set", "a", "value-on-the-command-line", input="")
        assert usage.returncode == 2 and "usage: jupyter flows secret" in usage.stderr
        missing = server.cli("block", "inspect", "secret/nope", input="")
        assert missing.returncode == 1 and "no block document secret/nope" in missing.stderr
        shape = server.cli("block", "rm", "no-slash", input="")
        assert shape.returncode == 2 and "BLOCK-TYPE-SLUG/NAME" in shape.stderr
        not_json = server.cli("secret", "set", "j", "--json", input="{not json")
        assert not_json.returncode == 2 and "not set" in not_json.stderr

    def test_help_explains_the_verbs(self, server: Env) -> None:
        shown = server.cli("secret", "--help", input="")
        assert shown.returncode == 0
        for text in ("secret set db-password", "--overwrite", "--json", "does not echo",
                     "never from the command line"):  # fmt: skip
            assert text in shown.stdout, text
        shown = server.cli("block", "--help", input="")
        assert shown.returncode == 0
        for text in ("block inspect secret/db-password", "--type", "masked"):
            assert text in shown.stdout, text
