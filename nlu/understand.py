"""Understanding a message: the keyword fast path first, then Rasa, then a confidence threshold."""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from nlu.client import RasaError, RasaResult
from nlu.domain import (
    about_work,
    asks_for_person,
    chinese_request,
    long_enough,
    strong_work_evidence,
)
from nlu.fallback import guess_intent
from nlu.gazetteer import Gazetteer, default_gazetteer
from nlu.hanzi import simplified
from nlu.keywords import fast_path as keyword_fast_path
from nlu.keywords import normalize
from nlu.parse import Entity, Parse

log = logging.getLogger(__name__)

# The intents Rasa is trained on; anything else it says is treated as out_of_scope.
INTENTS = frozenset(
    {
        "greet", "goodbye", "thank_you", "affirm", "deny", "help",
        "find_jobs", "apply_job", "application_status", "register", "update_profile",
        "loan_eligibility", "job_fair", "training", "concession_card",
        "human_agent", "stop", "start", "change_language", "out_of_scope",
    }
)  # fmt: skip
# Intents that send a seeker into a job-domain flow (an unrelated message must not get one).
JOB_INTENTS = frozenset(
    {
        "find_jobs", "apply_job", "application_status", "register", "update_profile",
        "loan_eligibility", "job_fair", "training", "concession_card",
    }
)  # fmt: skip
ENTITY_NAMES = ("location", "job_category")
OUT_OF_SCOPE = "out_of_scope"
# How sure a guess from words alone is (Rasa down): below any Rasa answer we would trust.
FALLBACK_CONFIDENCE = 0.6
# The longest text a Parse keeps (a Telegram message); Rasa sees only the first max_chars.
MAX_TEXT = 4096
# Rasa's answers kept by normalised text (seekers send the same short texts again and again).
CACHE_SIZE = 10_000
# How sure a known place name on its own is ("Daoli": jobs there, as Rasa says at 0.99).
PLACE_CONFIDENCE = 0.9

FastPath = Callable[[str, str | None], Parse | None]


# Control and format characters (keeping none), and runs of whitespace.
_SPACE = re.compile(r"\s+")


class RasaParser(Protocol):
    """What Understander needs from a Rasa client (nlu.client.RasaClient)."""

    def parse(self, text: str) -> RasaResult:
        """Ask Rasa what the text means; raise RasaError if it cannot say."""
        ...


def clean_text(text: str, max_chars: int = MAX_TEXT) -> str:
    """NFKC, control characters out, single spaces, cut to max_chars."""
    text = unicodedata.normalize("NFKC", text if isinstance(text, str) else str(text))
    kept = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co") else ch
        for ch in text[: max_chars * 4]
    )
    return _SPACE.sub(" ", kept).strip()[:max_chars].strip()


