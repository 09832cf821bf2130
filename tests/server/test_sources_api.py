"""Source bundles and output notebooks through the REST API of a real in-process server.

A deployment names an uploaded bundle by its sha256 (its entrypoint is then checked in the
bundle, not under the server root); uploads are checked (digest, size, entries); a
worker's token fetches bundles but never uploads; a run's token uploads its own run's
executed notebook, which the output route then serves.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyter_flows.execution.source_bundle import digest, pack
from tests.helpers import write_notebook
from tests.server.test_scoped_tokens import _as, _setup

LIMIT = 4096


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    jp_server_config["FlowsApp"].update(
        sources_dir=str(tmp_path / "sources"), max_source_bytes=LIMIT
    )
    return jp_server_config


def _notebook_bundle(tmp_path: Path) -> tuple[bytes, str]:
    """A bundle of a parameterised notebook that is not under the server root."""
    src = tmp_path / "elsewhere"
    src.mkdir(exist_ok=True)
    write_notebook(src / "report.ipynb", "n = 1", "print(n * 2)")
    data = pack(src, ["report.ipynb"])
    return data, digest(data)


def _put(api: Any, value: str, data: bytes, **headers: str) -> Any:
    return api(
        "sources",
        value,
        method="PUT",
        body=data,
        headers={"Content-Type": "application/gzip", **headers},
    )


def _evil_bundle() -> bytes:
    """A well-formed .tar.gz whose one entry climbs out with '..'."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("../evil.py")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"x\n"))
    return gzip.compress(raw.getvalue())


class TestSources:
    async def test_upload_fetch_and_deploy_from_the_bundle(
        self, api: Any, tmp_path: Path, jp_root_dir: Path
    ) -> None:
        data, value = _notebook_bundle(tmp_path)
        status, reply = await _put(api, value, data)
        assert status == 201 and reply == {"digest": value, "size": len(data)}
        status, reply = await _put(api, value, data)  # idempotent
        assert status == 200 and reply["digest"] == value
        assert not (jp_root_dir / "report.ipynb").exists()  # only in the bundle
        body = {"name": "r", "entrypoint": "report.ipynb", "source_digest": value}
        status, dep = await api("deployments", method="POST", body=body)
        assert status == 201, dep
        assert dep["source_digest"] == value and dep["kind"] == "notebook"
        assert "n" in dep["parameter_schema"]["properties"]  # read from the bundle
        status, again = await api("deployments", "r")
        assert again["source_digest"] == value
        # a run of it is validated against the bundle's notebook too
        status, reply = await api(
            "deployments", "r", "run", method="POST", body={"parameters": {"nope": 1}}
        )
        assert status == 400 and "nope" in reply["message"]
        status, run = await api("deployments", "r", "run", method="POST", body={})
        assert status == 201
        status, claimed = await api(
            "work_pools", "default", "claim", method="POST", body={"worker": "w"}
        )
        assert claimed["items"][0]["deployment"]["source_digest"] == value

    async def test_the_bytes_come_back(self, jp_fetch: Any, api: Any, tmp_path: Path) -> None:
        data, value = _notebook_bundle(tmp_path)
        await _put(api, value, data)
        response = await jp_fetch("jupyter-flows", "api", "sources", value)
        assert response.code == 200 and response.body == data
        assert response.headers["Content-Type"] == "application/gzip"

    async def test_bad_uploads(self, api: Any, tmp_path: Path) -> None:
        data, value = _notebook_bundle(tmp_path)
        other = "0" * 64
        status, reply = await _put(api, other, data)
        assert status == 400 and reply["message"].startswith("digest:"), reply
        status, reply = await _put(api, "not-a-digest", data)
        assert status == 400 and "digest" in reply["message"]
        big = gzip.compress(bytes(range(256)) * 64, compresslevel=0)
        assert len(big) > LIMIT
        status, reply = await _put(api, digest(big), big)
        assert status == 413 and "max_source_bytes" in reply["message"], reply
        evil = _evil_bundle()
        status, reply = await _put(api, digest(evil), evil)
        assert status == 400 and "'..'" in reply["message"], reply
        status, _ = await api("sources", digest(evil))
        assert status == 404  # nothing was kept
        status, reply = await api("sources", other)
        assert status == 404
        assert (await api("sources", value))[0] == 404  # (the refused uploads kept nothing)

    async def test_a_deployment_names_a_stored_bundle_only(
        self, api: Any, tmp_path: Path, jp_root_dir: Path
    ) -> None:
        body = {"name": "x", "entrypoint": "report.ipynb", "source_digest": "a" * 64}
        status, reply = await api("deployments", method="POST", body=body)
        assert status == 400 and reply["message"].startswith("source_digest:"), reply
        status, reply = await api(
            "deployments", method="POST", body={**body, "source_digest": "ABC"}
        )
        assert status == 400 and "source_digest" in reply["message"]
        write_notebook(jp_root_dir / "report.ipynb", "n = 1")
        status, dep = await api(
            "deployments", method="POST", body={"name": "x", "entrypoint": "report.ipynb"}
        )
        assert status == 201 and dep["source_digest"] is None
        status, reply = await api(
            "deployments", "x", method="PATCH", body={"source_digest": "b" * 64}
        )
        assert status == 400 and reply["message"].startswith("source_digest:")
        assert (await api("deployments", "x"))[1]["source_digest"] is None  # unchanged
        data, value = _notebook_bundle(tmp_path)
        await _put(api, value, data)
        status, dep = await api("deployments", "x", method="PATCH", body={"source_digest": value})
        assert status == 200 and dep["source_digest"] == value


