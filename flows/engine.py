"""One conversation turn, pure: (state, understood message) -> (new state, replies, effects)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from flows import chat
from flows.base import Flow, missed
from flows.effects import OptIn, OptOut
from flows.fair_alerts import FairRsvp
from flows.fairs import JobFairs
from flows.handoff import Handoff
from flows.info import CardHow, ConcessionCard, Training
from flows.jobs import Jobs
from flows.language import Language
from flows.loans import LoanEligibility
from flows.local_names import JOINERS
from flows.menu import MENU, MENU_OFFERS, RESUME, offering, show_menu
from flows.registration import Registration
from flows.status import ApplicationStatus
from flows.types import Context, Reply, State, Suspended, Turn, reply
from nlu.keywords import normalize
from nlu.parse import Parse

MISSES_BEFORE_PERSON = 3
# A text answer (a name) is only taken as a change of topic when Rasa is this sure.
SURE = 0.8

FLOWS: dict[str, Flow] = {}
ROUTES: dict[str, str] = {}
SUSPENDABLE: set[str] = set()
# Twilio's opt-in words are START, UNSTOP (intent "start") and YES; "ok" after STOP is not one.
OPT_IN_AFFIRMS = {"yes"}


def register_flow(flow: Flow, *intents: str, suspendable: bool = False) -> None:
    """Make a flow reachable from the intents that start it."""
    FLOWS[flow.name] = flow
    for intent in intents:
        ROUTES[intent] = flow.name
    if suspendable:
        SUSPENDABLE.add(flow.name)


register_flow(Registration(), "register", "update_profile", suspendable=True)
register_flow(Handoff(), "human_agent")
register_flow(Jobs(), "find_jobs", "apply_job")
register_flow(ApplicationStatus(), "application_status")
register_flow(JobFairs(), "job_fair", "join")
register_flow(LoanEligibility(), "loan_eligibility", suspendable=True)
register_flow(ConcessionCard(), "concession_card")
register_flow(CardHow(), "card_how")
register_flow(Training(), "training")
register_flow(FairRsvp(), "fair_rsvp")
register_flow(Language(), "change_language")


def expecting(state: State) -> str | None:
    """What the active flow's question expects (text, choice, yesno, year, place), if any."""
    flow = FLOWS.get(state.flow or "")
    return flow.expecting(state) if flow is not None else None


def _chat_start(ctx: Context, state: State, parse: Parse) -> Turn:
    """/start: the menu for a known seeker; a chat without a phone is offered registration."""
    if ctx.profile.opted_out or ctx.profile.registered:
        return run_turn(ctx, state, replace(parse, intent="start"), None)
    if ctx.profile.phone:
        return run_turn(ctx, state, replace(parse, intent="greet"), None)
    return chat.welcome(state)


# What chat apps send besides typed text, answered before any other routing (an opted-out
# seeker's are not answered, but for /start).
PRE_ROUTES: dict[str, Callable[[Context, State, Parse], Turn]] = {
    "chat_start": _chat_start,
    "share_phone": chat.phone_shared,
    "foreign_contact": chat.foreign_contact,
    "location": chat.location,
    "not_text": chat.not_text,
}


def run_turn(ctx: Context, state: State, parse: Parse, idle_for: timedelta | None) -> Turn:
    """Decide the replies and effects for one inbound message."""
    profile = ctx.profile
    pre_route = PRE_ROUTES.get(parse.intent)
    if pre_route is not None and (parse.intent == "chat_start" or not profile.opted_out):
        return pre_route(ctx, state, parse)
    if profile.opted_out:
        if parse.intent == "start" or (
            parse.intent == "affirm" and normalize(parse.text) in OPT_IN_AFFIRMS
        ):
            menu = show_menu(State(), Reply("started"))
            return replace(menu, effects=(OptIn(),))
        if parse.intent == "help":
            # Carriers expect HELP answered always, with how to opt back in.
            return Turn(state, (Reply("help_opted_out"),))
        return Turn(state)
    if parse.intent == "stop":
        return Turn(State(), (Reply("stopped"),), (OptOut(),))
    limit = timedelta(hours=ctx.settings.idle_restart_hours)
    if state.flow is not None and idle_for is not None and idle_for > limit:
        return show_menu(State(), reply("welcome_back", comma_name=_comma_name(ctx)))
    if state.flow == "handoff" and parse.intent not in ("menu", "start"):
        return FLOWS["handoff"].answer(ctx, state, parse) or Turn(state)
    turn = _global(ctx, state, parse)
    if turn is None:
        turn = _in_flow(ctx, state, parse) if state.flow in FLOWS else _route(ctx, state, parse)
    return _offer_resume(ctx, state, turn)


