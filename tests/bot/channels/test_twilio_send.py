"""Sending through the real twilio client against the fake Twilio API, and what each error means."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.channels.twilio_sms import TwilioChannel, inbound_from_form, status_from_form
from bot.settings import Settings, load_settings
from notify.channel import OutgoingMessage, SendError
from tests.bot.channels.conftest import PHONE
from tests.fakes.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    PUBLIC_URL,
    Answer,
    FakeTwilio,
    slow,
    twilio_error,
    twilio_section,
)

SERVICE_SID = "MG" + "5678efab" * 4


def settings_for(fake_twilio: FakeTwilio, **twilio: str) -> Settings:
    return load_settings(
        public_base_url=PUBLIC_URL,
        twilio=twilio_section(fake_twilio, **twilio),
    )


@pytest.fixture
def sender(fake_twilio: FakeTwilio) -> TwilioChannel:
    """The channel, sending through the fake."""
    return TwilioChannel(settings_for(fake_twilio))


MESSAGE = OutgoingMessage(outbox_id=1, address=PHONE, text="Jobline menu. Reply a number.")


def test_send_uses_the_account_number_and_status_callback(
    sender: TwilioChannel, fake_twilio: FakeTwilio
) -> None:
    result = asyncio.run(sender.send(MESSAGE))
    [request] = fake_twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert request.form == {
        "To": PHONE,
        "From": FROM_NUMBER,
        "Body": MESSAGE.text,
        "StatusCallback": PUBLIC_URL + "/webhooks/twilio/status",
    }
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34


def test_send_from_a_messaging_service(fake_twilio: FakeTwilio) -> None:
    channel = TwilioChannel(
        settings_for(fake_twilio, from_number="", messaging_service_sid=SERVICE_SID)
    )
    channel.send_now(MESSAGE)
    [sent] = fake_twilio.sent
    assert sent["MessagingServiceSid"] == SERVICE_SID and "From" not in sent


# what the fake answers -> what the channel says to do
ERROR_CASES = [
    ("opted out", twilio_error(400, 21610), "stop"),
    ("not a valid number", twilio_error(400, 21211), "fail"),
    ("not a mobile number", twilio_error(400, 21614), "fail"),
    ("too many requests", twilio_error(429, 20429), "retry"),
    ("server error", twilio_error(500, 20500), "retry"),
    ("bad gateway, not JSON", Answer(502, {}), "retry"),
    ("unknown client error", twilio_error(400, 21602), "fail"),
]


@pytest.mark.parametrize(
    ("name", "answer", "action"), ERROR_CASES, ids=[case[0] for case in ERROR_CASES]
)
def test_send_errors_are_classified(
    sender: TwilioChannel, fake_twilio: FakeTwilio, name: str, answer: Answer, action: str
) -> None:
    fake_twilio.answer_next(answer)
    with pytest.raises(SendError) as raised:
        sender.send_now(MESSAGE)
    assert raised.value.action == action, raised.value.reason


def test_the_number_twilio_quotes_is_masked_in_the_reason(
    sender: TwilioChannel, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.answer_next(twilio_error(400, 21211))
    with pytest.raises(SendError) as raised:
        sender.send_now(MESSAGE)
    assert PHONE not in raised.value.reason and "+86138****0001" in raised.value.reason


def test_429_then_success(sender: TwilioChannel, fake_twilio: FakeTwilio) -> None:
    fake_twilio.answer_next(twilio_error(429, 20429, retry_after=2))
    with pytest.raises(SendError) as raised:
        sender.send_now(MESSAGE)
    assert (raised.value.action, raised.value.retry_after) == ("retry", 2.0)
    assert sender.send_now(MESSAGE).provider_id.startswith("SM")
    assert len(fake_twilio.sent) == 2


def test_wrong_auth_token_fails_rather_than_retrying(fake_twilio: FakeTwilio) -> None:
    channel = TwilioChannel(settings_for(fake_twilio, auth_token="wrong"))
    with pytest.raises(SendError) as raised:
        channel.send_now(MESSAGE)
    assert raised.value.action == "fail" and "401" in raised.value.reason


def test_a_timeout_is_retried(fake_twilio: FakeTwilio) -> None:
    channel = TwilioChannel(settings_for(fake_twilio), timeout=0.2)
    fake_twilio.answer_next(slow(1.0))
    with pytest.raises(SendError) as raised:
        channel.send_now(MESSAGE)
    assert raised.value.action == "retry" and "Timeout" in raised.value.reason


def test_twilio_unreachable_is_retried(fake_twilio: FakeTwilio) -> None:
    channel = TwilioChannel(settings_for(fake_twilio))
    fake_twilio.stop()
    with pytest.raises(SendError) as raised:
        channel.send_now(MESSAGE)
    assert raised.value.action == "retry"


def test_inbound_form_kinds() -> None:
    base = {"From": PHONE, "MessageSid": "SM1"}
    assert inbound_from_form({**base, "Body": "hi"}).kind == "text"
    assert inbound_from_form({**base, "NumMedia": "1"}).kind == "media"
    assert inbound_from_form({**base, "NumMedia": "1", "Body": " "}).kind == "media"
    assert inbound_from_form({**base, "NumMedia": "x", "Body": ""}).kind == "text"
    assert inbound_from_form({**base, "Body": "no more", "OptOutType": "STOP"}).kind == "stop"
    assert inbound_from_form({**base, "Body": "Yes", "OptOutType": "start"}).kind == "start"
    assert inbound_from_form({**base, "SmsSid": "SM2"}).external_id == "SM1"


def test_status_form() -> None:
    update = status_from_form(
        {"MessageSid": "SM1", "MessageStatus": "Failed", "ErrorCode": "21610"}
    )
    assert (update.provider_id, update.status, update.opted_out) == ("SM1", "failed", True)
    assert update.error == "twilio error 21610"
    sent = status_from_form({"SmsSid": "SM1", "SmsStatus": "sent"})
    assert (sent.error, sent.opted_out) == ("twilio error unknown", False)


def test_lookup_finds_a_sent_message_by_recipient_time_and_body(
    sender: TwilioChannel, fake_twilio: FakeTwilio
) -> None:
    claimed = datetime.now(UTC)
    message = replace(MESSAGE, claimed_at=claimed)
    sent = asyncio.run(sender.send(message))
    # Found: the dispatcher marks the orphan `sent` with this sid instead of sending it again.
    assert asyncio.run(sender.lookup(message)) == sent
    # Not found: the orphan is queued again.
    for other in (
        replace(message, text="Another text"),
        replace(message, address="+8613800000999"),
        replace(message, claimed_at=claimed + timedelta(hours=1)),
    ):
        assert asyncio.run(sender.lookup(other)) is None, other
    listed = [r for r in fake_twilio.requests if r.method == "GET"]
    assert listed and all("From=" in r.path and "To=" in r.path for r in listed)
