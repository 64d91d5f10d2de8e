"""Buttons a chat app turns into a one-tap share (Telegram request_contact / location)."""

from __future__ import annotations

from flows.types import Asks, Button

SHARE_PHONE = Button("Share my phone number", Asks.PHONE)
SEND_LOCATION = Button("Send my location", Asks.LOCATION)
