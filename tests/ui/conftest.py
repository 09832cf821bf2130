"""Fixtures of the UI tests: a real ``jupyter lab`` and Debian's Chromium (via Playwright).

Chromium missing: the tests fail under CI and are skipped elsewhere.
"""

from __future__ import annotations

import urllib.error
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.ui.lab import TOKEN, Lab, open_panel


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """No per-test asyncio loop here (overrides pytest-jupyter's autouse fixture).

    The sync Playwright of the module-scoped ``browser`` keeps its own loop running between
    tests; pytest-jupyter's fixture would pick that loop up and close it after each test.
    """
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    """No in-process Jupyter server to clean up: the lab is a separate process."""
    yield None


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_chromium()
    server = Lab(tmp_path_factory.mktemp("lab"))
    server.start()
    try:
        try:
            server.get("/lab/api/settings/jupyter-flows:plugin")
        except urllib.error.HTTPError as e:
            pytest.fail(
                "the jupyter-flows lab extension is not installed "
                f"({e.code}); build it: cd labextension && jlpm install && jlpm build:prod"
            )
        health = server.api("GET", "health")
        assert health["status"] == "ok", health
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(lab: Lab, browser: Any) -> Iterator[Any]:
    """A fresh JupyterLab page (reset workspace) with the Flows panel open."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        tab.goto(f"{lab.url}lab?reset&token={TOKEN}", timeout=60_000)
        open_panel(tab)
        yield tab
        assert not errors, f"uncaught errors in the page: {errors}"
    finally:
        context.close()
