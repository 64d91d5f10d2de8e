"""Settings for delivery: quiet hours, rate limits, retries, batches (the `notify:` section)."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field

from flows.config import LoanSettings


class RateLimits(BaseModel):
    """Messages per second each channel may send."""

    twilio: float = 1.0
    telegram: float = 30.0
    console: float = 1000.0
    wechat: float = 20.0


class NotifySettings(BaseModel):
    """Delivery of everything that leaves Jobline."""

    quiet_hours: str = "21:00-08:00"
    timezone: str = "Asia/Harbin"
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    max_attempts: int = 6
    price_per_segment: float = 0.05
    batch_size: int = 500
    lease_seconds: float = 120.0


class NotifyConfig(Protocol):
    """What delivery reads from Jobline's settings: its own section and the loan ages."""

    @property
    def notify(self) -> NotifySettings:
        """The `notify:` section."""
        ...

    @property
    def loans(self) -> LoanSettings:
        """The `loans:` section (broadcast segments use its ages)."""
        ...
