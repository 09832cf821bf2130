"""The server's store of source bundles: verified by digest, size-limited, unpacked once."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_flows.exceptions import NotFound
from jupyter_flows.execution.source_bundle import BundleError, digest, pack
from jupyter_flows.orchestration.sources import SourceStore, SourceTooLarge


@pytest.fixture
def bundle(tmp_path: Path) -> bytes:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "etl.py").write_text("n = 1\n")
    return pack(tmp_path / "code", ["etl.py"])


class TestSourceStore:
    def test_put_read_unpack(self, tmp_path: Path, bundle: bytes) -> None:
        store = SourceStore(tmp_path / "sources")
        stored = store.put(digest(bundle), bundle)
        assert stored.created and stored.size == len(bundle)
        assert not store.put(digest(bundle), bundle).created  # the same bundle again
        assert store.read(digest(bundle)) == bundle
        out = store.unpacked(digest(bundle))
        assert (out / "etl.py").read_text() == "n = 1\n"
        assert store.unpacked(digest(bundle)) == out

    def test_tampered(self, tmp_path: Path, bundle: bytes) -> None:
        store = SourceStore(tmp_path / "sources")
        with pytest.raises(BundleError, match="^digest: .* is not the sha256 of the body"):
            store.put(digest(bundle), bundle + b"x")
        assert not list((tmp_path / "sources").glob("*.tar.gz"))

    def test_too_large(self, tmp_path: Path, bundle: bytes) -> None:
        store = SourceStore(tmp_path / "sources", max_bytes=len(bundle) - 1)
        with pytest.raises(SourceTooLarge, match="max_source_bytes"):
            store.put(digest(bundle), bundle)

    def test_bad_or_unknown_digest(self, tmp_path: Path) -> None:
        store = SourceStore(tmp_path / "sources")
        with pytest.raises(ValueError, match="digest: '../x' is not a sha256"):
            store.read("../x")
        with pytest.raises(NotFound):
            store.read("0" * 64)


class TestSharedByTheServersOfOneDatabase:
    def test_a_bundle_sent_to_one_server_is_served_by_another(
        self, tmp_path: Path, bundle: bytes, db_url: str
    ) -> None:
        from jupyter_flows.store.db import open_store

        engine = open_store(db_url)
        try:
            a = SourceStore(tmp_path / "server-a", engine=engine)
            b = SourceStore(tmp_path / "server-b", engine=engine)
            value = digest(bundle)
            assert a.put(value, bundle).created
            assert b.exists(value)  # not on b's disk: in the database
            assert b.read(value) == bundle
            assert (tmp_path / "server-b" / f"{value}.tar.gz").read_bytes() == bundle  # cached
            assert not b.put(value, bundle).created  # a's upload, sent to b again
            assert (b.unpacked(value) / "etl.py").read_text() == "n = 1\n"
        finally:
            engine.dispose()
