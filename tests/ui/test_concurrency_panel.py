"""Concurrency limits in the Flows panel of a real JupyterLab (headless Chromium): each
limit's held slots and who holds them, as slots are taken and given back over REST.
Screenshot: ``tests/artifacts/panel-limits.png``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.lab import Lab, screenshot

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

PANEL = "#jupyter-flows-panel"


def test_limits_show_their_slots_and_holders(lab: Lab, page: Any) -> None:
    lab.api("POST", "concurrency_limits", {"name": "warehouse", "limit": 2})
    lab.api("POST", "concurrency_limits", {"name": "tag:db", "limit": 1, "active": False})
    holder = {"type": "process", "id": "etl-1", "name": "nightly-load"}
    lease = lab.api(
        "POST", "concurrency_leases", {"names": ["warehouse"], "slots": 1, "holder": holder}
    )
    assert lease["acquired"], lease
    item = page.locator(f"{PANEL} .jp-Flows-limit[data-limit='warehouse']")
    expect(item).to_contain_text("1 of 2 slots held", timeout=20_000)
    expect(item).to_contain_text("nightly-load")
    expect(item.locator("progress")).to_have_attribute("value", "1")
    expect(page.locator(f"{PANEL} .jp-Flows-limit[data-limit='tag:db']")).to_contain_text(
        "inactive"
    )
    page.locator(f"{PANEL} [data-section='concurrency']").scroll_into_view_if_needed()
    screenshot(page, "panel-limits.png")
    lab.api("DELETE", f"concurrency_leases/{lease['lease_id']}")
    expect(item).to_contain_text("0 of 2 slots held", timeout=20_000)
    expect(item).not_to_contain_text("nightly-load")


def test_variables_and_blocks_are_listed_with_secrets_masked(lab: Lab, page: Any) -> None:
    lab.api(
        "PUT", "variables/warehouse-config", {"value": {"bucket": "s3://raw"}, "tags": ["prod"]}
    )
    secret = "hunter2-very-secret"
    lab.api(
        "PUT",
        "block_documents/secret/db-password",
        {"data": {"value": secret}, "secret_fields": ["value"]},
    )
    variable = page.locator(f"{PANEL} .jp-Flows-config[data-variable='warehouse-config']")
    expect(variable).to_contain_text("s3://raw", timeout=20_000)
    expect(variable).to_contain_text("prod")
    block = page.locator(f"{PANEL} .jp-Flows-config[data-block='secret/db-password']")
    expect(block).to_contain_text("secret")
    expect(block).to_contain_text("********")
    assert secret not in page.content(), "a secret value reached the page"
    page.locator(f"{PANEL} [data-section='config']").scroll_into_view_if_needed()
    screenshot(page, "panel-config.png")
