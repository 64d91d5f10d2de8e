"""Button labels a chat app turns into a one-tap share (Telegram request_contact / location)."""

from __future__ import annotations

SHARE_PHONE = "Share my phone number"
SEND_LOCATION = "Send my location"
SHARE_BUTTONS = (SHARE_PHONE, SEND_LOCATION)
