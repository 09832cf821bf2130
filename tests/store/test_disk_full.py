"""A real full disk (a 3 MiB tmpfs): records wait, nothing committed is lost, and they are
written once there is room again."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_flows.core.records import LogInfo
from jupyter_flows.exceptions import StoreError
from jupyter_flows.store import open_store
from jupyter_flows.store.recorder import SqlRecorder
from jupyter_flows.store.repository import RunStore

from . import builders as b


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("mounting a tmpfs needs root")
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        message = f"cannot mount a tmpfs: {done.stderr.decode().strip()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_records_wait_while_the_disk_is_full(small_disk: Path) -> None:
    engine = open_store(f"sqlite:///{small_disk / 'flows.sqlite'}")
    recorder = SqlRecorder(engine, flush_interval=3600)
    try:
        flow = b.flow_run()
        recorder.flow_run_created(flow)
        recorder.flush()
        filler = small_disk / "filler"
        with filler.open("wb", buffering=0) as f:  # take (nearly) all the room left
            try:  # (unbuffered: closing it has nothing left to write on a full disk)
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        lines = [
            LogInfo(flow.id, None, 20, "t", f"line {i} " + "x" * 500, b.at(i)) for i in range(2000)
        ]
        for line in lines:
            recorder.log(line)
        with pytest.raises(StoreError, match="full|disk"):
            recorder.flush()
        assert RunStore(engine).read_flow_run(flow.id).id == flow.id  # committed: still there
        filler.unlink()  # room again
        recorder.flush()
        logs = RunStore(engine).read_logs(flow.id)
        assert [log.message for log in logs] == [line.message for line in lines]  # in order
        assert recorder.dropped == []
    finally:
        recorder.close()
        engine.dispose()
