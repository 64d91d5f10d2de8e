"""Fixtures for the Twilio channel: a fake Twilio API, settings pointing at it, signed webhooks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from bot.app import Runtime, create_app
from bot.channels.twilio_sms import MESSAGE_PATH, STATUS_PATH, TwilioChannel, twilio_routes
from bot.conversation import Jobline
from bot.database import Database
from bot.settings import Settings
from db.models import OutboxMessage
from notify.dispatcher import Dispatcher, RateLimiter
from tests.fakes.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    PUBLIC_URL,
    FakeTwilio,
    twilio_settings,
)

PHONE = "+8613800000001"


@pytest.fixture
def settings(database_url: str, fake_twilio: FakeTwilio) -> Settings:
    """Settings with the Twilio channel on, talking to the fake (no demo posts: not needed)."""
    return twilio_settings(database_url, fake_twilio)


@pytest.fixture
def channel(settings: Settings) -> TwilioChannel:
    """The Twilio channel under test."""
    return TwilioChannel(settings)


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """The X-Twilio-Signature Twilio would send for this form posted to this URL."""
    return str(RequestValidator(token).compute_signature(url, form))


@dataclass
class Phone:
    """A seeker's phone texting Jobline through Twilio's signed webhooks."""

    web: TestClient
    number: str = PHONE
    sent: int = 0

    def post(
        self, path: str, form: dict[str, str], signature: str | None = "sign"
    ) -> tuple[int, str]:
        """POST a form to a webhook; by default signed as Twilio signs it."""
        headers = {}
        if signature == "sign":
            signature = sign(PUBLIC_URL + path, form)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        response = self.web.post(path, data=form, headers=headers)
        return response.status_code, response.text

    def texts(self, body: str | None, sid: str | None = None, **extra: str) -> tuple[int, str]:
        """Send one SMS (as Twilio forwards it) and return the webhook's answer."""
        self.sent += 1
        form = {
            "MessageSid": sid or f"SM{self.number[-6:]}{self.sent:026d}",
            "AccountSid": ACCOUNT_SID,
            "From": self.number,
            "To": FROM_NUMBER,
            "NumMedia": "0",
            **extra,
        }
        if body is not None:
            form["Body"] = body
        return self.post(MESSAGE_PATH, form)

    def status(self, sid: str, status: str, **extra: str) -> tuple[int, str]:
        """Twilio's status callback for one sent message."""
        form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": ACCOUNT_SID, **extra}
        return self.post(STATUS_PATH, form)


@pytest.fixture
def web(settings: Settings, database: Database, jobline: Jobline) -> Iterator[TestClient]:
    """The web app with the Twilio routes, called through a proxy's internal address."""
    runtime = Runtime(database, jobline)
    app = create_app(runtime, list(twilio_routes(settings, runtime.inbox)))
    with TestClient(app, base_url="http://10.0.0.7:8000") as client:
        yield client


@pytest.fixture
def phone(web: TestClient) -> Phone:
    """A seeker's phone."""
    return Phone(web)


def deliver(database: Database, channel: TwilioChannel, clock: Callable[[], datetime]) -> list[str]:
    """Send every queued SMS row through the real dispatcher; return the texts it sent."""
    with database.sessions() as session:
        before = set(
            session.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_not(None)))
        )
    unlimited = channel.settings.model_copy(
        update={"notify": channel.settings.notify.model_copy(update={"quiet_hours": ""})}
    )
    dispatcher = Dispatcher(
        database.sessions, {"sms": channel}, unlimited, clock=clock, backoff_seconds=0.05
    )
    dispatcher.rates["sms"] = 0.0
    dispatcher.limiters["sms"] = RateLimiter(0.0)
    try:
        asyncio.run(dispatcher.run(until_idle=True))
    finally:
        dispatcher.close()
    with database.sessions() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_not(None), OutboxMessage.status != "failed")
            .order_by(OutboxMessage.id)
        )
        return [row.text for row in rows if row.id not in before]
