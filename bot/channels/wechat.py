"""The WeChat Official Account channel: signed XML in (plaintext or safe mode), customer-service
messages out, and the account's custom menu.

WeChat calls POST /webhooks/wechat with every message and event and retries three times when it
gets no answer within 5 s, so the message is stored (deduplicated by MsgId, or by sender, time
and event for events), "success" is answered at once, and the turn runs after; replies go out
through the customer-service message API from the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.base import LEFT, InboundMessage
from bot.channels.wechat_crypto import BadMessage, SafeMode, signed
from bot.channels.wechat_token import AccessTokens, fetcher
from bot.inbox import Inbox
from bot.settings import Settings, SettingsError
from flows.catalogue import render
from notify.channel import (
    Fail,
    HoldForSeeker,
    OutgoingMessage,
    Retry,
    SendError,
    SendResult,
    StopContact,
)

if TYPE_CHECKING:
    from bot.app import Runtime

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
PATH = "/webhooks/wechat"
MAX_BODY = 64 * 1024
SEND_TIMEOUT = 10.0
# WeChat answers HTTP 200 and says what went wrong in errcode.
RETRY_CODES = frozenset({-1, 45009, 45011, 45047})  # busy, quota, frequency, too many in a row
TOKEN_CODES = frozenset({40001, 40014, 42001})  # the access token is stale: refresh, try again
STOP_CODES = frozenset({43004})  # the seeker unsubscribed
OUTSIDE_WINDOW = 45015  # 48 hours have passed since the seeker last wrote
# Menu buttons: the key a click sends, and the menu number it stands for.
MENU_KEY = "MENU_"


class BadRequest(ValueError):
    """A WeChat call we cannot read (400)."""


def wechat_enabled(settings: Settings) -> bool:
    """The channel is on when an app id is set."""
    return bool(settings.wechat.app_id)


def check_wechat_settings(settings: Settings) -> None:
    """Refuse to start with the channel half configured (one line naming the setting)."""
    for key in ("secret", "token"):
        if not getattr(settings.wechat, key):
            raise SettingsError(
                f"Invalid setting wechat.{key}: needed with wechat.app_id "
                f"(set JOBLINE_WECHAT__{key.upper()})"
            )
    if settings.wechat.aes_key and len(settings.wechat.aes_key) != 43:
        raise SettingsError("Invalid setting wechat.aes_key: the EncodingAESKey has 43 characters")


def _text(root: ElementTree.Element, tag: str) -> str:
    found = root.find(tag)
    return (found.text or "").strip() if found is not None else ""


def parse_xml(raw: bytes) -> ElementTree.Element:
    """A WeChat XML body; entity declarations are refused (no expansion attacks)."""
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise BadRequest("declarations are not allowed")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as error:
        raise BadRequest(f"not XML: {error}") from None
    if root.tag != "xml":
        raise BadRequest("not a WeChat message")
    return root


def inbound_from_xml(root: ElementTree.Element) -> InboundMessage | None:
    """A seeker's message or event; None for what needs no answer (e.g. a view click)."""
    sender = _text(root, "FromUserName")
    kind = _text(root, "MsgType")
    created = _text(root, "CreateTime")
    if not sender or not kind or not created.isdigit():
        raise BadRequest("FromUserName, MsgType and CreateTime are required")
    message_id = _text(root, "MsgId")
    if kind == "event":
        event = _text(root, "Event")
        key = _text(root, "EventKey")
        # Events carry no MsgId; WeChat's own advice is sender + CreateTime (+ the event).
        external_id = f"event:{sender}:{created}:{event}"
        if event == "subscribe":
            # A parametric QR code (a fair poster) sends qrscene_<scene> with the subscribe.
            scene = key.removeprefix("qrscene_") if key.startswith("qrscene_") else ""
            text = f"/start {scene}".strip()
            return InboundMessage("wechat", sender, text, external_id, kind="command")
        if event == "SCAN":
            return InboundMessage("wechat", sender, f"/start {key}", external_id, kind="command")
        if event == "unsubscribe":
            # Unfollowing is not STOP: this chat is gone, the seeker's texts go on.
            return InboundMessage("wechat", sender, "(unfollowed)", external_id, kind=LEFT)
        if event == "LOCATION":
            lat, lon = _text(root, "Latitude"), _text(root, "Longitude")
            return _location(sender, lat, lon, external_id)
        if event == "CLICK" and key.startswith(MENU_KEY):
            return InboundMessage("wechat", sender, key[len(MENU_KEY) :], external_id)
        return None
    external_id = message_id or f"{sender}:{created}"
    if kind == "text":
        return InboundMessage("wechat", sender, _text(root, "Content"), external_id)
    if kind == "location":
        return _location(sender, _text(root, "Location_X"), _text(root, "Location_Y"), external_id)
    return InboundMessage("wechat", sender, f"({kind})", external_id, kind="media")


