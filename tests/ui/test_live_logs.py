"""A running flow's logs are followed live in its run view."""

from __future__ import annotations

import subprocess
from typing import Any

from playwright.sync_api import expect

from tests.ui.lab import PY, Lab, wait_for

TICKER = """
import time
from jupyter_flows import flow, get_run_logger

@flow
def ticker(n: int = 40) -> None:
    log = get_run_logger()
    for i in range(n):
        log.info("tick %d", i)
        time.sleep(0.25)

ticker()
"""


class TestLiveLogs:
    def test_logs_tail_while_the_run_is_running(self, lab: Lab, page: Any) -> None:
        proc = subprocess.Popen([PY, "-c", TICKER], env=lab.env, cwd=lab.root)
        try:
            row = page.locator('.jp-Flows-runRow:has-text("ticker")').first
            row.wait_for(timeout=30_000)
            row.click()
            view = page.locator(".jp-Flows-run")
            expect(view.locator(".jp-Flows-runHeader")).to_contain_text("Running", timeout=15_000)
            lines = view.locator(".jp-Flows-logLine")
            first = wait_for(lambda: lines.count() or None, 30, "the first log lines")
            wait_for(lambda: lines.count() > first + 3, 30, "more log lines while it runs")
            assert proc.poll() is None  # the run was still going: these came in live
            expect(view.locator(".jp-Flows-logBox")).to_contain_text("tick 39", timeout=40_000)
        finally:
            proc.kill()
            proc.wait(timeout=30)
