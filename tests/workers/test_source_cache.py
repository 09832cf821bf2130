"""A worker's cache of source bundles: one fetch per digest, shared, checked, atomic."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from jupyter_flows.execution.source_bundle import BundleError, digest, pack
from jupyter_flows.workers.source_cache import SourceCache, holds


def _bundle(tmp_path: Path) -> tuple[bytes, str]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "flows.py").write_text("x = 1\n")
    data = pack(src, ["flows.py"])
    return data, digest(data)


class TestSourceCache:
    def test_concurrent_runs_of_a_digest_share_one_fetch(self, tmp_path: Path) -> None:
        data, value = _bundle(tmp_path)
        calls: list[str] = []
        gate = threading.Event()

        def fetch(d: str) -> bytes:
            calls.append(d)
            gate.wait(5)
            return data

        cache = SourceCache(tmp_path / "cache", fetch)
        found: list[Path] = []
        threads = [
            threading.Thread(target=lambda: found.append(cache.path(value))) for _ in range(4)
        ]
        for t in threads:
            t.start()
        gate.set()
        for t in threads:
            t.join(10)
        assert calls == [value]
        assert found == [tmp_path / "cache" / value] * 4
        assert (found[0] / "flows.py").read_text() == "x = 1\n"
        assert [p.name for p in (tmp_path / "cache").iterdir()] == [value]  # no temp left
        assert SourceCache(tmp_path / "cache", lambda d: b"").path(value) == found[0]

    def test_a_bundle_that_is_not_its_digest_is_refused(self, tmp_path: Path) -> None:
        data, value = _bundle(tmp_path)
        cache = SourceCache(tmp_path / "cache", lambda d: data + b"x")
        with pytest.raises(BundleError, match="another one"):
            cache.path(value)
        assert not (tmp_path / "cache" / value).exists()
        with pytest.raises(BundleError, match="not a sha256"):
            cache.path("../etc")


class TestHolds:
    """A worker whose root has the deployed files runs there (with the files beside them)."""

    def test_the_folder_the_bundle_was_packed_from_holds_it(self, tmp_path: Path) -> None:
        data, value = _bundle(tmp_path)
        (tmp_path / "src" / "data.csv").write_text("a,b\n")  # beside it: not in the bundle
        unpacked = SourceCache(tmp_path / "cache", lambda d: data).path(value)
        (unpacked / "__pycache__").mkdir()  # what a run leaves there does not count
        (unpacked / "__pycache__" / "flows.cpython-311.pyc").write_bytes(b"\0")
        assert holds(tmp_path / "src", unpacked, value)

    def test_changed_or_missing_files_do_not(self, tmp_path: Path) -> None:
        data, value = _bundle(tmp_path)
        unpacked = SourceCache(tmp_path / "cache", lambda d: data).path(value)
        (tmp_path / "src" / "flows.py").write_text("x = 2\n")  # edited since the deploy
        assert not holds(tmp_path / "src", unpacked, value)
        assert not holds(tmp_path / "elsewhere", unpacked, value)
