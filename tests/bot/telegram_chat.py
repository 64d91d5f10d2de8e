"""Helpers for Telegram tests: settings for the fake Bot API, updates as Telegram sends them."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from bot.database import Database
from bot.settings import Settings, load_settings
from db.models import OutboxMessage
from tests.fakes.telegram_api import TOKEN, FakeBotApi

CHAT = 5550001
SECRET = "s3cret-Token_1"
_message_ids = itertools.count(1)


def telegram_settings(database_url: str, api: FakeBotApi, mode: str = "webhook") -> Settings:
    """Settings with the Telegram channel on, pointed at the fake Bot API."""
    return load_settings(
        database_url=database_url,
        public_base_url="https://jobline.example",
        telegram={
            "token": TOKEN,
            "api_base_url": api.base_url,
            "webhook_secret": SECRET,
            "mode": mode,
        },
    )


def message(chat: int = CHAT, sender: int | None = None, **content: Any) -> dict[str, Any]:
    """A private-chat message from a seeker."""
    return {
        "message_id": next(_message_ids),
        "date": 1796176800,
        "chat": {"id": chat, "type": "private", "first_name": "Lei"},
        "from": {"id": sender or chat, "is_bot": False, "first_name": "Lei"},
        **content,
    }


def text(words: str, chat: int = CHAT) -> dict[str, Any]:
    """An update carrying typed text (or a tapped button's label)."""
    return {"message": message(chat, text=words)}


def contact(phone: str, user_id: int | None, chat: int = CHAT) -> dict[str, Any]:
    """An update carrying a shared contact card."""
    card: dict[str, Any] = {"phone_number": phone, "first_name": "Lei"}
    if user_id is not None:
        card["user_id"] = user_id
    return {"message": message(chat, contact=card)}


def location(lat: float, lon: float, chat: int = CHAT) -> dict[str, Any]:
    """An update carrying a shared location."""
    return {"message": message(chat, location={"latitude": lat, "longitude": lon})}


def sticker(chat: int = CHAT) -> dict[str, Any]:
    """An update carrying a sticker."""
    return {
        "message": message(
            chat,
            sticker={
                "file_id": "CAAC",
                "file_unique_id": "AgAD",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        )
    }


def photo(chat: int = CHAT, caption: str | None = None) -> dict[str, Any]:
    """An update carrying a photo."""
    size = {"file_id": "AgAC", "file_unique_id": "AQAD", "width": 90, "height": 90}
    content: dict[str, Any] = {"photo": [size]}
    if caption:
        content["caption"] = caption
    return {"message": message(chat, **content)}


class Telegram:
    """Telegram posting updates to Jobline; each post returns the replies it queued."""

    def __init__(self, client: TestClient, database: Database) -> None:
        self.client = client
        self.database = database
        self.next_id = 9000
        self.seen = 0

    def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        """Post one update (a fresh update_id unless it has one); returns the HTTP status."""
        if "update_id" not in update:
            update = {"update_id": self.next_id, **update}
            self.next_id += 1
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return self.client.post("/webhooks/telegram", json=update, headers=headers).status_code

    def replies(self) -> list[OutboxMessage]:
        """Outbox rows queued since the last look."""
        with self.database.sessions() as session:
            rows = list(
                session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.channel == "telegram", OutboxMessage.id > self.seen)
                    .order_by(OutboxMessage.id)
                )
            )
        if rows:
            self.seen = rows[-1].id
        return rows

    def says(self, update: dict[str, Any]) -> str:
        """Post an update that must be accepted; the replies as one string."""
        assert self.post(update) == 200
        return "\n".join(row.text for row in self.replies())
