"""The Telegram channel: webhook or long polling in, reply keyboards out, python-telegram-bot."""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import (
    Bot,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.channels.base import InboundMessage
from bot.channels.telegram_config import check_telegram_settings, telegram_mode
from bot.conversation import Received
from bot.inbox import Inbox
from bot.settings import Settings
from db.phones import BadPhone, normalize_phone
from flows.types import Asks, Button
from notify.channel import Fail, OutgoingMessage, Retry, SendResult, StopContact

log = logging.getLogger(__name__)
# python-telegram-bot 22 warns unless durations are timedeltas; we take them as timedeltas.
os.environ.setdefault("PTB_TIMEDELTA", "true")

WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query")
POLL_SECONDS = 25
# Waits after a failed getUpdates, growing to the last one while the failures go on.
POLL_BACKOFF = (1.0, 2.0, 5.0, 15.0, 30.0)
SEND_TIMEOUT = 10.0
# An update that fails this often while the database answers is skipped (and logged).
STORE_TRIES = 3
# /health says degraded for this long after an update was skipped.
SKIPPED_SHOWN = timedelta(hours=1)
CONNECTIONS = 16
# A tapped button sends its label ("1 Yes"); the number is what it means.
BUTTON_LABEL = re.compile(r"^\s*(\d{1,2})\s+[^\d\s][^\d]{0,40}$")


def make_bot(settings: Settings) -> Bot:
    """The real client, pointed at telegram.api_base_url (a local fake server in tests)."""
    base = settings.telegram.api_base_url.rstrip("/")
    # httpx logs every request URL at INFO, and a Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return Bot(
        settings.telegram.token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=HTTPXRequest(
            connection_pool_size=CONNECTIONS,
            read_timeout=SEND_TIMEOUT,
            write_timeout=SEND_TIMEOUT,
            connect_timeout=SEND_TIMEOUT,
        ),
        get_updates_request=HTTPXRequest(
            connection_pool_size=1, read_timeout=SEND_TIMEOUT, connect_timeout=SEND_TIMEOUT
        ),
    )


def keyboard(buttons: tuple[Button, ...]) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """Big buttons two to a row (a share button gets its own row); none: hide the keyboard."""
    if not buttons:
        return ReplyKeyboardRemove()
    plain = [KeyboardButton(button.label) for button in buttons if button.asks is None]
    rows = [plain[i : i + 2] for i in range(0, len(plain), 2)]
    rows += [
        [KeyboardButton(b.label, request_contact=True)] for b in buttons if b.asks is Asks.PHONE
    ]
    rows += [
        [KeyboardButton(b.label, request_location=True)] for b in buttons if b.asks is Asks.LOCATION
    ]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True)


class TelegramChannel:
    """Sends outbox rows to Telegram chats; errors become Retry, Fail or StopContact."""

    name = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send one text with its keyboard, or raise SendError saying what to do next."""
        if not message.address.lstrip("-").isdigit():
            raise Fail(f"not a Telegram chat id: {message.address!r}")
        try:
            sent = await self.bot.send_message(
                chat_id=int(message.address),
                text=message.text,
                reply_markup=keyboard(message.buttons),
            )
        except RetryAfter as error:
            raise Retry(self._said(error), retry_after=_seconds(error)) from error
        except Forbidden as error:
            # Blocked by the user, or the account was deleted: this chat is gone.
            raise StopContact(self._said(error)) from error
        except (BadRequest, ChatMigrated, InvalidToken, Conflict) as error:
            raise Fail(self._said(error)) from error
        except (NetworkError, TelegramError) as error:
            # Timeouts, 5xx and lost connections: the next try may work.
            raise Retry(self._said(error)) from error
        return SendResult(provider_id=f"{sent.chat_id}:{sent.message_id}")

    def _said(self, error: Exception) -> str:
        """The error's text, never with the bot token in it (it ends up in logs and rows)."""
        return str(error).replace(self.bot.token, "<token>")


