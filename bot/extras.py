"""What chat apps send besides typed text: a /command, a shared phone number, a location."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.linking import Linked, link_phone
from db.models import Contact
from flows.engine import run_turn
from flows.jobs import MAX_LISTED
from flows.menu import offering, show_menu
from flows.nearby import nearby_turn
from flows.share_buttons import SHARE_PHONE
from flows.types import Context, State, Turn, reply
from nlu.parse import Entity, Parse
from notify.fairs import FAIR_PAYLOAD

# A fair id from a QR code fits in a database integer; anything longer is not ours.
MAX_ID_DIGITS = 9


def parse_kind(kind: str, text: str, understand: Callable[[str], Parse]) -> Parse:
    """The Parse of a message that is not plain text; anything unknown is 'not_text'."""
    if kind == "command":
        return parse_command(text, understand)
    if kind == "contact":
        return Parse(text, "share_phone", entities=(Entity("phone", text),))
    if kind == "foreign_contact":
        return Parse(text, "foreign_contact")
    if kind == "location":
        lat, _, lon = text.partition(",")
        try:
            entities = (Entity("lat", str(float(lat))), Entity("lon", str(float(lon))))
        except ValueError:
            return Parse(text, "not_text")
        return Parse(text, "location", entities=entities)
    return Parse(text, "not_text")


def parse_command(text: str, understand: Callable[[str], Parse]) -> Parse:
    """/start [payload] opens Jobline (or a fair from a QR code); /help, /menu... are words."""
    word, _, payload = text.strip().partition(" ")
    name = word[1:].split("@", 1)[0].lower()
    payload = payload.strip()
    if name == "start":
        fair = payload[len(FAIR_PAYLOAD) :] if payload.startswith(FAIR_PAYLOAD) else ""
        if fair.isascii() and fair.isdigit() and len(fair) <= MAX_ID_DIGITS:
            return Parse(text, "job_fair", entities=(Entity("fair_id", str(int(fair))),))
        return Parse(text, "chat_start")
    return understand(f"{name} {payload}".strip())


def link_shared_phone(session: Session, contact: Contact, parse: Parse) -> Linked | None:
    """Link the chat to the seeker of a phone number the seeker shared (before the turn)."""
    phone = parse.entity("phone") if parse.intent == "share_phone" else None
    return link_phone(session, contact, phone) if phone else None


def extra_turn(
    session: Session, ctx: Context, state: State, parse: Parse, linked: Linked | None
) -> Turn | None:
    """The turn for a /start, a shared phone or a location; None for everything else."""
    if parse.intent == "chat_start":
        return start_turn(ctx, state)
    if ctx.profile.opted_out and parse.intent in ("share_phone", "foreign_contact", "location"):
        return Turn(state)
    if linked is not None:
        return linked_turn(ctx, state, linked)
    if parse.intent == "foreign_contact":
        return Turn(state, (reply("contact_not_yours", SHARE_PHONE, "MENU"),))
    if parse.intent == "location":
        lat, lon = float(parse.entity("lat") or 0), float(parse.entity("lon") or 0)
        posts = ctx.lookup.nearest_jobs(lat, lon, MAX_LISTED)
        return nearby_turn(state, posts, ctx.profile.language)
    return None


def start_turn(ctx: Context, state: State) -> Turn:
    """/start: greet and offer registration, with the one-tap phone share for SMS seekers."""
    if ctx.profile.opted_out or ctx.profile.registered:
        return run_turn(ctx, state, Parse("/start", "start"), None)
    if ctx.profile.phone:
        return run_turn(ctx, state, Parse("/start", "greet"), None)
    offers = offering(state.idle(), {"1": "register"})
    return Turn(offers, (reply("telegram_welcome", "1 Register", SHARE_PHONE, "MENU"),))


def linked_turn(ctx: Context, state: State, linked: Linked) -> Turn:
    """Thank the seeker: the known seeker sees the menu, a new one is offered registration."""
    if linked.outcome == "taken":
        return Turn(state.idle(), (reply("phone_taken", "9 Talk to a person", "MENU"),))
    if ctx.profile.registered:
        name = f", {ctx.profile.name}" if ctx.profile.name else ""
        return show_menu(State(), reply("phone_linked", comma_name=name))
    offers = offering(State(), {"1": "register"})
    return Turn(offers, (reply("phone_saved", "1 Register", "MENU"),))
