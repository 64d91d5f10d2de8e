"""Broadcasts from the caseworker's side: the "Send to" choices, checks, preview, send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.database import Database
from bot.settings import Settings
from caseworker import broadcasting
from caseworker.casework import CaseworkError
from caseworker.fairs import FairForm, save_fair
from db.models import Broadcast, FairSubscription, OutboxMessage, Seeker
from db.session import transaction
from reference import load_reference
from tests.fakes.people import add_seekers

MORNING = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in Harbin
EVENING = MORNING + timedelta(hours=12)  # 22:00 in Harbin


def fair(database: Database) -> int:
    form = FairForm("Daoli Spring Fair", "2026-12-20 09:00", "Daoli Hall", "Daoli")
    with transaction(database.sessions) as session:
        made = save_fair(
            session, form, timezone="Asia/Harbin", reference=load_reference(), now=MORNING
        )
        return made.id


def draft(database: Database, settings: Settings, **given: object) -> broadcasting.Draft:
    with database.sessions() as session:
        return broadcasting.draft(session, settings=settings, **given)  # type: ignore[arg-type]


def test_send_to_offers_every_kind_of_segment(database: Database) -> None:
    fair_id = fair(database)
    with database.sessions() as session:
        choices = broadcasting.segment_choices(session, load_reference(), MORNING)
    values = {choice.value for choice in choices}
    assert {"all", "district=Daoli", "interest=cleaning", "group=4050", "group=card"} <= values
    assert {f"subscribers={fair_id}", f"fair={fair_id}"} <= values
    daoli = next(choice for choice in choices if choice.value == "district=Daoli")
    assert (daoli.kind, daoli.name, daoli.name_zh) == ("district", "Daoli", "道里")


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ({"text": "x" * 5000}, "The message is 5000 characters: .* at most 3 .*Shorten it"),
        ({"text": "  "}, "Write a message or choose a fair"),
        ({"text": "Hi", "fair_id": 1}, "Write a message or choose a fair"),
        ({"text": "Hi", "segment": "group=young"}, "unknown segment 'group=young'"),
        ({"text": "Hi", "segment": "subscribers"}, "say which fair"),
        ({"text": "Hi", "segment": "fair=999"}, "No job fair with id 999"),
        ({"fair_id": 999}, "No job fair with id 999"),
    ],
)
def test_bad_broadcasts_are_refused_with_a_reason(
    database: Database, settings: Settings, given: dict[str, object], reason: str
) -> None:
    with pytest.raises(CaseworkError, match=reason):
        draft(database, settings, **{"segment": "all", "send_at": MORNING, **given})


def test_a_fair_that_has_started_is_not_announced(database: Database, settings: Settings) -> None:
    fair_id = fair(database)
    with pytest.raises(CaseworkError, match="starts before the broadcast would go"):
        draft(
            database, settings, fair_id=fair_id, segment="all", send_at=MORNING + timedelta(days=30)
        )


def test_preview_then_send_a_message_to_a_fairs_subscribers(
    database: Database, settings: Settings
) -> None:
    fair_id = fair(database)
    add_seekers(database.sessions, 5, district="Nangang")
    with transaction(database.sessions) as session:
        seekers = list(session.scalars(select(Seeker).order_by(Seeker.id)))
        seekers[0].is_test = True
        session.execute(update(Seeker).where(Seeker.id == seekers[1].id).values(language="zh"))
        for seeker in seekers[:3]:
            session.add(FairSubscription(seeker_id=seeker.id, fair_id=fair_id, created_at=MORNING))
    chosen = draft(
        database,
        settings,
        text="Bring your ID card",
        segment=f"subscribers={fair_id}",
        send_at=EVENING,
    )
    with database.sessions() as session:
        shown = broadcasting.preview(session, chosen, settings)
    assert shown.found.recipients == 2  # the test seeker is left out
    assert {lang: group.recipients for lang, group in shown.found.languages.items()} == {
        "en": 1,
        "zh": 1,
    }
    assert shown.found.languages["en"].text == "Bring your ID card. Reply STOP for no more texts."
    assert shown.held and shown.goes_at == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # 8:00
    assert shown.found.cost == pytest.approx(
        shown.found.sms_segments * settings.notify.price_per_segment
    )
    broadcast_id = broadcasting.send(database.sessions, chosen, settings, EVENING)
    with database.sessions() as session:
        row = session.get(Broadcast, broadcast_id)
        assert row is not None and (row.status, row.recipients, row.segment) == (
            "sending",
            2,
            f"subscribers={fair_id}",
        )
        texts = session.scalar(
            select(func.count()).where(OutboxMessage.broadcast_id == broadcast_id)
        )
        assert texts == 2
        assert [b.id for b in broadcasting.recent(session)] == [broadcast_id]