def _global(ctx: Context, state: State, parse: Parse) -> Turn | None:
    intent = parse.intent
    if intent in ("menu", "start"):
        return show_menu(state)
    if intent == "help":
        return Turn(state, (Reply("help"),))
    if intent == "empty":
        return Turn(state, (Reply("empty_message"),))
    if intent == "back":
        flow = FLOWS.get(state.flow or "")
        back = flow.back(ctx, state) if flow is not None else None
        return back if back is not None else show_menu(state)
    if intent == "human_agent":
        return FLOWS["handoff"].start(ctx, state.idle(), parse)
    return None


def _in_flow(ctx: Context, state: State, parse: Parse) -> Turn:
    flow = FLOWS[state.flow or ""]
    if flow.expecting(state) == "text" and _switches(state, parse, SURE):
        return _switch(ctx, state, parse)
    turn = flow.answer(ctx, state, parse)
    if turn is not None and not turn.missed:
        return _take_detour(ctx, turn)
    if _switches(state, parse, ctx.settings.nlu.threshold):
        return _switch(ctx, state, parse)
    if turn is None:
        turn = missed(state, flow.retry(ctx, state))
    if turn.state.misses >= MISSES_BEFORE_PERSON:
        turn = replace(turn, replies=(*turn.replies, Reply("offer_person")))
    return turn


def _switches(state: State, parse: Parse, threshold: float) -> bool:
    target = ROUTES.get(parse.intent)
    return target is not None and target != state.flow and parse.confidence >= threshold


def suspend(state: State, auto: bool = False) -> State:
    """An idle state that keeps the active flow to come back to (at once when auto)."""
    assert state.flow is not None
    return State(suspended=Suspended(state.flow, state.step, dict(state.answers), auto))


def start_flow(ctx: Context, state: State, name: str, parse: Parse) -> Turn:
    """Start the named flow from this state; a detour it asks for is taken at once."""
    return _take_detour(ctx, FLOWS[name].start(ctx, state, parse))


def _take_detour(ctx: Context, turn: Turn) -> Turn:
    """Keep the flow that asked to come back to, and start the one it asked for."""
    detour = turn.detour
    if detour is None:
        return turn
    kept = suspend(turn.state, detour.auto)
    started = start_flow(ctx, kept, detour.flow, Parse(detour.intent, detour.intent))
    return Turn(started.state, turn.replies or started.replies, (*turn.effects, *started.effects))


def _switch(ctx: Context, state: State, parse: Parse) -> Turn:
    """Leave the current flow for another topic, keeping it to come back to."""
    kept = suspend(state) if state.flow in SUSPENDABLE else State()
    return _start(ctx, kept, parse)


def _start(ctx: Context, state: State, parse: Parse) -> Turn:
    return start_flow(ctx, state, ROUTES[parse.intent], parse)


def _route(ctx: Context, state: State, parse: Parse) -> Turn:
    intent = parse.intent
    if intent == "affirm" and "yes" in state.offers:
        intent = state.offers["yes"]
        parse = replace(parse, intent=intent)
    if intent == "number":
        offers = state.offers or MENU_OFFERS
        intent = offers.get(parse.entity("number") or "", "")
        if intent == RESUME:
            return _resume(ctx, state)
        if intent == MENU:
            return show_menu(State())
        if not intent:
            return show_menu(state, Reply("not_understood"))
        parse = replace(parse, intent=intent)
    if intent in ROUTES:
        return _start(ctx, state.idle(), parse)
    if intent == "greet":
        if ctx.profile.registered:
            return show_menu(state)
        # An unknown number is welcomed with the first question: one text fewer to register.
        asking = FLOWS["registration"].start(ctx, state.idle(), parse)
        return replace(asking, replies=(Reply("welcome"),))
    if intent in ("thank_you", "goodbye"):
        return Turn(state.idle(), (reply(intent, comma_name=_comma_name(ctx)),))
    if intent in ("affirm", "deny", "text"):
        return show_menu(state, Reply("not_understood"))
    return show_menu(state, Reply("out_of_scope"))


def _offer_resume(ctx: Context, before: State, turn: Turn) -> Turn:
    """After a detour ends, offer to go back to the suspended flow (or go back at once)."""
    suspended = turn.state.suspended
    if suspended is None or turn.state.flow is not None or before.flow is None:
        return turn
    if suspended.auto:
        back = _resume(ctx, turn.state)
        return Turn(back.state, (*turn.replies, *back.replies), turn.effects)
    offers = {"1": RESUME, "2": MENU}
    state = offering(turn.state, offers)
    return Turn(state, (*turn.replies, reply("resume_offer", "1 Yes", "2 No")), turn.effects)


def _resume(ctx: Context, state: State) -> Turn:
    suspended = state.suspended
    assert suspended is not None
    resumed = State(flow=suspended.flow, step=suspended.step, answers=suspended.answers)
    return Turn(resumed, (FLOWS[resumed.flow or ""].ask_current(ctx, resumed),))


def _comma_name(ctx: Context) -> str:
    comma = JOINERS.get(ctx.profile.language, ", ")
    return f"{comma}{ctx.profile.name}" if ctx.profile.name else ""
