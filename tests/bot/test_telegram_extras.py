"""Commands, button labels and locations turned into what the engine understands."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from telegram import Update

from bot.channels.base import InboundMessage
from bot.channels.telegram import inbound_from_update
from bot.conversation import Jobline
from bot.database import Database
from db.models import OutboxMessage
from flows.nearby import km_text
from nlu.kinds import parse_command, parse_kind
from nlu.parse import Parse
from nlu.understand import Understander
from notify.fairs import fair_link
from reference import distance_km
from tests.bot.telegram_chat import CHAT, contact, location, text


def understand(said: str) -> Parse:
    return Understander().understand(said)


@pytest.mark.parametrize(
    ("command", "intent", "fair_id"),
    [
        ("/start", "chat_start", None),
        ("/start@jobline_bot", "chat_start", None),
        ("/start fair_12", "job_fair", "12"),
        ("/start fair_007", "job_fair", "7"),
        ("/start fair_x", "chat_start", None),
        ("/start poster", "chat_start", None),
        ("/help", "help", None),
        ("/menu", "menu", None),
        ("/stop", "stop", None),
    ],
)
def test_commands(command: str, intent: str, fair_id: str | None) -> None:
    parse = parse_command(command, understand)
    assert (parse.intent, parse.entity("fair_id")) == (intent, fair_id)


def test_location_text_becomes_coordinates() -> None:
    parse = parse_kind("location", "45.756000,126.617000", understand)
    assert (parse.intent, parse.entity("lat"), parse.entity("lon")) == (
        "location",
        "45.756",
        "126.617",
    )
    assert parse_kind("location", "nowhere", understand).intent == "not_text"
    assert parse_kind("voice", "(attachment)", understand).intent == "not_text"


def inbound(update: dict[str, object]) -> tuple[str, str, object]:
    found = inbound_from_update(Update.de_json({"update_id": 1, **update}, None), "CN")
    assert found is not None
    return found.kind, found.text, found.contact_phone or found.location


@pytest.mark.parametrize(
    ("label", "stored"),
    [
        ("1 Yes", "1"),
        ("2 No", "2"),
        ("9 Talk to a person", "9"),
        ("1 4", "1 4"),
        ("1972", "1972"),
        ("MENU", "MENU"),
        ("Wang Lei", "Wang Lei"),
    ],
)
def test_tapped_button_label_means_its_number(label: str, stored: str) -> None:
    assert inbound(text(label))[:2] == ("text", stored)


def test_own_contact_carries_the_phone_in_e164() -> None:
    assert inbound(contact("8613800000001", user_id=CHAT)) == (
        "contact",
        "+8613800000001",
        "+8613800000001",
    )
    assert inbound(contact("8613800000001", user_id=CHAT + 1))[0] == "foreign_contact"


def test_location_carries_coordinates() -> None:
    kind, stored, where = inbound(location(45.75, 126.6))
    assert (kind, stored, where) == ("location", "45.750000,126.600000", (45.75, 126.6))


def test_distances() -> None:
    # Harbin to Qiqihar is about 270 km as the crow flies.
    assert 260 < distance_km(45.8038, 126.5350, 47.3543, 123.9182) < 280
    assert distance_km(45.0, 126.0, 45.0, 126.0) == 0
    assert [km_text(k) for k in (0.0, 0.44, 3.25, 12.6)] == ["0.1", "0.4", "3.2", "13"]


def test_a_location_stored_before_a_crash_is_still_read_as_a_location(
    jobline: Jobline, database: Database
) -> None:
    shared = InboundMessage(
        "telegram", str(CHAT), "45.757000,126.618000", external_id="41", kind="location"
    )
    jobline.receive(shared)  # stored, then the process stopped before the turn
    assert jobline.resume() == 1
    with database.sessions() as session:
        [answer] = session.scalars(select(OutboxMessage.text)).all()
    assert answer.startswith("Jobs nearest you:")


def test_poster_link_opens_the_fair() -> None:
    link = fair_link("jobline_test_bot", 3)
    assert link == "https://t.me/jobline_test_bot?start=fair_3"
    payload = "/start " + link.split("start=", 1)[1]
    assert parse_command(payload, understand).entity("fair_id") == "3"
