"""Engine and session factory: SQLite pragmas for one machine, a pool for PostgreSQL."""

from __future__ import annotations

import select
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from db.fast import FAST_CONNECTION, Fast, connection_of

# The execution option that marks a read-only unit of work (see `reading`).
READ_ONLY = "jobline_read_only"
# SQLite: this process's writers queue on a lock of their own for the file's one write lock.
# Waiting in SQLite's busy handler sleeps 1, 2, 5, 10 ... 100 ms between tries, so under load
# a writer waited far longer than the writer before it took; a lock hands over at once. Past
# this many seconds a writer goes ahead anyway and waits in SQLite (another process's turn).
WRITER_WAIT_SECONDS = 30.0
_writers: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
# Any fixed numbers: the first key of Jobline's advisory locks on PostgreSQL (see `one_at_a_time`).
CONTACT_TURNS = 5_201_315
RESUMING = 5_201_316
REMINDING = 5_201_317
LOCK = text("SELECT pg_advisory_xact_lock(:kind, :key)")
_LOCK = Fast(LOCK)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,  # tracebacks never show a seeker's phone or words
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # let SQLAlchemy issue BEGIN itself
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # A writer takes the write lock up front, so two writers queue instead of
            # deadlocking; a read (see `reading`) takes none, so it never waits for a writer.
            if conn.connection.dbapi_connection.in_transaction:
                return  # begun by `light`: an ORM session joined it late (`lightly`)
            read = conn.get_execution_options().get(READ_ONLY)
            conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

        _writers[engine] = threading.RLock()
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, hide_parameters=True)
    event.listen(engine, "checkout", _ended_by_server)
    return engine


def _ended_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server ended (pg_terminate_backend, a restart) is replaced as it
    is checked out, and so is every connection pooled before it (as pool_pre_ping would).

    No round trip: an idle connection's socket has nothing to read unless the server wrote
    its goodbye or closed it. pool_pre_ping's SELECT 1 cost a round trip per checkout, a
    tenth of a turn's. A connection lost while in use raises; the store and the turn retry.
    """
    import psycopg  # here, not at the top: an app on SQLite never loads it (9 MB)

    try:
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
        ended = bool(poller.poll(0))
    except (OSError, ValueError, psycopg.Error):  # no socket left: closed
        ended = True
    if ended:
        raise exc.InvalidatePoolError("the server ended this pooled connection")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that only reads: on SQLite a deferred transaction, with no write lock."""
    with factory() as session:
        session.connection(execution_options={READ_ONLY: True})
        yield session


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    bind = factory.kw.get("bind")
    writer = _writers.get(bind) if isinstance(bind, Engine) else None
    taken = writer is not None and writer.acquire(timeout=WRITER_WAIT_SECONDS)
    try:
        with factory() as session, session.begin():
            yield session
    finally:
        if taken and writer is not None:
            writer.release()


@contextmanager
def light(engine: Engine) -> Iterator[Connection]:
    """A write transaction with no ORM session, for statements of db/fast.py: about 20 us
    where a session's transaction costs about 100. SQLite's writers queue as in `transaction`."""
    with _light(engine, None) as (connection, _):
        yield connection


