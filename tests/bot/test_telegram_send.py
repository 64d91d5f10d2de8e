"""Sending through the real python-telegram-bot client to the fake Bot API: keyboards, errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram import TelegramChannel, make_bot
from flows.share_buttons import SEND_LOCATION, SHARE_PHONE
from flows.types import Button, buttons
from notify.channel import OutgoingMessage, SendError, SendResult
from tests.bot.telegram_chat import CHAT, telegram_settings
from tests.fakes.telegram_api import TOKEN, FakeBotApi, fake_bot_api


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with fake_bot_api() as running:
        yield running


def send(api: FakeBotApi, outgoing: OutgoingMessage, bot: Bot | None = None) -> SendResult:
    async def go() -> SendResult:
        client = bot or make_bot(telegram_settings("sqlite://", api))
        try:
            return await TelegramChannel(client).send(outgoing)
        finally:
            await client.shutdown()

    return asyncio.run(go())


def send_error(api: FakeBotApi, outgoing: OutgoingMessage, bot: Bot | None = None) -> SendError:
    with pytest.raises(SendError) as caught:
        send(api, outgoing, bot)
    return caught.value


def question(*labels: str | Button, chat: int = CHAT) -> OutgoingMessage:
    text = "Do you have a card? Reply 1 for Yes, 2 for No."
    return OutgoingMessage(1, str(chat), text, buttons(*labels))


def test_yes_no_question_gets_two_big_buttons_side_by_side(api: FakeBotApi) -> None:
    result = send(api, question("1 Yes", "2 No"))
    sent = api.sent[-1]
    assert sent["chat_id"] == str(CHAT)
    assert sent["text"].startswith("Do you have a card?")
    assert sent["reply_markup"]["keyboard"] == [[{"text": "1 Yes"}, {"text": "2 No"}]]
    assert sent["reply_markup"]["resize_keyboard"] is True
    assert result.provider_id == f"{CHAT}:1"


def test_menu_is_two_buttons_a_row_with_the_odd_one_last(api: FakeBotApi) -> None:
    send(api, question("1 Jobs near you", "2 My applications", "9 Talk to a person"))
    rows = api.sent[-1]["reply_markup"]["keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [
        ["1 Jobs near you", "2 My applications"],
        ["9 Talk to a person"],
    ]


def test_free_text_question_removes_the_keyboard(api: FakeBotApi) -> None:
    send(api, question())
    assert api.sent[-1]["reply_markup"] == {"remove_keyboard": True}


def test_share_buttons_ask_telegram_for_the_phone_and_location(api: FakeBotApi) -> None:
    send(api, question("1 Register", SHARE_PHONE, SEND_LOCATION))
    rows = api.sent[-1]["reply_markup"]["keyboard"]
    assert rows[0] == [{"text": "1 Register"}]
    assert rows[1] == [{"text": "Share my phone number", "request_contact": True}]
    assert rows[2] == [{"text": "Send my location", "request_location": True}]


def test_blocked_by_the_user_means_stop(api: FakeBotApi) -> None:
    api.blocked.add(str(CHAT))
    error = send_error(api, question())
    assert error.action == "stop"
    assert "blocked" in error.reason
    assert api.sent == []


def test_flood_control_means_retry_after_the_given_delay(api: FakeBotApi) -> None:
    api.fail_next(429, "Too Many Requests: retry after 7", retry_after=7)
    error = send_error(api, question())
    assert (error.action, error.retry_after) == ("retry", 7.0)
    send(api, question())
    assert len(api.sent) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_mean_retry(api: FakeBotApi, status: int) -> None:
    api.fail_next(status, "Internal Server Error")
    error = send_error(api, question())
    assert error.action == "retry"
    assert error.retry_after is None


def test_unknown_chat_means_fail(api: FakeBotApi) -> None:
    api.unknown_chats.add("42")
    error = send_error(api, question(chat=42))
    assert error.action == "fail"
    assert "chat not found" in error.reason.lower()


def test_address_that_is_not_a_chat_id_means_fail(api: FakeBotApi) -> None:
    error = send_error(api, OutgoingMessage(1, "+8613800000001", "Hello"))
    assert error.action == "fail"


def test_timeout_means_retry(api: FakeBotApi) -> None:
    api.delay_seconds = 1.0
    slow = HTTPXRequest(read_timeout=0.2, connect_timeout=0.2)
    bot = Bot(TOKEN, base_url=f"{api.base_url}/bot", request=slow)
    error = send_error(api, question(), bot)
    assert error.action == "retry"


def test_no_server_means_retry() -> None:
    with fake_bot_api() as gone:
        url = gone.base_url
    bot = Bot(TOKEN, base_url=f"{url}/bot")
    with pytest.raises(SendError) as caught:
        asyncio.run(TelegramChannel(bot).send(question()))
    assert caught.value.action == "retry"


def test_wrong_token_means_fail(api: FakeBotApi) -> None:
    bot = Bot("999:wrong", base_url=f"{api.base_url}/bot")
    error = send_error(api, question(), bot)
    assert error.action == "fail"


def test_the_token_never_reaches_the_logs(
    api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the level `jobline run` logs at (bot/logs.py)
    send(api, question())  # httpx logs each request's URL at INFO, and it holds the token
    api.blocked.add(str(CHAT))
    error = send_error(api, question())
    logging.getLogger("notify.dispatcher").warning("send failed: %s", error.reason)
    assert caplog.records  # something was logged, and none of it is the token
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert TOKEN not in caplog.text and TOKEN not in error.reason
