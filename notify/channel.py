"""The Channel protocol: what the dispatcher sends through, and what a send can return."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from flows.types import Button


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row, as a channel needs it to send."""

    outbox_id: int
    address: str
    text: str
    buttons: tuple[Button, ...] = ()
    kind: str = "reply"
    # When a dispatcher claimed it (for a lookup after a crash: the provider has it since).
    claimed_at: datetime | None = None
    # The office phone the seeker last wrote to (their replies come from it), if any.
    device: str | None = None
    # The line the dispatcher chose for it, for a channel with several (None: its own choice).
    line: str | None = None


@dataclass(frozen=True)
class SendResult:
    """A provider accepted the message."""

    provider_id: str


class SendError(Exception):
    """A send failed; the subclass says what to do next (Retry, Fail or StopContact)."""

    action: ClassVar[str] = "fail"

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Retry(SendError):
    """Try again later (no sooner than retry_after seconds, when the provider said)."""

    action = "retry"


class Fail(SendError):
    """Give up on this message."""

    action = "fail"


class Wait(SendError):
    """The line is down, not the message (an office phone offline): try again after
    retry_after without counting an attempt, so nothing is lost however long it is off."""

    action = "wait"


class CannotLookUp(Exception):
    """The channel has no way to ask its provider about this message."""


class StopContact(SendError):
    """Give up on this message and send this contact nothing more (the seeker blocked the bot
    or left the chat); the seeker's other channels still get messages."""

    action = "stop"


class ContactSaidStop(StopContact):
    """This number said STOP to the carrier (Twilio 21610): nothing more until it says START."""


class HoldForSeeker(SendError):
    """Keep the message until the seeker next writes (the channel may only answer for a while)."""

    action = "hold"


class Channel(Protocol):
    """A way to reach seekers: a name and a send."""

    name: str

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send one message or raise SendError."""
        ...
