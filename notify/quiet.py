"""Quiet hours: no broadcast, alert or reminder reaches a seeker at night in their timezone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from notify.config import NotifyConfig

# Kinds that wait for morning (PLAIN-WORDS: only replies to the seeker's own messages, and a
# caseworker answering them, go at any hour).
HELD_KINDS = frozenset({"broadcast", "alert", "reminder", "update"})


def parse_hours(spec: str) -> tuple[time, time] | None:
    """'21:00-08:00' -> (21:00, 08:00); empty means no quiet hours."""
    if not spec.strip():
        return None
    start, end = (part.strip() for part in spec.split("-", 1))
    return time.fromisoformat(start), time.fromisoformat(end)


class QuietHours:
    """When held messages may go out, in one timezone."""

    def __init__(self, spec: str, timezone: str) -> None:
        self.hours = parse_hours(spec)
        self.zone = ZoneInfo(timezone)

    def is_quiet(self, moment: datetime) -> bool:
        """True when a held message must not be sent at this moment."""
        if self.hours is None:
            return False
        start, end = self.hours
        local = moment.astimezone(self.zone).time()
        if start <= end:
            return start <= local < end
        return local >= start or local < end

    def next_allowed(self, moment: datetime) -> datetime:
        """The moment itself, or the end of the quiet hours it falls in."""
        if self.hours is None or not self.is_quiet(moment):
            return moment
        local = moment.astimezone(self.zone)
        end = self.hours[1]
        morning = datetime.combine(local.date(), end, tzinfo=self.zone)
        if morning <= local:
            morning = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=self.zone)
        return morning.astimezone(moment.tzinfo)

    def hold(self, kind: str, moment: datetime) -> datetime:
        """When a message of this kind, due at this moment, may go out."""
        return self.next_allowed(moment) if kind in HELD_KINDS else moment


def quiet_hours(settings: NotifyConfig) -> QuietHours:
    """The quiet hours the settings name."""
    return QuietHours(settings.notify.quiet_hours, settings.notify.timezone)
