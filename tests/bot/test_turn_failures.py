"""One failing turn: the seeker is asked to try again, the message is `failed`, others go on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from bot.app import Runtime, create_app
from bot.channels.base import InboundMessage
from bot.conversation import Jobline
from bot.database import Database
from bot.lookup import StoreLookup
from bot.settings import Settings
from db.models import Message, OutboxMessage
from nlu.kinds import parse_command
from nlu.parse import Parse
from tests.conftest import Clock


class Poisoned(Exception):
    """What a bug in a flow would raise."""


def poisoned_once() -> Any:
    """A lookup factory whose first turn fails, as a bug in a flow would."""
    calls: list[int] = []

    def factory(session: Session) -> StoreLookup:
        calls.append(1)
        if len(calls) == 1:
            raise Poisoned("bad row")
        return StoreLookup(session)

    return factory


def test_resume_goes_on_after_a_turn_fails_and_health_shows_it(
    settings: Settings, database: Database, clock: Clock
) -> None:
    stored = Jobline(settings, database.sessions, clock=clock)
    for n in range(3):
        stored.receive(InboundMessage("sms", f"+86138000000{n:02d}", "help", external_id=f"SM{n}"))
    after_crash = Jobline(settings, database.sessions, clock=clock, lookup_factory=poisoned_once())
    assert after_crash.resume() == 3
    with database.sessions() as session:
        messages = list(session.scalars(select(Message).order_by(Message.id)))
        replies = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [m.status for m in messages] == ["failed", "handled", "handled"]
    assert messages[0].error == "Poisoned: bad row"
    assert [r.address for r in replies] == ["+8613800000000", "+8613800000001", "+8613800000002"]
    assert replies[0].text.startswith("Sorry, something went wrong on our side.")
    assert all("STOP" in r.text for r in replies[1:])
    app = create_app(Runtime(database, after_crash))
    with TestClient(app) as web:
        health = web.get("/health").json()
    assert (health["turns"], health["failed_turns_last_hour"]) == ("degraded", 1)
    assert health["status"] == "degraded"
    clock.advance(hours=1, minutes=1)
    with TestClient(app) as web:
        assert web.get("/health").json()["failed_turns_last_hour"] == 0


def never(said: str) -> Parse:
    raise AssertionError(said)


def test_a_fair_link_with_a_huge_or_foreign_number_just_opens_jobline() -> None:
    for payload in ("fair_99999999999999999999999", "fair_١٢", "fair_１２", "fair_-1"):
        assert parse_command(f"/start {payload}", never).intent == "chat_start", payload
    assert parse_command("/start fair_12", never).entity("fair_id") == "12"


def test_a_huge_fair_number_is_greeted_not_failed(jobline: Jobline, database: Database) -> None:
    jobline.handle(
        InboundMessage("telegram", "5550009", "/start fair_99999999999999999999999", kind="command")
    )
    with database.sessions() as session:
        message = session.scalars(select(Message)).one()
        replies = list(session.scalars(select(OutboxMessage.text)))
    assert (message.status, message.error) == ("handled", None)
    assert len(replies) == 1 and replies[0].startswith("Hello, I am Jobline.")
