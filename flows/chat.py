"""Turns for what chat apps send besides typed text: a shared phone or contact, a location."""

from __future__ import annotations

from flows.jobs import MAX_LISTED, lookup_of
from flows.menu import offering, show_menu
from flows.nearby import nearby_turn
from flows.share_buttons import SHARE_PHONE
from flows.types import Context, Reply, State, Turn, reply
from nlu.parse import Parse

# What sharing a phone number did (bot/linking.py), as the "linked" entity of share_phone.
TAKEN = "taken"


def welcome(state: State) -> Turn:
    """/start from a chat without a phone: offer registration, with the one-tap phone share."""
    offers = offering(state.idle(), {"1": "register"})
    return Turn(offers, (reply("telegram_welcome", "1 Register", SHARE_PHONE, "MENU"),))


def phone_shared(ctx: Context, state: State, parse: Parse) -> Turn:
    """Thank the seeker: the known seeker sees the menu, a new one is offered registration."""
    outcome = parse.entity("linked")
    if outcome is None:  # a phone number nothing was linked to
        return show_menu(state, Reply("out_of_scope"))
    if outcome == TAKEN:
        return Turn(state.idle(), (reply("phone_taken", "9 Talk to a person", "MENU"),))
    if ctx.profile.registered:
        name = f", {ctx.profile.name}" if ctx.profile.name else ""
        return show_menu(State(), reply("phone_linked", comma_name=name))
    offers = offering(State(), {"1": "register"})
    return Turn(offers, (reply("phone_saved", "1 Register", "MENU"),))


def foreign_contact(ctx: Context, state: State, parse: Parse) -> Turn:
    """Someone else's contact card: only the seeker's own number can be shared."""
    return Turn(state, (reply("contact_not_yours", SHARE_PHONE, "MENU"),))


def location(ctx: Context, state: State, parse: Parse) -> Turn:
    """A shared location: the nearest open jobs."""
    lat, lon = float(parse.entity("lat") or 0), float(parse.entity("lon") or 0)
    return nearby_turn(ctx, state, lookup_of(ctx).nearest_jobs(lat, lon, MAX_LISTED))


def not_text(ctx: Context, state: State, parse: Parse) -> Turn:
    """A photo, a voice message, a sticker: ask for words."""
    return Turn(state, (Reply("send_text_only"),))
