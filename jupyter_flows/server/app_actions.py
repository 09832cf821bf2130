"""``FlowsApp``'s part for automation actions: SMTP, retries, and the action runner.

The traits are ``FlowsApp``'s (``FlowsApp.smtp_host``...). The runner claims due actions
every ``events_interval`` and does each in a pool of its own threads without waiting for it,
so a webhook that hangs until its timeout delays no other automation, nor the reading of
events.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from tornado.ioloop import PeriodicCallback
from traitlets import Enum, Float, HasTraits, Integer, TraitError, Unicode, validate

__all__ = ["ActionSettings"]

logger = logging.getLogger(__name__)


class ActionSettings(HasTraits):
    """Traits and the action runner of ``FlowsApp``."""

    smtp_host = Unicode(
        "", config=True, help="The SMTP server that send-notification emails go through "
        "(empty: no email notifications; creating one is refused)."
    )  # fmt: skip
    smtp_port = Integer(587, config=True, help="The SMTP server's port.")
    smtp_security = Enum(
        ["starttls", "ssl", "none"], "starttls", config=True,
        help="starttls (port 587), ssl (implicit TLS, port 465) or none (a local relay).",
    )  # fmt: skip
    smtp_from = Unicode(
        "jupyter-flows@localhost", config=True, help="The From address of notifications."
    )
    smtp_username = Unicode("", config=True, help="The SMTP login (empty: no login).")
    smtp_password = Unicode(
        "", config=True, help="The SMTP password. Prefer smtp_password_secret, which keeps it "
        "encrypted in a Secret block instead of a config file. Never logged."
    )  # fmt: skip
    smtp_password_secret = Unicode(
        "", config=True, help="The name of a Secret block (jupyter flows blocks) that holds "
        "the SMTP password; read when a mail is sent."
    )  # fmt: skip
    smtp_timeout = Float(30.0, config=True, help="Seconds an SMTP conversation may take.")
    action_attempts = Integer(
        3, config=True, help="Attempts at an automation action that fails with a temporary "
        "error (a timeout, HTTP 5xx) before it is recorded as failed."
    )  # fmt: skip
    action_backoff_seconds = Float(
        2.0, config=True, help="Seconds before the 2nd attempt; each next one waits twice as long."
    )  # fmt: skip
    action_concurrency = Integer(
        8, config=True, help="Automation actions done at the same time (threads)."
    )
    public_url = Unicode(
        "", config=True, help="The server's address as people reach it, for the links in "
        "notifications (flow_run.url). Default: the server's own URL."
    )  # fmt: skip

    _action_pool: ThreadPoolExecutor | None = None
    _attempts: set[Future[None]] = set()  # noqa: RUF012 - replaced per instance on start

    @validate("action_attempts", "action_concurrency")
    def _at_least_one(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if value < 1:
            raise TraitError(f"FlowsApp.{proposal['trait'].name} must be >= 1, not {value}")
        return value

    def configure_actions(self, service: Any, server_url: str) -> None:
        """Give the orchestration service the SMTP server, retries and public URL."""
        from ..orchestration.notify import SmtpSettings

        service.action_attempts = self.action_attempts
        service.action_backoff_seconds = self.action_backoff_seconds
        service.public_url = self.public_url or server_url
        if self.smtp_host:
            security: Any = self.smtp_security
            service.smtp = SmtpSettings(
                host=self.smtp_host, port=self.smtp_port, sender=self.smtp_from,
                security=security, username=self.smtp_username or None,
                password=self.smtp_password or None,
                password_secret=self.smtp_password_secret or None, timeout=self.smtp_timeout,
            )  # fmt: skip

    def start_action_runner(self, interval: float) -> PeriodicCallback:
        self._attempts = set()
        self._action_pool = ThreadPoolExecutor(
            max_workers=self.action_concurrency, thread_name_prefix="jupyter-flows-action"
        )
        runner = PeriodicCallback(self._run_actions, interval * 1000)
        runner.start()
        return runner

    def stop_action_runner(self) -> None:
        """Stop taking actions; attempts under way are taken again when their lease ends."""
        if self._action_pool is not None:
            self._action_pool.shutdown(wait=False, cancel_futures=True)
            self._action_pool = None

    async def _run_actions(self) -> None:
        pool = self._action_pool
        self._attempts = {f for f in self._attempts if not f.done()}
        free = self.action_concurrency - len(self._attempts)
        if pool is None or free <= 0:
            return
        service = self.services.orchestration  # type: ignore[attr-defined]
        try:
            items = await asyncio.get_running_loop().run_in_executor(
                None, service.claim_actions, free
            )
        except Exception:  # keep trying: the database may be back next time
            logger.exception("jupyter-flows: claiming automation actions failed")
            return
        for item in items:
            try:
                future = pool.submit(service.execute_action, item)
            except RuntimeError:  # shut down meanwhile: its lease ends, it is taken again
                return
            future.add_done_callback(_report)
            self._attempts.add(future)


def _report(future: Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("jupyter-flows: an automation action broke", exc_info=future.exception())
