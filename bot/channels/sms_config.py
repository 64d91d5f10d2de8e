"""Settings for SMS routes: which provider sends to which country, and the office's own phones."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, field_validator


class SmsProvider(StrEnum):
    """Who carries an SMS: Twilio, or the office's own phone (SMS Gateway for Android)."""

    TWILIO = "twilio"
    ANDROID = "android"


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
    """The `sms` section: the provider for each country calling code, and the gateway."""

    default_provider: SmsProvider = SmsProvider.TWILIO
    countries: dict[str, SmsProvider] = Field(default_factory=lambda: {"86": SmsProvider.ANDROID})
    android: AndroidGatewaySettings = Field(default_factory=AndroidGatewaySettings)

    @field_validator("countries")
    @classmethod
    def _codes(cls, value: dict[str, SmsProvider]) -> dict[str, SmsProvider]:
        bad = [code for code in value if not code.lstrip("+").isdigit()]
        if bad:
            raise ValueError(f"country calling codes are digits, like 86 (not {', '.join(bad)})")
        return {code.lstrip("+"): provider for code, provider in value.items()}

    def provider_for(self, number: str) -> SmsProvider:
        """The provider for an E.164 number: the longest matching country code, else default."""
        digits = number.lstrip("+")
        for code in sorted(self.countries, key=len, reverse=True):
            if digits.startswith(code):
                return self.countries[code]
        return self.default_provider
