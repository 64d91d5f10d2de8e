"""PostgreSQL's round trips: a new phone number's first text in one statement (the full
store's rows, and the full store whenever another request got there first), a turn's lock
tried in its read (waited for alone when another holds it), its writes in one statement, and a
job search's place lists bound as array literals."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, bindparam, event, func, select, text
from sqlalchemy.orm.exc import StaleDataError

from bot.channels.base import InboundMessage
from bot.conversation import Jobline, Received
from bot.database import Database, open_database
from bot.lookup import PlacesLiteral, array_literal
from bot.settings import Settings, load_settings
from bot.turn_rows import finish
from db.models import Contact, Conversation, Message, OutboxMessage, Seeker
from db.session import CONTACT_TURNS
from tests.bot.stored_rows import FIRST_TEXTS, at_once, first_texts_at_once, stored_rows
from tests.conftest import Clock
from tests.fakes.postgres import fresh_postgres_url

PHONE = "+8613900000001"


@contextmanager
def postgres_database(server: str) -> Iterator[Database]:
    """A migrated database in a schema of its own."""
    for url in fresh_postgres_url(server):
        database = open_database(load_settings(database_url=url), demo=False)
        try:
            yield database
        finally:
            database.engine.dispose()


@pytest.fixture
def postgres(postgres_server: str) -> Iterator[Database]:
    """A PostgreSQL database (these tests are about PostgreSQL's one statement)."""
    with postgres_database(postgres_server) as database:
        yield database


@pytest.fixture
def jobline(postgres: Database, clock: Clock) -> Jobline:
    """The conversation service on PostgreSQL."""
    return Jobline(settings_of(postgres), postgres.sessions, clock=clock)


def settings_of(database: Database) -> Settings:
    """Settings on this database."""
    return load_settings(database_url=database.engine.url.render_as_string(hide_password=False))


def test_a_first_text_writes_the_rows_the_full_store_writes(
    postgres_server: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = []
    for one_statement in (True, False):
        if not one_statement:
            monkeypatch.setattr("bot.conversation.store_first_text", lambda *_: None)
        with postgres_database(postgres_server) as database:
            jobline = Jobline(settings_of(database), database.sessions, clock=clock)
            for inbound in FIRST_TEXTS:
                assert not jobline.receive(inbound).duplicate
            found.append(stored_rows(database))
    assert found[0] == found[1]
    assert len(found[0]) == len(FIRST_TEXTS)
    shared = found[0][-2:]  # the console's seeker got the SMS contact of its phone
    assert shared[0]["seekers.phone"] == shared[1]["seekers.phone"] == "+8613900000005"


class Trips:
    """What this process sends to PostgreSQL: statements, and transactions begun (each a BEGIN
    and a COMMIT or ROLLBACK)."""

    def __init__(self, engine: Engine) -> None:
        self.statements = 0
        self.transactions = 0
        trips = self

        class Counted(psycopg.Cursor[Any]):
            def execute(self, *args: Any, **kwargs: Any) -> Any:
                connection = self.connection
                idle = connection.info.transaction_status == TransactionStatus.IDLE
                trips.transactions += bool(idle and not connection.autocommit)
                trips.statements += 1
                return super().execute(*args, **kwargs)

        @event.listens_for(engine, "checkout")
        def _counted(dbapi_connection: Any, *_: Any) -> None:
            dbapi_connection.cursor_factory = Counted

    def round_trips(self) -> int:
        """Statements, BEGINs and COMMITs."""
        return self.statements + 2 * self.transactions


def test_a_phone_numbers_texts_are_each_stored_in_one_statement(
    jobline: Jobline, postgres: Database
) -> None:
    """A first text (it was 2 statements: the known contact's found none) and the texts after."""
    for text_ in ("hi", "register"):
        trips = Trips(postgres.engine)
        received = jobline.receive(InboundMessage("sms", PHONE, text_, external_id=text_))
        assert (trips.statements, trips.transactions) == (1, 0), text_
        with postgres.sessions() as session:
            message = session.get(Message, received.message_id)
            assert message is not None and message.contact_id == received.contact_id
            assert message.text == text_


def test_a_known_contact_a_new_process_has_not_seen_is_stored_in_two_statements(
    jobline: Jobline, postgres: Database, clock: Clock
) -> None:
    """After a restart the first text's statement is tried first and stores nothing (the
    contact exists); the known contact's stores the text, on the same contact."""
    first = jobline.receive(InboundMessage("sms", PHONE, "hi", external_id="SM1"))
    restarted = Jobline(settings_of(postgres), postgres.sessions, clock=clock)
    trips = Trips(postgres.engine)
    again = restarted.receive(InboundMessage("sms", PHONE, "register", external_id="SM2"))
    assert (trips.statements, trips.transactions) == (2, 0)
    assert again.contact_id == first.contact_id and again.message_id != first.message_id
    trips = Trips(postgres.engine)
    restarted.receive(InboundMessage("sms", PHONE, "Wang Fang", external_id="SM3"))
    assert (trips.statements, trips.transactions) == (1, 0)  # now it knows the address
    with postgres.sessions() as session:
        assert session.scalar(select(func.count(Contact.id))) == 1
        assert session.scalar(select(func.count(Seeker.id))) == 1


def test_first_texts_of_one_new_number_at_once_make_one_seeker(
    jobline: Jobline, postgres: Database
) -> None:
    first_texts_at_once(jobline, postgres, numbers=6, each=4)


def test_a_contact_another_request_is_making_is_the_one_the_text_gets(
    jobline: Jobline, postgres: Database
) -> None:
    """The other request commits while the statement waits: its snapshot cannot see that
    request's seeker, so it stores nothing and the full store finds the contact."""
    with postgres.engine.connect() as other:
        seeker_id = other.scalar(
            text(
                "INSERT INTO seekers (phone, language, interests, created_at, alerts, opted_out,"
                " is_test) VALUES (:phone, 'en', '[]', now(), false, false, false) RETURNING id"
            ),
            {"phone": PHONE},
        )
        contact_id = other.scalar(
            text(
                "INSERT INTO contacts (channel, address, seeker_id, created_at)"
                " VALUES ('sms', :phone, :seeker_id, now()) RETURNING id"
            ),
            {"phone": PHONE, "seeker_id": seeker_id},
        )
        with ThreadPoolExecutor(1) as pool:
            receiving = pool.submit(
                jobline.receive, InboundMessage("sms", PHONE, "hi", external_id="SM1")
            )
            wait_for_a_lock_wait(postgres.engine)
            other.commit()
            received = receiving.result(timeout=30)
    assert received == Received(contact_id, received.message_id)
    with postgres.sessions() as session:
        assert session.scalar(select(func.count(Seeker.id))) == 1
        assert session.scalar(select(func.count(Contact.id))) == 1
        assert session.scalar(select(func.count(Message.id))) == 1


def wait_for_a_lock_wait(engine: Engine) -> None:
    """Until a session waits for a lock (the first text's, for the other request's seeker)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    deadline = time.monotonic() + 10
    with engine.connect() as connection:
        while connection.scalar(waiting) == 0:
            assert time.monotonic() < deadline, "the first text's statement never waited"
            connection.rollback()
            time.sleep(0.01)


def test_a_first_text_sent_twice_is_stored_once(jobline: Jobline, postgres: Database) -> None:
    inbound = InboundMessage("sms", PHONE, "hi", external_id="SM1")
    first = jobline.receive(inbound)
    again = jobline.receive(inbound)
    assert again == Received(first.contact_id, first.message_id, duplicate=True)


def test_a_first_text_sent_twice_at_once_is_stored_once(
    jobline: Jobline, postgres: Database
) -> None:
    for number in range(5):
        inbound = InboundMessage("sms", f"+86139200000{number:02d}", "hi", f"SM{number}")
        both = sorted(at_once(jobline, [inbound, inbound]), key=lambda one: one.duplicate)
        assert [one.duplicate for one in both] == [False, True]
        assert both[0].message_id == both[1].message_id
    with postgres.sessions() as session:
        assert session.scalar(select(func.count(Message.id))) == 5


def test_a_turn_is_two_statements_in_one_transaction(jobline: Jobline, postgres: Database) -> None:
    """The lock and the read, then every write (a first turn's new conversation row, the
    replies): each text's turn (it was 4, the first one's 5), and one more for a job search."""
    searches = {"Daoli", "jobs"}  # may search the job posts (one statement more)
    for text_ in ("hi", "register", "Wang Fang", "1978", "Daoli", "jobs"):
        received = jobline.receive(InboundMessage("sms", PHONE, text_, external_id=text_))
        trips = Trips(postgres.engine)
        jobline.take_turn(received)
        assert trips.transactions == 1, text_
        assert 2 <= trips.statements <= 2 + (text_ in searches), text_
    with postgres.sessions() as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.idempotency_key, OutboxMessage.text)
            .where(OutboxMessage.contact_id == received.contact_id)
            .order_by(OutboxMessage.id)
        ).all()
    keys = [key for _, key, _ in rows]
    assert len(rows) == 7  # 'Daoli' has two replies: stored in their order
    assert keys == sorted(keys, key=lambda key: (int(key.split(":")[1]), int(key.split(":")[2])))
    assert all(reply for _, _, reply in rows)


def replies_to(database: Database, contact_id: int) -> int:
    """How many replies are queued for a contact."""
    with database.sessions() as session:
        return int(
            session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.contact_id == contact_id)
            )
            or 0
        )


def test_a_turn_waits_for_the_lock_another_process_holds_then_reads_again(
    jobline: Jobline, postgres: Database
) -> None:
    """Another process's turn holds the contact's lock and answers the text: this turn waits,
    then reads what that one committed (the text handled) and answers nothing."""
    first = jobline.handle(InboundMessage("sms", PHONE, "hi", external_id="SM1"))
    received = jobline.receive(InboundMessage("sms", PHONE, "register", external_id="SM2"))
    with postgres.engine.connect() as other:
        other.execute(
            text("SELECT pg_advisory_xact_lock(:kind, :key)"),
            {"kind": CONTACT_TURNS, "key": received.contact_id},
        )
        other.execute(
            text("UPDATE messages SET status = 'handled' WHERE id = :id"),
            {"id": received.message_id},
        )
        with ThreadPoolExecutor(1) as pool:
            turning = pool.submit(jobline.take_turn, received)
            wait_for_a_lock_wait(postgres.engine)
            assert not turning.done()
            other.commit()
            turning.result(timeout=30)
    assert replies_to(postgres, first.contact_id) == 1  # the first text's only


def test_a_first_turn_whose_conversation_another_turn_made_decides_again(
    jobline: Jobline, postgres: Database
) -> None:
    """The turn read no conversation row, and one exists when it writes (another process's
    turn made it in between): nothing is written, and the turn is taken again."""
    received = jobline.receive(InboundMessage("sms", PHONE, "hi", external_id="SM1"))
    with postgres.engine.begin() as other:
        other.execute(
            text(
                "INSERT INTO conversations (contact_id, answers, misses, version, updated_at)"
                " VALUES (:id, '{}', 0, 7, now())"
            ),
            {"id": received.contact_id},
        )
    now = jobline.clock()
    with pytest.raises(StaleDataError), jobline.sessions() as session:
        state: dict[str, Any] = {
            "version": None,
            "flow": None,
            "step": None,
            "answers": {},
            "misses": 0,
        }
        finish(session, received.message_id, received.contact_id, now, state)
    jobline.take_turn(received)  # decides again over the row it now reads
    with postgres.sessions() as session:
        conversation = session.get(Conversation, received.contact_id)
        message = session.get(Message, received.message_id)
        assert conversation is not None and conversation.version == 8
        assert message is not None and message.status == "handled"
    assert replies_to(postgres, received.contact_id) == 1


def test_a_job_searchs_places_reach_postgresql_as_they_are(postgres: Database) -> None:
    """A list is bound as its array literal: quotes, backslashes, commas, braces, NULL (the
    search with such places, on both databases: tests/bot/test_job_search.py)."""
    places = ["Daoli", 'a "b"', "back\\slash", "x,y", "{}", "NULL", "", "道里区"]
    with postgres.engine.connect() as connection:
        found = connection.scalar(
            select(func.array_length(bindparam("p", type_=PlacesLiteral()), 1)),
            {"p": array_literal(places)},
        )
        assert found == len(places)
        back = connection.execute(
            text("SELECT unnest(CAST(:p AS VARCHAR[]))"), {"p": array_literal(places)}
        ).scalars()
        assert list(back) == places
        empty = select(func.cardinality(bindparam("e", type_=PlacesLiteral())))
        assert connection.scalar(empty, {"e": array_literal([])}) == 0