def _location(sender: str, lat: str, lon: str, external_id: str) -> InboundMessage:
    try:
        where = (float(lat), float(lon))
    except ValueError:
        raise BadRequest("a location needs numbers") from None
    text = f"{where[0]:.6f},{where[1]:.6f}"
    return InboundMessage("wechat", sender, text, external_id, location=where, kind="location")


@dataclass(frozen=True)
class Signed:
    """What WeChat puts in the query string of every call."""

    signature: str
    timestamp: str
    nonce: str
    msg_signature: str
    encrypted: bool

    @classmethod
    def of(cls, request: Request) -> Signed:
        query = request.query_params
        return cls(
            query.get("signature", ""),
            query.get("timestamp", ""),
            query.get("nonce", ""),
            query.get("msg_signature", ""),
            query.get("encrypt_type", "raw") == "aes",
        )


class WeChatWebhook:
    """Server URL verification (GET) and messages (POST) at /webhooks/wechat."""

    def __init__(self, settings: Settings, inbox: Inbox) -> None:
        self.token = settings.wechat.token
        self.safe = (
            SafeMode(settings.wechat.aes_key, settings.wechat.app_id)
            if settings.wechat.aes_key
            else None
        )
        self.inbox = inbox

    def routes(self) -> list[Route]:
        """The one webhook path, both methods."""
        return [
            Route(PATH, self.verify, methods=["GET"]),
            Route(PATH, self.message, methods=["POST"]),
        ]

    async def verify(self, request: Request) -> Response:
        """WeChat checks the server URL: echo echostr when the signature is ours."""
        call = Signed.of(request)
        if not signed(self.token, call.signature, call.timestamp, call.nonce):
            return PlainTextResponse("bad signature", status_code=403)
        return PlainTextResponse(request.query_params.get("echostr", ""))

    async def message(self, request: Request) -> Response:
        """Store the message, answer "success" at once, take the turn afterwards."""
        call = Signed.of(request)
        if not signed(self.token, call.signature, call.timestamp, call.nonce):
            return PlainTextResponse("bad signature", status_code=403)
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return PlainTextResponse("too large", status_code=413)
        try:
            root = self._open(parse_xml(raw), call)
            inbound = inbound_from_xml(root)
        except BadRequest as error:
            return PlainTextResponse(str(error), status_code=400)
        except BadMessage:
            return PlainTextResponse("bad signature", status_code=403)
        if inbound is None:
            return PlainTextResponse("success")
        try:
            received = await self.inbox.store(inbound)
        except Exception:  # storage down: no "success", so WeChat retries
            log.exception("could not store a WeChat message")
            return PlainTextResponse("try again", status_code=503)
        task = None if received.duplicate else self.inbox.turn_later(received, inbound.kind)
        return PlainTextResponse("success", background=task)

    def _open(self, root: ElementTree.Element, call: Signed) -> ElementTree.Element:
        """The message itself: in safe mode, checked against msg_signature and decrypted."""
        sealed = _text(root, "Encrypt")
        if not call.encrypted and not sealed:
            return root
        if self.safe is None:
            raise BadRequest("safe mode is not set up: set wechat.aes_key")
        if not signed(self.token, call.msg_signature, call.timestamp, call.nonce, sealed):
            raise BadMessage("bad msg_signature")
        return parse_xml(self.safe.decrypt(sealed).encode("utf-8"))


