"""Fixtures for the office phones: a fake gateway with two phones, Twilio beside it, a handset."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.app import Runtime, create_app
from bot.channels.android_sms import WEBHOOK_PATH, GatewayWebhooks
from bot.channels.sms_routes import SmsRoutes, sms_channel
from bot.conversation import Jobline
from bot.database import Database
from bot.settings import Settings
from db.models import OutboxMessage
from notify.dispatcher import Dispatcher
from tests.fakes.android_gateway import PASSWORD, SIGNING_KEY, USERNAME, FakeGateway
from tests.fakes.android_gateway import received as received_payload
from tests.fakes.android_gateway import webhook as signed_webhook

PHONES = ("phone-a", "phone-b")
SEEKER = "+8613800000001"


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    """The gateway's cloud API with two office phones, on a local port."""
    fake = FakeGateway(PHONES).start()
    yield fake
    fake.stop()


def with_phones(base: Settings, gateway_url: str, **android: Any) -> Settings:
    """Twilio's test settings plus the office phones for +86, nothing held by quiet hours."""
    data = base.model_dump()
    data["sms"]["android"] = {
        "api_url": gateway_url,
        "username": USERNAME,
        "password": PASSWORD,
        "signing_key": SIGNING_KEY,
        "phones": [{"id": device} for device in PHONES],
        "per_phone_per_minute": 6000,
        "offline_retry_seconds": 0.2,
        **android,
    }
    data["notify"]["quiet_hours"] = ""
    data["notify"]["rate_limits"]["twilio"] = 0
    return Settings.model_validate(data)


@pytest.fixture
def settings(settings: Settings, gateway: FakeGateway) -> Settings:
    """The Twilio channel's test settings with the office phones on too."""
    return with_phones(settings, gateway.url)


@pytest.fixture
def routes(settings: Settings) -> SmsRoutes:
    """The SMS channel: Twilio and the two phones, chosen by country code."""
    channel = sms_channel(settings)
    assert isinstance(channel, SmsRoutes)
    return channel


@dataclass
class Handset:
    """Seekers' texts arriving at the office phones, as the phones' signed webhooks."""

    web: TestClient
    clock: Callable[[], datetime]

    def call(self, event: str, payload: dict[str, Any], **options: Any) -> int:
        """POST one signed event (signed now by the Jobline clock unless told otherwise)."""
        options.setdefault("timestamp", self.clock().timestamp())
        body, headers = signed_webhook(event, payload, **options)
        response = self.web.post(WEBHOOK_PATH, content=body, headers=headers)
        return int(response.status_code)

    def texts(
        self, text: str, sender: str = SEEKER, device: str = PHONES[0], at: str | None = None
    ) -> int:
        """A seeker's SMS reaching one phone."""
        at = at or self.clock().isoformat()
        return self.call("sms:received", received_payload(sender, text, at), device=device)


@pytest.fixture
def web(settings: Settings, database: Database, jobline: Jobline) -> Iterator[TestClient]:
    """The web app with the gateway's webhook."""
    runtime = Runtime(database, jobline)
    app = create_app(runtime, list(GatewayWebhooks(settings, runtime.inbox).routes()))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def handset(web: TestClient, jobline: Jobline) -> Handset:
    """The office phones forwarding seekers' texts."""
    return Handset(web, jobline.clock)


def deliver(
    database: Database, settings: Settings, clock: Callable[[], datetime], timeout: float = 30
) -> Dispatcher:
    """Run the real dispatcher over the SMS routes until nothing is left to send."""
    channel = sms_channel(settings)
    assert channel is not None
    dispatcher = Dispatcher(
        database.sessions, {"sms": channel}, settings, clock=clock, backoff_seconds=0.05
    )
    try:
        asyncio.run(asyncio.wait_for(dispatcher.run(until_idle=True), timeout))
    finally:
        dispatcher.close()
    return dispatcher


def outbox_rows(database: Database) -> list[OutboxMessage]:
    """Every outbox row, oldest first."""
    with database.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
