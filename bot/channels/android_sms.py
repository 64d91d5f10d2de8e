"""SMS through the office's own Android phones (SMS Gateway for Android), where Twilio cannot go.

Texts go out through the gateway's API (`POST /messages`, one phone each, with our own message id
`jobline-<outbox id>` so a resend is refused as a duplicate and a lost answer can be looked up).
Texts come in, and delivery reports too, by its signed webhooks at `POST /webhooks/android-sms`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from android_sms_gateway import client as gateway_client
from android_sms_gateway import domain, errors
from android_sms_gateway.enums import WebhookEvent
from android_sms_gateway.http import RequestsHttpClient
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.channels.base import InboundMessage, OutgoingMessage, SendError, SendResult
from bot.channels.sms_config import AndroidGatewaySettings, GatewayPhone
from bot.inbox import Inbox
from bot.settings import Settings, SettingsError
from db.phones import BadPhone, mask_phone
from notify.channel import Fail, Retry, Wait
from notify.outbox import DeliveryReport

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/android-sms"
SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
# Our message ids: a resend of the same outbox row is the same message to the gateway.
ID_PREFIX = "jobline-"
# Inbound ids we make (the gateway's own messageId is derived from the content, not unique).
INBOUND_PREFIX = "asg-"
# The phone with no id of its own, when sms.android.phones is empty.
ONE_PHONE = "phone"
STATUSES = {"sms:sent": "sent", "sms:delivered": "delivered", "sms:failed": "failed"}
EVENTS = (
    WebhookEvent.SMS_RECEIVED,
    WebhookEvent.SMS_SENT,
    WebhookEvent.SMS_DELIVERED,
    WebhookEvent.SMS_FAILED,
)


def gateway_enabled(settings: Settings) -> bool:
    """The office phones are in use when the gateway's API is configured."""
    return bool(settings.sms.android.api_url)


def check_gateway_settings(settings: Settings) -> None:
    """Refuse a half-configured gateway with a one-line reason."""
    android = settings.sms.android
    if not android.password:
        raise SettingsError(
            "Invalid setting sms.android.password: set JOBLINE_SMS__ANDROID__PASSWORD "
            "(the gateway is on because sms.android.api_url is set)"
        )
    if not android.signing_key:
        raise SettingsError(
            "Invalid setting sms.android.signing_key: set JOBLINE_SMS__ANDROID__SIGNING_KEY "
            "to the signing key in the app's webhook settings"
        )
    ids = [phone.id for phone in android.phones]
    if len(set(ids)) != len(ids):
        raise SettingsError("Invalid setting sms.android.phones: two phones have the same id")


def message_id(outbox_id: int) -> str:
    """The gateway message id of one outbox row."""
    return f"{ID_PREFIX}{outbox_id}"


class _TimedSession(requests.Session):
    """A requests session that never waits on a phone longer than its timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        """Send with the session's timeout unless the call gives one."""
        kwargs.setdefault("timeout", self.timeout)
        return super().request(*args, **kwargs)


