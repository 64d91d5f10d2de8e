"""A read on SQLite takes no write lock; a pooled PostgreSQL connection is checked for free."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

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


def test_pooled_connections_the_server_ended_are_replaced_without_a_ping(
    postgres_server: str,
) -> None:
    engine = make_engine(postgres_server)
    pings = 0
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        nonlocal pings
        pings += 1
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    sessions = make_session_factory(engine)
    with sessions() as session:  # its connection goes back to the pool
        pid = session.scalar(text("SELECT pg_backend_pid()"))
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    time.sleep(0.2)  # the server's goodbye reaches the socket
    for _ in range(3):  # no error reaches the caller: the ended connection was replaced
        with transaction(sessions) as session:
            assert session.scalar(text("SELECT pg_backend_pid()")) != pid
    assert pings == 0  # and no checkout cost a round trip to find out
    engine.dispose()