class WeChatApi:
    """The few calls of WeChat's API that Jobline makes, with a shared access token."""

    def __init__(self, settings: Settings, tokens: AccessTokens) -> None:
        self.base = settings.wechat.api_base_url.rstrip("/")
        self.tokens = tokens
        self.http = httpx.AsyncClient(timeout=SEND_TIMEOUT)

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with the current token; a stale token is refreshed (by one process) once."""
        token = await asyncio.to_thread(self.tokens.current)
        answer = await self._post(path, body, token)
        if answer.get("errcode") in TOKEN_CODES:
            token = await asyncio.to_thread(self.tokens.current, token)
            answer = await self._post(path, body, token)
        return answer

    async def _post(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        response = await self.http.post(
            f"{self.base}{path}", params={"access_token": token}, json=body
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    async def close(self) -> None:
        """Close the connections."""
        await self.http.aclose()


def classify(answer: dict[str, Any]) -> SendError:
    """What a WeChat error code means for the outbox row: retry, fail, or stop."""
    code = int(answer.get("errcode", -1))
    reason = f"wechat {code}: {answer.get('errmsg', '')}"[:300]
    if code in RETRY_CODES or code in TOKEN_CODES:
        return Retry(reason)
    if code in STOP_CODES:
        return StopContact(reason)
    if code == OUTSIDE_WINDOW:
        return HoldForSeeker(f"{reason}: kept until the seeker writes (48 hours have passed)")
    return Fail(reason)


class WeChatChannel:
    """Sends outbox rows as customer-service messages, or, 48 hours after the seeker last
    wrote, as template messages for the kinds that have a template (alerts, application news)."""

    name = "wechat"

    def __init__(self, api: WeChatApi, templates: dict[str, str] | None = None) -> None:
        self.api = api
        self.templates = templates or {}

    async def send(self, message: OutgoingMessage) -> SendResult:
        """One text to one openid, or SendError saying what to do next."""
        body = {"touser": message.address, "msgtype": "text", "text": {"content": message.text}}
        answer = await self._call("/cgi-bin/message/custom/send", body)
        template = self.templates.get(message.kind)
        if answer.get("errcode") == OUTSIDE_WINDOW and template:
            answer = await self._call(
                "/cgi-bin/message/template/send", templated(message, template)
            )
        if answer.get("errcode", 0) != 0:
            raise classify(answer)
        return SendResult(provider_id=f"wx:{answer.get('msgid') or message.outbox_id}")

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self.api.call(path, body)
        except (httpx.HTTPError, ValueError) as error:
            raise Retry(f"wechat unreachable: {type(error).__name__}") from error


def templated(message: OutgoingMessage, template_id: str) -> dict[str, Any]:
    """A template message carrying our text in its one field, {{content.DATA}}."""
    return {
        "touser": message.address,
        "template_id": template_id,
        "data": {"content": {"value": message.text}},
    }


# The account menu: three groups of the text menu's numbers (WeChat allows 3 x 5 buttons).
MENU_GROUPS = (("wechat_menu_work", "136"), ("wechat_menu_mine", "25"), ("wechat_menu_help", "49"))


def menu_definition(language: str = "zh") -> dict[str, Any]:
    """The account's custom menu, named from the text menu, so both offer the same numbers."""
    labels = dict(
        line.split(" ", 1)
        for line in render("menu", language).splitlines()
        if line[:1].isdigit() and " " in line
    )
    return {
        "button": [
            {
                "name": render(group, language),
                "sub_button": [
                    {"type": "click", "name": labels[number], "key": f"{MENU_KEY}{number}"}
                    for number in numbers
                ],
            }
            for group, numbers in MENU_GROUPS
        ]
    }


def wechat_api(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> WeChatApi:
    """The API client with the database-shared access token."""
    fetch = fetcher(settings.wechat.api_base_url, settings.wechat.app_id, settings.wechat.secret)
    return WeChatApi(settings, AccessTokens(sessions, fetch, clock))


def install_wechat(runtime: Runtime, settings: Settings) -> list[BaseRoute]:
    """Turn the WeChat channel on when configured: the webhook and the sender."""
    if not wechat_enabled(settings):
        log.info("WeChat channel off: set wechat.app_id (JOBLINE_WECHAT__APP_ID) to use it")
        return []
    check_wechat_settings(settings)
    api = wechat_api(settings, runtime.database.sessions, runtime.jobline.clock)
    runtime.channels["wechat"] = WeChatChannel(api, settings.wechat.templates)
    mode = "safe mode" if settings.wechat.aes_key else "plaintext"
    log.info("WeChat channel on (%s): server URL %s%s", mode, settings.public_base_url, PATH)
    return list(WeChatWebhook(settings, runtime.inbox).routes())


async def set_menu(api: WeChatApi, language: str = "zh") -> dict[str, Any]:
    """Replace the account's custom menu with Jobline's; WeChat's answer."""
    return await api.call("/cgi-bin/menu/create", menu_definition(language))
