"""Jobs near me and applying: a short numbered list, a job's details, apply in one step."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from flows import dates
from flows.base import missed
from flows.catalogue import render
from flows.effects import ApplyJob
from flows.local_names import joined, local_name, place_name
from flows.types import Context, Detour, Reply, State, Turn, reply
from flows.views import JobView, Lookup
from nlu.keywords import normalize
from nlu.parse import Parse
from reference import Reference

PAGE = 3
# Ids kept in the conversation for paging: 20 texts of 3 jobs is more than anyone reads.
MAX_LISTED = 60
# Longest piece of each field shown, so a job's details fit three SMS segments.
CLIP = {"title": 40, "employer": 50, "hours": 50, "suits": 70, "place": 20}
# Words that introduce a place in "cleaning jobs in daoli".
PLACE_WORDS = ("in", "near", "at", "around")
FILLER = {"job", "jobs", "work", "find", "any", "show", "me", "i", "want", "apply", "for", "a"}
TITLE_MATCH = 80
# Intents free text arrives with: "text" from the keyword path, "out_of_scope" when Rasa is away
# or unsure (answers to a question, like a place or a job's name, are often both).
FREE_TEXT = ("text", "out_of_scope")


def clip(text: str, limit: int) -> str:
    """Cut a long field with an ellipsis so a text stays within its segments."""
    if _width(text) <= limit:
        return text
    kept = ""
    for char in text:
        if _width(kept + char) > limit - 3:
            break
        kept += char
    return kept.rstrip() + "..."


def _width(text: str) -> int:
    """Length where a Chinese character counts two: it costs an SMS twice a Latin letter's room."""
    return sum(
        2 if "\u2e80" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef" else 1 for char in text
    )


def pay(amount: int) -> str:
    """1800 -> '1,800'."""
    return f"{amount:,}"


def lookup_of(ctx: Context) -> Lookup:
    """The storage reads of this turn."""
    if ctx.lookup is None:
        raise RuntimeError("this turn has no lookup; Jobline sets lookup_factory")
    found: Lookup = ctx.lookup
    return found


def named_place(parse: Parse, reference: Reference) -> tuple[str | None, str | None]:
    """(known place, unknown words the seeker gave as a place) from entities or the words."""
    entity = parse.entity("location")
    if entity is not None and reference.place(entity) is not None:
        return entity, None
    words = normalize(parse.text).split()
    for size in (2, 1):
        for start in range(len(words) - size + 1):
            match = reference.match_place(" ".join(words[start : start + size]))
            if match.value is not None and match.exact:
                return match.value, None
    for index, word in enumerate(words[:-1]):
        if word in PLACE_WORDS:
            guess = " ".join(words[index + 1 :])
            match = reference.match_place(guess)
            if match.value is not None:
                return match.value, None
            return None, guess
    return None, None


def named_category(parse: Parse, reference: Reference) -> str | None:
    """The kind of work named, from the entity or the words."""
    entity = parse.entity("job_category")
    if entity is not None and reference.category(entity) is not None:
        return entity
    words = [w for w in normalize(parse.text).split() if w not in FILLER]
    for size in (2, 1):
        for start in range(len(words) - size + 1):
            match = reference.match_category(" ".join(words[start : start + size]))
            if match.value is not None and match.exact:
                return match.value
    return None


def city_of(reference: Reference, place: str) -> str:
    """The city a district belongs to (a city is its own)."""
    info = reference.place(place)
    return info.home_city if info is not None else place


def kind_words(ctx: Context, category: str | None) -> str:
    """'Cleaning jobs' or 'Jobs'."""
    info = ctx.reference.category(category) if category else None
    if info is None:
        return render("jobs_kind_all", ctx.profile.language)
    return render(
        "jobs_kind", ctx.profile.language, category=local_name(info, ctx.profile.language)
    )


