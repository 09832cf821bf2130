"""The file routes of ``FlowsClient``: source bundles and output notebooks (a mixin).

Their bodies are bytes, not JSON: ``upload_source`` sends a deployment's source bundle
(``execution.source_bundle``) and returns its digest, ``fetch_source`` reads one back (what
a worker runs), ``upload_output`` sends a remote run's executed notebook.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from ..execution.source_bundle import digest as sha256_of
from ..execution.source_bundle import pack

__all__ = ["SourceCalls"]


class SourceCalls:
    """``PUT/GET sources/{digest}``, ``PUT flow_runs/{id}/output``."""

    base: str
    token: str
    timeout: float

    def _error(self, method: str, path: str, exc: urllib.error.HTTPError) -> Exception:
        raise NotImplementedError  # FlowsClient's

    def send_bytes(
        self, method: str, path: str, data: bytes | None = None, kind: str = ""
    ) -> bytes:
        """One call whose request or reply body is a file; the reply's bytes."""
        from .http import ClientError

        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"token {self.token}")
        if kind:
            request.add_header("Content-Type", kind)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            raise self._error(method, path, exc) from None
        except OSError as exc:
            raise ClientError(f"{method} {path}: {exc}") from None

    def upload_source(self, source: bytes | str | Path) -> str:
        """Upload a source bundle (its bytes, or a file or directory to pack); its digest."""
        if isinstance(source, bytes):
            data = source
        else:
            path = Path(source).resolve()
            data = pack(path.parent, [path.name])
        value = sha256_of(data)
        self.send_bytes("PUT", f"sources/{value}", data, "application/gzip")
        return value

    def fetch_source(self, digest: str) -> bytes:
        """The bytes of source bundle ``digest`` (checked against it)."""
        from .http import ClientError

        data = self.send_bytes("GET", f"sources/{digest}")
        if sha256_of(data) != digest:
            raise ClientError(f"GET sources/{digest}: the bundle received is not that digest")
        return data

    def upload_output(self, flow_run_id: str, notebook: bytes) -> None:
        """Upload the executed notebook of run ``flow_run_id`` (the server then serves it)."""
        self.send_bytes("PUT", f"flow_runs/{flow_run_id}/output", notebook, _NOTEBOOK)


_NOTEBOOK = "application/x-ipynb+json"
