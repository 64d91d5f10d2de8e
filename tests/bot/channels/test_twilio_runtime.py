"""The Twilio channel in the running app: on only when configured, and nothing left unanswered."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.channels.base import InboundMessage
from bot.channels.twilio_sms import TwilioChannel, check_twilio_settings
from bot.conversation import Jobline
from bot.database import Database
from bot.runtime import build_runtime
from bot.settings import Settings, SettingsError, load_settings
from db.models import Message, OutboxMessage
from tests.bot.channels.conftest import ACCOUNT_SID, AUTH_TOKEN, PHONE, PUBLIC_URL
from tests.conftest import Clock


def test_the_channel_is_off_without_an_account_and_says_so_in_one_line(
    database: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="bot.channels.twilio_sms"):
        app = build_runtime(load_settings(database_url=database_url), database)
    [line] = [r.getMessage() for r in caplog.records if "Twilio" in r.getMessage()]
    assert line.startswith("Twilio SMS channel off: set twilio.account_sid")
    with TestClient(app) as web:
        assert web.post("/webhooks/twilio/sms", data={"Body": "hi"}).status_code == 404


def test_the_channel_is_on_with_an_account(settings: Settings, database: Database) -> None:
    app = build_runtime(settings, database)
    assert isinstance(app.state.runtime.channels["sms"], TwilioChannel)
    with TestClient(app) as web:
        assert web.post("/webhooks/twilio/sms", data={"Body": "hi"}).status_code == 403


@pytest.mark.parametrize(
    ("twilio", "public", "named"),
    [
        ({"account_sid": ACCOUNT_SID, "from_number": "+15005550006"}, PUBLIC_URL, "auth_token"),
        ({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}, PUBLIC_URL, "from_number"),
        (
            {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": "+15005550006"},
            "",
            "public_base_url",
        ),
    ],
)
def test_a_half_configured_channel_is_refused(
    twilio: dict[str, str], public: str, named: str
) -> None:
    with pytest.raises(SettingsError, match=f"Invalid setting [a-z.]*{named}"):
        check_twilio_settings(load_settings(public_base_url=public, twilio=twilio))


def test_a_message_stored_before_a_crash_is_answered_after_the_restart(
    settings: Settings, jobline: Jobline, database: Database, clock: Clock
) -> None:
    jobline.receive(InboundMessage("sms", PHONE, "help", external_id="SM" + "c" * 32))
    clock.advance(seconds=30)
    assert jobline.resume(before=clock()) == 1
    with database.sessions() as session:
        assert session.scalars(select(Message.status)).one() == "handled"
        [reply] = session.scalars(select(OutboxMessage.text)).all()
    assert "STOP" in reply
