"""The office phones in the running app: the webhook registered at start, a seeker in Chinese."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.channels.android_sms import WEBHOOK_PATH, check_gateway_settings
from bot.channels.sms_routes import SmsRoutes
from bot.database import Database
from bot.runtime import build_runtime
from bot.settings import Settings, SettingsError
from db.models import OutboxMessage
from notify.sms import is_gsm7, segments
from tests.bot.channels.android.conftest import SEEKER, Handset, deliver
from tests.conftest import Clock
from tests.fakes.android_gateway import FakeGateway
from tests.fakes.seekers import stored
from tests.fakes.twilio_api import PUBLIC_URL
from tests.flows.test_language import CHINESE_REGISTRATION


def registered(gateway: FakeGateway, seconds: float = 20.0) -> set[tuple[str, str]]:
    """The (event, url) webhooks on the gateway once all four are there (or after `seconds`)."""
    deadline = time.monotonic() + seconds
    while len(gateway.webhooks) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    return {(hook["event"], hook["url"]) for hook in gateway.webhooks.values()}


EVENTS = {"sms:received", "sms:sent", "sms:delivered", "sms:failed"}


def test_run_registers_the_webhook_on_the_phones_at_start(
    settings: Settings, database: Database, gateway: FakeGateway
) -> None:
    app = build_runtime(settings, database)
    assert isinstance(app.state.runtime.channels["sms"], SmsRoutes)
    with TestClient(app) as web:
        assert registered(gateway) == {(event, PUBLIC_URL + WEBHOOK_PATH) for event in EVENTS}
        assert web.post(WEBHOOK_PATH, content=b"{}").status_code == 403  # unsigned


def test_registration_waits_for_a_phone_that_is_off(
    settings: Settings, database: Database, gateway: FakeGateway
) -> None:
    gateway.offline()
    app = build_runtime(settings, database)
    with TestClient(app):
        time.sleep(0.5)
        assert gateway.webhooks == {}
        gateway.online()
        assert len(registered(gateway)) == 4


@pytest.mark.parametrize("missing", ["password", "signing_key"])
def test_a_half_configured_gateway_is_refused(settings: Settings, missing: str) -> None:
    android = settings.sms.android.model_copy(update={missing: ""})
    half = settings.model_copy(update={"sms": settings.sms.model_copy(update={"android": android})})
    with pytest.raises(SettingsError, match=f"Invalid setting sms.android.{missing}: set JOBLINE_"):
        check_gateway_settings(half)


def test_a_seeker_registers_in_chinese_through_an_office_phone(
    handset: Handset,
    database: Database,
    settings: Settings,
    clock: Clock,
    gateway: FakeGateway,
) -> None:
    for sent, expected in CHINESE_REGISTRATION:
        clock.advance(seconds=30)
        before = len(gateway.sent_to(SEEKER))
        assert handset.texts(sent, device="phone-b") == 204
        deliver(database, settings, clock)
        answers = gateway.sent_to(SEEKER)[before:]
        assert answers and all(text.device == "phone-b" for text in answers), sent
        assert expected in "\n".join(text.text for text in answers), sent
    row = stored(database)
    assert (row.name, row.district, row.language) == ("王磊", "Daoli", "zh")
    assert row.registered_at is not None
    with database.sessions() as session:
        sent_rows = list(session.scalars(select(OutboxMessage)))
    for outbox_row in sent_rows:  # Chinese goes as UCS-2: 70 characters a segment
        assert not is_gsm7(outbox_row.text)
        assert outbox_row.segments == segments(outbox_row.text) <= 3
        assert outbox_row.status == "sent"
