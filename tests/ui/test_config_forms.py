"""The Variables and blocks section's forms in a real JupyterLab (headless Chromium): create,
edit and delete a variable (invalid JSON is refused at the field before anything is sent; the
server's 400 shows at the field it names), create, replace and delete a Secret block whose
value never reaches the page's DOM nor any response the page reads. Every change is checked
over REST. Screenshots (the 250 px side panel): ``tests/artifacts/config-form-*.png``."""

from __future__ import annotations

import urllib.error
from typing import Any

import pytest

from tests.ui.lab import Lab, panel_screenshot

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

pytestmark = pytest.mark.slow

SECTION = "#jupyter-flows-panel [data-section='config']"


def _field_error(form: Any, label: str) -> Any:
    return form.locator(f".jp-Flows-field[data-field='{label}'] .jp-Flows-fieldError")


def _get(lab: Lab, route: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = lab.api("GET", route)
    except urllib.error.HTTPError as e:
        assert e.code == 404, e
        return None
    return found


def _confirm_delete(page: Any, button: Any) -> None:
    button.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("This cannot be undone.")
    dialog.get_by_role("button", name="Delete").click()
    expect(dialog).to_have_count(0)


class TestVariableForms:
    def test_create_edit_delete_with_errors_at_the_fields(self, lab: Lab, page: Any) -> None:
        sent: list[str] = []
        page.on(
            "request",
            lambda r: sent.append(r.method) if "/jupyter-flows/api/variables/" in r.url else None,
        )
        section = page.locator(SECTION)
        section.get_by_role("button", name="New variable").click()
        form = section.get_by_role("form", name="New variable")
        create = form.get_by_role("button", name="Create")
        expect(create).to_be_disabled()
        expect(form.locator(".jp-Flows-blocked")).to_have_text("Enter a name for the variable.")
        form.get_by_label("Name").fill("Warehouse Config")  # the server refuses the name
        expect(form.locator(".jp-Flows-blocked")).to_contain_text("Enter a JSON value")
        value = form.get_by_label("Value (JSON)")
        value.fill('{"bucket": "s3://raw", "rows": 3')  # not JSON: refused here
        form.get_by_label("Tags").fill("prod, etl")
        create.click()
        expect(_field_error(form, "Value (JSON)")).to_contain_text("Not valid JSON")
        expect(value).to_have_attribute("aria-invalid", "true")
        assert sent == [], "invalid JSON was sent"
        panel_screenshot(page, "config-form-json-error.png", form)

        value.fill('{"bucket": "s3://raw", "rows": 3}')
        expect(_field_error(form, "Value (JSON)")).to_have_count(0)
        create.click()
        name_error = _field_error(form, "Name")
        expect(name_error).to_contain_text("lowercase letters, digits, dashes and underscores")
        expect(form.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
        assert sent == ["PUT"]
        panel_screenshot(page, "config-form-400.png", form)

        form.get_by_label("Name").fill("warehouse-config")
        form.get_by_label("Name").press("Enter")
        expect(form).to_have_count(0)
        record = _get(lab, "variables/warehouse-config")
        assert record is not None
        assert record["value"] == {"bucket": "s3://raw", "rows": 3}
        assert record["tags"] == ["etl", "prod"]  # the server sorts them
        item = section.locator(".jp-Flows-config[data-variable='warehouse-config']")
        expect(item).to_contain_text("s3://raw")
        expect(item).to_contain_text("etl, prod")

        item.get_by_role("button", name="Edit variable warehouse-config").click()
        form = item.get_by_role("form", name="Edit variable warehouse-config")
        expect(form.get_by_label("Name")).to_have_attribute("readonly", "")
        value = form.get_by_label("Value (JSON)")
        expect(value).to_be_focused()
        value.fill('["s3://raw", "s3://clean"]')
        form.get_by_label("Tags").fill("prod")
        panel_screenshot(page, "config-form-edit.png", form)
        form.get_by_role("button", name="Save").click()
        expect(form).to_have_count(0)
        record = _get(lab, "variables/warehouse-config")
        assert record is not None
        assert (record["value"], record["tags"]) == (["s3://raw", "s3://clean"], ["prod"])
        expect(item).to_contain_text("s3://clean")

        _confirm_delete(page, item.get_by_role("button", name="Delete variable warehouse-config"))
        expect(item).to_have_count(0, timeout=20_000)
        assert _get(lab, "variables/warehouse-config") is None


class TestSecretForms:
    def test_secret_values_never_reach_the_page(self, lab: Lab, page: Any) -> None:
        first, second = "hunter2-panel-typed-secret", "correct-horse-battery-staple"
        responses: list[Any] = []
        page.on("response", lambda r: responses.append(r) if "/jupyter-flows/" in r.url else None)
        section = page.locator(SECTION)

        section.get_by_role("button", name="New secret").click()
        form = section.get_by_role("form", name="New secret")
        form.get_by_label("Name").fill("Warehouse_Password")  # refused by the server
        password = form.get_by_label("Value", exact=True)
        expect(password).to_have_attribute("type", "password")
        expect(form.locator(".jp-Flows-blocked")).to_have_text("Enter the secret value.")
        password.fill(first)
        form.get_by_role("button", name="Create").click()
        expect(_field_error(form, "Name")).to_contain_text("lowercase letters, digits and dashes")
        assert lab.api("GET", "block_documents?limit=200")["total"] == 0
        panel_screenshot(page, "config-form-secret-400.png", form)
        form.get_by_label("Name").fill("warehouse-password")
        form.get_by_role("button", name="Create").click()
        expect(form).to_have_count(0)
        record = _get(lab, "block_documents/secret/warehouse-password?include_secrets=true")
        assert record is not None
        assert (record["data"], record["secret_fields"]) == ({"value": first}, ["value"])
        item = section.locator(".jp-Flows-config[data-block='secret/warehouse-password']")
        expect(item).to_contain_text("********")

        item.get_by_role("button", name="Replace secret warehouse-password").click()
        form = item.get_by_role("form", name="Replace the value of secret warehouse-password")
        new_value = form.get_by_label("New value")
        expect(new_value).to_be_focused()
        expect(new_value).to_have_value("")  # the old value is not put back
        page.keyboard.type(second)
        page.keyboard.press("Enter")
        expect(form).to_have_count(0)
        record = _get(lab, "block_documents/secret/warehouse-password?include_secrets=true")
        assert record is not None and record["data"] == {"value": second}
        panel_screenshot(page, "config-form-secrets.png", item)

        dom = page.content()
        values = page.evaluate(
            "() => Array.from(document.querySelectorAll('input, textarea')).map(i => i.value)"
        )
        bodies = []
        for response in responses:
            try:
                bodies.append(response.text())
            except Exception:  # noqa: BLE001 - a redirect or a 204 has no body to read
                pass
        assert len(bodies) > 3, "no responses were read"
        for secret in (first, second):
            assert secret not in dom, "a secret value is in the page's DOM"
            assert not any(secret in v for v in values), "a secret value is left in an input"
            assert not any(secret in b for b in bodies), "a response the page read has a secret"

        _confirm_delete(page, item.get_by_role("button", name="Delete secret warehouse-password"))
        expect(item).to_have_count(0, timeout=20_000)
        assert _get(lab, "block_documents/secret/warehouse-password") is None