class TestTokens:
    async def test_a_worker_fetches_but_never_uploads(
        self, api: Any, jp_fetch: Any, tmp_path: Path, jp_root_dir: Path
    ) -> None:
        made = await _setup(api, jp_root_dir)
        data, value = _notebook_bundle(tmp_path)
        for token in (made["w1"]["worker_token"], made["w1"]["run_token"]):
            status, _ = await _put(api, value, data, Authorization=f"token {token}")
            assert status == 403
        await _put(api, value, data)  # a user uploads it
        for token in (made["w1"]["worker_token"], made["w1"]["run_token"]):
            response = await jp_fetch("jupyter-flows", "api", "sources", value, headers=_as(token))
            assert response.code == 200 and response.body == data

    async def test_a_run_uploads_its_own_output_notebook(
        self, api: Any, tmp_path: Path, jp_root_dir: Path
    ) -> None:
        made = await _setup(api, jp_root_dir)
        mine, theirs = made["w1"], made["w2"]
        status, _ = await api("flow_runs", mine["run"], "output")
        assert status == 404
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
        text = nbformat.writes(notebook)
        as_mine = {"Authorization": f"token {mine['run_token']}"}
        headers = {"Content-Type": "application/x-ipynb+json", **as_mine}
        status, _ = await api("flow_runs", mine["run"], "output", method="PUT", body=text,
                              headers=headers)  # fmt: skip
        assert status == 204
        status, _ = await api("flow_runs", theirs["run"], "output", method="PUT", body=text,
                              headers=headers)  # fmt: skip
        assert status == 403  # another run's
        status, reply = await api("flow_runs", mine["run"], "output", method="PUT",
                                  body="{not json", headers=headers)  # fmt: skip
        assert status == 400 and reply["message"].startswith("body:")
        status, served = await api("flow_runs", mine["run"], "output")
        assert status == 200
        nbformat.validate(nbformat.reads(json.dumps(served), as_version=4))
        assert "".join(served["cells"][0]["source"]) == "1 + 1"
        worker = {"Authorization": f"token {mine['worker_token']}", "Content-Type": "x"}
        status, _ = await api("flow_runs", mine["run"], "output", method="PUT", body=text,
                              headers=worker)  # fmt: skip
        assert status == 403  # the run's token only
