"""Settings for SMS routes: which provider sends to which country, and the office's own phones."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class GatewayPhone(BaseModel):
    """One Android phone with the office's SIM in it."""

    id: str = Field(description="The device id (cloud server) or a name for a phone's own server.")
    url: str = Field(
        default="", description="The phone's local server; empty: sms.android.api_url (the cloud)."
    )


class AndroidGatewaySettings(BaseModel):
    """The `sms.android` section: SMS Gateway for Android; off while api_url is empty."""

    api_url: str = ""
    username: str = ""
    password: str = ""
    signing_key: str = ""
    phones: list[GatewayPhone] = Field(default_factory=list)
    per_phone_per_minute: float = 6.0
    webhook_max_age_seconds: float = 300.0
    timeout_seconds: float = 10.0
    offline_retry_seconds: float = 60.0

    @field_validator("per_phone_per_minute")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be more than 0: a SIM that sends without pause gets blocked")
        return value


class SmsSettings(BaseModel):
    """The `sms` section: which countries the office's phones serve (Twilio the rest)."""

    android_countries: list[str] = Field(default_factory=lambda: ["86"])
    android: AndroidGatewaySettings = Field(default_factory=AndroidGatewaySettings)

    @field_validator("android_countries")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not code.lstrip("+").isdigit()]
        if bad:
            raise ValueError(f"country calling codes are digits, like 86 (not {', '.join(bad)})")
        return [code.lstrip("+") for code in value]

    def on_phones(self, number: str) -> bool:
        """Does an E.164 number's country go through the office's phones?"""
        return number.lstrip("+").startswith(tuple(self.android_countries))
