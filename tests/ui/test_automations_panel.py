"""The Automations section of the Flows side panel in a real JupyterLab, in headless Chromium.

No mocks: automations and events go through the lab's REST API; the server's event reader
(every second) fires them and the panel's poll shows the outcome. Screenshot:
``tests/artifacts/automations.png``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.lab import Lab, screenshot, wait_for

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

PANEL = "#jupyter-flows-panel"
#: the panel polls every 5 s; the machine may be busy with other tests
SLOW = 30_000


def automation_item(page: Any, name: str) -> Any:
    return page.locator(f"{PANEL} li.jp-Flows-automation[data-automation='{name}']")


def create_automation(
    lab: Lab, name: str, event: str, action: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    body = {
        "name": name,
        "trigger": {"event": event, **extra.pop("trigger", {})},
        "action": action,
        **extra,
    }
    automation: dict[str, Any] = lab.api("POST", "automations", body)
    return automation


@pytest.fixture(scope="module")
def deployments(lab: Lab) -> dict[str, dict[str, Any]]:
    """Deployments ``up`` and ``down`` of ``quick.ipynb``."""
    return {
        name: lab.api("POST", "deployments", {"name": name, "entrypoint": "quick.ipynb"})
        for name in ("up", "down")
    }


def test_the_empty_state_says_how_to_create_one(lab: Lab, page: Any) -> None:
    section = page.locator(f"{PANEL} .jp-Flows-section[data-section='automations']")
    expect(section.locator(".jp-Flows-count")).to_have_text("0", timeout=SLOW)
    expect(section.locator(".jp-Flows-empty")).to_contain_text(
        "No automations yet. Create one with jupyter flows automations create "
        "or POST /jupyter-flows/api/automations."
    )


def test_an_event_fires_the_automation_and_starts_a_run(
    lab: Lab, deployments: dict[str, dict[str, Any]], page: Any
) -> None:
    create_automation(
        lab, "on-data-ready", "data.ready", {"type": "run-deployment", "deployment": "down"}
    )
    item = automation_item(page, "on-data-ready")
    expect(item).to_be_visible(timeout=SLOW)
    expect(item).to_have_attribute("data-enabled", "true")
    expect(item.locator(".jp-Flows-automationRule")).to_have_text("when data.ready → run down")
    expect(item).to_contain_text("never fired")
    expect(item.get_by_role("switch")).to_have_text("Enabled")

    lab.api("POST", "events", {"event": "data.ready"})
    expect(item).to_contain_text("fired 1 time · last", timeout=SLOW)
    expect(item.locator(".jp-Flows-automationError")).to_have_count(0)
    triggered = wait_for(
        lambda: lab.api("GET", "events?event=automation.triggered")["items"],
        SLOW / 1000,
        "the automation.triggered event",
    )
    run_id = triggered[0]["payload"]["flow_run_id"]
    run = lab.api("GET", f"flow_runs/{run_id}")
    assert run["deployment_id"] == deployments["down"]["id"]
    assert "automation:on-data-ready" in run["tags"]
    expect(page.locator(f"{PANEL} .jp-Flows-runRow[data-run-id='{run_id}']")).to_be_visible(
        timeout=SLOW
    )


def test_trigger_with_match_and_threshold_is_described(
    lab: Lab, deployments: dict[str, dict[str, Any]], page: Any
) -> None:
    create_automation(
        lab,
        "pause-after-three",
        "flow-run.Failed",
        {"type": "pause-deployment", "deployment": "up"},
        trigger={"match": {"deployment": "up"}, "threshold": 3, "within_seconds": 60},
        enabled=False,
    )
    item = automation_item(page, "pause-after-three")
    expect(item.locator(".jp-Flows-automationRule")).to_have_text(
        "when flow-run.Failed (deployment = up) 3× within 60 s → pause up", timeout=SLOW
    )
    expect(item).to_have_attribute("data-enabled", "false")
    expect(item.get_by_role("switch")).to_have_text("Disabled")


def test_the_toggle_disables_and_enables_it(
    lab: Lab, deployments: dict[str, dict[str, Any]], page: Any
) -> None:
    create_automation(
        lab, "toggle-me", "data.toggle", {"type": "resume-deployment", "deployment": "up"}
    )
    item = automation_item(page, "toggle-me")
    toggle = item.get_by_role("switch")
    expect(toggle).to_have_attribute("aria-checked", "true", timeout=SLOW)
    toggle.click()
    expect(item).to_have_attribute("data-enabled", "false", timeout=10_000)
    expect(toggle).to_have_text("Disabled")
    assert lab.api("GET", "automations/toggle-me")["enabled"] is False
    toggle.press("Enter")  # keyboard works too
    expect(item).to_have_attribute("data-enabled", "true", timeout=10_000)
    assert lab.api("GET", "automations/toggle-me")["enabled"] is True


def test_a_failed_action_shows_its_error(
    lab: Lab, deployments: dict[str, dict[str, Any]], page: Any
) -> None:
    action = {
        "type": "run-deployment",
        "deployment": "down",
        "parameters": {"n": "{{ event.rows }}"},
    }
    create_automation(lab, "needs-rows", "data.loaded", action)
    item = automation_item(page, "needs-rows")
    expect(item).to_be_visible(timeout=SLOW)
    lab.api("POST", "events", {"event": "data.loaded", "payload": {"table": "sales"}})
    error = item.locator(".jp-Flows-automationError")
    expect(error).to_contain_text("the event has no 'rows'", timeout=SLOW)
    expect(error).to_contain_text("parameter 'n'")
    expect(item).to_contain_text("fired 1 time")
    # the next firing succeeds: the error goes away
    lab.api("POST", "events", {"event": "data.loaded", "payload": {"rows": 4}})
    expect(item).to_contain_text("fired 2 times", timeout=SLOW)
    expect(error).to_have_count(0, timeout=SLOW)
    lab.api("POST", "events", {"event": "data.loaded"})
    expect(error).to_contain_text("the event has no 'rows'", timeout=SLOW)
    screenshot(page, "automations.png")
