"""Which provider carries each SMS: the office's own phones for some countries, Twilio elsewhere."""

from __future__ import annotations

import asyncio
import logging

from starlette.routing import BaseRoute

from bot.app import Runtime
from bot.channels.android_sms import (
    GatewayWebhooks,
    OfficePhones,
    check_gateway_settings,
    gateway_enabled,
)
from bot.channels.base import Channel, OutgoingMessage, SendResult
from bot.channels.twilio_sms import TwilioChannel, check_twilio_settings, twilio_enabled
from bot.settings import Settings
from notify.channel import CannotLookUp, Fail
from notify.dispatcher import Reconcilable

log = logging.getLogger(__name__)


class SmsRoutes:
    """The SMS channel when the office has phones: each number goes to its country's provider.

    A seeker who wrote to one of the phones is answered from that phone; other numbers of a
    gateway country are spread over the phones, each at its own rate (the dispatcher's lines).
    """

    name = "sms"

    def __init__(self, settings: Settings, phones: OfficePhones, twilio: Channel | None) -> None:
        self.sms = settings.sms
        self.phones = phones
        self.twilio = twilio
        self.twilio_rate = settings.notify.rate_limits.twilio if twilio is not None else 0.0

    @property
    def rate(self) -> float:
        """Messages per second over every phone and Twilio."""
        return self.phones.rate + self.twilio_rate

    def line_rate(self, line: str) -> float:
        """Messages per second one phone may send."""
        return self.phones.line_rate(line)

    def on_phones(self, message: OutgoingMessage) -> bool:
        """Does this message go out through an office phone?"""
        if message.device in self.phones.phones or message.line in self.phones.phones:
            return True
        return self.sms.on_phones(message.address)

    def route(self, message: OutgoingMessage) -> str | None:
        """The phone this message goes out on, or None for Twilio."""
        return self.phones.pick(message.device) if self.on_phones(message) else None

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send through the message's phone, or through Twilio."""
        if self.on_phones(message):
            return await asyncio.to_thread(self.phones.send_now, message)
        if self.twilio is None:
            raise Fail("no SMS provider for this country (Twilio is off)")
        return await self.twilio.send(message)

    async def lookup(self, message: OutgoingMessage) -> SendResult | None:
        """Ask the provider that would have it whether it has this message."""
        if self.on_phones(message):
            return await asyncio.to_thread(self.phones.lookup_now, message)
        if isinstance(self.twilio, Reconcilable):
            return await self.twilio.lookup(message)
        raise CannotLookUp("Twilio messages cannot be looked up by outbox id")


def sms_channel(settings: Settings, twilio: Channel | None = None) -> Channel | None:
    """The SMS channel the settings turn on: Twilio, the office phones, both, or none."""
    if twilio is None and twilio_enabled(settings):
        check_twilio_settings(settings)
        twilio = TwilioChannel(settings)
    if not gateway_enabled(settings):
        return twilio
    check_gateway_settings(settings)
    return SmsRoutes(settings, OfficePhones(settings.sms.android), twilio)


async def keep_registering(phones: OfficePhones, public_base_url: str, every: float) -> None:
    """Register our webhook on the phones, trying again while one cannot be reached."""
    while True:
        try:
            servers = await asyncio.to_thread(phones.register_webhooks, public_base_url)
            log.info("android gateway webhooks registered on %d server(s)", len(servers))
            return
        except Exception as error:  # a phone off or unreachable: try again later
            log.warning("could not register the android gateway webhooks (%r); retrying", error)
            await asyncio.sleep(every)


def install_android(runtime: Runtime, settings: Settings) -> list[BaseRoute]:
    """Turn the office phones on when configured: the webhook, the router, the registration.

    Call after install_twilio: the router sends through the Twilio channel it installed.
    """
    if not gateway_enabled(settings):
        return []
    routes = sms_channel(settings, runtime.channels.get("sms"))
    assert isinstance(routes, SmsRoutes)
    runtime.channels["sms"] = routes
    if settings.public_base_url:
        url, every = settings.public_base_url, settings.sms.android.offline_retry_seconds

        async def register() -> None:
            await keep_registering(routes.phones, url, every)

        runtime.services.append(register)
    log.info("android SMS gateway on: %d phone(s)", len(routes.phones.phones))
    return list(GatewayWebhooks(settings, runtime.inbox).routes())
