"""The benchmark's lean fake Twilio answers Jobline's real sender as Twilio does."""

from __future__ import annotations

import asyncio

from bot.channels.twilio_sms import TwilioChannel
from bot.settings import load_settings
from notify.channel import OutgoingMessage, SendError
from tests.bot.channels.conftest import PHONE
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, PUBLIC_URL
from tests.fakes.twilio_lean import LeanTwilio


def sender(url: str, auth_token: str = AUTH_TOKEN) -> TwilioChannel:
    twilio = {
        "account_sid": ACCOUNT_SID,
        "auth_token": auth_token,
        "from_number": FROM_NUMBER,
        "api_base_url": url,
    }
    return TwilioChannel(load_settings(public_base_url=PUBLIC_URL, twilio=twilio))


def test_sends_on_one_connection_are_recorded_in_order_and_answered_with_a_sid() -> None:
    arrived: list[tuple[str, float]] = []

    async def run() -> list[str]:
        fake = await LeanTwilio(
            ACCOUNT_SID, AUTH_TOKEN, lambda form, at: arrived.append((form["Body"], at))
        ).start()
        channel = sender(fake.url)
        try:
            texts = [f"reply {n}" for n in range(3)]
            results = [
                await channel.send(OutgoingMessage(outbox_id=n, address=PHONE, text=text))
                for n, text in enumerate(texts)
            ]
            return [result.provider_id for result in results]
        finally:
            await channel.close()
            await fake.stop()

    sids = asyncio.run(run())
    assert [body for body, _ in arrived] == ["reply 0", "reply 1", "reply 2"]
    assert [at for _, at in arrived] == sorted(at for _, at in arrived)
    assert len(set(sids)) == 3 and all(sid.startswith("SM") and len(sid) == 34 for sid in sids)


def test_a_wrong_auth_token_is_refused_as_twilio_refuses_it() -> None:
    async def run() -> SendError:
        fake = await LeanTwilio(ACCOUNT_SID, AUTH_TOKEN, lambda form, at: None).start()
        channel = sender(fake.url, auth_token="wrong")
        try:
            await channel.send(OutgoingMessage(outbox_id=1, address=PHONE, text="hi"))
        except SendError as error:
            assert not fake.sent
            return error
        finally:
            await channel.close()
            await fake.stop()
        raise AssertionError("sent with a wrong token")

    error = asyncio.run(run())
    assert "401" in error.reason and "20003" in error.reason
