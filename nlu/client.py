"""HTTP client for a Rasa server's /model/parse: the only place the app talks to Rasa."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx

from nlu.rasa_view import rasa_view


class RasaError(Exception):
    """Rasa could not give an answer we can use."""


class RasaUnavailable(RasaError):
    """Rasa did not answer: refused, timed out, or an HTTP error status."""


class RasaBadAnswer(RasaError):
    """Rasa answered, but not with a parse result we understand."""


@dataclass(frozen=True)
class RasaResult:
    """Rasa's answer to one message: the top intent, its confidence, raw entities, runners-up."""

    intent: str
    confidence: float
    entities: tuple[tuple[str, str], ...]
    ranking: tuple[tuple[str, float], ...] = ()


class RasaClient:
    """Talks to one Rasa server over a kept-alive HTTP connection."""

    def __init__(
        self, base_url: str, timeout_seconds: float = 2.0, token: str | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout_seconds)
        # Rasa's --auth-token is checked on ?token=; the managed server's is known only to us.
        params = {"token": token} if token else None
        self._http = httpx.Client(base_url=self.base_url, timeout=self.timeout, params=params)

    def parse(self, text: str) -> RasaResult:
        """Ask Rasa what the text means (as nlu.rasa_view writes it); raise RasaError if not."""
        try:
            response = self._http.post("/model/parse", json={"text": rasa_view(text)})
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return _result(response, len(text))

    def is_ready(self) -> bool:
        """True when the server answers and has a model loaded."""
        try:
            response = self._http.get("/status", timeout=1.0)
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError, AttributeError):
            return False

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._http.close()


def _result(response: httpx.Response, text_end: int | None = None) -> RasaResult:
    if response.status_code != 200:
        raise RasaUnavailable(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise RasaBadAnswer("not JSON") from exc
    return result_from_json(body, text_end)


def result_from_json(body: Any, text_end: int | None = None) -> RasaResult:
    """Check a /model/parse body and keep what Jobline uses; raise RasaBadAnswer otherwise.

    Entities that start at text_end or later were found in the pinyin Rasa reads after the text
    ("有一" is "you yi", a county's name), not in what the seeker wrote, and are dropped.
    """
    if not isinstance(body, dict) or not isinstance(body.get("intent"), dict):
        raise RasaBadAnswer("no intent object")
    name = body["intent"].get("name")
    confidence = body["intent"].get("confidence")
    if not isinstance(name, str) or not name:
        raise RasaBadAnswer("intent has no name")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise RasaBadAnswer("confidence is not a number")
    if math.isnan(confidence) or not 0.0 <= confidence <= 1.0:
        raise RasaBadAnswer("confidence out of range")
    entities: list[tuple[str, str]] = []
    raw_entities = body.get("entities") or []
    if isinstance(raw_entities, list):
        for item in raw_entities:
            if not isinstance(item, dict):
                continue
            entity, value, start = item.get("entity"), item.get("value"), item.get("start")
            if text_end is not None and isinstance(start, int) and start >= text_end:
                continue
            if isinstance(entity, str) and isinstance(value, str | int | float):
                entities.append((entity, str(value)))
    ranking: list[tuple[str, float]] = []
    raw_ranking = body.get("intent_ranking") or []
    if isinstance(raw_ranking, list):
        for item in raw_ranking:
            if not isinstance(item, dict):
                continue
            other, score = item.get("name"), item.get("confidence")
            if isinstance(other, str) and isinstance(score, int | float) and score == score:
                ranking.append((other, float(score)))
    return RasaResult(
        intent=name,
        confidence=float(confidence),
        entities=tuple(entities),
        ranking=tuple(ranking),
    )