class Understander:
    """Turns a seeker's text into a Parse; never raises, and says when Rasa is not answering."""

    def __init__(
        self,
        client: RasaParser | None = None,
        *,
        threshold: float = 0.5,
        fast_path: FastPath | None = None,
        gazetteer: Gazetteer | None = None,
        max_chars: int = 500,
        retry_after_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        guess: Callable[[str], str | None] = guess_intent,
        domain_confidence: float = 0.0,
        ambiguity: float = 0.0,
        overrule_words: int = 0,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.client = client
        self.threshold = threshold
        self.fast_path = fast_path or keyword_fast_path
        self.gazetteer = gazetteer or default_gazetteer()
        self.max_chars = max_chars
        self.retry_after_seconds = retry_after_seconds
        self.clock = clock
        self.guess = guess
        # A job intent with no sign of work (word, place, kind of work, a menu) needs this much.
        self.domain_confidence = domain_confidence
        # Like Rasa's FallbackClassifier ambiguity_threshold: top two this close are unsure.
        self.ambiguity = ambiguity
        # A text this long (0: off) with strong work evidence is not out_of_scope (see _overruled).
        self.overrule_words = overrule_words
        self.last_error: str | None = None if client is not None else "no Rasa server configured"
        self._skip_rasa_until = 0.0
        self._lock = threading.Lock()
        self.cache_size = cache_size
        self._cache: OrderedDict[str, RasaResult] = OrderedDict()
        self.asked = 0  # texts that went to Rasa (not the fast path, not the cache)

    @property
    def degraded(self) -> bool:
        """True while Rasa is not answering (or there is none): keywords and menus only."""
        return self.last_error is not None

    def understand(self, text: str, language: str = "en", expecting: str | None = None) -> Parse:
        """Fast path, else Rasa, else out_of_scope; never raises."""
        try:
            cleaned, quick = self._before_rasa(text, expecting)
            if quick is not None:
                return quick
            assert self.client is not None
            asked = simplified(cleaned[: self.max_chars])  # Rasa reads one Chinese script
            key = normalize(asked)
            known = self._cached(key)
            if known is not None:
                return self._parse_of(cleaned, known, expecting)
            try:
                self.asked += 1
                result = self.client.parse(asked)
            except RasaError as error:
                return self._rasa_failed(cleaned, error)
            self._remember(key, result)
            return self._after_rasa(cleaned, result, expecting)
        except Exception:  # the seeker must get an answer whatever went wrong here
            log.exception("understanding failed; answering from menus")
            return Parse(str(text)[:MAX_TEXT], OUT_OF_SCOPE, 0.0, (), "error")

    def _before_rasa(self, text: str, expecting: str | None) -> tuple[str, Parse | None]:
        cleaned = clean_text(text)
        try:
            quick = self.fast_path(cleaned, expecting)
        except Exception:
            log.exception("keyword fast path failed on a message")
            quick = None
        if quick is not None:
            return cleaned, quick
        place = self._place_alone(cleaned, expecting)
        if place is not None:
            return cleaned, place
        if self.client is None:
            return cleaned, self._without_rasa(cleaned)
        if self.clock() < self._skip_rasa_until:
            known = self._cached(normalize(simplified(cleaned[: self.max_chars])))
            return cleaned, self._without_rasa(cleaned) if known is None else None
        return cleaned, None

    def _place_alone(self, cleaned: str, expecting: str | None) -> Parse | None:
        """A known place name on its own: the answer to a place question, else jobs there."""
        if expecting == "text":
            return None  # a name that is also a place is still a name
        place = self.gazetteer.canonical("location", cleaned)
        if place is None:
            return None
        return Parse(cleaned, "find_jobs", PLACE_CONFIDENCE, (Entity("location", place),))

    def _cached(self, key: str) -> RasaResult | None:
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
            return found

    def _remember(self, key: str, result: RasaResult) -> None:
        if self.cache_size <= 0:
            return
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _without_rasa(self, cleaned: str) -> Parse:
        """The request guessed from its words (Rasa is away), else out_of_scope."""
        plain = simplified(cleaned)
        entities = self.gazetteer.find(plain)
        guessed = self.guess(plain)
        if guessed is None:
            return Parse(cleaned, OUT_OF_SCOPE, 0.0, entities, "fallback")
        return Parse(cleaned, guessed, FALLBACK_CONFIDENCE, entities, "fallback")

    def _rasa_failed(self, cleaned: str, error: RasaError) -> Parse:
        with self._lock:
            self._skip_rasa_until = self.clock() + self.retry_after_seconds
            if self.last_error is None:
                log.warning("Rasa is not answering (%s); using keywords and menus", error)
            self.last_error = str(error) or type(error).__name__
        return self._without_rasa(cleaned)

    def _after_rasa(self, cleaned: str, result: RasaResult, expecting: str | None) -> Parse:
        with self._lock:
            if self.last_error is not None:
                log.warning("Rasa is answering again")
            self.last_error = None
            self._skip_rasa_until = 0.0
        return self._parse_of(cleaned, result, expecting)

    def _parse_of(self, cleaned: str, result: RasaResult, expecting: str | None) -> Parse:
        """Rasa's answer as a Parse: known intents above the threshold, canonical entities."""
        intent = result.intent if result.intent in INTENTS else OUT_OF_SCOPE
        if result.confidence < self.threshold or self._ambiguous(result):
            intent = OUT_OF_SCOPE
        plain = simplified(cleaned)  # one Chinese script for the gate, names and overrule
        entities = self._entities(plain, result)
        if (
            intent in JOB_INTENTS
            and expecting is None
            and result.confidence < self.domain_confidence
            and not entities
            and not about_work(plain)
        ):
            intent = OUT_OF_SCOPE  # no sign the text is about work: an everyday request
        if intent == OUT_OF_SCOPE:
            intent = self._overruled(plain, entities)
        elif (
            intent == "find_jobs" and expecting is None and not entities and asks_for_person(plain)
        ):
            # "找个真人" reads like "找个工作" to Rasa; "cleaning staff in daoli" is a search, and
            # "客服" answering a question (what work?) is an answer.
            intent = "human_agent"
        return Parse(cleaned, intent, result.confidence, entities, "rasa")

    def _overruled(self, text: str, entities: tuple[Entity, ...]) -> str:
        """A long text with strong work evidence, or Chinese with a request word: its job intent."""
        if not self.overrule_words:
            return OUT_OF_SCOPE
        long_and_strong = long_enough(text, self.overrule_words) and strong_work_evidence(
            text, bool(entities)
        )
        if not long_and_strong and not chinese_request(text):
            return OUT_OF_SCOPE
        guessed = self.guess(text)
        return guessed if guessed in JOB_INTENTS else "find_jobs"

    def _ambiguous(self, result: RasaResult) -> bool:
        """True when the runner-up intent is within `ambiguity` of the top one."""
        others = [score for name, score in result.ranking if name != result.intent]
        return bool(others) and result.confidence - max(others) < self.ambiguity

    def _entities(self, plain: str, result: RasaResult) -> tuple[Entity, ...]:
        """Rasa's entities in canonical form, plus any known name Rasa missed (e.g. Chinese)."""
        found: dict[Entity, None] = {}
        for entity, value in result.entities:
            if entity not in ENTITY_NAMES:
                continue
            canonical = self.gazetteer.canonical(entity, value)
            if canonical is not None:
                found.setdefault(Entity(entity, canonical), None)
        for item in self.gazetteer.find(plain):
            found.setdefault(item, None)
        return tuple(found)
