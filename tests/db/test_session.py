"""A read on SQLite takes no write lock, so it never waits for a writer."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from db.session import make_engine, make_session_factory, reading, transaction


def test_a_read_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        session.execute(text("CREATE TABLE seen (n INTEGER)"))
        session.execute(text("INSERT INTO seen VALUES (1)"))
    writing, done = threading.Event(), threading.Event()

    def writer() -> None:
        with transaction(sessions) as session:
            session.execute(text("INSERT INTO seen VALUES (2)"))
            writing.set()
            done.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert writing.wait(10)
    started = time.monotonic()
    with reading(sessions) as session:
        count = session.scalar(text("SELECT count(*) FROM seen"))
    waited = time.monotonic() - started
    done.set()
    thread.join(10)
    # The writer has not committed: the read sees the row before it, at once.
    assert count == 1 and waited < 2
    with transaction(sessions) as session:  # a writer still queues for the lock
        assert session.scalar(text("SELECT count(*) FROM seen")) == 2
    engine.dispose()
