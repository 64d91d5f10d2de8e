"""Settings: config.yaml, overridden by JOBLINE_* environment variables."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.channels.sms_config import SmsSettings
from nlu.config import NluSettings

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


class RateLimits(BaseModel):
    """Messages per second each channel may send."""

    twilio: float = 1.0
    telegram: float = 30.0
    console: float = 1000.0


class NotifySettings(BaseModel):
    """Delivery of everything that leaves Jobline."""

    quiet_hours: str = "21:00-08:00"
    timezone: str = "Asia/Harbin"
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    max_attempts: int = 6
    price_per_segment: float = 0.05
    batch_size: int = 500


class OfficeSettings(BaseModel):
    """The employment office seekers are sent to."""

    name: str = "Harbin Re-employment Service Centre"
    address: str = "88 Zhongshan Road, Nangang, Harbin"
    hours: str = "Mon-Fri 8:30-17:00"
    reply_by: str = "17:00"


# What a loan rule can ask about; flows/loans.py has a question for each.
LOAN_CONDITIONS = ("laid_off", "card", "age_4050", "business")


class LoanGroup(BaseModel):
    """A group the loan is for: a seeker is in it when every condition holds."""

    name: str
    needs: list[str]

    @field_validator("needs")
    @classmethod
    def _known_conditions(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in LOAN_CONDITIONS]
        if unknown or not value:
            raise ValueError(f"conditions must be some of {', '.join(LOAN_CONDITIONS)}")
        return value


def _default_loan_groups() -> list[LoanGroup]:
    return [
        LoanGroup(name="laid_off", needs=["laid_off"]),
        LoanGroup(name="card_holder", needs=["card"]),
        LoanGroup(name="4050", needs=["age_4050"]),
    ]


class LoanSettings(BaseModel):
    """Small-loan policy; rules live here, not in code."""

    max_amount_yuan: int = 50000
    documents: str = "ID card, concession card or job registration, business plan"
    women_age: int = 40
    men_age: int = 50
    groups: list[LoanGroup] = Field(default_factory=_default_loan_groups)
    required: list[str] = Field(default_factory=lambda: ["business"])

    @field_validator("required")
    @classmethod
    def _known_required(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in LOAN_CONDITIONS]
        if unknown:
            raise ValueError(f"conditions must be some of {', '.join(LOAN_CONDITIONS)}")
        return value


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
    nlu: NluSettings = Field(default_factory=NluSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    office: OfficeSettings = Field(default_factory=OfficeSettings)
    loans: LoanSettings = Field(default_factory=LoanSettings)

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
