"""Long polling without a public URL: getUpdates with an offset, through the real client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.channels.telegram import TelegramGateway, make_bot, telegram_gateway, telegram_mode
from bot.conversation import Jobline
from bot.database import Database
from bot.inbox import Inbox
from bot.settings import Settings, SettingsError, load_settings
from db.models import Message, OutboxMessage
from tests.bot.telegram_chat import CHAT, telegram_settings, text
from tests.fakes.telegram_api import FakeBotApi

pytest_plugins = ["tests.bot.telegram_fixtures"]


@pytest.fixture
def settings(database_url: str, bot_api: FakeBotApi) -> Settings:
    """The Telegram channel on, polling the fake Bot API."""
    return telegram_settings(database_url, bot_api, mode="polling")


def outbox_texts(database: Database) -> list[str]:
    with database.sessions() as session:
        return list(session.scalars(select(OutboxMessage.text).order_by(OutboxMessage.id)))


async def until(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def run_polling(gateway: TelegramGateway, scenario: Callable[[], object]) -> None:
    """Poll in the background while the scenario (an async function) runs."""

    async def go() -> None:
        task = asyncio.create_task(gateway.run())
        try:
            await scenario()  # type: ignore[misc]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(go())


def test_polling_answers_and_confirms_updates_with_the_offset(
    settings: Settings, jobline: Jobline, database: Database, bot_api: FakeBotApi
) -> None:
    bot_api.webhook = {"url": "https://old.example/hook"}
    gateway = telegram_gateway(settings, Inbox(jobline))

    async def scenario() -> None:
        first = bot_api.push_update(text("register"))
        await until(lambda: len(outbox_texts(database)) == 1)
        assert "Your name and birth year?" in outbox_texts(database)[0]
        bot_api.push_update(text("Wang Lei"))
        await until(lambda: len(outbox_texts(database)) == 2)
        # The next getUpdates carries offset = last update_id + 1: both are confirmed.
        await until(lambda: not bot_api.updates)
        assert first not in [u["update_id"] for u in bot_api.updates]

    run_polling(gateway, scenario)
    assert bot_api.webhook == {}
    assert bot_api.calls[:2] == ["getMe", "deleteWebhook"]
    assert "What year were you born?" in outbox_texts(database)[1]


def test_polling_again_from_the_start_does_not_answer_twice(
    settings: Settings, jobline: Jobline, database: Database, bot_api: FakeBotApi
) -> None:
    register = text("register")
    bot_api.push_update(register)

    async def once() -> None:
        await until(lambda: len(outbox_texts(database)) == 1)

    run_polling(telegram_gateway(settings, Inbox(jobline)), once)
    # A restart before the offset was confirmed gets the same update again.
    bot_api.updates.clear()
    bot_api.next_update_id -= 1
    bot_api.push_update(register)

    async def again() -> None:
        await until(lambda: not bot_api.updates)

    run_polling(telegram_gateway(settings, Inbox(jobline)), again)
    with database.sessions() as session:
        assert len(session.scalars(select(Message)).all()) == 1
    assert len(outbox_texts(database)) == 1


def test_polling_keeps_going_after_the_server_fails(
    settings: Settings, jobline: Jobline, database: Database, bot_api: FakeBotApi
) -> None:
    gateway = telegram_gateway(settings, Inbox(jobline))
    gateway_failures: list[int] = []
    original = bot_api.handle

    def flaky(method: str, params: dict[str, object]) -> tuple[int, dict[str, object]]:
        if method == "getUpdates" and not gateway_failures:
            gateway_failures.append(1)
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return original(method, params)

    bot_api.handle = flaky  # type: ignore[method-assign]

    async def scenario() -> None:
        bot_api.push_update(text("register", chat=CHAT + 1))
        await until(lambda: len(outbox_texts(database)) == 1, seconds=15)

    run_polling(gateway, scenario)
    assert gateway_failures == [1]
    assert gateway.health() == "ok"


def test_mode_follows_the_public_url_when_auto(database_url: str) -> None:
    with_url = load_settings(database_url=database_url, public_base_url="https://x.example")
    assert telegram_mode(with_url) == "webhook"
    assert telegram_mode(load_settings(database_url=database_url)) == "polling"


def test_webhook_mode_without_a_secret_is_refused(database_url: str, jobline: Jobline) -> None:
    bare = load_settings(
        database_url=database_url,
        public_base_url="https://x.example",
        telegram={"token": "1:x", "mode": "webhook"},
    )
    with pytest.raises(SettingsError, match=r"telegram\.webhook_secret"):
        telegram_gateway(bare, Inbox(jobline), make_bot(bare))


def test_polling_waits_out_flood_control(
    settings: Settings, jobline: Jobline, database: Database, bot_api: FakeBotApi
) -> None:
    bot_api.fail_next(429, "Too Many Requests: retry after 1", retry_after=1, method="getUpdates")
    gateway = telegram_gateway(settings, Inbox(jobline))

    async def scenario() -> None:
        started = time.monotonic()
        bot_api.push_update(text("register"))
        await until(lambda: len(outbox_texts(database)) == 1)
        assert time.monotonic() - started >= 0.9

    run_polling(gateway, scenario)
    assert gateway.polling_failures == 0


def test_an_update_that_cannot_be_stored_is_skipped_and_others_are_read(
    settings: Settings, jobline: Jobline, database: Database, bot_api: FakeBotApi
) -> None:
    # A chat id too long for the contacts table: PostgreSQL refuses it every time.
    poison = text("hello", chat=10**70)
    gateway = telegram_gateway(settings, Inbox(jobline))
    postgres = settings.database_url.startswith("postgresql")

    async def scenario() -> None:
        bot_api.push_update(poison)
        bot_api.push_update(text("register", chat=CHAT + 2))
        await until(lambda: any("Let us register" in t for t in outbox_texts(database)), seconds=20)

    run_polling(gateway, scenario)
    with database.sessions() as session:
        addresses = set(session.scalars(select(OutboxMessage.address)))
    assert str(CHAT + 2) in addresses
    assert (str(10**70) in addresses) is not postgres
    assert gateway.health() == ("degraded" if postgres else "ok")