def never_arrived(error: Exception) -> bool:
    """True when the phone could not even be reached, so it cannot have the message."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError):
        return False
    text = str(error)
    return "Connection refused" in text or "Failed to establish a new connection" in text


class OfficePhones:
    """The office's Android phones: a client each, a rate each, and which are reachable now."""

    def __init__(
        self, android: AndroidGatewaySettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.android = android
        self.phones = {p.id: p for p in android.phones} or {ONE_PHONE: GatewayPhone(id=ONE_PHONE)}
        self.clock = clock
        self.down_until: dict[str, float] = {}
        self._turn = itertools.cycle(list(self.phones))
        self._local = threading.local()

    @property
    def rate(self) -> float:
        """Messages per second over every phone."""
        return len(self.phones) * self.line_rate("")

    def line_rate(self, line: str) -> float:
        """Messages per second one phone may send."""
        return self.android.per_phone_per_minute / 60.0

    def url_of(self, device: str) -> str:
        """The API a phone is reached through: its own server, or the cloud's."""
        phone = self.phones.get(device)
        return ((phone.url if phone else "") or self.android.api_url).rstrip("/")

    def servers(self) -> list[str]:
        """Each API to call once (the cloud serves all its phones)."""
        return sorted({self.url_of(device) for device in self.phones})

    def pick(self, pinned: str | None) -> str:
        """The phone for a message: the one the seeker wrote to, else the next one that is up."""
        if pinned in self.phones:
            return pinned
        now = self.clock()
        for _ in range(len(self.phones)):
            device = next(self._turn)
            if self.down_until.get(device, 0.0) <= now:
                return device
        return next(self._turn)

    def client(self, url: str) -> gateway_client.APIClient:
        """This thread's client for one API root."""
        clients: dict[str, gateway_client.APIClient] = getattr(self._local, "clients", {})
        self._local.clients = clients
        if url not in clients:
            http = RequestsHttpClient(_TimedSession(self.android.timeout_seconds))
            clients[url] = gateway_client.APIClient(
                self.android.username or None, self.android.password, base_url=url, http=http
            )
        return clients[url]

    def send_now(self, message: OutgoingMessage) -> SendResult:
        """Hand one text to its phone, or raise SendError saying what to do."""
        device = message.line if message.line in self.phones else self.pick(message.device)
        ours = message_id(message.outbox_id)
        text = domain.Message(
            phone_numbers=[message.address],
            text_message=domain.TextMessage(text=message.text),
            with_delivery_report=True,
            id=ours,
            device_id=device if device in self.android_ids() else None,
        )
        try:
            state = self.client(self.url_of(device)).send(text)
        except errors.APIError as error:
            if error.status_code == 409:  # the phone already has this message: a resend
                return SendResult(provider_id=ours)
            raise self._failure(message, device, error) from error
        except requests.RequestException as error:
            if not never_arrived(error):
                raise  # it may have arrived: the dispatcher looks it up before sending again
            raise self._failure(message, device, error) from error
        return SendResult(provider_id=state.id or ours)

    def android_ids(self) -> set[str]:
        """Device ids the cloud server knows (phones without a server of their own)."""
        return {p.id for p in self.android.phones if not p.url}

    def _failure(self, message: OutgoingMessage, device: str, error: Exception) -> SendError:
        status = getattr(error, "status_code", None)
        reason = f"android {device} {status or type(error).__name__}: {error}"
        reason = reason.replace(message.address, mask_phone(message.address))
        if status is None or status in (401, 403):  # phone off, or locked out: not the message
            pause = self.android.offline_retry_seconds
            self.down_until[device] = self.clock() + pause
            # A seeker who wrote to this phone waits for it; anyone else goes by another phone.
            failure: SendError = Wait(reason, pause if device == message.device else 0.0)
        elif status == 400:
            failure = Fail(reason)
        else:
            failure = Retry(reason)
        log.info("SMS to %s not sent (%s): %s", mask_phone(message.address), failure.action, reason)
        return failure

    def lookup_now(self, message: OutgoingMessage) -> SendResult | None:
        """Whether any phone has this outbox row's message (errors when one cannot be asked)."""
        ours = message_id(message.outbox_id)
        for url in self.servers():
            try:
                state = self.client(url).get_state(ours)
            except errors.NotFoundError:
                continue
            return SendResult(provider_id=state.id or ours)
        return None

    def register_webhooks(self, public_base_url: str) -> list[str]:
        """Point every phone's webhooks at us (same ids: registering again replaces them)."""
        url = public_base_url.rstrip("/") + WEBHOOK_PATH
        done = []
        for server in self.servers():
            for event in EVENTS:
                hook = domain.Webhook(
                    id=f"jobline-{event.value.replace(':', '-')}", url=url, event=event
                )
                self.client(server).create_webhook(hook)
            done.append(server)
        return done


class BadEvent(ValueError):
    """A webhook body that lacks what the gateway always sends."""


@dataclass(frozen=True)
class GatewayEvent:
    """One webhook call: what happened, on which phone, and its payload."""

    event: str
    device: str | None
    payload: dict[str, Any]


def signature_of(body: bytes, timestamp: str, key: str) -> str:
    """The gateway's signature: HMAC-SHA256 of the body then the timestamp, in hex."""
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def signed(
    body: bytes, signature: str | None, timestamp: str | None, key: str, now: float, max_age: float
) -> bool:
    """True when the call is signed with our key and was signed within max_age of now."""
    if not signature or not timestamp:
        return False
    try:
        at = int(timestamp)
    except ValueError:
        return False
    if abs(now - at) > max_age:
        return False
    return hmac.compare_digest(signature_of(body, timestamp, key), signature.lower())


def event_from(body: bytes) -> GatewayEvent:
    """Read a webhook body (JSON with event, deviceId and payload)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadEvent("the body is not JSON") from error
    if not isinstance(data, dict) or not isinstance(data.get("payload"), dict):
        raise BadEvent("event and payload are required")
    event = data.get("event")
    if not isinstance(event, str) or not event:
        raise BadEvent("event and payload are required")
    device = data.get("deviceId")
    return GatewayEvent(event, str(device) if device else None, data["payload"])


def inbound_from(event: GatewayEvent) -> InboundMessage:
    """An sms:received event as an InboundMessage, its id made from phone, time and text."""
    payload = event.payload
    sender = payload.get("sender") or payload.get("phoneNumber")
    text = payload.get("message")
    received = payload.get("receivedAt")
    if not isinstance(sender, str) or not sender.strip():
        raise BadEvent("payload.sender is required")
    if not isinstance(text, str) or not isinstance(received, str) or not received:
        raise BadEvent("payload.message and payload.receivedAt are required")
    key = "\n".join((sender.strip(), received, text)).encode()
    external_id = INBOUND_PREFIX + hashlib.sha256(key).hexdigest()[:40]
    return InboundMessage("sms", sender.strip(), text, external_id=external_id, device=event.device)


def status_from(event: GatewayEvent) -> DeliveryReport:
    """A delivery event as the DeliveryReport Twilio's status callbacks make."""
    ours = event.payload.get("messageId")
    if not isinstance(ours, str) or not ours:
        raise BadEvent("payload.messageId is required")
    reason = str(event.payload.get("reason") or "")
    status = STATUSES[event.event]
    return DeliveryReport(ours, status, f"android: {reason or 'failed'}"[:500])


class GatewayWebhooks:
    """The one webhook the phones call: a seeker's text, or how a sent text went."""

    def __init__(self, settings: Settings, inbox: Inbox) -> None:
        self.android = settings.sms.android
        self.inbox = inbox

    def routes(self) -> list[Route]:
        """The webhook route."""
        return [Route(WEBHOOK_PATH, self.event, methods=["POST"])]

    async def event(self, request: Request) -> Response:
        """Check the signature and its age, then store what the phone reports."""
        body = await request.body()
        headers = request.headers
        now = self.inbox.now().timestamp()
        signature, timestamp = headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER)
        key, max_age = self.android.signing_key, self.android.webhook_max_age_seconds
        if not signed(body, signature, timestamp, key, now, max_age):
            return PlainTextResponse("bad or stale signature", status_code=403)
        try:
            event = event_from(body)
            if event.event == "sms:received":
                return await self.received(inbound_from(event))
            if event.event in STATUSES:
                return await self.status(status_from(event))
        except (BadEvent, BadPhone) as error:
            return PlainTextResponse(str(error), status_code=400)
        except Exception:  # storage down: the phone retries; never acknowledge what is unstored
            log.exception("could not store an android gateway event")
            return PlainTextResponse("try again", status_code=503)
        return Response(status_code=204)  # pings and events Jobline does not use

    async def received(self, inbound: InboundMessage) -> Response:
        """Store the text, answer the phone at once, take the turn afterwards."""
        received = await self.inbox.store(inbound)
        return Response(status_code=204, background=self.inbox.turn_later(received))

    async def status(self, report: DeliveryReport) -> Response:
        """Move a sent row on; a report for a row not yet recorded is asked for again later."""
        if not report.provider_id.startswith(ID_PREFIX):
            return Response(status_code=204)  # sent from the phone by hand, not by Jobline

        if not await self.inbox.report(report):
            return PlainTextResponse("not recorded yet", status_code=503)
        return Response(status_code=204)
