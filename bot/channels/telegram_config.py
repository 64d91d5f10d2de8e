"""Telegram's settings checks: read from the settings alone, without python-telegram-bot (17 MB)."""

from __future__ import annotations

from bot.settings import Settings, SettingsError


def telegram_mode(settings: Settings) -> str:
    """webhook or polling; auto means webhook when Jobline has a public URL."""
    mode = settings.telegram.mode
    if mode == "auto":
        return "webhook" if settings.public_base_url else "polling"
    if mode not in ("webhook", "polling"):
        raise SettingsError("Invalid setting telegram.mode: must be webhook, polling or auto")
    return mode


def check_telegram_settings(settings: Settings) -> None:
    """Webhook mode needs a public URL and a secret; refuse to start without them."""
    if telegram_mode(settings) == "webhook":
        if not settings.public_base_url:
            raise SettingsError("Invalid setting public_base_url: Telegram webhook mode needs it")
        if not settings.telegram.webhook_secret:
            raise SettingsError(
                "Invalid setting telegram.webhook_secret: webhook mode needs one "
                "(JOBLINE_TELEGRAM__WEBHOOK_SECRET)"
            )
