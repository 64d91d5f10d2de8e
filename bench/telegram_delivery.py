"""Telegram throughput: sends through python-telegram-bot and webhook updates, against baselines.

Prints messages a second sent by TelegramChannel (16 in flight) to the local fake Bot API,
against raw httpx posts to the same server (the baseline), and the headroom over Telegram's
~30 messages a second broadcast budget (notify.rate_limits.telegram, which the dispatcher
enforces). Then webhook updates a second into SQLite, against Jobline.handle called directly.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from bot.channels.base import InboundMessage  # noqa: E402
from bot.channels.telegram import TelegramChannel, make_bot  # noqa: E402
from bot.database import open_database  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from flows.types import Button  # noqa: E402
from notify.channel import OutgoingMessage  # noqa: E402
from tests.fakes.telegram_api import TOKEN, FakeBotApi, fake_bot_api  # noqa: E402

SENDS = 600
IN_FLIGHT = 16
UPDATES = 200
BUDGET = 30.0
SECRET = "bench-secret"


def settings_for(api: FakeBotApi, database_url: str) -> Settings:
    return load_settings(
        database_url=database_url,
        public_base_url="https://jobline.example",
        load_demo_data=True,
        telegram={
            "token": TOKEN,
            "api_base_url": api.base_url,
            "webhook_secret": SECRET,
            "mode": "webhook",
        },
    )


async def in_flight(count: int, send: object) -> float:
    """Run count sends, IN_FLIGHT at a time; return messages a second."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(index: int) -> None:
        async with gate:
            await send(index)  # type: ignore[operator]

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return count / (time.perf_counter() - started)


async def sends(api: FakeBotApi, settings: Settings) -> tuple[float, float]:
    bot = make_bot(settings)
    channel = TelegramChannel(bot)
    buttons = (Button("1 Yes"), Button("2 No"))

    async def through_channel(index: int) -> None:
        await channel.send(OutgoingMessage(index, str(5550000 + index % 50), "Hello", buttons))

    url = f"{api.base_url}/bot{TOKEN}/sendMessage"
    limits = httpx.Limits(max_connections=IN_FLIGHT)
    async with httpx.AsyncClient(limits=limits) as raw:

        async def baseline(index: int) -> None:
            response = await raw.post(url, data={"chat_id": 5550000 + index % 50, "text": "Hello"})
            response.raise_for_status()

        await in_flight(50, baseline)
        await in_flight(50, through_channel)
        base = await in_flight(SENDS, baseline)
        ours = await in_flight(SENDS, through_channel)
    await bot.shutdown()
    return ours, base


def update(update_id: int) -> dict[str, object]:
    chat = 7000000 + update_id % 40
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1796176800,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "Lei"},
            "text": "help",
        },
    }


def webhook_rates(api: FakeBotApi, folder: Path) -> tuple[float, float]:
    hooked = settings_for(api, f"sqlite:///{folder / 'hook.db'}")
    database = open_database(hooked)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    with TestClient(build_runtime(hooked, database)) as web:
        for update_id in range(10_001, 10_021):  # warm-up
            web.post("/webhooks/telegram", json=update(update_id), headers=headers)
        started = time.perf_counter()
        for update_id in range(1, UPDATES + 1):
            assert web.post(
                "/webhooks/telegram", json=update(update_id), headers=headers
            ).is_success
        hook = UPDATES / (time.perf_counter() - started)
    database.engine.dispose()

    direct = settings_for(api, f"sqlite:///{folder / 'direct.db'}")
    database = open_database(direct)
    from bot.conversation import Jobline

    jobline = Jobline(direct, database.sessions)
    for update_id in range(10_001, 10_021):  # warm-up
        jobline.handle(InboundMessage("telegram", "7", "help", external_id=str(update_id)))
    started = time.perf_counter()
    for update_id in range(1, UPDATES + 1):
        chat = str(7000000 + update_id % 40)
        jobline.handle(InboundMessage("telegram", chat, "help", external_id=str(update_id)))
    plain = UPDATES / (time.perf_counter() - started)
    database.engine.dispose()
    return hook, plain


def main() -> None:
    with fake_bot_api() as api, tempfile.TemporaryDirectory() as folder:
        settings = settings_for(api, f"sqlite:///{Path(folder) / 'send.db'}")
        ours, base = asyncio.run(sends(api, settings))
        print(f"telegram send, {IN_FLIGHT} in flight: {ours:.0f} msg/s")
        print(f"  baseline raw httpx to the same server: {base:.0f} msg/s; ratio {ours / base:.2f}")
        print(f"  headroom over the {BUDGET:.0f} msg/s broadcast budget: {ours / BUDGET:.1f}x")
        hook, plain = webhook_rates(api, Path(folder))
        print(f"telegram webhook into SQLite: {hook:.0f} updates/s")
        print(
            f"  baseline Jobline.handle directly: {plain:.0f} updates/s; ratio {hook / plain:.2f}"
        )


if __name__ == "__main__":
    main()
