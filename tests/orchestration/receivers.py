"""Real receivers for notifications: an HTTP server (a webhook) and an SMTP server (aiosmtpd),
each on 127.0.0.1 in a thread of the test process."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Webhook", "webhook", "Mailbox", "mailbox"]


@dataclass
class Webhook:
    """What the receiver answers, in turn (an HTTP status, or ``"hang"``: no answer until
    the test ends; the last one repeats), and what it received."""

    answers: list[int | str] = field(default_factory=lambda: [200])
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    release: threading.Event = field(default_factory=threading.Event)

    def next_answer(self) -> int | str:
        index = min(len(self.received) - 1, len(self.answers) - 1)
        return self.answers[index]


@contextmanager
def webhook(*answers: int | str) -> Iterator[Webhook]:
    hook = Webhook(answers=list(answers) or [200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            hook.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            answer = hook.next_answer()
            if answer == "hang":
                hook.release.wait(30)
                return
            self.send_response(int(answer))
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if int(answer) < 400 else b"broken")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000/s3cr3tpath"
    try:
        yield hook
    finally:
        hook.release.set()
        server.shutdown()
        server.server_close()


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def mailbox(password: str | None = None) -> Iterator[Mailbox]:
    """An SMTP server; with ``password``, it needs a login (any user, that password)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    box = Mailbox("127.0.0.1", _free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            box.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        user, secret = auth.login.decode(), auth.password.decode()
        box.logins.append((user, secret))
        return AuthResult(success=secret == password)

    extra: dict[str, Any] = {}
    if password is not None:
        extra = {"authenticator": authenticate, "auth_require_tls": False}
    controller = Controller(Handler(), hostname=box.host, port=box.port, **extra)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