def _seconds(error: RetryAfter) -> float:
    value: Any = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def inbound_from_update(update: Update, region: str) -> InboundMessage | None:
    """A seeker's message from an update; None for what we do not answer (edits, groups)."""
    query = update.callback_query
    if query is not None and query.data and query.message is not None:
        chat = query.message.chat
        if chat.type != "private":
            return None
        # update_id dedups retries; after a week without updates Telegram may start the
        # numbers again at random, so the provider id also names what the update carries.
        external_id = f"{update.update_id}:cb:{query.id}"
        return InboundMessage("telegram", str(chat.id), _typed(query.data), external_id=external_id)
    message = update.message
    if message is None or message.chat.type != "private":
        return None
    address = str(message.chat_id)
    external_id = f"{update.update_id}:{address}:{message.message_id}"
    when = message.date
    kind, text, location, phone = _content(message, region)
    return InboundMessage(
        "telegram",
        address,
        text,
        external_id=external_id,
        received_at=when,
        location=location,
        contact_phone=phone,
        kind=kind,
    )


def _content(
    message: Message, region: str
) -> tuple[str, str, tuple[float, float] | None, str | None]:
    """kind, stored text, location and phone of a message."""
    if message.contact is not None:
        sender = message.from_user.id if message.from_user else None
        if message.contact.user_id is None or message.contact.user_id != sender:
            return "foreign_contact", "(a contact card)", None, None
        raw = message.contact.phone_number.strip()
        try:
            phone = normalize_phone(raw if raw.startswith("+") else f"+{raw}", region)
        except BadPhone:
            return "media", "(a contact card)", None, None
        return "contact", phone, None, phone
    if message.location is not None:
        lat, lon = message.location.latitude, message.location.longitude
        return "location", f"{lat:.6f},{lon:.6f}", (lat, lon), None
    if message.text is not None:
        text = message.text
        if text.startswith("/"):
            return "command", text, None, None
        return "text", _typed(text), None, None
    what = "photo" if message.photo else "sticker" if message.sticker else "attachment"
    return "media", message.caption or f"({what})", None, None


def _typed(text: str) -> str:
    """What the seeker means: a tapped button's label ("1 Yes") is its number."""
    tapped = BUTTON_LABEL.match(text)
    return tapped.group(1) if tapped else text


@dataclass(frozen=True)
class Stored:
    """A stored inbound message whose turn is still to be taken."""

    received: Received
    kind: str
    update_id: int


