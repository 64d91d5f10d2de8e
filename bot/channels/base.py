"""The Channel protocol and the inbound message every channel produces."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from db.models import utcnow

KEPT_CONTROLS = {"\n", "\t"}


def printable(text: str) -> str:
    """A seeker's text without control characters or lone surrogates (a NUL cannot be stored)."""
    return "".join(
        char
        for char in text
        if char in KEPT_CONTROLS or unicodedata.category(char) not in ("Cc", "Cs")
    )


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


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row, as a channel needs it to send."""

    outbox_id: int
    address: str
    text: str
    buttons: tuple[str, ...] = ()
    # When a dispatcher claimed it (for a lookup after a crash: the provider has it since).
    claimed_at: datetime | None = None


@dataclass(frozen=True)
class SendResult:
    """A provider accepted the message."""

    provider_id: str


class SendError(Exception):
    """A send failed; `action` says what to do: retry, fail, or stop (opt the contact out)."""

    def __init__(self, action: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason
        self.retry_after = retry_after


class Channel(Protocol):
    """A way to reach seekers: a name and a send."""

    name: str

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send one message or raise SendError."""
        ...
