"""Twilio's webhooks, as tables of signed (and forged) requests and what Jobline does with them."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from bot.channels.base import InboundMessage
from bot.channels.twilio_sms import EMPTY_TWIML, MESSAGE_PATH, TwilioChannel
from bot.conversation import Jobline
from bot.database import Database
from db.models import Contact, EarlyReport, Message, OutboxMessage, Seeker, utcnow
from db.session import transaction
from notify import outbox
from tests.bot.channels.conftest import (
    ACCOUNT_SID,
    FROM_NUMBER,
    PHONE,
    PUBLIC_URL,
    Phone,
    deliver,
    sign,
)
from tests.conftest import Clock
from tests.fakes.twilio_api import FakeTwilio, twilio_error


def replies_to(database: Database, number: str = PHONE) -> list[str]:
    """Every text queued or sent to this number, oldest first."""
    with database.sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage.text)
                .where(OutboxMessage.address == number)
                .order_by(OutboxMessage.id)
            )
        )


def opted_out(database: Database, number: str = PHONE) -> bool:
    """Whether texts to this number stop (the seeker opted out, or this number on its own)."""
    with database.sessions() as session:
        contact = session.scalar(
            select(Contact).where(Contact.channel == "sms", Contact.address == number)
        )
        assert contact is not None
        return outbox.opted_out(contact)


def seeker_opted_out(database: Database, number: str = PHONE) -> bool:
    """Whether the seeker is opted out everywhere (their own STOP)."""
    with database.sessions() as session:
        seeker = session.scalar(select(Seeker).where(Seeker.phone == number))
        assert seeker is not None
        return seeker.opted_out


def inbound_count(database: Database) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).select_from(Message)) or 0


def form(**changes: str | None) -> dict[str, str]:
    base = {
        "MessageSid": "SM" + "a" * 32,
        "AccountSid": ACCOUNT_SID,
        "From": PHONE,
        "To": FROM_NUMBER,
        "Body": "hello",
        "NumMedia": "0",
    }
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


# name, form, how it is signed, HTTP status, stored inbound rows, words in the reply
WEBHOOK_CASES = [
    ("good", form(), "good", 200, 1, "Hello, I am Jobline"),
    ("good, URL with a query", form(), "query", 200, 1, "Hello, I am Jobline"),
    ("query signed without it", form(), "query dropped", 403, 0, None),
    ("signed with the default port", form(), "port", 200, 1, "Hello, I am Jobline"),
    ("signed with another port", form(), "other port", 403, 0, None),
    ("forged, with the default port", form(), "forged port", 403, 0, None),
    ("forged with another token", form(), "forged", 403, 0, None),
    ("unsigned", form(), "none", 403, 0, None),
    ("signed for the address the proxy shows", form(), "internal url", 403, 0, None),
    ("body changed after signing", form(), "tampered", 403, 0, None),
    ("no From", form(From=None), "good", 400, 0, None),
    ("no MessageSid", form(MessageSid=None), "good", 400, 0, None),
    ("From is not a phone", form(From="Jobline"), "good", 400, 0, None),
    ("picture, no text", form(Body=None, NumMedia="1"), "good", 200, 1, "only read text"),
    ("picture with empty text", form(Body="", NumMedia="2"), "good", 200, 1, "only read text"),
    ("empty text", form(Body=""), "good", 200, 1, "was empty"),
    ("no Body, no media", form(Body=None), "good", 200, 1, "was empty"),
    ("picture with text", form(Body="help", NumMedia="1"), "good", 200, 1, "STOP"),
]


def with_port(url: str, port: int) -> str:
    """The URL with this port written after its host (Twilio signs some URLs so)."""
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    return f"{scheme}://{host}:{port}/{path}"


def test_inbound_webhook_table(phone: Phone, database: Database) -> None:
    url = PUBLIC_URL + MESSAGE_PATH
    for index, (name, case, signing, status, stored, reply) in enumerate(WEBHOOK_CASES):
        number = f"+86137000000{index:02d}"
        sent = {**case, "MessageSid": f"SM{index:032d}"} if "MessageSid" in case else dict(case)
        if "From" in case and case["From"] == PHONE:
            sent["From"] = number
        signature: str | None = {
            "good": sign(url, sent),
            "query": sign(url + "?office=harbin", sent),
            "query dropped": sign(url, sent),
            "forged": sign(url, sent, token="not-the-token"),
            "port": sign(with_port(url, 443), sent),
            "other port": sign(with_port(url, 8443), sent),
            "forged port": sign(with_port(url, 443), sent, token="not-the-token"),
            "none": None,
            "internal url": sign("http://10.0.0.7:8000" + MESSAGE_PATH, sent),
            "tampered": sign(url, {**sent, "Body": "something else"}),
        }[signing]
        before = inbound_count(database)
        path = MESSAGE_PATH + ("?office=harbin" if signing.startswith("query") else "")
        code, text = phone.post(path, sent, signature)
        assert code == status, (name, text)
        assert inbound_count(database) - before == stored, name
        replies = replies_to(database, number)
        if reply is None:
            assert replies == [], name
        else:
            assert text == EMPTY_TWIML, name
            assert len(replies) == 1 and reply in replies[0], (name, replies)


def test_get_is_not_a_webhook(phone: Phone) -> None:
    assert phone.web.get(MESSAGE_PATH).status_code == 405


def test_three_deliveries_of_one_message_get_one_reply(phone: Phone, database: Database) -> None:
    answers = [phone.texts("hello", sid="SM" + "d" * 32) for _ in range(3)]
    assert answers == [(200, EMPTY_TWIML)] * 3
    assert inbound_count(database) == 1
    assert len(replies_to(database)) == 1


def test_three_deliveries_at_once_get_one_reply(phone: Phone, database: Database) -> None:
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: phone.texts("hello", sid="SM" + "e" * 32), range(3)))
    assert answers == [(200, EMPTY_TWIML)] * 3
    assert inbound_count(database) == 1
    assert len(replies_to(database)) == 1


def test_a_retry_answers_a_message_stored_but_never_answered(
    phone: Phone, database: Database, jobline: Jobline
) -> None:
    sid = "SM" + "b" * 32
    jobline.receive(InboundMessage("sms", PHONE, "help", external_id=sid))
    assert replies_to(database) == []
    phone.texts("help", sid=sid)
    phone.texts("help", sid=sid)
    assert inbound_count(database) == 1
    [answer] = replies_to(database)
    assert "STOP" in answer


STOP_WORDS = ["STOP", "stop", "Stop.", "UNSUBSCRIBE", "end", "QUIT", "stopall", "REVOKE"]
STOP_WORDS += ["optout", "CANCEL"]


def test_every_twilio_stop_word_opts_out_and_only_the_confirmation_goes(
    phone: Phone, database: Database
) -> None:
    for index, word in enumerate(STOP_WORDS):
        phone.number = f"+86139000000{index:02d}"
        phone.texts("hello")
        phone.texts(word)
        assert opted_out(database, phone.number), word
        phone.texts("jobs")
        phone.texts("menu")
        phone.texts(None, NumMedia="1")
        replies = replies_to(database, phone.number)
        assert len(replies) == 2, word
        assert "no more texts" in replies[-1] and "START" in replies[-1]


START_WORDS = ["START", "start", "YES", "yes", "UNSTOP", "unstop"]
HELP_WORDS = ["HELP", "help", "INFO", "info"]


def test_start_words_opt_back_in(phone: Phone, database: Database) -> None:
    for index, word in enumerate(START_WORDS):
        phone.number = f"+86139100000{index:02d}"
        phone.texts("STOP")
        phone.texts(word)
        assert not opted_out(database, phone.number), word
        assert "You will get texts again" in replies_to(database, phone.number)[1], word


def test_stop_cancels_what_was_waiting_to_go(phone: Phone, database: Database) -> None:
    phone.texts("hello")
    with transaction(database.sessions) as session:
        contact = session.scalars(select(Contact)).one()
        outbox.queue(
            session,
            contact=contact,
            text="Job fair tomorrow",
            idempotency_key="b:1",
            now=utcnow(),
        )
    phone.texts("STOP")
    with database.sessions() as session:
        waiting = session.execute(
            select(OutboxMessage.text, OutboxMessage.status).order_by(OutboxMessage.id)
        ).all()
    assert [status for _, status in waiting] == ["cancelled", "cancelled", "queued"]
    assert "no more texts" in waiting[-1][0]


def test_ok_after_stop_is_not_an_opt_in(phone: Phone, database: Database) -> None:
    phone.texts("STOP")
    for word in ("ok", "sure", "y", "thanks"):
        phone.texts(word)
    assert opted_out(database)
    assert len(replies_to(database)) == 1


def test_help_says_what_jobline_is_and_how_to_stop(phone: Phone, database: Database) -> None:
    for index, word in enumerate(HELP_WORDS):
        phone.number = f"+86139200000{index:02d}"
        phone.texts(word)
        [answer] = replies_to(database, phone.number)
        assert "Jobline helps you find work" in answer and "STOP" in answer, word


def test_twilio_opt_out_type_is_honoured_whatever_the_words(
    phone: Phone, database: Database
) -> None:
    phone.texts("please do not text me again", OptOutType="STOP")
    assert opted_out(database)
    phone.texts("ok go on then", OptOutType="START")
    assert not opted_out(database)
    phone.texts("what is this", OptOutType="HELP")
    assert "STOP" in replies_to(database)[-1]


def test_yes_opts_in_a_seeker_stopped_by_twilio_mid_question(
    phone: Phone, database: Database, channel: TwilioChannel, fake_twilio: FakeTwilio, clock: Clock
) -> None:
    phone.texts("register")
    fake_twilio.answer_next(twilio_error(400, 21610))
    assert deliver(database, channel, clock) == []
    assert opted_out(database) and not seeker_opted_out(database)  # this number only
    phone.texts("YES")
    assert not opted_out(database)
    assert "texts again" in "\n".join(replies_to(database)[-2:])


def test_a_reply_goes_out_and_its_status_comes_back(
    phone: Phone, database: Database, channel: TwilioChannel, fake_twilio: FakeTwilio, clock: Clock
) -> None:
    phone.texts("hello")
    [text] = deliver(database, channel, clock)
    [request] = fake_twilio.sent
    assert request["To"] == PHONE and request["From"] == FROM_NUMBER
    assert request["Body"] == text and text.startswith("Hello, I am Jobline")
    assert request["StatusCallback"] == PUBLIC_URL + "/webhooks/twilio/status"
    with database.sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert row.status == "sent" and row.provider_id and row.provider_id.startswith("SM")
    assert row.segments == 1


def sent_row(database: Database) -> OutboxMessage:
    with database.sessions() as session:
        return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()  # type: ignore[return-value]


# callbacks in the order they arrive -> the row's status afterwards
STATUS_CASES = [
    (["queued", "sending"], "sent"),
    (["sent"], "sent"),
    (["sent", "delivered"], "delivered"),
    (["delivered", "sent"], "delivered"),
    (["sent", "undelivered"], "undelivered"),
    (["failed"], "failed"),
    (["delivered", "failed"], "delivered"),
    (["read"], "sent"),
]


def test_status_callbacks_in_every_state(
    phone: Phone, database: Database, channel: TwilioChannel, clock: Clock
) -> None:
    for callbacks, final in STATUS_CASES:
        phone.texts("hello")
        deliver(database, channel, clock)
        row = sent_row(database)
        assert row.provider_id is not None
        for status in callbacks:
            assert phone.status(row.provider_id, status) == (204, "")
        assert sent_row(database).status == final, callbacks


def test_failed_callback_keeps_the_error_and_21610_stops_that_number(
    phone: Phone, database: Database, channel: TwilioChannel, clock: Clock
) -> None:
    phone.texts("hello")
    deliver(database, channel, clock)
    row = sent_row(database)
    assert row.provider_id is not None
    phone.status(row.provider_id, "undelivered", ErrorCode="30003")
    assert sent_row(database).last_error == "twilio error 30003"
    assert not opted_out(database)
    phone.status(row.provider_id, "failed", ErrorCode="21610")
    assert sent_row(database).status == "failed"
    # The number said STOP to Twilio: it is stopped; the seeker's other channels are not.
    assert opted_out(database) and not seeker_opted_out(database)


def test_a_callback_that_races_ahead_of_the_send_result_is_applied(
    phone: Phone, database: Database, channel: TwilioChannel, clock: Clock, fake_twilio: FakeTwilio
) -> None:
    phone.texts("hello")
    fake_twilio.delay = 1.5  # Twilio keeps the message at once but is slow to answer the send
    early: list[tuple[tuple[int, str], bool]] = []

    def twilio_calls_back() -> None:
        deadline = time.monotonic() + 10
        while not fake_twilio.messages and time.monotonic() < deadline:
            time.sleep(0.01)
        sid = fake_twilio.messages[-1]["sid"]
        answer = phone.status(sid, "delivered")
        with database.sessions() as session:
            early.append((answer, session.get(EarlyReport, sid) is not None))

    callback = threading.Thread(target=twilio_calls_back)
    callback.start()
    deliver(database, channel, clock)
    callback.join()
    assert early == [((204, ""), True)]  # it came first, and was kept
    row = sent_row(database)
    assert row.status == "delivered" and row.provider_id == fake_twilio.messages[-1]["sid"]
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(EarlyReport)) == 0


STATUS_REQUESTS = [
    ("unknown message", {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"}, True, 204),
    ("no MessageStatus", {"MessageSid": "SM" + "f" * 32}, True, 400),
    ("no MessageSid", {"MessageStatus": "delivered"}, True, 400),
    ("unsigned", {"MessageSid": "SM" + "f" * 32, "MessageStatus": "delivered"}, False, 403),
]


def test_status_webhook_table(phone: Phone) -> None:
    for name, sent, signed, status in STATUS_REQUESTS:
        code, _ = phone.post("/webhooks/twilio/status", sent, "sign" if signed else None)
        assert code == status, name


def test_a_seeker_registers_by_sms_end_to_end(
    phone: Phone, database: Database, channel: TwilioChannel, fake_twilio: FakeTwilio, clock: Clock
) -> None:
    for body in ["register", "Wang Lei", "1972", "1", "daoli", "1 4", "yes", "1"]:
        phone.texts(body)
        deliver(database, channel, clock)
    assert "You are registered" in fake_twilio.sent[-1]["Body"]
    with database.sessions() as session:
        seeker = session.scalar(select(Seeker).where(Seeker.phone == PHONE))
        assert seeker is not None and seeker.registered_at is not None
