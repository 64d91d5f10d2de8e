"""The office phones' signed webhook: texts in, delivery reports, forged, stale and bad calls."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.channels.android_sms import WEBHOOK_PATH, signature_of
from bot.conversation import Jobline
from bot.database import Database
from bot.settings import Settings
from db.models import Contact, Message, OutboxMessage
from tests.bot.channels.android.conftest import PHONES, SEEKER, Handset, deliver, outbox_rows
from tests.conftest import Clock
from tests.conftest import Seeker as Texter
from tests.fakes.android_gateway import SIGNING_KEY, FakeGateway, received, webhook


def stored_messages(database: Database) -> list[Message]:
    with database.sessions() as session:
        query = select(Message).where(Message.direction == "in").order_by(Message.id)
        return list(session.scalars(query))


def test_a_text_is_stored_and_answered_from_the_phone_it_came_to(
    handset: Handset, database: Database, settings: Settings, clock: Clock, gateway: FakeGateway
) -> None:
    assert handset.texts("menu", device="phone-b") == 204
    [message] = stored_messages(database)
    assert (message.channel, message.text) == ("sms", "menu")
    with database.sessions() as session:
        contact = session.scalars(select(Contact)).one()
        assert (contact.address, contact.device) == (SEEKER, "phone-b")
    deliver(database, settings, clock)
    [text] = gateway.sent_to(SEEKER)
    assert text.device == "phone-b" and "Jobline menu" in text.text
    [row] = outbox_rows(database)
    assert (row.status, row.provider_id) == ("sent", f"jobline-{row.id}")


@pytest.mark.parametrize(
    "forgery",
    ["wrong key", "no signature", "no timestamp", "stale", "from the future", "body changed"],
)
def test_a_forged_or_stale_call_is_refused(
    forgery: str, handset: Handset, database: Database, clock: Clock
) -> None:
    now = clock().timestamp()
    payload = received(SEEKER, "menu", clock().isoformat())
    body, headers = webhook(
        "sms:received",
        payload,
        key="not-our-key" if forgery == "wrong key" else SIGNING_KEY,
        timestamp={"stale": now - 301, "from the future": now + 301}.get(forgery, now),
    )
    if forgery == "no signature":
        del headers["X-Signature"]
    if forgery == "no timestamp":
        del headers["X-Timestamp"]
    if forgery == "body changed":
        body = body.replace(b"menu", b"stop")
    response = handset.web.post(WEBHOOK_PATH, content=body, headers=headers)
    assert response.status_code == 403
    assert stored_messages(database) == []


def test_a_call_signed_a_few_minutes_ago_is_still_taken(
    handset: Handset, database: Database, clock: Clock
) -> None:
    payload = received(SEEKER, "menu", clock().isoformat())
    assert handset.call("sms:received", payload, timestamp=clock().timestamp() - 290) == 204
    assert len(stored_messages(database)) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"event": "sms:received"}',
        b'{"event": "sms:received", "payload": {"message": "hi", "receivedAt": "x"}}',
        b'{"event": "sms:received", "payload": {"sender": "+8613800000001", "message": "hi"}}',
        b'{"event": "sms:received", "payload": {"sender": "call me", "message": "hi",'
        b' "receivedAt": "2026-12-02T10:00:00+08:00"}}',
        b'{"event": "sms:delivered", "payload": {"recipient": "+8613800000001"}}',
    ],
)
def test_a_malformed_call_gets_400_and_stores_nothing(
    body: bytes, handset: Handset, database: Database, clock: Clock
) -> None:
    stamp = str(int(clock().timestamp()))
    signature = signature_of(body, stamp, SIGNING_KEY)
    headers = {"X-Timestamp": stamp, "X-Signature": signature}
    response = handset.web.post(WEBHOOK_PATH, content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert stored_messages(database) == []


def test_the_same_text_twice_is_stored_once_but_the_same_words_later_are_new(
    handset: Handset, database: Database, clock: Clock
) -> None:
    at = clock().isoformat()
    assert handset.texts("menu", at=at) == 204
    assert handset.texts("menu", at=at) == 204  # the phone's retry: same phone, time and text
    assert len(stored_messages(database)) == 1
    # The app's messageId comes from the content alone: the same words a minute later are new.
    clock.advance(minutes=1)
    assert handset.texts("menu") == 204
    assert len(stored_messages(database)) == 2
    with database.sessions() as session:
        replies = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert replies == 2  # one answer each, none for the retry


def test_delivery_reports_move_the_outbox_row_and_never_back(
    handset: Handset, database: Database, settings: Settings, clock: Clock
) -> None:
    handset.texts("menu")
    deliver(database, settings, clock)
    [row] = outbox_rows(database)
    ours = f"jobline-{row.id}"
    report = {"messageId": ours, "recipient": SEEKER, "simNumber": 1}
    assert (
        handset.call("sms:sent", {**report, "partsCount": 2, "sentAt": clock().isoformat()}) == 204
    )
    assert handset.call("sms:delivered", {**report, "deliveredAt": clock().isoformat()}) == 204
    assert outbox_rows(database)[0].status == "delivered"
    failed = {**report, "failedAt": clock().isoformat(), "reason": "RESULT_ERROR_GENERIC_FAILURE"}
    assert handset.call("sms:failed", failed) == 204
    assert outbox_rows(database)[0].status == "delivered"  # a late report never moves it back


def test_a_failure_report_marks_the_row_failed_with_the_phones_reason(
    handset: Handset, database: Database, settings: Settings, clock: Clock
) -> None:
    handset.texts("menu")
    deliver(database, settings, clock)
    [row] = outbox_rows(database)
    failed = {
        "messageId": f"jobline-{row.id}",
        "recipient": SEEKER,
        "failedAt": clock().isoformat(),
        "reason": "RESULT_ERROR_NO_SERVICE",
    }
    assert handset.call("sms:failed", failed) == 204
    [row] = outbox_rows(database)
    assert row.status == "failed" and row.last_error == "android: RESULT_ERROR_NO_SERVICE"


def test_reports_for_texts_jobline_did_not_send_or_has_not_recorded(
    handset: Handset, database: Database
) -> None:
    sent_by_hand = {"messageId": "Xy12abc", "recipient": SEEKER, "sentAt": "2026-12-02T10:00:00Z"}
    assert handset.call("sms:sent", sent_by_hand) == 204
    not_yet = {**sent_by_hand, "messageId": "jobline-999"}
    assert handset.call("sms:sent", not_yet) == 503  # the phone asks again later
    assert handset.call("system:ping", {"health": {}}) == 204


def test_replies_to_a_foreign_number_that_wrote_to_a_phone_come_from_that_phone(
    handset: Handset, database: Database, settings: Settings, clock: Clock, gateway: FakeGateway
) -> None:
    visitor = "+14155550123"
    handset.texts("menu", sender=visitor, device=PHONES[1])
    deliver(database, settings, clock)
    [text] = gateway.sent_to(visitor)
    assert text.device == PHONES[1]


def test_stop_is_matched_by_jobline_and_confirmed_from_the_phone(
    handset: Handset, database: Database, settings: Settings, clock: Clock, gateway: FakeGateway
) -> None:
    handset.texts("STOP")
    deliver(database, settings, clock)
    [confirmation] = gateway.sent_to(SEEKER)
    assert "START" in confirmation.text
    with database.sessions() as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.seeker.opted_out is True
    handset.texts("START")
    with database.sessions() as session:
        assert session.scalars(select(Contact)).one().seeker.opted_out is False
    handset.texts("HELP")
    deliver(database, settings, clock)
    texts = gateway.sent_to(SEEKER)
    assert len(texts) > 2 and "Reply MENU for the menu" in texts[-1].text  # HELP's answer
    assert len({text.device for text in texts}) == 1  # all from the phone the seeker wrote to


def test_a_text_to_a_phone_reaches_the_seeker_that_number_already_is(
    handset: Handset, database: Database, jobline: Jobline
) -> None:
    Texter(jobline, SEEKER).send("menu")  # the same number, first seen on another channel
    handset.texts("menu")
    with database.sessions() as session:
        contacts = list(session.scalars(select(Contact).order_by(Contact.id)))
    assert [contact.channel for contact in contacts] == ["console", "sms"]
    assert len({contact.seeker_id for contact in contacts}) == 1