@dataclass
class TelegramGateway:
    """The Telegram side of a running Jobline: the bot, the channel and the conversation."""

    settings: Settings
    inbox: Inbox
    bot: Bot
    channel: TelegramChannel = field(init=False)
    polling_failures: int = 0
    store_failures: dict[int, int] = field(default_factory=dict)
    skipped_at: datetime | None = None

    def __post_init__(self) -> None:
        self.channel = TelegramChannel(self.bot)

    def username(self) -> str | None:
        """The bot's name once getMe has answered (for a fair's deep link), else None."""
        try:
            name: str = self.bot.username
        except RuntimeError:  # not initialized yet: Telegram has not answered getMe
            return None
        return name

    def health(self) -> str:
        """ok, or degraded while getUpdates keeps failing or after an update was skipped."""
        skipped = self.skipped_at is not None and (
            self.inbox.now() - self.skipped_at < SKIPPED_SHOWN
        )
        return "degraded" if self.polling_failures >= 3 or skipped else "ok"

    async def take(self, update: Update) -> None:
        """Store one update's message (dedup by update_id), then take its turn."""
        stored = await self.store(update)
        if stored is not None:
            await self.turn(stored)

    async def store(self, update: Update) -> Stored | None:
        """Store one update's message (once); None when there is nothing to answer."""
        if update.callback_query is not None:
            await self._answer_callback(update.callback_query.id)
        inbound = inbound_from_update(update, self.settings.phone_region)
        if inbound is None:
            return None
        received = await self.inbox.store(inbound)
        # A retry of a stored update takes its turn too: a turn lost in a crash is recovered,
        # and one already taken is skipped (take_turn only answers a message once).
        return Stored(received, inbound.kind, update.update_id)

    async def turn(self, stored: Stored) -> None:
        """Take the turn for a stored message; a failure is logged, the message stays stored."""
        await self.inbox.take_turn(stored.received, stored.kind)

    async def _answer_callback(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as error:
            log.warning("answerCallbackQuery failed: %s", error)

    async def poll(self) -> None:
        """Long polling for a machine without a public URL: getUpdates with an offset."""
        await self._until_ok(lambda: self.bot.delete_webhook(drop_pending_updates=False))
        offset: int | None = None
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=POLL_SECONDS, allowed_updates=list(ALLOWED_UPDATES)
                )
            except RetryAfter as error:
                await asyncio.sleep(_seconds(error))
                continue
            except TelegramError as error:
                await self._failed("getUpdates", error)
                continue
            self.polling_failures = 0
            for update in updates:
                try:
                    await self.take(update)
                except Exception as error:  # storage down: keep the offset, ask again later
                    if not await self._give_up_on(update, error):
                        await self._failed("storing an update", error)
                        break
                offset = update.update_id + 1

    async def _give_up_on(self, update: Update, error: Exception) -> bool:
        """Skip an update that failed STORE_TRIES times while the database answers.

        Such an update can never be stored; holding the offset would stop every other
        seeker's messages from being read. While the database is down, nothing is skipped.
        """
        tries = self.store_failures.get(update.update_id, 0) + 1
        self.store_failures = {update.update_id: tries}
        if tries < STORE_TRIES or not await self.inbox.database_answers():
            return False
        log.error(
            "telegram update %s skipped: not stored after %d tries (%s)",
            update.update_id,
            tries,
            type(error).__name__,
        )
        self.skipped_at = self.inbox.now()
        return True

    async def _failed(self, what: str, error: Exception) -> None:
        self.polling_failures += 1
        wait = POLL_BACKOFF[min(self.polling_failures, len(POLL_BACKOFF)) - 1]
        log.warning("telegram %s failed (%s); trying again in %.0f s", what, error, wait)
        await asyncio.sleep(wait)

    async def serve_webhook(self) -> None:
        """Tell Telegram where to send updates, then stay until the app stops."""
        url = self.settings.public_base_url.rstrip("/") + WEBHOOK_PATH
        await self._until_ok(
            lambda: self.bot.set_webhook(
                url,
                secret_token=self.settings.telegram.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        )
        log.info("telegram webhook set to %s", url)
        await asyncio.Event().wait()

    async def _until_ok(self, call: Any) -> None:
        while True:
            try:
                await call()
                self.polling_failures = 0
                return
            except TelegramError as error:
                await self._failed("setup", error)

    async def run(self) -> None:
        """The background service: polling or webhook set-up, closing the client at the end."""
        try:
            # getMe: checks the token and tells us the bot's name (for deep links).
            await self._until_ok(self.bot.initialize)
            log.info("telegram bot @%s, %s mode", self.bot.username, telegram_mode(self.settings))
            if telegram_mode(self.settings) == "polling":
                await self.poll()
            else:
                await self.serve_webhook()
        finally:
            await self.bot.shutdown()


async def telegram_webhook(request: Request) -> Response:
    """POST /webhooks/telegram: check the secret token, store the update, answer at once."""
    gateway: TelegramGateway | None = request.app.state.runtime.telegram
    if gateway is None:
        return PlainTextResponse("not found", status_code=404)
    secret = gateway.settings.telegram.webhook_secret
    given = request.headers.get(SECRET_HEADER, "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return PlainTextResponse("forbidden", status_code=403)
    try:
        data = await request.json()
    except ValueError:
        return PlainTextResponse("not JSON", status_code=400)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return PlainTextResponse("not an update", status_code=400)
    try:
        update = Update.de_json(data, gateway.bot)
    except (KeyError, TypeError, ValueError, AttributeError):
        return PlainTextResponse("not an update", status_code=400)
    try:
        stored = await gateway.store(update)
    except Exception:  # storage is down: a non-2xx makes Telegram send the update again
        log.exception("could not store telegram update %s", data.get("update_id"))
        return PlainTextResponse("try again", status_code=503)
    # Stored, so answer Telegram now; the turn (Rasa may take seconds) runs after the response.
    after = BackgroundTask(gateway.turn, stored) if stored is not None else None
    return Response(status_code=200, background=after)


def telegram_routes() -> list[BaseRoute]:
    """The webhook route (the gateway is runtime.telegram)."""
    return [Route(WEBHOOK_PATH, telegram_webhook, methods=["POST"])]


def telegram_gateway(settings: Settings, inbox: Inbox, bot: Bot | None = None) -> TelegramGateway:
    """The gateway for these settings (checked first)."""
    check_telegram_settings(settings)
    return TelegramGateway(settings, inbox, bot or make_bot(settings))
