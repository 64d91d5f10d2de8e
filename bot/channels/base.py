"""The inbound message every channel produces; the outbound side is notify/channel.py."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from db.models import utcnow
from notify.channel import Channel, OutgoingMessage, SendError, SendResult

__all__ = ["Channel", "InboundMessage", "OutgoingMessage", "SendError", "SendResult", "printable"]

KEPT_CONTROLS = {"\n", "\t"}


def printable(text: str) -> str:
    """A seeker's text without control characters or lone surrogates (a NUL cannot be stored)."""
    return "".join(
        char
        for char in text
        if char in KEPT_CONTROLS or unicodedata.category(char) not in ("Cc", "Cs")
    )


# The kind of an inbound event saying the seeker left this chat (a WeChat unfollow): only this
# contact stops getting messages, not the seeker (notify/outbox.py has the rule).
LEFT = "left"


@dataclass(frozen=True)
class InboundMessage:
    """One message from a seeker, as a channel received it."""

    channel: str
    address: str
    text: str
    external_id: str | None = None
    received_at: datetime = field(default_factory=utcnow)
    location: tuple[float, float] | None = None
    contact_phone: str | None = None
    kind: str = "text"
    # The office phone (SMS gateway device) the message came in on; replies go out through it.
    device: str | None = None
