"""What ``deploy`` packs of an entrypoint (``client.bundles.local_source``)."""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import pytest

from jupyter_flows.client.bundles import local_source
from tests.helpers import write_notebook


def _names(bundle: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        return sorted(m.name for m in tar)


class TestLocalSource:
    def test_a_notebook_alone(self, tmp_path: Path) -> None:
        (tmp_path / "nb").mkdir()
        write_notebook(tmp_path / "nb" / "etl.ipynb", "n = 1", "n")
        (tmp_path / "nb" / "data.csv").write_text("a\n")
        found = local_source("nb/etl.ipynb", tmp_path)
        assert found is not None
        assert found.entrypoint == "etl.ipynb" and _names(found.bundle) == ["etl.ipynb"]

    def test_a_file_alone_or_its_top_level_package(self, tmp_path: Path) -> None:
        (tmp_path / "flows.py").write_text("x = 1\n")
        found = local_source("flows.py:etl", tmp_path)
        assert found is not None
        assert (found.entrypoint, _names(found.bundle)) == ("flows.py:etl", ["flows.py"])
        sub = tmp_path / "proj" / "pkg" / "sub"
        sub.mkdir(parents=True)
        for folder in (sub.parent, sub):
            (folder / "__init__.py").write_text("")
        (sub / "flows.py").write_text("from pkg import helpers\n")
        (sub.parent / "helpers.py").write_text("y = 2\n")
        (tmp_path / "proj" / "unrelated.txt").write_text("not packed\n")
        found = local_source("proj/pkg/sub/flows.py:etl", tmp_path)
        assert found is not None and found.root == tmp_path / "proj"
        assert found.entrypoint == "pkg/sub/flows.py:etl"
        assert _names(found.bundle) == [
            "pkg/__init__.py",
            "pkg/helpers.py",
            "pkg/sub/__init__.py",
            "pkg/sub/flows.py",
        ]

    def test_a_module_entrypoint_packs_its_package_under_the_root(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pkg = tmp_path / "mypkg_for_bundles"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        (pkg / "flows.py").write_text("z = 3\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        found = local_source("mypkg_for_bundles.flows:etl", tmp_path)
        assert found is not None and found.entrypoint == "mypkg_for_bundles.flows:etl"
        assert _names(found.bundle) == [
            "mypkg_for_bundles/__init__.py",
            "mypkg_for_bundles/flows.py",
        ]
        sys.modules.pop("mypkg_for_bundles", None)

    def test_nothing_here_is_a_path_on_the_server(self, tmp_path: Path) -> None:
        assert local_source("missing.ipynb", tmp_path) is None
        assert local_source("missing.py:etl", tmp_path) is None
        assert local_source("json:loads", tmp_path) is None  # installed, not under the root
