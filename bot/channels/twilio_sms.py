"""Twilio SMS: signed webhooks in (messages, delivery status), texts out through the REST API."""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import threading
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlparse

import aiohttp
import requests
from starlette.background import BackgroundTask
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import (
    _HASH_FUNCTIONS,
    HMAC_SHA1,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    add_port,
    get_signature_algorithm,
    remove_port,
)
from twilio.rest import Client

from bot.app import Runtime
from bot.channels.base import InboundMessage
from bot.inbox import Inbox
from bot.settings import Settings, SettingsError
from db.phones import BadPhone, mask_phone
from notify.channel import (
    ContactSaidStop,
    Fail,
    OutgoingMessage,
    Retry,
    SendError,
    SendResult,
)
from notify.lean_http import HttpFailure, LeanPoster, form_body
from notify.outbox import DeliveryReport

log = logging.getLogger(__name__)
# The twilio client logs eight INFO lines per request; our own line per failure is enough.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

TWILIO_ROOT = "https://api.twilio.com"
MESSAGE_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
# Twilio's largest form (1,600 characters of UCS-2 text, media URLs, numbers) is far below this.
MAX_FORM_BYTES = 64 * 1024
URLENCODED = "application/x-www-form-urlencoded"
# As many fields as Starlette's form parser takes.
MAX_FORM_FIELDS = 1000
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SEND_TIMEOUT_SECONDS = 10.0
# A lookup reads this many of the recipient's newest messages since the claim (less the slack,
# for clocks that differ).
LOOKUP_LIMIT = 50
LOOKUP_SLACK = timedelta(minutes=5)

# Twilio error codes that decide what happens to a message that could not be sent.
OPTED_OUT = 21610
BAD_NUMBERS = {21211, 21614, 21612, 21217, 21401, 21408}

# With Advanced Opt-Out, Twilio tells us which keyword list the message matched.
OPT_OUT_TYPES = {"STOP": "stop", "START": "start", "HELP": "help"}


def twilio_enabled(settings: Settings) -> bool:
    """The SMS channel is on when an account is configured."""
    return bool(settings.twilio.account_sid)


def check_twilio_settings(settings: Settings) -> None:
    """Refuse a half-configured Twilio channel with a one-line reason."""
    twilio = settings.twilio
    if not twilio.auth_token:
        raise SettingsError(
            "Invalid setting twilio.auth_token: set JOBLINE_TWILIO__AUTH_TOKEN "
            "(the Twilio channel is on because twilio.account_sid is set)"
        )
    if not twilio.from_number and not twilio.messaging_service_sid:
        raise SettingsError(
            "Invalid setting twilio.from_number: set it or twilio.messaging_service_sid"
        )
    if not settings.public_base_url:
        raise SettingsError(
            "Invalid setting public_base_url: Twilio signatures are checked against the "
            "public URL Twilio calls"
        )


