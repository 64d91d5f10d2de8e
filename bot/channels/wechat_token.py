"""WeChat's access token, shared by every Jobline process through the database.

A token lives 2 hours, and fetching a new one invalidates the old, so exactly one process
refreshes it: the one whose conditional update claims the refresh; the others wait for the row
to show the new token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import ProviderToken
from db.session import insert_new, transaction

log = logging.getLogger(__name__)
NAME = "wechat"
EARLY = timedelta(minutes=5)  # refresh this long before WeChat's expiry
CLAIM = timedelta(seconds=30)  # a refresher that died frees the claim after this
WAIT_SECONDS = 0.1


class TokenError(RuntimeError):
    """WeChat refused to issue a token (wrong app id or secret, or IP not whitelisted)."""


class AccessTokens:
    """The current token from the database, refreshed by one process at a time."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        fetch: Callable[[], tuple[str, int]],
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.fetch = fetch
        self.clock = clock

    def current(self, stale: str | None = None) -> str:
        """A valid token; `stale` is one WeChat just refused, to be replaced (once, by anyone)."""
        deadline = time.monotonic() + CLAIM.total_seconds()
        while True:
            now = self.clock()
            with self.sessions() as session:
                row = session.get(ProviderToken, NAME)
                if row is not None and _usable(row, now, stale):
                    return row.value
            if self._claim(now, stale):
                return self._refresh()
            if time.monotonic() > deadline:
                raise TokenError("no WeChat access token: the refreshing process did not finish")
            time.sleep(WAIT_SECONDS)

    def _claim(self, now: datetime, stale: str | None) -> bool:
        table = ProviderToken
        with transaction(self.sessions) as session:
            insert_new(session, table, {"name": NAME, "value": "", "expires_at": now}, ["name"])
            needs = or_(table.expires_at <= now + EARLY, table.value == (stale or ""))
            claimed = session.connection().execute(
                update(table)
                .where(table.name == NAME, needs)
                .where(or_(table.refreshing_until.is_(None), table.refreshing_until < now))
                .values(refreshing_until=now + CLAIM)
            )
            return bool(claimed.rowcount)

    def _refresh(self) -> str:
        try:
            value, lifetime = self.fetch()
        except Exception:
            with transaction(self.sessions) as session:
                session.execute(
                    update(ProviderToken)
                    .where(ProviderToken.name == NAME)
                    .values(refreshing_until=None)
                )
            raise
        now = self.clock()
        with transaction(self.sessions) as session:
            session.execute(
                update(ProviderToken)
                .where(ProviderToken.name == NAME)
                .values(
                    value=value,
                    expires_at=now + timedelta(seconds=lifetime),
                    refreshing_until=None,
                )
            )
        log.info("refreshed the WeChat access token (valid %d s)", lifetime)
        return value


def _usable(row: ProviderToken, now: datetime, stale: str | None) -> bool:
    return bool(row.value) and row.value != stale and row.expires_at > now + EARLY


def fetcher(api_base_url: str, app_id: str, secret: str) -> Callable[[], tuple[str, int]]:
    """GET /cgi-bin/token: (token, seconds it lives)."""

    def fetch() -> tuple[str, int]:
        response = httpx.get(
            f"{api_base_url.rstrip('/')}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": app_id, "secret": secret},
            timeout=10,
        )
        answer = response.json()
        if "access_token" not in answer:
            raise TokenError(f"wechat {answer.get('errcode')}: {answer.get('errmsg')}")
        return str(answer["access_token"]), int(answer.get("expires_in", 7200))

    return fetch
