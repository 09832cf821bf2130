"""Run ids: time-ordered, 32 hex digits, distinct across threads and forked processes (the
random part comes from a per-process generator, seeded again in a forked child)."""

from __future__ import annotations

import os
import threading

from jupyter_flows.core.records import new_id


def test_ids_are_32_hex_digits_in_time_order() -> None:
    ids = [new_id() for _ in range(1000)]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert [i[:12] for i in ids] == sorted(i[:12] for i in ids)
    assert len(set(ids)) == 1000


def test_threads_make_distinct_ids() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def make(out: list[str]) -> None:
        out.extend(new_id() for _ in range(5000))

    threads = [threading.Thread(target=make, args=(out,)) for out in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({i for out in made for i in out}) == 20_000


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the ids it makes next, as its parent will make its own
        os.write(write, ",".join(new_id()[12:] for _ in range(50)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split(","))
    parent = {new_id()[12:] for _ in range(50)}
    assert len(child) == 50 and not child & parent
