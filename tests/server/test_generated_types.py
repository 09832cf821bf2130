"""The side panel's generated types and state groups match the server's OpenAPI document.

``labextension/src/generated/`` is committed; ``jlpm gen:api`` (``scripts/gen-api.mjs``)
writes it from ``python -m jupyter_flows.server.openapi``. These tests run that script into
a temporary folder and compare byte for byte.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_flows.core.state_policy import state_groups
from jupyter_flows.server.app import API_BASE, ROUTES
from jupyter_flows.server.openapi import openapi_document

LAB = Path(__file__).resolve().parents[2] / "labextension"
GENERATED = LAB / "src" / "generated"
SCRIPT = LAB / "scripts" / "gen-api.mjs"
FILES = ("api.ts", "states.ts")


def _require_generator() -> None:
    """Fail under CI, skip elsewhere, without node or labextension's node_modules."""
    missing = []
    if shutil.which("node") is None:
        missing.append("node")
    if not (LAB / "node_modules" / "openapi-typescript").is_dir():
        missing.append("labextension/node_modules (`make setup` or `jlpm install`)")
    if missing:
        message = "cannot regenerate the TypeScript types: missing " + ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh ``src/generated`` from the current Python models."""
    _require_generator()
    out = tmp_path_factory.mktemp("generated")
    result = subprocess.run(
        ["node", str(SCRIPT), str(out)],
        cwd=LAB,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/gen-api.mjs failed:\n{result.stdout}\n{result.stderr}")
    return out


class TestGeneratedTypes:
    @pytest.mark.parametrize("name", FILES)
    def test_the_committed_file_is_current(self, regenerated: Path, name: str) -> None:
        fresh = (regenerated / name).read_bytes()
        committed = GENERATED / name
        if committed.is_file() and committed.read_bytes() == fresh:
            return
        old = committed.read_text().splitlines() if committed.is_file() else []
        diff = difflib.unified_diff(
            old, fresh.decode().splitlines(), "committed", "regenerated", lineterm="", n=1
        )
        shown = "\n".join(list(diff)[:60])
        pytest.fail(
            f"labextension/src/generated/{name} is stale: run `jlpm gen:api` in labextension/"
            f" (with the venv on PATH)\n{shown}"
        )

    def test_the_document_carries_the_state_groups(self) -> None:
        document = openapi_document(ROUTES, "/" + API_BASE)
        assert document["x-state-groups"] == state_groups()
