"""A process forked while another thread is inside an SQLite write: the child can write.

SQLite keeps the locks of a process's connections in process memory; a child forked in
the middle of its parent's write transaction inherited "locked by one of my connections"
with no thread left to unlock it, and every write of the child failed with "database is
locked" after the busy timeout (seen in CI: a ``multiprocessing`` fork pool under
``with_context`` while the recorder's writer thread was committing).
"""

from __future__ import annotations

import multiprocessing
import threading

from sqlalchemy import text

from jupyter_flows.store.db import create_db_engine


def _child_writes(url: str, queue: multiprocessing.Queue) -> None:
    engine = create_db_engine(url, connect_args={"timeout": 3})
    try:
        with engine.begin() as conn:
            seen = conn.execute(text("SELECT count(*) FROM t")).scalar_one()
            conn.execute(text("INSERT INTO t VALUES ('child')"))
        queue.put(("ok", seen))
    except Exception as e:  # reported to the parent
        queue.put(("error", str(e)))


def test_a_child_forked_during_a_write_transaction_can_write(tmp_path):
    url = f"sqlite:///{tmp_path / 'fork.sqlite'}"
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (who TEXT)"))
    in_transaction, forked = threading.Event(), threading.Event()

    def parent_writes() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES ('parent')"))
            in_transaction.set()
            forked.wait(2)  # still inside the write when the fork is asked for

    writer = threading.Thread(target=parent_writes)
    writer.start()
    assert in_transaction.wait(10)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_writes, args=(url, queue))
    threading.Timer(0.3, forked.set).start()  # the fork waits for the commit meanwhile
    child.start()
    forked.set()
    outcome = queue.get(timeout=30)
    child.join(10)
    writer.join(10)
    assert outcome == ("ok", 1)  # the parent's row was committed before the fork
    with engine.connect() as conn:
        rows = sorted(conn.execute(text("SELECT who FROM t")).scalars())
    assert rows == ["child", "parent"]
    engine.dispose()