class _Client(Client):  # type: ignore[misc]
    """The real twilio Client, talking to the API root from settings (a local fake in tests)."""

    def __init__(self, api_base_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api_base_url = api_base_url.rstrip("/")

    def get_hostname(self, uri: str) -> str:
        """Point api.twilio.com URLs at the configured server root."""
        if uri.startswith(TWILIO_ROOT) and self.api_base_url != TWILIO_ROOT:
            return self.api_base_url + uri[len(TWILIO_ROOT) :]
        return str(super().get_hostname(uri))


def classify(error: Exception, retry_after: float | None = None) -> SendError:
    """What to do about a failed send: retry later, give up on the message, or stop the contact."""
    if isinstance(error, HttpFailure):  # named by what failed underneath
        return Retry(f"network: {type(error.__cause__ or error).__name__}", retry_after)
    if isinstance(error, (requests.RequestException, aiohttp.ClientError, TimeoutError)):
        return Retry(f"network: {type(error).__name__}", retry_after)
    status = getattr(error, "status", None)
    code = getattr(error, "code", None)
    reason = f"twilio {status} code {code}: {getattr(error, 'msg', '') or error}"
    if code == OPTED_OUT:  # this number sent STOP to Twilio: only this contact stops
        return ContactSaidStop(reason)
    if code in BAD_NUMBERS:
        return Fail(reason)
    if status == 429 or (isinstance(status, int) and status >= 500) or status is None:
        return Retry(reason, retry_after)
    return Fail(reason)


def rest_error(status: int, body: bytes, uri: str) -> TwilioRestException:
    """The error the twilio client raises for an answer that is not a success."""
    message = "Unable to create record"
    try:
        payload = json.loads(body)
    except ValueError:
        return TwilioRestException(status, uri, message, status, "POST")
    if not isinstance(payload, dict):
        return TwilioRestException(status, uri, message, None, "POST")
    if "message" in payload:
        message = f"{message}: {payload['message']}"
    return TwilioRestException(status, uri, message, payload.get("code", status), "POST")


class TwilioChannel:
    """Sends outbox rows as SMS: a form POST to Twilio's Messages API on kept-alive connections.

    notify/lean_http.py on the event loop, not the twilio client on requests in a thread: that
    cost 14% of the app's CPU under load, httpx about four times aiohttp, aiohttp five times
    lean_http (bench/conversations.py). The twilio client still looks messages up after a crash.
    """

    name = "sms"

    def __init__(self, settings: Settings, timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        self.settings = settings
        self.timeout = timeout
        base = settings.public_base_url.rstrip("/")
        self.status_callback = base + STATUS_PATH if base else None
        twilio = settings.twilio
        account = f"{twilio.account_sid}:{twilio.auth_token}".encode()
        self.authorization = "Basic " + base64.b64encode(account).decode("ascii")
        self.messages_url = (
            f"{twilio.api_base_url.rstrip('/')}/2010-04-01/Accounts/{twilio.account_sid}"
            "/Messages.json"
        )
        self._local = threading.local()
        self._poster = LeanPoster(
            self.messages_url,
            # The form is encoded here, once per text.
            {"Authorization": self.authorization, "Content-Type": URLENCODED},
            self.timeout,
        )

    def _client(self) -> _Client:
        """The twilio client of this thread (for lookups)."""
        client: _Client | None = getattr(self._local, "client", None)
        if client is None:
            twilio = self.settings.twilio
            client = _Client(
                twilio.api_base_url,
                twilio.account_sid,
                twilio.auth_token,
                http_client=TwilioHttpClient(timeout=self.timeout),
            )
            self._local.client = client
        return client

    async def close(self) -> None:
        """Close this event loop's kept-alive connections."""
        await self._poster.close()

    def form(self, message: OutgoingMessage) -> dict[str, str]:
        """The Messages API form for one text."""
        twilio = self.settings.twilio
        form = {"To": message.address, "Body": message.text}
        if twilio.messaging_service_sid:
            form["MessagingServiceSid"] = twilio.messaging_service_sid
        else:
            form["From"] = twilio.from_number
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        return form

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send one text, or raise SendError saying what to do."""
        body = form_body(self.form(message))
        try:
            answer = await self._poster.post(body)
        except (HttpFailure, TimeoutError) as error:
            raise self._failure(message, error, None) from error
        status, body = answer.status, answer.body
        retry_after = _seconds(answer.headers.get("retry-after"))
        if not 200 <= status < 300:
            refused = rest_error(status, body, self.messages_url)
            raise self._failure(message, refused, retry_after)
        sid = json.loads(body).get("sid")
        if not sid:
            raise Retry("twilio answered without a message sid")
        return SendResult(provider_id=str(sid))

    def send_now(self, message: OutgoingMessage) -> SendResult:
        """Send one text from a thread with no event loop running (on a loop of its own)."""

        async def once() -> SendResult:
            try:
                return await self.send(message)
            finally:
                await self.close()

        return asyncio.run(once())

    def _failure(
        self, message: OutgoingMessage, error: Exception, retry_after: float | None
    ) -> SendError:
        failure = classify(error, retry_after)
        # Twilio's messages can quote the number; logs and last_error must not.
        failure.reason = failure.reason.replace(message.address, mask_phone(message.address))
        log.info(
            "SMS to %s not sent (%s): %s",
            mask_phone(message.address),
            failure.action,
            failure.reason,
        )
        return failure

    async def lookup(self, message: OutgoingMessage) -> SendResult | None:
        """Twilio's record of a message a stopped dispatcher may have sent, or None."""
        return await asyncio.to_thread(self.lookup_now, message)

    def lookup_now(self, message: OutgoingMessage) -> SendResult | None:
        """Find the message in Twilio's Message list by recipient, sender, time and body."""
        twilio = self.settings.twilio
        options: dict[str, Any] = {"to": message.address, "limit": LOOKUP_LIMIT}
        if not twilio.messaging_service_sid:
            options["from_"] = twilio.from_number
        if message.claimed_at is not None:
            options["date_sent_after"] = message.claimed_at - LOOKUP_SLACK
        for found in self._client().messages.list(**options):
            if found.body == message.text and found.sid:
                return SendResult(provider_id=found.sid)
        return None


class BadForm(ValueError):
    """A webhook form that lacks what Twilio always sends."""


def inbound_from_form(form: FormData | dict[str, str]) -> InboundMessage:
    """Turn Twilio's inbound message form into an InboundMessage."""
    sender = str(form.get("From") or "").strip()
    sid = str(form.get("MessageSid") or form.get("SmsSid") or "").strip()
    if not sender or not sid:
        raise BadForm("From and MessageSid are required")
    body = str(form.get("Body") or "")
    media = _count(form.get("NumMedia"))
    kind = "text"
    if media > 0 and not body.strip():
        kind = "media"
    opt_out_type = str(form.get("OptOutType") or "").strip().upper()
    if opt_out_type in OPT_OUT_TYPES:
        kind = OPT_OUT_TYPES[opt_out_type]
    return InboundMessage("sms", sender, body, external_id=sid, kind=kind)


def status_from_form(form: FormData | dict[str, str]) -> DeliveryReport:
    """Turn Twilio's status callback form into a DeliveryReport."""
    sid = str(form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = str(form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or not status:
        raise BadForm("MessageSid and MessageStatus are required")
    code = _count(form.get("ErrorCode")) or None
    return DeliveryReport(sid, status, f"twilio error {code or 'unknown'}", code == OPTED_OUT)


class TwilioSignature:
    """Checks X-Twilio-Signature against the URL Twilio called (our public root + the path)."""

    def __init__(self, public_base_url: str, auth_token: str) -> None:
        self.base_url = public_base_url.rstrip("/")
        self.validator = RequestValidator(auth_token)

    def url_called(self, request: Request) -> str:
        """The URL Twilio signed: our public root, not the host a proxy forwarded to us."""
        query = request.url.query
        return self.base_url + request.url.path + (f"?{query}" if query else "")

    async def oversized(self, request: Request) -> bool:
        """Whether the body is larger than any form Twilio sends (answered 413, not 403)."""
        declared = request.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > MAX_FORM_BYTES:
            return True
        return len(await request.body()) > MAX_FORM_BYTES

    async def signed_form(self, request: Request) -> FormData | None:
        """The request's form when its X-Twilio-Signature is good, else None."""
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            return None
        try:
            form = await read_form(request)
        except Exception:  # an unreadable body cannot carry a good signature
            return None
        algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
        if not self.valid(self.url_called(request), form, signature, algorithm):
            return None
        return form

    def valid(self, url: str, form: FormData, signature: str, algorithm: str) -> bool:
        """Whether Twilio signed this form for this URL, as written or with its port toggled."""
        # The twilio library computes both signatures every time (its back end signs some URLs
        # with the default port, some without); the URL as configured is the usual one, so the
        # other is computed only when it fails. Both are compared in constant time.
        if (algorithm or HMAC_SHA1).upper() not in _HASH_FUNCTIONS:
            return bool(self.validator.validate(url, form, signature, algorithm))  # logs why
        if self._matches(url, form, signature, algorithm):
            return True
        parsed = urlparse(url)
        other = remove_port(parsed) if parsed.port else add_port(parsed)
        return other != url and self._matches(other, form, signature, algorithm)

    def _matches(self, url: str, form: FormData, signature: str, algorithm: str) -> bool:
        computed = str(self.validator.compute_signature(url, form, algorithm))
        return hmac.compare_digest(computed.encode(), signature.encode())


async def read_form(request: Request) -> FormData:
    """The request's form. A urlencoded body, what Twilio sends, is parsed by the standard
    library as Starlette parses it (latin-1, then percent-decoding as UTF-8), at a third of
    the CPU; any other body goes to Starlette."""
    content_type = request.headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if content_type != URLENCODED:
        return await request.form()
    body = (await request.body()).decode("latin-1")
    fields: list[tuple[str, str | UploadFile]] = []
    fields += parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    return FormData(fields)


class TwilioWebhooks:
    """The two webhooks Twilio calls: a seeker's message, and a sent message's status."""

    def __init__(self, settings: Settings, inbox: Inbox) -> None:
        self.signature = TwilioSignature(settings.public_base_url, settings.twilio.auth_token)
        self.signed_form = self.signature.signed_form
        self.inbox = inbox

    async def checked_form(self, request: Request) -> FormData | Response:
        """The form of a signed request of fair size, else the answer refusing it."""
        if await self.signature.oversized(request):
            return PlainTextResponse("too large", status_code=413)
        form = await self.signed_form(request)
        if form is None:
            return PlainTextResponse("bad signature", status_code=403)
        return form

    async def message(self, request: Request) -> Response:
        """Store the seeker's message and answer Twilio once it is stored; the turn follows on
        the thread that stored it."""
        form = await self.checked_form(request)
        if isinstance(form, Response):
            return form
        try:
            inbound = inbound_from_form(form)
            _, turned = await self.inbox.arrive(inbound)
        except (BadForm, BadPhone) as error:
            return PlainTextResponse(str(error), status_code=400)
        except Exception:  # storage down: Twilio may retry; never acknowledge what is unstored
            log.exception("could not store an inbound SMS")
            return PlainTextResponse("try again", status_code=503)
        return _twiml(self.inbox.awaiting(turned))

    def routes(self) -> list[Route]:
        """The two webhook routes."""
        return [
            Route(MESSAGE_PATH, self.message, methods=["POST"]),
            Route(STATUS_PATH, self.status, methods=["POST"]),
        ]

    async def status(self, request: Request) -> Response:
        """Move a sent message to sent / delivered / undelivered / failed."""
        form = await self.checked_form(request)
        if isinstance(form, Response):
            return form
        try:
            update = status_from_form(form)
        except BadForm as error:
            return PlainTextResponse(str(error), status_code=400)
        try:
            found = await self.inbox.report(update)
        except Exception:  # storage down: a 503 makes Twilio's retry worth something
            log.exception("could not store a status callback")
            return PlainTextResponse("try again", status_code=503)
        if not found:
            log.info("status %s for unknown message %s", update.status, update.provider_id)
        return Response(status_code=204)


def install_twilio(runtime: Runtime, settings: Settings) -> list[BaseRoute]:
    """Turn the SMS channel on when configured: webhooks, the resume service, the sender."""
    if not twilio_enabled(settings):
        log.info(
            "Twilio SMS channel off: set twilio.account_sid (JOBLINE_TWILIO__ACCOUNT_SID) to use it"
        )
        return []
    check_twilio_settings(settings)
    hooks = TwilioWebhooks(settings, runtime.inbox)
    runtime.channels["sms"] = TwilioChannel(settings)
    log.info("Twilio SMS channel on: webhooks at %s%s", settings.public_base_url, MESSAGE_PATH)
    return list(hooks.routes())


def twilio_routes(settings: Settings, inbox: Inbox) -> list[Route]:
    """The Starlette routes of the Twilio channel."""
    return TwilioWebhooks(settings, inbox).routes()


def _twiml(background: BackgroundTask | None = None) -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml", background=background)


def _count(raw: object) -> int:
    try:
        return int(str(raw or "0").strip() or 0)
    except ValueError:
        return 0


def _seconds(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None
