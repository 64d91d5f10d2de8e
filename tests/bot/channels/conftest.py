"""Fixtures for the Twilio channel: a fake Twilio API, settings pointing at it, signed webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from bot.app import Runtime, create_app
from bot.channels.base import OutgoingMessage, SendError
from bot.channels.twilio_sms import MESSAGE_PATH, STATUS_PATH, TwilioChannel, twilio_routes
from bot.conversation import Jobline
from bot.settings import Settings, load_settings
from db.models import Contact, OutboxMessage, utcnow
from db.session import transaction
from db.setup import Database
from tests.fakes.twilio_api import FakeTwilio

ACCOUNT_SID = "AC" + "1234abcd" * 4
AUTH_TOKEN = "twilio-test-auth-token"
FROM_NUMBER = "+15005550006"
PUBLIC_URL = "https://jobline.example.org"
PHONE = "+8613800000001"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """Twilio's REST API on a local port."""
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def settings(database_url: str, fake_twilio: FakeTwilio) -> Settings:
    """Settings with the Twilio channel on, talking to the fake (no demo posts: not needed)."""
    return load_settings(
        database_url=database_url,
        load_demo_data=False,
        public_base_url=PUBLIC_URL,
        twilio={
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from_number": FROM_NUMBER,
            "api_base_url": fake_twilio.url,
        },
    )


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
    app = create_app(Runtime(database, jobline), list(twilio_routes(settings, jobline)))
    with TestClient(app, base_url="http://10.0.0.7:8000") as client:
        yield client


@pytest.fixture
def phone(web: TestClient) -> Phone:
    """A seeker's phone."""
    return Phone(web)


def deliver(database: Database, channel: TwilioChannel) -> list[str]:
    """Send every queued SMS row through the channel (a stand-in for the dispatcher)."""
    with transaction(database.sessions) as session:
        rows = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.channel == "sms", OutboxMessage.status == "queued")
                .order_by(OutboxMessage.id)
            )
        )
        for row in rows:
            row.status = "sending"
    texts = []
    for row in rows:
        outgoing = OutgoingMessage(row.id, row.address, row.text, tuple(row.buttons))
        with transaction(database.sessions) as session:
            stored = session.get(OutboxMessage, row.id)
            assert stored is not None
            stored.attempts += 1
            try:
                result = channel.send_now(outgoing)
            except SendError as error:
                stored.status = "failed" if error.action != "retry" else "queued"
                stored.last_error = error.reason
                if error.action == "stop":
                    contact = session.get(Contact, stored.contact_id)
                    assert contact is not None
                    contact.seeker.opted_out = True
                continue
            stored.status = "sent"
            stored.provider_id = result.provider_id
            stored.sent_at = utcnow()
            texts.append(row.text)
    return texts
