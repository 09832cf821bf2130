"""``DaskTaskRunner``: task bodies run on a ``dask.distributed`` cluster.

States, retries, caching and timeouts stay in the flow's process (so every transition is
recorded as usual); only the function body is shipped to Dask, and the logs and
``log_prints`` lines it writes there come back with its result (``core.remote_body``).
Install with ``pip install jupyter-flows[dask]``.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..core.remote_body import remote_body, unwrap_outcome
from ..core.runners import TaskRunner

__all__ = ["DaskTaskRunner"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
#: task bodies per ``client.map`` call, at most
MAX_BATCH = 1000


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
        self._batches: _Batches | None = None

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
        if self._batches is None:
            self._batches = _Batches(self.client)
        waiter = self._batches.put(remote_body(fn, args, kwargs))
        try:
            data: bytes = waiter.result()
        except BaseException:
            self._batches.cancel(waiter)
            raise
        result: T = unwrap_outcome(data)
        return result

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._batches is not None:
            self._batches.close()
            self._batches = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __repr__(self) -> str:
        return f"DaskTaskRunner(address={self.address!r})"


def _run(body: Callable[[], bytes]) -> bytes:
    """On a Dask worker: one task body (``client.map`` needs one function for all)."""
    return body()


class _Batches:
    """Task bodies go to Dask in batches: each ``client.map`` call takes every body that
    waits (one scheduler message for many tasks instead of one each), from a thread of its
    own; each caller waits on its own future."""

    def __init__(self, client: Any):
        self.client = client
        self._queue: queue.SimpleQueue[tuple[Any, concurrent.futures.Future[bytes]] | None]
        self._queue = queue.SimpleQueue()
        self._dask: dict[concurrent.futures.Future[bytes], Any] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._send, name="jupyter-flows-dask-batches")
        self._thread.daemon = True
        self._thread.start()

    def put(self, body: Any) -> concurrent.futures.Future[bytes]:
        waiter: concurrent.futures.Future[bytes] = concurrent.futures.Future()
        self._queue.put((body, waiter))
        return waiter

    def cancel(self, waiter: concurrent.futures.Future[bytes]) -> None:
        """The caller gave up (a timeout, a cancelled flow run): cancel its Dask task."""
        waiter.cancel()
        with self._lock:
            future = self._dask.pop(waiter, None)
        if future is not None:
            future.cancel()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _send(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._submit(batch)
                    return
                batch.append(item)
            self._submit(batch)

    def _submit(self, batch: list[tuple[Any, concurrent.futures.Future[bytes]]]) -> None:
        live = [(body, waiter) for body, waiter in batch if waiter.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            futures = self.client.map(_run, [body for body, _ in live], pure=False)
        except BaseException as exc:  # noqa: BLE001 - e.g. the scheduler is gone
            for _, waiter in live:
                waiter.set_exception(exc)
            return
        for (_, waiter), future in zip(live, futures, strict=True):
            with self._lock:
                self._dask[waiter] = future
            future.add_done_callback(functools.partial(self._done, waiter))

    def _done(self, waiter: concurrent.futures.Future[bytes], future: Any) -> None:
        with self._lock:
            self._dask.pop(waiter, None)
        if waiter.done():
            return
        try:
            waiter.set_result(future.result())
        except BaseException as exc:  # noqa: BLE001 - the caller raises it
            if not waiter.done():
                waiter.set_exception(exc)
