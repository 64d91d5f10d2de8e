"""The Channel protocol and the inbound message every channel produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from db.models import utcnow


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


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row, as a channel needs it to send."""

    outbox_id: int
    address: str
    text: str
    buttons: tuple[str, ...] = ()
    # The office phone the seeker last wrote to (their replies come from it), if any.
    device: str | None = None
    # The line the dispatcher chose for it, for a channel with several (None: its own choice).
    line: str | None = None


@dataclass(frozen=True)
class SendResult:
    """A provider accepted the message."""

    provider_id: str


class SendError(Exception):
    """A send failed; `action` says what to do: retry, fail, or stop (opt the contact out).

    `wait`: the line is down, not the message (an office phone offline): try again after
    retry_after without counting an attempt, so nothing is lost however long the phone is off.
    """

    def __init__(self, action: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason
        self.retry_after = retry_after


class CannotLookUp(Exception):
    """The channel has no way to ask its provider about this message."""


class Channel(Protocol):
    """A way to reach seekers: a name and a send."""

    name: str

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send one message or raise SendError."""
        ...
