"""The Concurrency limits section's forms in a real JupyterLab (headless Chromium): create a
limit (by keyboard), edit its limit and active flag, reset it, delete it after a
confirmation; the server's 400 shows at the field it names, and a disabled submit says why.
Every change is checked over REST. Screenshots (the 250 px side panel):
``tests/artifacts/limit-form-*.png``."""

from __future__ import annotations

import urllib.error
from typing import Any

import pytest

from tests.ui.lab import Lab, panel_screenshot

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

SECTION = "#jupyter-flows-panel [data-section='concurrency']"


def _field_error(form: Any, label: str) -> Any:
    return form.locator(f".jp-Flows-field[data-field='{label}'] .jp-Flows-fieldError")


def _limit(lab: Lab, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = lab.api("GET", f"concurrency_limits/{name}")
    except urllib.error.HTTPError as e:
        assert e.code == 404, e
        return None
    return found


class TestLimitForms:
    def test_create_by_keyboard_and_a_server_400_at_the_field(self, lab: Lab, page: Any) -> None:
        section = page.locator(SECTION)
        new = section.get_by_role("button", name="New limit")
        new.focus()
        page.keyboard.press("Enter")
        form = section.get_by_role("form", name="New concurrency limit")
        expect(form).to_be_visible()
        name = form.get_by_label("Name")
        expect(name).to_be_focused()
        create = form.get_by_role("button", name="Create")
        expect(create).to_be_disabled()  # with its reason shown
        expect(form.locator(".jp-Flows-blocked")).to_have_text("Enter a name for the limit.")

        page.keyboard.type("ui/warehouse")  # '/' is refused by the server, not the form
        page.keyboard.press("Tab")
        expect(form.get_by_label("Limit (slots)")).to_be_focused()
        page.keyboard.press("Control+A")
        page.keyboard.type("3")
        page.keyboard.press("Tab")
        page.keyboard.press("Control+A")
        page.keyboard.type("0.5")
        page.keyboard.press("Tab")
        expect(form.get_by_role("checkbox")).to_be_focused()
        page.keyboard.press("Space")  # inactive
        expect(form.get_by_role("checkbox")).not_to_be_checked()
        expect(create).to_be_enabled()
        expect(form.locator(".jp-Flows-blocked")).to_have_count(0)
        page.keyboard.press("Tab")
        expect(create).to_be_focused()
        page.keyboard.press("Enter")

        error = _field_error(form, "Name")
        expect(error).to_contain_text("may not contain")
        expect(name).to_have_attribute("aria-invalid", "true")
        assert _limit(lab, "ui/warehouse") is None
        panel_screenshot(page, "limit-form-400.png", form)

        name.fill("ui-warehouse")  # typing clears the error
        expect(error).to_have_count(0)
        panel_screenshot(page, "limit-form-create.png", form)
        name.press("Enter")  # Enter in a field submits
        expect(form).to_have_count(0)
        record = _limit(lab, "ui-warehouse")
        assert record is not None
        assert (record["limit"], record["slot_decay_per_second"], record["active"]) == (
            3,
            0.5,
            False,
        )
        item = section.locator(".jp-Flows-limit[data-limit='ui-warehouse']")
        expect(item).to_contain_text("inactive · 0 of 3 slots held · decays 0.5/s")

    def test_edit_reset_and_delete(self, lab: Lab, page: Any) -> None:
        lab.api("POST", "concurrency_limits", {"name": "ui-db", "limit": 2})
        holder = {"type": "process", "id": "etl-9", "name": "nightly-load"}
        lease = lab.api(
            "POST", "concurrency_leases", {"names": ["ui-db"], "slots": 2, "holder": holder}
        )
        assert lease["acquired"], lease
        section = page.locator(SECTION)
        item = section.locator(".jp-Flows-limit[data-limit='ui-db']")
        expect(item).to_contain_text("2 of 2 slots held", timeout=20_000)

        item.get_by_role("button", name="Edit ui-db").click()
        form = item.get_by_role("form", name="Edit concurrency limit ui-db")
        slots = form.get_by_label("Limit (slots)")
        expect(slots).to_have_value("2")
        slots.fill("99999999999")  # over the server's bound: its 400, at the field
        form.get_by_role("button", name="Save").click()
        expect(_field_error(form, "Limit (slots)")).to_contain_text("less than or equal")
        panel_screenshot(page, "limit-form-edit-400.png", form)
        assert _limit(lab, "ui-db")["limit"] == 2  # type: ignore[index]
        slots.fill("5")
        form.get_by_role("checkbox").uncheck()
        form.get_by_role("button", name="Save").click()
        expect(form).to_have_count(0)
        record = _limit(lab, "ui-db")
        assert record is not None and (record["limit"], record["active"]) == (5, False)
        expect(item).to_contain_text("inactive · 2 of 5 slots held")

        item.get_by_role("button", name="Reset ui-db").click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("Reset the limit “ui-db”?")
        dialog.get_by_role("button", name="Reset").click()
        expect(item).to_contain_text("0 of 5 slots held", timeout=20_000)
        assert _limit(lab, "ui-db")["active_slots"] == 0  # type: ignore[index]

        item.get_by_role("button", name="Delete ui-db").click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("Delete the limit “ui-db”?")
        panel_screenshot(page, "limit-form-delete-confirm.png")
        dialog.get_by_role("button", name="Keep it").click()
        expect(dialog).to_have_count(0)
        assert _limit(lab, "ui-db") is not None
        item.get_by_role("button", name="Delete ui-db").click()
        page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
        expect(item).to_have_count(0, timeout=20_000)
        assert _limit(lab, "ui-db") is None

    def test_the_side_panel_is_its_default_width(self, lab: Lab, page: Any) -> None:
        box = page.locator("#jupyter-flows-panel").bounding_box()
        assert box is not None and 200 <= box["width"] <= 300, box
