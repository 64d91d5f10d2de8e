"""Dates and times as a seeker reads them: 'Sat 20 Dec, 9:00' or '12月20日 周六 上午9点'."""

from __future__ import annotations

from datetime import datetime

WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def day_month(local: datetime, language: str) -> str:
    """'2 Dec' or '12月2日'."""
    if language == "zh":
        return f"{local.month}月{local.day}日"
    return f"{local.day} {local:%b}"


def weekday_date(local: datetime, language: str) -> str:
    """'Sat 20 Dec' or '12月20日 周六'."""
    if language == "zh":
        return f"{day_month(local, language)} {WEEKDAYS_ZH[local.weekday()]}"
    return f"{local:%a} {day_month(local, language)}"


def clock_time(local: datetime, language: str) -> str:
    """'9:00' or '上午9点' ('下午2点30分', '晚上7点')."""
    if language != "zh":
        return f"{local.hour}:{local:%M}"
    hour = local.hour
    part = "上午" if hour < 12 else "中午" if hour == 12 else "下午" if hour < 19 else "晚上"
    shown = hour if hour <= 12 else hour - 12
    minutes = f"{local.minute}分" if local.minute else ""
    return f"{part}{shown}点{minutes}"


def date_and_time(local: datetime, language: str) -> str:
    """'Sat 20 Dec, 9:00' or '12月20日 周六 上午9点'."""
    joiner = " " if language == "zh" else ", "
    return f"{weekday_date(local, language)}{joiner}{clock_time(local, language)}"
