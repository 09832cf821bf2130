"""Prefect's ``prefect.testing.utilities``: ``jupyter_flows_test_harness`` (alias
``prefect_test_harness``), a throwaway run database for the tests of your flows.

In a ``conftest.py``::

    import pytest
    from jupyter_flows.testing.utilities import jupyter_flows_test_harness

    @pytest.fixture(autouse=True, scope="session")
    def jupyter_flows_test_fixture():
        with jupyter_flows_test_harness():
            yield
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..core import settings, task_engine
from ..core.run_environment import RunEnvironment
from ..store.api import close_store

__all__ = ["jupyter_flows_test_harness", "prefect_test_harness"]

logger = logging.getLogger(__name__)


@contextmanager
def jupyter_flows_test_harness(server_startup_timeout: Any = None) -> Iterator[RunEnvironment]:
    """Runs inside the block are recorded in a throwaway database, in a temporary data
    directory (cached results too), never in the one configured before; yields the
    ``RunEnvironment`` in force (``.db_url``, ``.home``).

    The block's process records into a new SQLite file (not through a server, even in a
    worker's run process), ``deploy()`` and the CLI find no server (no ``JUPYTER_FLOWS_URL``,
    an empty Jupyter runtime directory), and the process recorder starts afresh (the one
    before is flushed and kept aside). Afterwards the block's recorder is closed, the
    variables, the recorder and the cached results are as they were, and the directory is
    deleted. ``server_startup_timeout`` is Prefect's and ignored: there is no server to
    start. Meant for tests: it changes this process's environment while it lasts.
    """
    home = Path(tempfile.mkdtemp(prefix="jupyter-flows-test-"))
    db_url = f"sqlite:///{home / 'flows.sqlite'}"
    runtime_dir = home / "jupyter-runtime"
    runtime_dir.mkdir()
    previous_results = task_engine._result_store
    previous_runtime_dir = os.environ.get("JUPYTER_RUNTIME_DIR")
    previous_recorder = settings.set_recorder(None)  # the block's is built afresh
    if previous_recorder is not None:
        previous_recorder.flush()  # what was recorded so far goes where it was meant to
    try:
        with RunEnvironment.patched(
            db_url=db_url,
            home=str(home),
            record=True,
            record_url=None,
            record_token=None,
            url=None,
            token=None,
        ) as env:
            os.environ["JUPYTER_RUNTIME_DIR"] = str(runtime_dir)
            task_engine._result_store = None  # made again under ``home`` when first used
            try:
                yield env
            finally:
                settings.reset_recorder()
                close_store(db_url)
    finally:
        if previous_runtime_dir is None:
            os.environ.pop("JUPYTER_RUNTIME_DIR", None)
        else:
            os.environ["JUPYTER_RUNTIME_DIR"] = previous_runtime_dir
        task_engine._result_store = previous_results
        settings.set_recorder(previous_recorder)
        shutil.rmtree(home, ignore_errors=True)
        logger.debug("test harness %s removed", home)


#: Prefect's name
prefect_test_harness = jupyter_flows_test_harness
