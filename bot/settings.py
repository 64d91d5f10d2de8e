"""Settings: each package's own section composed, from config.yaml and JOBLINE_* variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.channels.sms_config import SmsSettings
from caseworker.dashboard.config import DashboardSettings
from flows.config import LoanSettings, OfficeSettings
from nlu.config import NluSettings
from notify.config import NotifySettings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config.yaml"


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it in one line."""


class TwilioSettings(BaseModel):
    """Twilio SMS channel; off when account_sid is empty."""

    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    messaging_service_sid: str = ""
    api_base_url: str = "https://api.twilio.com"


class TelegramSettings(BaseModel):
    """Telegram channel; off when token is empty."""

    token: str = ""
    api_base_url: str = "https://api.telegram.org"
    webhook_secret: str = ""
    mode: str = "auto"


class WeChatSettings(BaseModel):
    """WeChat Official Account channel; off when app_id is empty."""

    app_id: str = ""
    secret: str = ""
    token: str = ""
    aes_key: str = ""
    api_base_url: str = "https://api.weixin.qq.com"
    # Outbox kind (alert, reminder, update) -> template id, for messages past the 48 hours.
    templates: dict[str, str] = Field(default_factory=dict)


class Settings(BaseSettings):
    """Every Jobline setting; defaults are in config.yaml."""

    model_config = SettingsConfigDict(
        env_prefix="JOBLINE_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str = "sqlite:///var/jobline.db"
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = ""
    phone_region: str = "CN"
    default_language: str = "en"
    load_demo_data: bool = True
    idle_restart_hours: float = 24.0
    access_log: Literal["all", "refusals", "off"] = "refusals"
    nlu: NluSettings = Field(default_factory=NluSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    wechat: WeChatSettings = Field(default_factory=WeChatSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    office: OfficeSettings = Field(default_factory=OfficeSettings)
    loans: LoanSettings = Field(default_factory=LoanSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        return value

    @field_validator("phone_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if len(value) != 2 or not value.isalpha():
            raise ValueError("must be a two-letter country code such as CN")
        return value.upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))

    @property
    def timezone(self) -> str:
        """The office's timezone (kept in the `notify:` section)."""
        return self.notify.timezone

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, resolved against the project root, or None for PostgreSQL."""
        if not self.database_url.startswith("sqlite"):
            return None
        raw = self.database_url.split("///", 1)[1] if "///" in self.database_url else ""
        if not raw or raw == ":memory:":
            return None
        path = Path(raw)
        return path if path.is_absolute() else ROOT / path


# Settings that must never be written in a config file.
SECRETS = (
    ("twilio", "auth_token"),
    ("telegram", "token"),
    ("telegram", "webhook_secret"),
    ("sms", "android", "password"),
    ("sms", "android", "signing_key"),
    ("nlu", "auth_token"),
    ("dashboard", "secret_key"),
    ("wechat", "secret"),
    ("wechat", "token"),
    ("wechat", "aes_key"),
)


class _YamlSource(PydanticBaseSettingsSource):
    """Reads config.yaml, or the file JOBLINE_CONFIG names."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = Path(os.environ.get("JOBLINE_CONFIG", DEFAULT_CONFIG))
        if not path.exists():
            raise SettingsError(f"Invalid setting JOBLINE_CONFIG: no file at {path}")
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise SettingsError(f"Invalid setting JOBLINE_CONFIG: {path} is not a mapping")
        for secret in SECRETS:
            value: Any = data
            for part in secret:
                value = value.get(part) if isinstance(value, dict) else None
            if value:
                variable = "JOBLINE_" + "__".join(part.upper() for part in secret)
                raise SettingsError(
                    f"Invalid setting {'.'.join(secret)}: secrets go in the environment "
                    f"({variable}), not in {path.name}"
                )
        return data


def load_settings(**overrides: Any) -> Settings:
    """Load settings, turning a validation error into one line that names the setting."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        raise SettingsError(f"Invalid setting {name}: {first['msg']}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()
