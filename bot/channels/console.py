"""The console channel: a terminal (or a program) texting Jobline as an SMS seeker would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import InboundMessage
from db.models import OutboxMessage, OutboxStatus, utcnow
from db.session import transaction
from notify import outbox

if TYPE_CHECKING:
    from bot.conversation import Jobline


class ConsoleChannel:
    """Delivers a console contact's outbox rows to whoever is at the terminal."""

    name = "console"

    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    def deliver(self, contact_id: int) -> list[OutboxMessage]:
        """Take this contact's queued rows, oldest first, and mark them delivered."""
        now = self.clock()
        with transaction(self.sessions) as session:
            rows = list(
                session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.contact_id == contact_id,
                        OutboxMessage.channel == self.name,
                        OutboxMessage.status == OutboxStatus.QUEUED,
                        OutboxMessage.not_before <= now,
                    )
                    .order_by(OutboxMessage.id)
                )
            )
            for row in rows:
                outbox.delivered_here(row, now)
            return rows


class ConsolePhone:
    """A console number texting Jobline and getting its replies at once (the dashboard's Try it)."""

    def __init__(self, jobline: Jobline) -> None:
        self.jobline = jobline
        self.channel = ConsoleChannel(jobline.sessions, lambda: jobline.clock())

    def say(self, phone: str, text: str) -> None:
        """Take the turn of one text from this phone and deliver the replies to its screen."""
        received = self.jobline.handle(InboundMessage(ConsoleChannel.name, phone, text))
        self.channel.deliver(received.contact_id)
