"""``DaskTaskRunner``: task bodies run on a ``dask.distributed`` cluster.

States, retries, caching and timeouts stay in the flow's process (so every transition is
recorded as usual); only the function body is shipped to Dask, and the logs and
``log_prints`` lines it writes there come back with its result (``core.remote_body``).
Install with ``pip install jupyter-flows[dask]``.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from ..core.remote_body import remote_body, unwrap_outcome
from ..core.runners import TaskRunner

__all__ = ["DaskTaskRunner"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


class DaskTaskRunner(TaskRunner):
    """Run task bodies on Dask: an existing cluster (``address``) or a ``LocalCluster``.

    Parameters
    ----------
    address
        Scheduler address (``tcp://host:8786``); None starts a ``LocalCluster`` per flow run.
    cluster_kwargs
        Passed to ``LocalCluster`` (defaults: 127.0.0.1, no dashboard).
    client_kwargs
        Passed to ``distributed.Client``.
    """

    def __init__(
        self,
        address: str | None = None,
        cluster_kwargs: dict[str, Any] | None = None,
        client_kwargs: dict[str, Any] | None = None,
        max_local_threads: int = 64,
    ):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ImportError(
                "DaskTaskRunner needs dask.distributed: pip install 'jupyter-flows[dask]'"
            ) from None
        self.address = address
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.client_kwargs = dict(client_kwargs or {})
        self.max_local_threads = max_local_threads
        self._client: Any = None
        self._cluster: Any = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def duplicate(self) -> DaskTaskRunner:
        return type(self)(
            self.address, self.cluster_kwargs, self.client_kwargs, self.max_local_threads
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            self.start()
        return self._client

    def start(self) -> None:
        if self._client is not None:
            return
        from distributed import Client, LocalCluster

        if self.address is None:
            options: dict[str, Any] = {
                "host": "127.0.0.1",
                "dashboard_address": None,
                "processes": True,
            }
            options.update(self.cluster_kwargs)
            self._cluster = LocalCluster(**options)
            logger.info("started Dask LocalCluster at %s", self._cluster.scheduler_address)
            self._client = Client(self._cluster, **self.client_kwargs)
        else:
            self._client = Client(self.address, **self.client_kwargs)

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                self.max_local_threads, thread_name_prefix="jupyter-flows-dask"
            )
        ctx = contextvars.copy_context()
        return self._pool.submit(ctx.run, fn, *args)

    def call(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        future = self.client.submit(remote_body(fn, args, kwargs), pure=False)
        try:
            data: bytes = future.result()
        except BaseException:
            future.cancel()
            raise
        result: T = unwrap_outcome(data)
        return result

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __repr__(self) -> str:
        return f"DaskTaskRunner(address={self.address!r})"
