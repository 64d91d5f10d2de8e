"""A seeker talking to the pure flow engine: no database, no channel, the demo posts in memory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.conversation import render_reply
from bot.lookup import random_reference
from bot.settings import Settings, load_settings
from bot.turn_rows import CJK
from db.demo import CHINESE, POSTS
from db.models import utcnow
from flows import effects
from flows.engine import expecting, run_turn
from flows.types import Context, Profile, Reply, State
from flows.views import ApplicationView, FairView, JobView, NearbyPost
from nlu.kinds import parse_kind
from nlu.parse import Parse
from nlu.understand import Understander
from reference import Reference, distance_km, load_reference

PHONE = "+8613800000001"


@dataclass
class Applied:
    """An application as the store keeps it."""

    reference: str
    job_id: int
    stage: str
    applied_at: datetime
    stage_changed_at: datetime


@dataclass
class MemoryStore:
    """The flows' Lookup port over the demo posts and fair, and what the seeker's turns did."""

    reference: Reference
    posts: dict[int, JobView] = field(default_factory=dict)
    where: dict[int, tuple[float, float]] = field(default_factory=dict)
    fairs_by_id: dict[int, FairView] = field(default_factory=dict)
    applied: list[Applied] = field(default_factory=list)
    joined_fairs: set[int] = field(default_factory=set)
    attending: set[int] = field(default_factory=set)
    handoffs: list[str] = field(default_factory=list)
    last_alerted_fair: int | None = None

    @classmethod
    def demo(cls, reference: Reference, now: datetime) -> MemoryStore:
        """The demo data db/demo.py loads, as plain values."""
        store = cls(reference)
        for number, row in enumerate(POSTS, start=1):
            store.posts[number] = JobView(number, *row, True, *CHINESE[row[0]])
            place = store.posts[number].place
            info = reference.place(place)
            if info is not None and info.lat is not None and info.lon is not None:
                store.where[number] = (info.lat, info.lon)
        local = now.astimezone(ZoneInfo("Asia/Harbin"))
        day = (local + timedelta(days=21)).replace(hour=9, minute=0, second=0, microsecond=0)
        store.add_fair(
            "Re-employment Job Fair for 10,000 People",
            day,
            "Harbin International Expo Hall",
            "Nangang",
            500,
            20000,
        )
        return store

    def add_fair(
        self, name: str, starts_at: datetime, venue: str, district: str, employers: int, posts: int
    ) -> int:
        """A new fair; its id."""
        fair_id = max(self.fairs_by_id, default=0) + 1
        fair = FairView(fair_id, name, starts_at, venue, district, employers, posts)
        self.fairs_by_id[fair_id] = fair
        return fair_id

    def withdraw(self, code: str) -> None:
        """A caseworker withdraws the post with this code."""
        job = next(job for job in self.posts.values() if job.code == code)
        self.posts[job.id] = replace(job, open=False)

    def search_jobs(
        self,
        places: Sequence[str],
        category: str | None,
        prefer: Sequence[str] = (),
        limit: int | None = None,
    ) -> list[JobView]:
        """Open jobs in these places, of this kind: preferred kinds first, then in order."""
        found = [
            job
            for job in self.posts.values()
            if job.open and job.place in places and category in (None, job.category)
        ]
        found.sort(key=lambda job: (bool(prefer) and job.category not in prefer, job.id))
        return found[:limit] if limit is not None else found

    def search_jobs_widening(
        self,
        levels: Sequence[Sequence[str]],
        category: str | None,
        prefer: Sequence[str] = (),
        limit: int | None = None,
    ) -> tuple[int, list[JobView]]:
        """search_jobs in the first place set that has any."""
        for index, places in enumerate(levels):
            if found := self.search_jobs(places, category, prefer, limit):
                return index, found
        return len(levels) - 1, []

    def job(self, job_id: int) -> JobView | None:
        """One post, open or not."""
        return self.posts.get(job_id)

    def applications(self, seeker_id: int) -> list[ApplicationView]:
        """The seeker's applications, most recently changed first."""
        ordered = sorted(
            enumerate(self.applied), key=lambda each: (each[1].stage_changed_at, each[0])
        )
        return [self._view(applied) for _, applied in reversed(ordered)]

    def _view(self, applied: Applied) -> ApplicationView:
        job = self.posts[applied.job_id]
        return ApplicationView(
            applied.reference,
            job.id,
            job.title,
            job.employer,
            applied.stage,
            applied.stage_changed_at,
            applied.applied_at,
            job.title_zh,
        )

    def application_for(self, seeker_id: int, job_id: int) -> ApplicationView | None:
        """The seeker's application for this post, if any."""
        found = [self._view(a) for a in self.applied if a.job_id == job_id]
        return found[0] if found else None

    def new_reference(self) -> str:
        """A reference no application has yet."""
        taken = {applied.reference for applied in self.applied}
        while (candidate := random_reference()) in taken:
            pass
        return candidate

    def fairs(self, now: datetime) -> list[FairView]:
        """Fairs that have not started yet, soonest first."""
        coming = [fair for fair in self.fairs_by_id.values() if fair.starts_at >= now]
        return sorted(coming, key=lambda fair: fair.starts_at)

    def fair(self, fair_id: int) -> FairView | None:
        """One fair."""
        return self.fairs_by_id.get(fair_id)

    def joined(self, seeker_id: int, fair_id: int) -> bool:
        """Whether the seeker asked for alerts about this fair."""
        return fair_id in self.joined_fairs

    def nearest_jobs(self, lat: float, lon: float, limit: int) -> list[NearbyPost]:
        """The open posts nearest (lat, lon), nearest first."""
        found = [
            NearbyPost(
                job.id,
                job.code,
                job.title,
                job.place,
                job.pay_yuan_month,
                distance_km(lat, lon, *self.where[job.id]),
                job.title_zh,
            )
            for job in self.posts.values()
            if job.open and job.id in self.where
        ]
        found.sort(key=lambda post: (post.km, post.code))
        return found[:limit]