@contextmanager
def lightly(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A `light` transaction with an ORM session for what needs one (effects, flows' reads):
    the session starts its own work only when first used, on the light transaction's
    connection, and is flushed before the commit; statements of db/fast.py skip it."""
    with _light(factory.kw["bind"], factory) as (_, session):
        assert session is not None
        yield session


@contextmanager
def _light(
    engine: Engine, factory: sessionmaker[Session] | None
) -> Iterator[tuple[Connection, Session | None]]:
    writer = _writers.get(engine)
    taken = writer is not None and writer.acquire(timeout=WRITER_WAIT_SECONDS)
    try:
        with engine.connect() as connection:
            dbapi = connection.connection.dbapi_connection
            assert dbapi is not None
            session = None if factory is None else factory(bind=connection)
            try:
                if writer is not None:  # SQLite (PostgreSQL's driver begins by itself)
                    dbapi.execute("BEGIN IMMEDIATE")
                if session is not None:
                    session.info[FAST_CONNECTION] = connection
                yield connection, session
                if session is not None:
                    session.flush()
                dbapi.commit()
            except engine.dialect.loaded_dbapi.Error as error:  # BEGIN or COMMIT failed
                _roll_back(dbapi)
                connection._handle_dbapi_exception(error, "COMMIT", None, None, None)
            except BaseException:
                _roll_back(dbapi)
                raise
            finally:
                # After the commit: the transaction the session began on the connection, if
                # it began one, ends with nothing to roll back.
                if session is not None:
                    session.close()
    finally:
        if taken and writer is not None:
            writer.release()


def _roll_back(dbapi: Any) -> None:
    """Roll back; a connection already lost is invalidated by the error that follows."""
    with suppress(Exception):
        dbapi.rollback()


@contextmanager
def read_once(engine: Engine) -> Iterator[Connection]:
    """A connection for one read statement of db/fast.py, in no transaction of its own (SQLite:
    the statement's own snapshot, no write lock)."""
    with engine.connect() as connection:
        yield connection


# insert_new's statements, built once per dialect, table and keys: building one (its values
# coerced, its cache key computed) cost more than running it.
_INSERT_NEW: dict[tuple[str, str, tuple[str, ...]], Any] = {}


def insert_new(
    where: Session | Connection, model: type[Any], values: dict[str, Any], keys: list[str]
) -> bool:
    """Insert a row unless one with the same keys exists (race-safe); True when inserted. On a
    session, what it holds is written first; the columns' defaults are filled in either way."""
    dialect = where.dialect.name if isinstance(where, Connection) else where.get_bind().dialect.name
    table = model.__table__
    statement = _INSERT_NEW.get((dialect, table.name, tuple(keys)))
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        key = next(iter(table.primary_key))
        statement = insert(table).on_conflict_do_nothing(index_elements=keys).returning(key)
        _INSERT_NEW[(dialect, table.name, tuple(keys))] = statement
    if isinstance(where, Session):
        where.flush()  # a Core statement: what the session holds is written first
        where = where.connection()
    return where.execute(statement, values).first() is not None


def one_at_a_time(session: Session, kind: int, key: int = 0) -> None:
    """This transaction waits for any other that took the same lock (PostgreSQL; SQLite's
    writers already go one at a time). Released when it ends."""
    if session.get_bind().dialect.name == "postgresql":
        _LOCK.run(connection_of(session), {"kind": kind, "key": lock_key(key)})


def lock_key(key: int) -> int:
    """An advisory lock's second key for any id (PostgreSQL's two-key form takes int4s)."""
    return key % 2**31


@contextmanager
def first_to(factory: sessionmaker[Session], kind: int) -> Iterator[bool]:
    """True for the one process (of those sharing this PostgreSQL) that holds the lock now."""
    engine = factory.kw["bind"]
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as connection:
        taken = connection.scalar(
            text("SELECT pg_try_advisory_xact_lock(:kind, 0)"), {"kind": kind}
        )
        yield bool(taken)


@contextmanager
def autocommitted(engine: Engine) -> Iterator[Connection]:
    """A pooled PostgreSQL connection whose statements each commit on their own (statements of
    db/fast.py: one round trip each, no BEGIN or COMMIT).

    Autocommit is set on the driver's connection, and back before it returns to the pool:
    SQLAlchemy's isolation_level option cost about as much as a statement.
    """
    with engine.connect() as connection:
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        dbapi.autocommit = True
        try:
            yield connection
        finally:
            try:
                dbapi.autocommit = False
            except Exception:  # never pooled in autocommit: a lost one is replaced
                connection.invalidate()
