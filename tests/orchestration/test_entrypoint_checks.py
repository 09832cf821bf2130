"""Creating a deployment never runs its code in the server, and never names the stdlib."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from jupyter_flows.exceptions import FlowDefinitionError
from jupyter_flows.execution.inspect_flow import inspect, resolve
from jupyter_flows.orchestration.schemas import CreateDeployment
from jupyter_flows.orchestration.service import OrchestrationService

SIDE_EFFECT = """
import os, pathlib
pathlib.Path({marker!r}).write_text(str(os.getpid()))
from jupyter_flows import flow

@flow
def f(n: int = 1) -> int:
    return n
"""


def _deploy(service: OrchestrationService, entrypoint: str) -> None:
    service.create_deployment(CreateDeployment(name="d", entrypoint=entrypoint))


@pytest.mark.parametrize(
    "entrypoint", ["os:system", "builtins:exec", "shutil:rmtree", "subprocess:run", "os.path:join"]
)
def test_the_standard_library_is_refused(service: OrchestrationService, entrypoint: str) -> None:
    with pytest.raises(FlowDefinitionError, match="standard library"):
        _deploy(service, entrypoint)


def test_a_file_outside_the_root_is_refused_and_never_imported(
    service: OrchestrationService, root: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "imported.txt"
    outside = tmp_path / "outside.py"
    outside.write_text(SIDE_EFFECT.format(marker=str(marker)))
    for entrypoint in ("../outside.py:f", f"{outside}:f"):
        with pytest.raises(FlowDefinitionError, match="outside the server root"):
            _deploy(service, entrypoint)
    assert not marker.exists()


def test_user_code_is_imported_in_a_subprocess_not_the_server(
    service: OrchestrationService, root: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "imported.txt"
    (root / "side.py").write_text(SIDE_EFFECT.format(marker=str(marker)))
    before = set(sys.modules)
    _deploy(service, "side.py:f")
    assert int(marker.read_text()) != os.getpid()  # its top-level code ran elsewhere
    assert not [m for m in set(sys.modules) - before if "side" in m]
    created = service.read_deployment("d")
    assert created.parameter_schema["properties"]["n"]["type"] == "integer"


def test_a_module_under_the_root_is_allowed_an_installed_package_only_if_allowed(
    service: OrchestrationService, root: Path
) -> None:
    (root / "flows" / "__init__.py").write_text("")
    _deploy(service, "flows.etl:etl")
    with pytest.raises(FlowDefinitionError, match="allowed_entrypoint_packages"):
        service.create_deployment(CreateDeployment(name="e", entrypoint="jupyter_flows:flow"))


def test_an_import_that_hangs_times_out(root: Path) -> None:
    (root / "hang.py").write_text("import time\ntime.sleep(60)\n")
    with pytest.raises(FlowDefinitionError, match="longer than 2 s"):
        inspect("hang.py:f", root, timeout=2)


def test_an_import_error_names_the_problem(root: Path) -> None:
    (root / "broken.py").write_text("def f(:\n")
    with pytest.raises(FlowDefinitionError, match="SyntaxError"):
        inspect("broken.py:f", root)


@pytest.mark.parametrize("entrypoint", ["f", "x.py:", ":f", "a b:f", "x.py:not-a-name"])
def test_malformed_entrypoints(root: Path, entrypoint: str) -> None:
    with pytest.raises(FlowDefinitionError):
        resolve(entrypoint, root)
