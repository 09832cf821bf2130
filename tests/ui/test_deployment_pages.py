"""Deployment pages, work pool management and the automation form, in a real JupyterLab
(server, embedded worker, kernels) in headless Chromium. No mocks: what the pages change is
checked over the lab's REST API. Screenshots: ``tests/artifacts/deployment-*.png``,
``pools-manage.png``, ``automation-preview.png``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.ui.lab import Lab, panel_screenshot, screenshot

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

PANEL = "#jupyter-flows-panel"
SLOW = 30_000


def _deploy(lab: Lab, name: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "entrypoint": "quick.ipynb", **extra}
    deployment: dict[str, Any] = lab.api("POST", "deployments", body)
    return deployment


def _open_page(page: Any, name: str) -> Any:
    item = page.locator(f"{PANEL} li.jp-Flows-deployment[data-deployment='{name}']")
    item.get_by_role("button", name=f"Open {name}").click(timeout=SLOW)
    view = page.locator(f".jp-Flows-page[data-deployment='{name}']")
    expect(view).to_be_visible(timeout=SLOW)
    return view


class TestDeploymentPage:
    def test_edit_the_schedule_and_see_a_bad_cron_at_its_field(self, lab: Lab, page: Any) -> None:
        deployment = _deploy(
            lab,
            "nightly",
            tags=["etl"],
            job_variables={"env": {"STAGE": "test"}},
            schedules=[{"cron": "0 9 * * *", "timezone": "Europe/Paris"}],
        )
        view = _open_page(page, "nightly")
        words = view.locator(".jp-Flows-scheduleWords")
        expect(words).to_have_text("Every day at 09:00 (Europe/Paris)")
        expect(view.get_by_label("Next runs").locator("li")).to_have_count(5)
        expect(view.get_by_label("Job variables")).to_contain_text("STAGE")
        expect(view.get_by_label("Parameter schema")).to_contain_text("label")
        screenshot(page, "deployment-page.png")

        view.get_by_role("button", name="Edit").click()
        form = view.get_by_role("form", name="Edit deployment nightly")
        form.get_by_label("Cron").fill("61 * * *")
        form.get_by_role("button", name="Save").click()
        cron = form.locator(".jp-Flows-field[data-field='Cron']")
        expect(cron).to_have_attribute("data-invalid", "true", timeout=SLOW)
        expect(cron.locator(".jp-Flows-fieldError")).to_contain_text("Invalid cron '61 * * *'")
        screenshot(page, "deployment-bad-cron.png")
        stored = lab.api("GET", f"deployments/{deployment['id']}")
        assert stored["schedules"][0]["cron"] == "0 9 * * *"

        form.get_by_label("Cron").fill("30 7 * * 1")
        expect(cron.locator(".jp-Flows-fieldHint")).to_have_text("Every Monday at 07:30")
        form.get_by_label("Tags").fill("etl, weekly")
        form.get_by_role("button", name="Save").click()
        expect(form).to_have_count(0, timeout=SLOW)
        expect(words).to_have_text("Every Monday at 07:30 (Europe/Paris)", timeout=SLOW)
        stored = lab.api("GET", f"deployments/{deployment['id']}")
        assert stored["schedules"][0]["cron"] == "30 7 * * 1"
        assert stored["schedules"][0]["timezone"] == "Europe/Paris"
        assert stored["tags"] == ["etl", "weekly"]

    def test_run_from_the_page_and_open_the_run(self, lab: Lab, page: Any) -> None:
        _deploy(lab, "by-hand")
        view = _open_page(page, "by-hand")
        view.get_by_role("button", name="Run", exact=True).click()
        page.locator(".jp-Dialog button.jp-mod-accept").click()
        runs = view.get_by_label("Recent runs").locator("li")
        expect(runs).to_have_count(1, timeout=SLOW)
        badge = runs.first.locator(".jp-Flows-badge")
        expect(badge).to_have_attribute("data-state", "Completed", timeout=120_000)
        screenshot(page, "deployment-runs.png")
        runs.first.locator("button.jp-Flows-link").click()
        run_view = page.locator(".jp-Flows-run:visible")
        expect(run_view.locator(".jp-Flows-runHeader")).to_contain_text("Completed", timeout=SLOW)

    def test_delete_asks_first_and_deletes(self, lab: Lab, page: Any) -> None:
        deployment = _deploy(lab, "doomed")
        view = _open_page(page, "doomed")
        view.get_by_role("button", name="Delete").click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("Delete deployment doomed?")
        dialog.get_by_role("button", name="Delete").click()
        expect(view).to_have_count(0, timeout=SLOW)
        names = [d["name"] for d in lab.api("GET", "deployments")["items"]]
        assert "doomed" not in names and deployment["id"]
        expect(
            page.locator(f"{PANEL} li.jp-Flows-deployment[data-deployment='doomed']")
        ).to_have_count(0, timeout=SLOW)


def test_create_a_pool_pause_it_and_delete_it(lab: Lab, page: Any) -> None:
    section = page.locator(f"{PANEL} .jp-Flows-section[data-section='pools']")
    section.get_by_role("button", name="New work pool").click()
    form = section.get_by_role("form", name="New work pool")
    # a name the server refuses: its reason at the field
    form.get_by_label("Name").fill("gpu pool!")
    form.get_by_role("button", name="Create").click()
    name = form.locator(".jp-Flows-field[data-field='Name']")
    expect(name).to_have_attribute("data-invalid", "true", timeout=SLOW)
    expect(name.locator(".jp-Flows-fieldError")).to_contain_text("pattern")
    panel_screenshot(page, "pools-bad-name.png", focus=form)
    form.get_by_label("Name").fill("gpu-pool")
    form.get_by_label("Type").select_option("dask")
    form.get_by_label("Concurrency limit").fill("3")
    form.get_by_label("Description").fill("the big machines")
    form.get_by_role("button", name="Create").click()
    pool = section.locator("li.jp-Flows-pool[data-pool='gpu-pool']")
    expect(pool).to_contain_text("dask · limit 3", timeout=SLOW)
    pool.get_by_role("switch", name="gpu-pool active").click()
    expect(pool).to_have_attribute("data-paused", "true", timeout=SLOW)
    stored = lab.api("GET", "work_pools/gpu-pool")
    assert stored["paused"] is True and stored["concurrency_limit"] == 3
    assert stored["type"] == "dask" and stored["description"] == "the big machines"
    panel_screenshot(page, "pools-manage.png", focus=pool)

    # a new concurrency limit
    pool.get_by_role("button", name="Edit gpu-pool").click()
    edit = section.get_by_role("form", name="Edit work pool gpu-pool")
    edit.get_by_label("Concurrency limit").fill("5")
    edit.get_by_role("button", name="Save").click()
    expect(pool).to_contain_text("limit 5", timeout=SLOW)

    pool.get_by_role("button", name="Delete gpu-pool").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(pool).to_have_count(0, timeout=SLOW)
    names = [p["name"] for p in lab.api("GET", "work_pools")["items"]]
    assert "gpu-pool" not in names


def test_the_automation_form_previews_the_events_it_would_fire_on(lab: Lab, page: Any) -> None:
    base = datetime.now(timezone.utc) - timedelta(hours=1)

    def emit(zone: str, minutes: int) -> int:
        at = (base + timedelta(minutes=minutes)).isoformat()
        body = {"event": "sensor.hot", "payload": {"zone": zone}, "occurred": at}
        return int(lab.api("POST", "events", body)["id"])

    wanted = [emit("a", 0), emit("a", 5), emit("a", 10)]
    emit("b", 7)
    lab.api("POST", "events", {"event": "sensor.cold", "payload": {"zone": "a"}})
    section = page.locator(f"{PANEL} .jp-Flows-section[data-section='automations']")
    section.get_by_role("button", name="New automation").click()
    editor = page.locator(".jp-Flows-automationEditor")
    expect(editor).to_be_visible(timeout=SLOW)
    editor.get_by_label("Name", exact=True).fill("hot-zone-a")
    editor.get_by_label("Event", exact=True).fill("sensor.hot")
    editor.get_by_label("Match (JSON)", exact=True).fill('{"zone": "a"}')
    editor.get_by_label("Type", exact=True).select_option("cancel-flow-run")

    # a bad threshold: the server's reason at the field
    editor.get_by_label("Threshold", exact=True).fill("0")
    editor.get_by_role("button", name="Preview last 24 h").click()
    threshold = editor.locator(".jp-Flows-field[data-field='Threshold']")
    expect(threshold).to_have_attribute("data-invalid", "true", timeout=SLOW)
    expect(threshold.locator(".jp-Flows-fieldError")).to_contain_text("greater than or equal")

    editor.get_by_label("Threshold", exact=True).fill("1")
    editor.get_by_role("button", name="Preview last 24 h").click()
    firings = editor.get_by_label("Firings", exact=True).locator("li")
    expect(firings).to_have_count(3, timeout=SLOW)
    ids = [int(f.get_attribute("data-event-id")) for f in firings.all()]
    assert ids == wanted
    expect(editor.locator(".jp-Flows-preview h3")).to_contain_text("Would have fired 3 times")
    screenshot(page, "automation-preview.png")

    editor.get_by_role("button", name="Create").click()
    expect(editor).to_have_count(0, timeout=SLOW)
    item = section.locator("li.jp-Flows-automation[data-automation='hot-zone-a']")
    expect(item).to_be_visible(timeout=SLOW)
    stored = lab.api("GET", "automations/hot-zone-a")
    assert stored["trigger"]["match"] == {"zone": "a"}
    assert stored["action"]["type"] == "cancel-flow-run"
    item.get_by_role("switch", name="hot-zone-a enabled").click()
    expect(item).to_have_attribute("data-enabled", "false", timeout=SLOW)
    item.get_by_role("button", name="Delete hot-zone-a").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(item).to_have_count(0, timeout=SLOW)
    assert lab.api("GET", "automations")["items"] == []