def job_line(ctx: Context, number: int, job: JobView) -> str:
    """One line of the list: number, title, place, pay, and whether it is a public job."""
    key = "job_line_public" if job.public_welfare else "job_line"
    language = ctx.profile.language
    return render(
        key,
        language,
        number=number,
        title=clip(job.title_for(language), CLIP["title"]),
        place=place_name(ctx.reference, job.place, language),
        pay=pay(job.pay_yuan_month),
    )


def job_details(ctx: Context, job: JobView) -> Reply:
    """Everything about one job, and the offer to apply."""
    language = ctx.profile.language
    return reply(
        "job_details",
        "1 Apply",
        "MORE",
        title=clip(job.title_for(language), CLIP["title"]),
        employer=clip(job.employer_for(language), CLIP["employer"]),
        place=place_name(ctx.reference, job.place, language),
        hours=clip(job.hours_for(language), CLIP["hours"]),
        pay=pay(job.pay_yuan_month),
        suits=clip(job.suits_for(language), CLIP["suits"]),
        public=Reply("job_public") if job.public_welfare else "",
    )


class Jobs:
    """Find jobs by place and kind of work, see one, apply for it."""

    name = "jobs"

    def start(
        self, ctx: Context, state: State, parse: Parse, default_place: str | None = None
    ) -> Turn:
        """Search the place and kind the seeker named, or their own district."""
        place, unknown = named_place(parse, ctx.reference)
        category = named_category(parse, ctx.reference)
        if parse.intent == "apply_job":
            picked = self._by_title(ctx, parse, place, category)
            if picked is not None:
                found = state.at(self.name, "list", jobs=[picked.id], page=0, place=picked.place)
                return self._show(ctx, found, picked)
        if unknown is not None:
            return self._unknown_place(
                ctx, state.at(self.name, "place", category=category), unknown
            )
        place = place or default_place or ctx.profile.district
        if place is None:
            asking = state.at(self.name, "place", category=category)
            return Turn(asking, (Reply("jobs_ask_place"),))
        return self.search(ctx, state, place, category)

    def search(self, ctx: Context, state: State, place: str, category: str | None) -> Turn:
        """List jobs in the place; when there are none, widen to its city, then the province."""
        places = [place]
        while (wider := ctx.reference.wider(places[-1])) is not None:
            places.append(wider)
        found, jobs = lookup_of(ctx).search_jobs_widening(
            [ctx.reference.within(each) for each in places],
            category,
            prefer=ctx.profile.interests,
            limit=MAX_LISTED,
        )
        shown, asked = places[found], None if found == 0 else place
        if not jobs:
            where = place_name(ctx.reference, shown, ctx.profile.language)
            none = reply("jobs_none", kind=kind_words(ctx, category).lower(), place=where)
            return Turn(state.idle(), (none,))
        listing = state.at(
            self.name,
            "list",
            jobs=[job.id for job in jobs],
            page=0,
            place=shown,
            asked=asked,
            category=category,
            job=None,
        )
        return Turn(listing, (self.page(ctx, listing),))

    def page(self, ctx: Context, state: State) -> Reply:
        """The current page of the list: up to three jobs, numbered 1 to 3."""
        ids: list[int] = state.answers.get("jobs") or []
        first = state.answers.get("page", 0) * PAGE
        lookup = lookup_of(ctx)
        language = ctx.profile.language
        lines = []
        for number, job_id in enumerate(ids[first : first + PAGE], start=1):
            job = lookup.job(job_id)
            # A post withdrawn since the list was made is left out; its number says so.
            if job is not None and job.open:
                lines.append(job_line(ctx, number, job))
        last = min(first + PAGE, len(ids))
        values: dict[str, Any] = {
            "kind": kind_words(ctx, state.answers.get("category")),
            "place": place_name(ctx.reference, state.answers.get("place") or "", language),
            "first": first + 1,
            "last": last,
            "total": len(ids),
            "job_lines": "\n".join(lines),
            "more": Reply("jobs_more_hint") if last < len(ids) else "",
        }
        buttons = tuple(str(n) for n in range(1, len(lines) + 1))
        if last < len(ids):
            buttons += ("MORE",)
        asked = state.answers.get("asked")
        if asked:
            values["asked"] = place_name(ctx.reference, asked, language)
            values["kind_lower"] = str(values["kind"]).lower()
            return reply("jobs_list_widened", *buttons, **values)
        return reply("jobs_list", *buttons, **values)

    def answer(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        """Take a number, MORE, a job's name, or a new search."""
        if state.step == "place":
            return self._answer_place(ctx, state, parse)
        if parse.intent == "find_jobs":
            where = state.answers.get("asked") or state.answers.get("place")
            return self.start(ctx, state.idle(), parse, default_place=where)
        if parse.intent == "more":
            return self._more(ctx, state)
        if state.step == "details":
            return self._answer_details(ctx, state, parse)
        return self._answer_list(ctx, state, parse)

    def _answer_place(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        named = parse.entity("location")
        match = ctx.reference.match_place(parse.text)
        place = named if named and ctx.reference.place(named) else match.value
        if place is not None:
            return self.search(ctx, state, place, state.answers.get("category"))
        if not normalize(parse.text) or parse.intent not in (*FREE_TEXT, "number"):
            return None
        return self._unknown_place(ctx, state, parse.text, missed_it=True)

    def _unknown_place(
        self, ctx: Context, state: State, typed: str, missed_it: bool = False
    ) -> Turn:
        match = ctx.reference.match_place(typed)
        districts = (p.name for p in ctx.reference.places if p.kind == "district")
        names = match.suggestions or tuple(districts)[:3]
        language = ctx.profile.language
        local = [place_name(ctx.reference, name, language) for name in names]
        unknown = reply(
            "jobs_place_unknown",
            typed=clip(typed, CLIP["place"]),
            suggestions=joined(local, language),
        )
        return missed(state, unknown) if missed_it else Turn(state, (unknown,))

    def _answer_list(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        ids: list[int] = state.answers.get("jobs") or []
        first = state.answers.get("page", 0) * PAGE
        on_page = ids[first : first + PAGE]
        number = parse.entity("number")
        if number is not None:
            index = int(number) - 1
            if not 0 <= index < len(on_page):
                choices = "1" if len(on_page) == 1 else f"1 to {len(on_page)}"
                return missed(
                    state, reply("job_number_retry", number=clip(number, 3), choices=choices)
                )
            return self._open(ctx, state, on_page[index])
        if parse.intent in (*FREE_TEXT, "apply_job"):
            picked = self._title_in(ctx, parse.text, ids)
            if picked is not None:
                return self._open(ctx, state, picked.id)
            if parse.intent == "apply_job":
                return Turn(state, (Reply("apply_pick_number"),))
            place, _ = named_place(parse, ctx.reference)
            category = named_category(parse, ctx.reference)
            if place is not None or category is not None:
                where: str = place or state.answers.get("asked") or state.answers["place"]
                return self.search(ctx, state, where, category)
        return None

    def _answer_details(self, ctx: Context, state: State, parse: Parse) -> Turn | None:
        if parse.entity("number") == "1" or parse.intent in ("affirm", "apply_job"):
            return self.apply(ctx, state, state.answers["job"])
        if parse.entity("number") is not None or parse.intent == "deny":
            return missed(state, Reply("job_details_retry"))
        return None

    def _more(self, ctx: Context, state: State) -> Turn:
        ids: list[int] = state.answers.get("jobs") or []
        page = state.answers.get("page", 0) + 1
        if page * PAGE >= len(ids):
            return Turn(state, (Reply("jobs_no_more"),))
        listing = state.at(self.name, "list", page=page, job=None)
        return Turn(listing, (self.page(ctx, listing),))

    def _open(self, ctx: Context, state: State, job_id: int) -> Turn:
        job = lookup_of(ctx).job(job_id)
        if job is None or not job.open:
            return Turn(state.at(self.name, "list"), (Reply("job_withdrawn"),))
        return self._show(ctx, state, job)

    def _show(self, ctx: Context, state: State, job: JobView) -> Turn:
        return Turn(state.at(self.name, "details", job=job.id), (job_details(ctx, job),))

    def apply(self, ctx: Context, state: State, job_id: int) -> Turn:
        """Apply for a job: register first if needed, never twice, a reference to keep."""
        lookup = lookup_of(ctx)
        job = lookup.job(job_id)
        if job is None or not job.open:
            return Turn(state.at(self.name, "list"), (Reply("job_withdrawn"),))
        if not ctx.profile.registered or ctx.profile.seeker_id is None:
            return self._register_first(ctx, state)
        before = lookup.application_for(ctx.profile.seeker_id, job.id)
        if before is not None:
            already = reply(
                "already_applied",
                "STATUS",
                "MENU",
                title=clip(job.title_for(ctx.profile.language), CLIP["title"]),
                date=day_month(before.applied_at, ctx),
                reference=before.reference,
            )
            return Turn(state.at(self.name, "list"), (already,))
        reference = lookup.new_reference()
        done = reply(
            "applied",
            "STATUS",
            "MORE",
            "MENU",
            name=ctx.profile.name,
            title=clip(job.title_for(ctx.profile.language), CLIP["title"]),
            employer=clip(job.employer_for(ctx.profile.language), CLIP["employer"]),
            reference=reference,
        )
        effect = ApplyJob(job.id, reference)
        return Turn(state.at(self.name, "list"), (done,), (effect,))

    def _register_first(self, ctx: Context, state: State) -> Turn:
        """Keep the job to come back to (at once after), and start registration."""
        detour = Detour("registration", "register", auto=True)
        return Turn(state.at(self.name, "details"), (Reply("apply_register_first"),), detour=detour)

    def _by_title(
        self, ctx: Context, parse: Parse, place: str | None, category: str | None
    ) -> JobView | None:
        where = place or ctx.profile.district
        if where is None:
            return None
        jobs = lookup_of(ctx).search_jobs(
            ctx.reference.within(city_of(ctx.reference, where)), category
        )
        return self._title_in(ctx, parse.text, [job.id for job in jobs], jobs)

    def _title_in(
        self, ctx: Context, text: str, ids: list[int], jobs: list[JobView] | None = None
    ) -> JobView | None:
        """The listed job whose title the seeker typed (near misses too)."""
        words = " ".join(w for w in normalize(text).split() if w not in FILLER)
        if len(words) < 4:
            return None
        lookup = lookup_of(ctx)
        candidates = jobs if jobs is not None else [j for i in ids if (j := lookup.job(i))]
        best, score = None, 0.0
        for job in candidates:
            for title in (job.title, job.title_zh or job.title):
                found = fuzz.token_set_ratio(words, normalize(title))
                if found > score:
                    best, score = job, found
        return best if score >= TITLE_MATCH else None

    def back(self, ctx: Context, state: State) -> Turn | None:
        """From a job back to the list; from the list, to the menu."""
        if state.step == "details" and state.answers.get("jobs"):
            listing = state.at(self.name, "list", job=None)
            return Turn(listing, (self.page(ctx, listing),))
        return None

    def retry(self, ctx: Context, state: State) -> Reply:
        """Say how to answer at this step."""
        if state.step == "place":
            return Reply("jobs_ask_place")
        if state.step == "details":
            return Reply("job_details_retry")
        return Reply("jobs_list_retry")

    def ask_current(self, ctx: Context, state: State) -> Reply:
        """Show again what the seeker was looking at."""
        if state.step == "details":
            job = lookup_of(ctx).job(state.answers["job"])
            return job_details(ctx, job) if job is not None and job.open else Reply("job_withdrawn")
        if state.step == "place":
            return Reply("jobs_ask_place")
        return self.page(ctx, state)

    def expecting(self, state: State) -> str:
        """A place name, or a number from the list."""
        return "place" if state.step == "place" else "choice"


def day_month(moment: datetime, ctx: Context) -> str:
    """'2 Dec' or '12月2日' in the office's time zone."""
    local = moment.astimezone(ZoneInfo(ctx.settings.timezone))
    return dates.day_month(local, ctx.profile.language)