class EngineSeeker:
    """A seeker texting the flow engine itself; state, profile and effects are kept in memory."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        understander: Understander | None = None,
        settings: Settings | None = None,
        phone: str | None = PHONE,
    ) -> None:
        self.clock = clock
        self.understander = understander or Understander()
        self.settings = settings or load_settings()
        self.reference = load_reference()
        self.store = MemoryStore.demo(self.reference, utcnow())
        self.profile = Profile(seeker_id=1, phone=phone, language=self.settings.default_language)
        self.state = State()
        self.updated_at: datetime | None = None
        self.replies: list[Reply] = []

    def send(self, message: str, kind: str = "text") -> list[str]:
        """Text the engine; get back what it answered."""
        now = self.clock()
        language = self.profile.language
        if kind == "text":
            expects = None if self.profile.opted_out else expecting(self.state)
            parse = self.understander.understand(message, language, expects)
            self._first_language(message)
        else:
            parse = parse_kind(kind, message, lambda said: self._understand(said, language))
        ctx = Context(self.profile, now, self.reference, self.settings, self.store)
        idle_for = now - self.updated_at if self.state.flow and self.updated_at else None
        turn = run_turn(ctx, self.state, parse, idle_for)
        for effect in turn.effects:
            self._apply(effect, now)
        self.state, self.updated_at = turn.state, now
        self.replies = list(turn.replies)
        return [render_reply(answer, self.profile.language) for answer in turn.replies]

    def says(self, message: str, kind: str = "text") -> str:
        """Text the engine; get back the whole answer as one string."""
        return "\n".join(self.send(message, kind))

    def _understand(self, text: str, language: str) -> Parse:
        return self.understander.understand(text, language)

    def _first_language(self, text: str) -> None:
        default = self.settings.default_language
        if not self.profile.registered and self.profile.language == default and CJK.search(text):
            self.profile = replace(self.profile, language="zh")

    def _apply(self, effect: effects.Effect, now: datetime) -> None:
        """What bot/effects.py does in the database, on the values kept here."""
        match effect:
            case effects.SaveProfile():
                changed: dict[str, Any] = {
                    each.name: getattr(effect, each.name)
                    for each in fields(effects.SaveProfile)
                    if each.name != "register" and getattr(effect, each.name) is not None
                }
                if effect.register:
                    changed["registered"] = True
                self.profile = replace(self.profile, **changed)
            case effects.OptOut():
                self.profile = replace(self.profile, opted_out=True)
            case effects.OptIn():
                self.profile = replace(self.profile, opted_out=False)
            case effects.OpenHandoff(reason=reason):
                self.store.handoffs.append(reason)
            case effects.AttendFair():
                if self.store.last_alerted_fair is not None:
                    self.store.joined_fairs.add(self.store.last_alerted_fair)
                    self.store.attending.add(self.store.last_alerted_fair)
            case effects.SetLanguage(language=language):
                self.profile = replace(self.profile, language=language)
            case effects.ApplyJob(job_id=job_id, reference=reference):
                job = self.store.posts.get(job_id)
                if job is None or not job.open or self.store.application_for(1, job_id):
                    return
                self.store.applied.append(Applied(reference, job_id, "submitted", now, now))
            case effects.JoinFair(fair_id=fair_id):
                if fair_id in self.store.fairs_by_id:
                    self.store.joined_fairs.add(fair_id)
