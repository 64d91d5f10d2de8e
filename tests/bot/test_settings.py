"""Settings: config.yaml holds every setting; the environment overrides; errors name the setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from bot.settings import DEFAULT_CONFIG, Settings, SettingsError, load_settings


def fields_of(model: type[BaseModel], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            names |= fields_of(kind, f"{prefix}{name}.")
        else:
            names.add(prefix + name)
    return names


def keys_of(data: dict[str, Any], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for key, value in data.items():
        if isinstance(value, dict) and value:  # an empty mapping is a setting of its own
            names |= keys_of(value, f"{prefix}{key}.")
        else:
            names.add(prefix + key)
    return names


def test_config_yaml_lists_every_setting_with_its_default() -> None:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    assert keys_of(data) == fields_of(Settings)
    assert load_settings() == Settings.model_validate(data)


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBLINE_DATABASE_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("JOBLINE_TWILIO__AUTH_TOKEN", "secret")
    monkeypatch.setenv("JOBLINE_NOTIFY__RATE_LIMITS__TWILIO", "100")
    settings = load_settings()
    assert settings.database_url == "sqlite:///elsewhere.db"
    assert settings.twilio.auth_token == "secret"
    assert settings.notify.rate_limits.twilio == 100


def test_another_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("port: 9000\n")
    monkeypatch.setenv("JOBLINE_CONFIG", str(other))
    assert load_settings().port == 9000


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("JOBLINE_PORT", "eighty", "port"),
        ("JOBLINE_DATABASE_URL", "mysql://x", "database_url"),
        ("JOBLINE_NOTIFY__MAX_ATTEMPTS", "many", "notify.max_attempts"),
        ("JOBLINE_SMS__ANDROID_COUNTRIES", '["+86", "China"]', "sms.android_countries"),
        ("JOBLINE_SMS__ANDROID__PER_PHONE_PER_MINUTE", "0", "sms.android.per_phone_per_minute"),
    ],
)
def test_invalid_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert message.startswith(f"Invalid setting {named}:") and "\n" not in message


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("twilio:\n  auth_token: abc123\n", "twilio.auth_token"),
        ("telegram:\n  token: '123:ABC'\n", "telegram.token"),
        ("sms:\n  android:\n    password: hunter2\n", "sms.android.password"),
        ("sms:\n  android:\n    signing_key: k3y\n", "sms.android.signing_key"),
    ],
)
def test_a_secret_written_in_the_config_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, written: str, named: str
) -> None:
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text(written)
    monkeypatch.setenv("JOBLINE_CONFIG", str(leaky))
    with pytest.raises(SettingsError, match=f"Invalid setting {named}: secrets go in the env"):
        load_settings()
