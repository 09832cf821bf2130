"""Scoped tokens: signed with the database's shared key, verified by any of its servers."""

from __future__ import annotations

from jupyter_flows.orchestration.tokens import Grant, Tokens
from jupyter_flows.store.db import open_store


def test_tokens_round_trip_and_every_server_of_a_database_verifies_them(db_url: str) -> None:
    a, b = open_store(db_url), open_store(db_url)
    try:
        first, second = Tokens(a), Tokens(b)
        worker = first.worker_token("etl", "w1")
        run = first.run_token("r" * 32, "etl", "w1")
        assert second.verify(worker) == Grant("worker", "etl", "w1")
        assert second.verify(run) == Grant("run", "etl", "w1", "r" * 32)
        assert second.verify(run).subject == "run:" + "r" * 32  # type: ignore[union-attr]
    finally:
        a.dispose()
        b.dispose()


def test_forged_or_altered_tokens_are_refused(tmp_path: object, db_url: str) -> None:
    engine = open_store(db_url)
    other = open_store(f"sqlite:///{tmp_path}/other.sqlite")  # another database: another key
    try:
        tokens = Tokens(engine)
        good = tokens.worker_token("etl", "w1")
        claims, signature = good[len("jf1.") :].split(".")
        import base64
        import json

        forged = base64.urlsafe_b64encode(json.dumps({"k": "worker", "p": "etl", "w": "w2"})
                                          .encode()).rstrip(b"=").decode()  # fmt: skip
        for bad in (
            f"jf1.{forged}.{signature}",
            good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
            "jf1.garbage",
            "not-ours",
            Tokens(other).worker_token("etl", "w1"),
        ):
            assert tokens.verify(bad) is None, bad
        assert tokens.verify(good) == Grant("worker", "etl", "w1")
    finally:
        engine.dispose()
        other.dispose()
