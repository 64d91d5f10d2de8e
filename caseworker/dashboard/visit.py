"""A browser's visit: who is signed in and its CSRF token, in a signed cookie."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime

COOKIE = "jobline_dashboard"


def new_token() -> str:
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Visit:
    """What the cookie holds; staff_id is None before sign-in."""

    csrf: str = field(default_factory=new_token)
    staff_id: int | None = None
    generation: int = 0
    seen: float = 0.0
    language: str | None = None

    def signed_in(self, staff_id: int, generation: int) -> Visit:
        """The visit after a sign-in (a new CSRF token, so an old one cannot be planted)."""
        return replace(self, csrf=new_token(), staff_id=staff_id, generation=generation)

    def with_language(self, language: str) -> Visit:
        """The visit with the page language chosen on this browser."""
        return replace(self, language=language)

    def signed_out(self) -> Visit:
        """An anonymous visit that keeps only the chosen language."""
        return Visit(language=self.language)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def dump(visit: Visit, key: bytes, now: datetime) -> str:
    """The cookie value: the visit as JSON, with an HMAC-SHA256 signature."""
    data = {
        "c": visit.csrf,
        "s": visit.staff_id,
        "g": visit.generation,
        "t": now.timestamp(),
        "l": visit.language,
    }
    payload = _b64(json.dumps(data, separators=(",", ":")).encode())
    return f"{payload}.{_sign(key, payload)}"


def load(value: str | None, key: bytes, now: datetime, idle_seconds: float) -> Visit:
    """The visit in a cookie; a new anonymous one when it is missing, forged or idle too long."""
    if not value or "." not in value:
        return Visit()
    payload, signature = value.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(key, payload)):
        return Visit()
    try:
        data = json.loads(_unb64(payload))
        visit = Visit(
            csrf=str(data["c"]),
            staff_id=int(data["s"]) if data["s"] is not None else None,
            generation=int(data["g"]),
            seen=float(data["t"]),
            language=str(data["l"]) if data.get("l") else None,
        )
    except (ValueError, KeyError, TypeError):
        return Visit()
    if visit.staff_id is not None and now.timestamp() - visit.seen > idle_seconds:
        return visit.signed_out()
    return visit
