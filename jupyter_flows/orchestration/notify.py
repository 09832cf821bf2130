"""Sending notifications: a JSON POST to a webhook, a mail through an SMTP server.

Plain functions with the standard library (``urllib``, ``smtplib``); failures raise
``ActionFailed`` with ``retryable`` set when trying later may help (a timeout, a refused
connection, HTTP 5xx, 408 or 429, an SMTP 4xx). A webhook URL is a credential (Slack's
and Teams' are): messages name only its scheme and host, never its path; an SMTP password
is never in a message or ``repr``.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Literal
from urllib.parse import urlsplit

from .._version import __version__
from ..exceptions import ActionFailed

__all__ = ["SmtpSettings", "post_webhook", "send_email", "where"]

logger = logging.getLogger(__name__)

#: an answer body read at most this far (for the reason of a failure)
_ANSWER_BYTES = 300


def where(url: str) -> str:
    """``https://hooks.slack.com``: what a message may say of a URL."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def post_webhook(
    url: str, body: Mapping[str, Any], headers: Mapping[str, str], timeout: float
) -> int:
    """POST ``body`` as JSON to ``url``; the HTTP status (2xx or 3xx) or ``ActionFailed``."""
    data = json.dumps(body, default=str).encode()
    request = urllib.request.Request(url, data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("User-Agent", f"jupyter-flows/{__version__}")
    for name, value in headers.items():
        request.add_header(name, value)
    target = where(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        code = exc.code
        detail = exc.read(_ANSWER_BYTES).decode(errors="replace").strip()
        retry = code >= 500 or code in (408, 429)
        text = f"webhook {target} answered HTTP {code}" + (f": {detail}" if detail else "")
        raise ActionFailed(text, retryable=retry) from None
    except TimeoutError:
        raise ActionFailed(f"webhook {target} did not answer within {timeout:g} s") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            message = f"webhook {target} did not answer within {timeout:g} s"
        else:
            message = f"webhook {target} could not be reached: {reason}"
        raise ActionFailed(message) from None
    except OSError as exc:
        raise ActionFailed(f"webhook {target} failed: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class SmtpSettings:
    """Where mail goes (``FlowsApp.smtp_*``); ``password`` stays out of ``repr``."""

    host: str
    port: int = 587
    sender: str = "jupyter-flows@localhost"
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    #: a Secret block holding the password (read by the service when it sends)
    password_secret: str | None = None
    timeout: float = 30.0


def send_email(settings: SmtpSettings, to: list[str], subject: str, body: str) -> None:
    """Mail ``body`` to ``to`` through the SMTP server of ``settings``, or ``ActionFailed``."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(to)
    message["Subject"] = " ".join(subject.split())[:250]
    message.set_content(body)
    target = f"SMTP server {settings.host}:{settings.port}"
    try:
        if settings.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout,
                context=ssl.create_default_context(),
            )  # fmt: skip
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password or "")
            refused = client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise ActionFailed(f"{target} refused the login ({exc.smtp_code})", False) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise ActionFailed(f"{target} refused every recipient: {sorted(exc.recipients)}",
                           retryable=False) from None  # fmt: skip
    except smtplib.SMTPResponseException as exc:
        reason = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)  # fmt: skip
        raise ActionFailed(f"{target} answered {exc.smtp_code}: {reason}",
                           retryable=400 <= exc.smtp_code < 500) from None  # fmt: skip
    except (smtplib.SMTPException, OSError) as exc:
        raise ActionFailed(f"{target} failed: {exc}") from None
    if refused:
        logger.warning("%s refused some recipients: %s", target, sorted(refused))
