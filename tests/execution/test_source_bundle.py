"""Source bundles: deterministic packing, and unpacking that writes nothing outside."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from jupyter_flows.execution.source_bundle import BundleError, digest, pack, unpack


def _tar(*entries: tarfile.TarInfo, data: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info in entries:
            if info.isfile():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buffer.getvalue()


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


class TestPack:
    def test_same_files_same_digest(self, tmp_path: Path) -> None:
        (tmp_path / "pkg").mkdir()
        (tmp_path / "pkg" / "__init__.py").write_text("")
        (tmp_path / "pkg" / "flows.py").write_text("x = 1\n")
        (tmp_path / "pkg" / "__pycache__").mkdir()
        (tmp_path / "pkg" / "__pycache__" / "flows.cpython-311.pyc").write_bytes(b"\0")
        first = pack(tmp_path, ["pkg"])
        (tmp_path / "pkg" / "flows.py").touch()  # a newer mtime changes nothing
        assert pack(tmp_path, ["pkg"]) == first
        with tarfile.open(fileobj=io.BytesIO(first)) as tar:
            assert tar.getnames() == ["pkg/__init__.py", "pkg/flows.py"]
        (tmp_path / "pkg" / "flows.py").write_text("x = 2\n")
        assert digest(pack(tmp_path, ["pkg"])) != digest(first)

    def test_round_trip(self, tmp_path: Path) -> None:
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "etl.py").write_text("print('hi')\n")
        out = unpack(pack(tmp_path / "src", ["etl.py"]), tmp_path / "out")
        assert (out / "etl.py").read_text() == "print('hi')\n"

    def test_missing_source(self, tmp_path: Path) -> None:
        with pytest.raises(BundleError, match="nope.py"):
            pack(tmp_path, ["nope.py"])


class TestUnpackRefuses:
    @pytest.mark.parametrize(
        ("entries", "why"),
        [
            ([tarfile.TarInfo("../evil.py")], "'..'"),
            ([tarfile.TarInfo("a/../../evil.py")], "'..'"),
            ([tarfile.TarInfo("/tmp/evil.py")], "absolute path"),
            ([_link("out", "/etc")], "absolute path"),
            ([_link("out", "../..")], "outside"),
            ([_link("a/out", "../../x")], "outside"),
            ([_link("hard", "../evil.py", tarfile.LNKTYPE)], "not a file"),
            ([_link("fifo", "", tarfile.FIFOTYPE)], "not a file"),
        ],
    )
    def test_unsafe_entry(self, tmp_path: Path, entries: list[tarfile.TarInfo], why: str) -> None:
        dest = tmp_path / "box" / "bundle"
        before = sorted(tmp_path.rglob("*"))
        with pytest.raises(BundleError, match=why):
            unpack(_tar(*entries), dest)
        assert not dest.exists()
        assert sorted(tmp_path.rglob("*")) == before + [tmp_path / "box"]  # nothing else
        assert not (tmp_path / "evil.py").exists()

    def test_write_through_an_inner_link_that_escapes(self, tmp_path: Path) -> None:
        """A link that points inside, then a file written through a second that does not."""
        dest = tmp_path / "box" / "bundle"
        entries = [_link("ok", "."), _link("ok/up", ".."), tarfile.TarInfo("ok/up/evil.py")]
        with pytest.raises(BundleError, match="'ok/up' points outside"):
            unpack(_tar(*entries), dest)
        assert not dest.exists()
        assert not (tmp_path / "box" / "evil.py").exists()

    def test_not_a_tar(self, tmp_path: Path) -> None:
        with pytest.raises(BundleError, match="cannot be unpacked"):
            unpack(b"not a tar at all", tmp_path / "bundle")
        assert not (tmp_path / "bundle").exists()

    def test_inner_link_is_kept(self, tmp_path: Path) -> None:
        entries = [tarfile.TarInfo("a.py"), _link("b.py", "a.py")]
        out = unpack(_tar(*entries), tmp_path / "bundle")
        assert (out / "b.py").is_symlink() and (out / "b.py").read_text() == "x"
