"""``core.results.ResultMirror``: what a run process without a database keeps on the server
too. The mirror here is a directory-backed one (another ``ResultStore``): the same contract
as ``client.results.ServerResults``, without a server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_flows import INPUTS, flow, task
from jupyter_flows.core import results
from jupyter_flows.core.results import (
    JSONSerializer,
    ResultRef,
    ResultStore,
    check_result_file,
)


class DirMirror:
    """A mirror in a directory of its own; ``refuse`` makes uploads fail (a 413)."""

    def __init__(self, root: Path):
        self.store = ResultStore(root)
        self.refuse = False
        self.uploads: list[str] = []

    def upload(self, key: str, content: bytes) -> None:
        if self.refuse:
            raise OSError("HTTP 413: over FlowsApp.max_result_size")
        self.uploads.append(key)
        self.store.write_bytes(key, content)

    def download(self, key: str) -> bytes | None:
        return self.store.read_bytes(key)


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[DirMirror]:
    found = DirMirror(tmp_path / "server")
    results.set_result_mirror_factory(lambda: found)
    try:
        yield found
    finally:
        results.set_result_mirror_factory(None)


class TestResultMirror:
    def test_a_written_result_is_uploaded_and_read_back_elsewhere(
        self, tmp_path: Path, mirror: DirMirror
    ) -> None:
        here = ResultStore(tmp_path / "worker-1")
        here.write("k" * 40, {"rows": [1, 2]}, JSONSerializer())
        assert mirror.uploads == ["k" * 40]
        elsewhere = ResultStore(tmp_path / "worker-2")  # an empty result directory
        assert elsewhere.read("k" * 40) == (True, {"rows": [1, 2]})
        assert elsewhere.path("k" * 40).exists()  # kept locally once downloaded
        assert elsewhere.read("missing") == (False, None)

    def test_a_ref_to_another_workers_file_reads_the_mirror(
        self, tmp_path: Path, mirror: DirMirror
    ) -> None:
        stored = ResultStore(tmp_path / "worker-1").write("user/key.json", 7, JSONSerializer())
        Path(stored.location).unlink()  # that worker's disk is not this one's
        assert ResultRef("user/key.json", location=stored.location).load_result() == 7
        copied = ResultRef("user/key.json", root=str(tmp_path / "worker-2")).copy_to("new")
        assert copied is not None and Path(copied.location).exists()
        assert mirror.uploads == ["user/key.json", "new"]

    def test_a_refused_upload_keeps_the_local_result(
        self, tmp_path: Path, mirror: DirMirror, caplog: pytest.LogCaptureFixture
    ) -> None:
        mirror.refuse = True
        store = ResultStore(tmp_path / "worker-1")
        with caplog.at_level(logging.WARNING):
            store.write("big", "x" * 100, JSONSerializer())
        assert store.read("big") == (True, "x" * 100)
        assert "is not on the server" in caplog.text

    def test_a_cache_hit_on_another_worker_comes_from_the_mirror(
        self, tmp_path: Path, mirror: DirMirror
    ) -> None:
        calls: list[int] = []

        @task(cache_policy=INPUTS, result_storage=str(tmp_path / "worker-1"))
        def double(x: int) -> int:
            calls.append(x)
            return 2 * x

        @flow
        def first() -> int:
            return double(4)

        moved = double.with_options(result_storage=str(tmp_path / "worker-2"))

        @flow
        def second() -> int:
            return moved(4)

        assert first() == 8 and mirror.uploads
        assert not list((tmp_path / "worker-2").rglob("*"))  # nothing there yet
        assert second() == 8
        assert calls == [4]  # the body ran once: worker-2 read the cache entry back


class TestCheckResultFile:
    @pytest.mark.parametrize(
        ("content", "problem"),
        [
            (b"no newline", "no header line"),
            (b"{not json\n1", "not JSON"),
            (b'{"x": 1}\n1', "names no serializer"),
            (b'{"serializer": "nope"}\n1', "unknown serializer"),
            (b'{"serializer": "json", "expires": "soon"}\n1', "soon"),
        ],
    )
    def test_what_is_not_a_result_file(self, content: bytes, problem: str) -> None:
        found = check_result_file(content)
        assert found is not None and problem in found

    def test_a_result_file(self) -> None:
        assert check_result_file(b'{"serializer": "json", "expires": null}\n[1]') is None
