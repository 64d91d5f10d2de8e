"""Quiet hours: held kinds wait for 08:00 Harbin time; replies never wait."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from notify.quiet import QuietHours

HOURS = QuietHours("21:00-08:00", "Asia/Harbin")


def harbin(day: int, hour: int, minute: int = 0) -> datetime:
    """A Harbin wall-clock time in December 2026, as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=ZoneInfo("Asia/Harbin")).astimezone(UTC)


def test_evening_broadcast_waits_until_next_morning() -> None:
    evening = harbin(2, 22)  # 22:00 Harbin
    assert HOURS.is_quiet(evening)
    assert HOURS.hold("broadcast", evening) == harbin(3, 8)
    assert HOURS.hold("update", evening) == harbin(3, 8)  # news on an application waits too
    assert HOURS.hold("caseworker", evening) == evening


def test_early_morning_waits_until_eight_the_same_day() -> None:
    early = harbin(3, 6, 30)
    assert HOURS.hold("reminder", early) == harbin(3, 8)


def test_daytime_and_replies_go_at_once() -> None:
    assert HOURS.hold("alert", harbin(3, 10)) == harbin(3, 10)
    assert HOURS.hold("reply", harbin(2, 23)) == harbin(2, 23)
    assert not HOURS.is_quiet(harbin(3, 8)) and HOURS.is_quiet(harbin(3, 21))


def test_empty_setting_turns_quiet_hours_off() -> None:
    assert QuietHours("", "Asia/Harbin").hold("broadcast", harbin(2, 23)) == harbin(2, 23)
